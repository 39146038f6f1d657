package observability

import (
	"slices"

	"github.com/prometheus/client_golang/prometheus"
)

// AuthFailures counts failed consumer authentications by reason
// (govbus_auth_failures_total{reason}). Its reasons are the fixed set given
// to NewAuthFailures; any other is counted as "other", so the label never
// carries a client id or a key. It satisfies authn.Observer.
type AuthFailures struct {
	total   *prometheus.CounterVec
	reasons []string
}

// NewAuthFailures registers the counter on reg, with a series at zero for
// each of reasons (authn.FailureReasons).
func NewAuthFailures(reg prometheus.Registerer, reasons []string) *AuthFailures {
	f := &AuthFailures{
		total: newCounterVec("auth_failures_total",
			"Failed consumer authentications by reason (unknown key, another client's credential, untrusted or revoked certificate, auth none from outside its networks, throttled...).",
			"reason"),
		reasons: slices.Clone(reasons),
	}
	for _, r := range f.reasons {
		f.total.WithLabelValues(r)
	}
	f.total.WithLabelValues("other")
	reg.MustRegister(f.total)
	return f
}

// AuthFailed counts one failure.
func (f *AuthFailures) AuthFailed(reason string) {
	if !slices.Contains(f.reasons, reason) {
		reason = "other"
	}
	f.total.WithLabelValues(reason).Inc()
}
