package observability

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestAuthFailures(t *testing.T) {
	reg := prometheus.NewRegistry()
	f := NewAuthFailures(reg, []string{"unknown_key", "throttled"})
	f.AuthFailed("unknown_key")
	f.AuthFailed("unknown_key")
	f.AuthFailed("throttled")
	f.AuthFailed("UA/GOV/00000003/eservice") // never a label value
	for reason, want := range map[string]float64{"unknown_key": 2, "throttled": 1, "other": 1} {
		if got := testutil.ToFloat64(f.total.WithLabelValues(reason)); got != want {
			t.Errorf("govbus_auth_failures_total{reason=%q}: got %v, want %v", reason, got, want)
		}
	}
	if got := testutil.CollectAndCount(f.total); got != 3 {
		t.Errorf("series: got %d, want 3 (two reasons and other)", got)
	}
}
