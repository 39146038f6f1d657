// Package observability measures and reports govbus's exchanges: the
// Prometheus metrics middleware around the consumer handler and the status
// listener (/metrics, /healthz, /readyz). Metrics are registered on a
// registry passed in; label values are bounded to configured identifiers.
package observability

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/govbus/govbus/gateway"
)

// durationBuckets are the classic buckets of the duration histograms.
var durationBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// newCounterVec makes a govbus_<name> counter, by labels.
func newCounterVec(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "govbus", Name: name, Help: help}, labels)
}

// newGaugeVec makes a govbus_<name> gauge, by labels.
func newGaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	return prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "govbus", Name: name, Help: help}, labels)
}

// newDurationHistogram makes a govbus_<name> histogram of durations in
// seconds, by labels. Every duration histogram has the same layout: the
// classic durationBuckets and, alongside, a native histogram (growth
// factor 1.1, at most 160 buckets, reset no more than hourly).
func newDurationHistogram(name, help string, labels ...string) *prometheus.HistogramVec {
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "govbus", Name: name,
		Help:                            help,
		Buckets:                         durationBuckets,
		NativeHistogramBucketFactor:     1.1,
		NativeHistogramMaxBucketNumber:  160,
		NativeHistogramMinResetDuration: time.Hour,
	}, labels)
}

// Reloaded counts a configuration reload: ok, or refused.
func (m *Metrics) Reloaded(ok bool) {
	if ok {
		m.reloads.WithLabelValues("ok").Inc()
		return
	}
	m.reloads.WithLabelValues("refused").Inc()
}

// Label values used when an exchange got no further than authentication or
// routing.
const (
	UnknownClient  = "unauthenticated"
	UnknownService = "none"
	OutcomeOK      = "ok"
)

// Metrics are the exchange metrics.
type Metrics struct {
	exchanges *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	inFlight  prometheus.Gauge
	decisions *prometheus.CounterVec
	reloads   *prometheus.CounterVec
	limited   *prometheus.CounterVec
	logFails  prometheus.Counter
	now       func() time.Time
	pool      sync.Pool
}

// NewMetrics registers the exchange metrics on reg. now is the clock (nil:
// time.Now).
func NewMetrics(reg prometheus.Registerer, now func() time.Time) *Metrics {
	if now == nil {
		now = time.Now
	}
	m := &Metrics{
		exchanges: newCounterVec("exchanges_total",
			"Exchanges by client, service, method and outcome (ok when the registry answered, else the error type).",
			"client", "service", "method", "outcome"),
		duration: newDurationHistogram("exchange_duration_seconds",
			"Time from reading the request head to writing the answer.",
			"service", "method", "outcome"),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "govbus", Name: "exchanges_in_flight",
			Help: "Exchanges being served now.",
		}),
		decisions: newCounterVec("policy_decisions_total",
			"Policy decisions by result (allow, deny, purpose-required).",
			"result"),
		reloads: newCounterVec("config_reloads_total",
			"Configuration reloads by result (ok, refused).",
			"result"),
		limited: newCounterVec("rate_limited_total",
			"Exchanges refused because the client's rate or quota was spent.",
			"client"),
		logFails: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "govbus", Name: "messagelog_write_failures_total",
			Help: "Exchanges refused with Server.LoggingFailed because the message log could not be written.",
		}),
		now: now,
	}
	m.pool.New = func() any { return new(gateway.Summary) }
	for _, r := range []string{"allow", "deny", "purpose-required"} {
		m.decisions.WithLabelValues(r)
	}
	for _, r := range []string{"ok", "refused"} {
		m.reloads.WithLabelValues(r)
	}
	reg.MustRegister(m.exchanges, m.duration, m.inFlight, m.decisions, m.reloads, m.limited, m.logFails)
	return m
}

// Preset creates the series of every configured client × service pair
// with outcome ok, so that they exist (at zero) from start-up.
func (m *Metrics) Preset(clients, services []string, methods map[string][]string) {
	for _, c := range clients {
		m.limited.WithLabelValues(c)
	}
	for _, s := range services {
		for _, meth := range methods[s] {
			m.duration.WithLabelValues(s, meth, OutcomeOK)
			for _, c := range clients {
				m.exchanges.WithLabelValues(c, s, meth, OutcomeOK)
			}
		}
	}
}

// methodLabel bounds the method label to the standard methods.
func methodLabel(m string) string {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT":
		return m
	}
	return "OTHER"
}

// Middleware counts and times every request of the consumer handler,
// without spans or logs; see Instrument for the whole set.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return Instrument{Metrics: m}.Wrap(next)
}

// BuildInfo registers govbus_build_info with the version.
func BuildInfo(reg prometheus.Registerer, version, goVersion string) {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: "govbus", Name: "build_info", Help: "Build of the running govbus (always 1).",
		ConstLabels: prometheus.Labels{"version": version, "goversion": goVersion},
	})
	g.Set(1)
	reg.MustRegister(g)
}

// ConfigInfo registers govbus_config_loaded_timestamp_seconds, set by the
// returned function when a configuration is (re)loaded.
func ConfigInfo(reg prometheus.Registerer) func(t time.Time) {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: "govbus", Name: "config_loaded_timestamp_seconds",
		Help: "When the running configuration was loaded (Unix time).",
	})
	reg.MustRegister(g)
	return func(t time.Time) { g.Set(float64(t.UnixNano()) / 1e9) }
}
