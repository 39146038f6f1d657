package bench

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const exposition = `# HELP govbus_exchanges_total Exchanges.
# TYPE govbus_exchanges_total counter
govbus_exchanges_total{client="UA/GOV/00000003/eservice",method="GET",outcome="ok",service="a"} 1200
govbus_exchanges_total{client="x",method="GET",outcome="Server.InternalError",service="a } \" b"} 3
govbus_exchanges_total_created{client="x"} 1.7e9
govbus_exchanges_totalx 99
# TYPE govbus_trace_spans_dropped_total counter
govbus_trace_spans_dropped_total 7 1700000000000
`

func TestSumSamples(t *testing.T) {
	got, err := SumSamples(strings.NewReader(exposition), "govbus_trace_spans_dropped_total", "govbus_exchanges_total")
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != 7 || got[1] != 1203 {
		t.Errorf("sums = %v, want [7 1203]", got)
	}
	// OpenMetrics: an exemplar after the value.
	got, err = SumSamples(strings.NewReader("c_total{a=\"1\"} 2 # {trace_id=\"x\"} 1\n# EOF\n"), "c_total")
	if err != nil || got[0] != 2 {
		t.Errorf("OpenMetrics: %v, %v", got, err)
	}
	for name, text := range map[string]string{
		"missing":    "other_total 1\n",
		"no value":   "c_total\n",
		"bad value":  "c_total{a=\"1\"} x\n",
		"open label": "c_total{a=\"1\" 1\n",
	} {
		if _, err := SumSamples(strings.NewReader(text), "c_total"); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}

func TestLabelsEnd(t *testing.T) {
	for s, want := range map[string]int{
		`{} 1`:              2,
		`{a="b"} 1`:         7,
		`{a="}"} 1`:         7,
		`{a="\"}"} 1`:       9,
		`{a="x",b="y"} 1`:   13,
		`{a="never closed`:  -1,
		`{a="b" 1`:          -1,
		`{a="\\"} 1`:        8,
		`{a="\\",b="}"} 1`:  14,
		`{a="b"}{c="d"} 1`:  7,
		`{a="b\nc"} 1`:      10,
		`{a="b",} 1`:        8,
		`{a="b"} 1 # {x} 1`: 7,
	} {
		if got := labelsEnd(s); got != want {
			t.Errorf("labelsEnd(%q) = %d, want %d", s, got, want)
		}
	}
}

// fakeJaeger serves the two query endpoints CheckSpans uses; services
// lists the service from the listAfter-th call of /api/services on.
func fakeJaeger(t *testing.T, listAfter int32) *httptest.Server {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/services":
			if calls.Add(1) < listAfter {
				_, _ = io.WriteString(w, `{"data":null,"total":0,"limit":0,"offset":0,"errors":null}`)
				return
			}
			_, _ = io.WriteString(w, `{"data":["registrysim","govbus"],"total":2,"limit":0,"offset":0,"errors":null}`)
		case "/api/traces":
			if r.URL.Query().Get("service") != "govbus" || r.URL.Query().Get("limit") != "1" {
				http.Error(w, "bad query "+r.URL.RawQuery, http.StatusBadRequest)
				return
			}
			_, _ = io.WriteString(w, `{"data":[{"traceID":"t","spans":[{"spanID":"1"},{"spanID":"2"},{"spanID":"3"},{"spanID":"4"},{"spanID":"5"}]}]}`)
		case "/metrics":
			_, _ = io.WriteString(w, exposition)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestCheckSpans(t *testing.T) {
	srv := fakeJaeger(t, 3) // listed on the third poll
	c := SpanCheck{Query: srv.URL + "/", Service: "govbus", Metrics: srv.URL + "/metrics", Timeout: 5 * time.Second}
	rep, err := CheckSpans(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if rep.SpansPerTrace != 5 || !rep.HaveMetrics || rep.Exchanges != 1203 || rep.Dropped != 7 ||
		strings.Join(rep.Services, ",") != "registrysim,govbus" {
		t.Errorf("report %+v", rep)
	}
	if share := rep.DroppedShare(); share < 7.0/6015-1e-9 || share > 7.0/6015+1e-9 {
		t.Errorf("dropped share %v, want 7/6015", share)
	}
	text := strings.Join(rep.Lines(c), "\n")
	for _, want := range []string{`lists service "govbus"`, "holds 5 spans", "1203 exchanges and 7 dropped spans (0.12% of ~6015 made)", "WARNING"} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}

	// Without -metrics: no counters, no warning.
	c.Metrics = ""
	rep, err = CheckSpans(context.Background(), c)
	if err != nil || rep.HaveMetrics || rep.DroppedShare() != -1 {
		t.Errorf("without metrics: %+v, %v", rep, err)
	}
	if text := strings.Join(rep.Lines(c), "\n"); strings.Contains(text, "WARNING") || strings.Contains(text, "dropped") {
		t.Errorf("without metrics:\n%s", text)
	}
}

func TestCheckSpansFailsWhenNotListed(t *testing.T) {
	srv := fakeJaeger(t, 1<<30)
	start := time.Now()
	_, err := CheckSpans(context.Background(), SpanCheck{Query: srv.URL, Service: "govbus", Timeout: 500 * time.Millisecond})
	if !errors.Is(err, ErrServiceNotListed) || !strings.Contains(err.Error(), "lists no service") {
		t.Errorf("err = %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %s", d)
	}

	// With -metrics, the failure says what the traced process counted.
	_, err = CheckSpans(context.Background(), SpanCheck{Query: srv.URL, Service: "govbus", Metrics: srv.URL + "/metrics", Timeout: 300 * time.Millisecond})
	if !errors.Is(err, ErrServiceNotListed) || !strings.Contains(err.Error(), "counted 1203 exchanges and 7 dropped spans") {
		t.Errorf("with metrics: %v", err)
	}

	// Nothing listening: the last error is the connection's.
	srv.Close()
	_, err = CheckSpans(context.Background(), SpanCheck{Query: srv.URL, Service: "govbus", Timeout: 300 * time.Millisecond})
	if !errors.Is(err, ErrServiceNotListed) || !strings.Contains(err.Error(), "refused") {
		t.Errorf("nothing listening: %v", err)
	}
}

func TestCheckSpansMetricsProblems(t *testing.T) {
	srv := fakeJaeger(t, 0)
	for _, path := range []string{"/nope", "/api/services"} { // a 404; an answer without the counters
		_, err := CheckSpans(context.Background(), SpanCheck{Query: srv.URL, Service: "govbus", Metrics: srv.URL + path, Timeout: time.Second})
		if err == nil || errors.Is(err, ErrServiceNotListed) {
			t.Errorf("metrics at %s: err = %v", path, err)
		}
	}
}

func TestMainSpans(t *testing.T) {
	srv := fakeJaeger(t, 0)
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"spans", "-query", srv.URL, "-metrics", srv.URL + "/metrics"}, &stdout, &stderr)
	if code != 0 || !strings.Contains(stdout.String(), `lists service "govbus"`) {
		t.Errorf("exit %d\nstdout %s\nstderr %s", code, &stdout, &stderr)
	}

	stdout.Reset()
	stderr.Reset()
	code = Main(context.Background(), []string{"spans", "-query", srv.URL, "-service", "other", "-timeout", "300ms"}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), `does not list service "other"`) {
		t.Errorf("unlisted: exit %d\nstderr %s", code, &stderr)
	}

	for _, args := range [][]string{{"spans"}, {"spans", "-query", srv.URL, "extra"}, {"spans", "-query", srv.URL, "-timeout", "0s"}, {"spans", "-z"}} {
		if code := Main(context.Background(), args, io.Discard, io.Discard); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if code := Main(ctx, []string{"spans", "-query", srv.URL, "-service", "other"}, io.Discard, io.Discard); code != ExitInterrupted {
		t.Errorf("cancelled: exit %d, want %d", code, ExitInterrupted)
	}
}
