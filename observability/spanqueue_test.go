package observability

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// fakeExporter records exported spans; it can block or fail.
type fakeExporter struct {
	mu       sync.Mutex
	exported int
	block    chan struct{}
	fail     bool
}

func (f *fakeExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if f.fail {
		return errors.New("collector down")
	}
	f.mu.Lock()
	f.exported += len(spans)
	f.mu.Unlock()
	return nil
}

func (f *fakeExporter) Shutdown(context.Context) error { return nil }

func sampledSpans(t *testing.T, n int) []sdktrace.ReadOnlySpan {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	for i := 0; i < n; i++ {
		_, sp := tp.Tracer("t").Start(context.Background(), "s")
		sp.End()
	}
	return rec.Ended()
}

func TestSpanQueueExportsAndFlushes(t *testing.T) {
	exp := &fakeExporter{}
	dropped := prometheus.NewCounter(prometheus.CounterOpts{Name: "d"})
	q := newSpanQueue(exp, 100, 10, time.Hour, time.Second, dropped)
	for _, s := range sampledSpans(t, 25) {
		q.OnEnd(s)
	}
	if err := q.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if exp.exported != 25 || testutil.ToFloat64(dropped) != 0 {
		t.Errorf("exported %d, dropped %v; want 25 and 0", exp.exported, testutil.ToFloat64(dropped))
	}
	if err := q.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestSpanQueueNeverBlocks: with the collector stuck, OnEnd returns at once
// and the overflow is counted.
func TestSpanQueueNeverBlocks(t *testing.T) {
	exp := &fakeExporter{block: make(chan struct{})}
	dropped := prometheus.NewCounter(prometheus.CounterOpts{Name: "d"})
	q := newSpanQueue(exp, 10, 5, time.Hour, 50*time.Millisecond, dropped)
	spans := sampledSpans(t, 100)
	start := time.Now()
	for _, s := range spans {
		q.OnEnd(s)
	}
	if took := time.Since(start); took > 100*time.Millisecond {
		t.Errorf("OnEnd blocked for %v", took)
	}
	// At most the queue (10) plus one batch in the stuck export (5) escape.
	if got := testutil.ToFloat64(dropped); got < 85 {
		t.Errorf("dropped = %v, want at least 85 of 100", got)
	}
	close(exp.block)
	_ = q.Shutdown(context.Background())
}

func TestSpanQueueCountsFailedExports(t *testing.T) {
	exp := &fakeExporter{fail: true}
	dropped := prometheus.NewCounter(prometheus.CounterOpts{Name: "d"})
	q := newSpanQueue(exp, 100, 10, time.Hour, time.Second, dropped)
	for _, s := range sampledSpans(t, 20) {
		q.OnEnd(s)
	}
	_ = q.Shutdown(context.Background())
	if got := testutil.ToFloat64(dropped); got != 20 {
		t.Errorf("dropped = %v, want 20 (every span of the failed exports)", got)
	}
}

func TestNewTracingOffWithoutEndpoint(t *testing.T) {
	tr, err := NewTracing(context.Background(), TracingConfig{}, prometheus.NewRegistry(), func(string) string { return "" })
	if err != nil || tr.Endpoint != "" {
		t.Fatalf("NewTracing = %+v, %v; want tracing off", tr, err)
	}
	env := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"}
	tr, err = NewTracing(context.Background(), TracingConfig{Endpoint: "http://127.0.0.1:2"}, prometheus.NewRegistry(), func(k string) string { return env[k] })
	if err != nil || tr.Endpoint != "http://127.0.0.1:1/v1/traces" {
		t.Errorf("endpoint = %q (%v), want the environment's to win", tr.Endpoint, err)
	}
	_ = tr.Shutdown(context.Background())
	env = map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:3/custom"}
	tr, _ = NewTracing(context.Background(), TracingConfig{Endpoint: "http://127.0.0.1:2"}, prometheus.NewRegistry(), func(k string) string { return env[k] })
	if tr.Endpoint != "http://127.0.0.1:3/custom" {
		t.Errorf("endpoint = %q, want the traces endpoint as given", tr.Endpoint)
	}
	_ = tr.Shutdown(context.Background())
}
