package observability

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/govbus/govbus/gateway"
)

// lint runs promlint over what reg gathers and returns the names of the
// families it gathered and the problems found.
func lint(t *testing.T, reg *prometheus.Registry) ([]string, []promlint.Problem) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gathering: %v", err)
	}
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	if err != nil {
		t.Fatalf("promlint: %v", err)
	}
	names := make([]string, 0, len(mfs))
	for _, mf := range mfs {
		names = append(names, mf.GetName())
	}
	return names, problems
}

// TestPromlintGovbusMetrics lints govbus's own metrics, with series of
// every kind present (after traffic, errors, breaker changes and retries).
func TestPromlintGovbusMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	BuildInfo(reg, "test", "go1.26")
	ConfigInfo(reg)(time.Unix(1700000000, 0))
	m := NewMetrics(reg, nil)
	const (
		client   = "UA/GOV/00000003/eservice"
		registry = "UA/GOV/00000001/civil-registry"
		service  = registry + "/persons"
		endpoint = "http://127.0.0.1:9101"
	)
	m.Preset([]string{client}, []string{service}, map[string][]string{service: {"GET"}})
	for _, c := range []struct {
		decision string
		code     gateway.Code
	}{
		{"allow", ""},
		{"deny", gateway.CodeAccessDenied},
		{"allow", gateway.CodeUnauthenticated},
	} {
		chain := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := gateway.SummaryFrom(r.Context())
			s.Client, s.Service, s.Decision, s.Code = client, service, c.decision, c.code
			w.WriteHeader(http.StatusOK)
		})
		m.Middleware(chain).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/r1/"+service+"/persons/1", nil))
	}
	m.Reloaded(true)
	m.Reloaded(false)

	up := NewUpstream(reg)
	up.Endpoints(registry, []string{endpoint, "http://127.0.0.1:9102"})
	up.Attempt(context.Background(), registry, endpoint, "ok", 2*time.Millisecond)
	up.Attempt(context.Background(), registry, endpoint, "5xx", 3*time.Millisecond)
	up.Retry(registry)
	up.BudgetExhausted(registry)
	up.BreakerChanged(registry, endpoint, "closed", "open")
	up.InFlight(registry, 2)

	names, problems := lint(t, reg)
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	got := map[string]bool{}
	for _, name := range names {
		got[name] = true
		if !strings.HasPrefix(name, "govbus_") {
			t.Errorf("metric %s lacks the govbus_ prefix", name)
		}
	}
	for _, want := range []string{
		"govbus_build_info", "govbus_config_loaded_timestamp_seconds",
		"govbus_exchanges_total", "govbus_exchange_duration_seconds", "govbus_exchanges_in_flight",
		"govbus_upstream_attempts_total", "govbus_upstream_duration_seconds",
		"govbus_upstream_retries_total", "govbus_upstream_retry_budget_exhausted_total",
		"govbus_breaker_state", "govbus_breaker_transitions_total", "govbus_upstream_in_flight",
	} {
		if !got[want] {
			t.Errorf("gathered no %s; the lint did not see it", want)
		}
	}
}

// TestPromlintCatchesBadNames shows that the lint above can fail: a
// counter without _total and a duration in milliseconds are problems.
func TestPromlintCatchesBadNames(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		prometheus.NewCounter(prometheus.CounterOpts{Name: "govbus_exchanges", Help: "Bad: no _total."}),
		prometheus.NewGauge(prometheus.GaugeOpts{Name: "govbus_latency_milliseconds", Help: "Bad: not base units."}),
	)
	_, problems := lint(t, reg)
	if got, want := len(problems), 2; got != want {
		t.Errorf("promlint problems = %d (%v), want %d", got, problems, want)
	}
}
