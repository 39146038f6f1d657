package observability

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// spanQueue is a batching span processor with a bounded queue that never
// blocks an exchange: when the collector is down or slow and the queue is
// full, spans are dropped and counted (govbus_trace_spans_dropped_total),
// as are spans whose export failed.
type spanQueue struct {
	exp      sdktrace.SpanExporter
	ch       chan sdktrace.ReadOnlySpan
	batch    int
	interval time.Duration
	timeout  time.Duration
	dropped  prometheus.Counter

	flush    chan chan struct{}
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

var _ sdktrace.SpanProcessor = (*spanQueue)(nil)

func newSpanQueue(exp sdktrace.SpanExporter, size, batch int, interval, timeout time.Duration, dropped prometheus.Counter) *spanQueue {
	q := &spanQueue{
		exp: exp, ch: make(chan sdktrace.ReadOnlySpan, size), batch: batch,
		interval: interval, timeout: timeout, dropped: dropped,
		flush: make(chan chan struct{}), stop: make(chan struct{}), done: make(chan struct{}),
	}
	go q.run()
	return q
}

// OnStart does nothing.
func (q *spanQueue) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

// OnEnd queues a sampled span, or drops it when the queue is full.
func (q *spanQueue) OnEnd(s sdktrace.ReadOnlySpan) {
	if !s.SpanContext().IsSampled() {
		return
	}
	select {
	case <-q.stop:
		q.dropped.Inc()
		return
	default:
	}
	select {
	case q.ch <- s:
	default:
		q.dropped.Inc()
	}
}

func (q *spanQueue) run() {
	defer close(q.done)
	tick := time.NewTicker(q.interval)
	defer tick.Stop()
	buf := make([]sdktrace.ReadOnlySpan, 0, q.batch)
	for {
		select {
		case s := <-q.ch:
			if buf = append(buf, s); len(buf) >= q.batch {
				buf = q.export(buf)
			}
		case <-tick.C:
			buf = q.export(buf)
		case ack := <-q.flush:
			buf = q.export(q.drain(buf))
			close(ack)
		case <-q.stop:
			q.export(q.drain(buf))
			return
		}
	}
}

// drain moves every queued span into buf, exporting full batches.
func (q *spanQueue) drain(buf []sdktrace.ReadOnlySpan) []sdktrace.ReadOnlySpan {
	for {
		select {
		case s := <-q.ch:
			if buf = append(buf, s); len(buf) >= q.batch {
				buf = q.export(buf)
			}
		default:
			return buf
		}
	}
}

// export sends a batch, counting it as dropped when the export fails.
func (q *spanQueue) export(buf []sdktrace.ReadOnlySpan) []sdktrace.ReadOnlySpan {
	if len(buf) == 0 {
		return buf
	}
	ctx, cancel := context.WithTimeout(context.Background(), q.timeout)
	if err := q.exp.ExportSpans(ctx, buf); err != nil {
		q.dropped.Add(float64(len(buf)))
	}
	cancel()
	clear(buf)
	return buf[:0]
}

// ForceFlush exports every queued span.
func (q *spanQueue) ForceFlush(ctx context.Context) error {
	ack := make(chan struct{})
	select {
	case q.flush <- ack:
	case <-q.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-ack:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Shutdown exports what is queued and stops the exporter.
func (q *spanQueue) Shutdown(ctx context.Context) error {
	q.stopOnce.Do(func() { close(q.stop) })
	select {
	case <-q.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	return q.exp.Shutdown(ctx)
}
