package observability

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/govbus/govbus/gateway"
)

// fakeChain fills the summary as the real chain would.
func fakeChain(client, service string, code gateway.Code) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := gateway.SummaryFrom(r.Context())
		s.Client, s.Service, s.Code = client, service, code
		w.WriteHeader(200)
	})
}

func TestMiddlewareCountsByClientServiceOutcome(t *testing.T) {
	reg := prometheus.NewRegistry()
	clock := time.Unix(0, 0)
	m := NewMetrics(reg, func() time.Time { clock = clock.Add(30 * time.Millisecond); return clock })
	m.Preset([]string{"UA/GOV/1/a"}, []string{"UA/GOV/2/b/s"}, map[string][]string{"UA/GOV/2/b/s": {"GET"}})
	for _, c := range []struct {
		client, service string
		code            gateway.Code
		method          string
	}{
		{"UA/GOV/1/a", "UA/GOV/2/b/s", "", "GET"},
		{"UA/GOV/1/a", "UA/GOV/2/b/s", "", "GET"},
		{"", "", gateway.CodeUnauthenticated, "GET"},
		{"UA/GOV/1/a", "UA/GOV/2/b/s", gateway.CodeAccessDenied, "BREW"},
	} {
		req := httptest.NewRequest(c.method, "/r1/x", nil)
		m.Middleware(fakeChain(c.client, c.service, c.code)).ServeHTTP(httptest.NewRecorder(), req)
	}
	want := `
# HELP govbus_exchanges_total Exchanges by client, service, method and outcome (ok when the registry answered, else the error type).
# TYPE govbus_exchanges_total counter
govbus_exchanges_total{client="UA/GOV/1/a",method="GET",outcome="ok",service="UA/GOV/2/b/s"} 2
govbus_exchanges_total{client="UA/GOV/1/a",method="OTHER",outcome="Client.AccessDenied",service="UA/GOV/2/b/s"} 1
govbus_exchanges_total{client="unauthenticated",method="GET",outcome="Client.Unauthenticated",service="none"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "govbus_exchanges_total"); err != nil {
		t.Error(err)
	}
	if got := testutil.CollectAndCount(m.duration); got != 3 {
		t.Errorf("duration series = %d, want 3", got)
	}
}

func TestPresetSeriesExistAtZero(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, nil)
	m.Preset([]string{"A/B/C/x", "A/B/C/y"}, []string{"A/B/D/r/s"}, map[string][]string{"A/B/D/r/s": {"GET", "POST"}})
	if got := testutil.CollectAndCount(m.exchanges); got != 4 {
		t.Errorf("preset exchange series = %d, want 4 (2 clients x 2 methods)", got)
	}
}

func TestStatusHandler(t *testing.T) {
	reg := prometheus.NewRegistry()
	reason := "listeners not up"
	h := StatusHandler(reg, func() string { return reason })
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 503, "/metrics": 200, "/admin/status": 404} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != want {
			t.Errorf("GET %s = %d, want %d", path, rec.Code, want)
		}
	}
	reason = ""
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != 200 {
		t.Errorf("ready /readyz = %d", rec.Code)
	}
}

// TestMetricsPassPromtool runs Debian's promtool over a real /metrics page.
func TestMetricsPassPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("promtool not found: `make test` installs Debian's prometheus package")
		}
		t.Skip("promtool not found (Debian package prometheus); `make test` installs it")
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	BuildInfo(reg, "test", "go")
	ConfigInfo(reg)(time.Now())
	m := NewMetrics(reg, nil)
	m.Preset([]string{"UA/GOV/1/a"}, []string{"UA/GOV/2/b/s"}, map[string][]string{"UA/GOV/2/b/s": {"GET"}})
	m.Middleware(fakeChain("UA/GOV/1/a", "UA/GOV/2/b/s", "")).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	up := NewUpstream(reg)
	up.Endpoints("UA/GOV/2/b", []string{"http://10.0.0.1:8080", "http://10.0.0.2:8080"})
	up.Attempt(context.Background(), "UA/GOV/2/b", "http://10.0.0.1:8080", "5xx", 3*time.Millisecond)
	up.BreakerChanged("UA/GOV/2/b", "http://10.0.0.1:8080", "closed", "open")
	up.Retry("UA/GOV/2/b")
	up.InFlight("UA/GOV/2/b", 3)
	srv := httptest.NewServer(StatusHandler(reg, func() string { return "" }))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(page)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
	for _, want := range []string{
		"govbus_exchange_duration_seconds_bucket",
		`govbus_breaker_state{endpoint="http://10.0.0.1:8080",registry="UA/GOV/2/b"} 2`,
		`govbus_breaker_state{endpoint="http://10.0.0.2:8080",registry="UA/GOV/2/b"} 0`,
		`govbus_upstream_attempts_total{endpoint="http://10.0.0.2:8080",registry="UA/GOV/2/b",result="ok"} 0`,
		`govbus_upstream_retries_total{registry="UA/GOV/2/b"} 1`,
	} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
