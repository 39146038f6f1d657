package observability

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// TracingConfig configures span export; the standard OTEL_* environment
// variables override it.
type TracingConfig struct {
	// Endpoint is the OTLP/HTTP base URL (e.g. http://127.0.0.1:4318);
	// spans go to Endpoint + /v1/traces. OTEL_EXPORTER_OTLP_ENDPOINT and
	// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT override it. Empty and no
	// variable: no spans are recorded.
	Endpoint string
	// ServiceName names govbus in traces; OTEL_SERVICE_NAME overrides it.
	ServiceName string
	// Sampler is "parentbased_always_on" (the default), "always_on",
	// "always_off", "traceidratio" or "parentbased_traceidratio", with
	// SamplerArg the ratio; OTEL_TRACES_SAMPLER(_ARG) override them.
	Sampler    string
	SamplerArg float64
	// QueueSize bounds the spans waiting for export; beyond it spans are
	// dropped and counted. BatchSize spans go per export.
	QueueSize, BatchSize int
	// ExportTimeout bounds one export; Interval is the longest a span waits.
	ExportTimeout, Interval time.Duration
	// Attributes are added to the resource (e.g. service.instance.id).
	Attributes map[string]string
}

// Tracing is the node's tracer provider and propagator.
type Tracing struct {
	Provider   trace.TracerProvider
	Propagator propagation.TextMapPropagator
	// Endpoint is where spans go ("" when tracing is off).
	Endpoint string
	shutdown func(context.Context) error
}

// Tracer returns the tracer of govbus's own spans.
func (t *Tracing) Tracer() trace.Tracer { return t.Provider.Tracer("github.com/govbus/govbus") }

// Shutdown exports what is queued and stops.
func (t *Tracing) Shutdown(ctx context.Context) error { return t.shutdown(ctx) }

// NewTracing builds the tracer provider: OTLP/HTTP export through a bounded
// queue when an endpoint is configured, no recording otherwise. Dropped
// spans are counted in govbus_trace_spans_dropped_total on reg. getenv
// reads the OTEL_* variables.
func NewTracing(ctx context.Context, cfg TracingConfig, reg prometheus.Registerer, getenv func(string) string) (*Tracing, error) {
	dropped := prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "govbus", Name: "trace_spans_dropped_total",
		Help: "Spans dropped because the export queue was full or the export failed.",
	})
	reg.MustRegister(dropped)
	t := &Tracing{Propagator: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})}
	endpoint := getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
	if endpoint == "" {
		base := getenv("OTEL_EXPORTER_OTLP_ENDPOINT")
		if base == "" {
			base = cfg.Endpoint
		}
		if base != "" {
			endpoint = strings.TrimSuffix(base, "/") + "/v1/traces"
		}
	}
	if endpoint == "" {
		t.Provider = noop.NewTracerProvider()
		t.shutdown = func(context.Context) error { return nil }
		return t, nil
	}
	t.Endpoint = endpoint
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
	if err != nil {
		return nil, fmt.Errorf("building the OTLP exporter: %w", err)
	}
	attrs := []attribute.KeyValue{attribute.String("service.name", orDefault(cfg.ServiceName, "govbus"))}
	for k, v := range cfg.Attributes {
		attrs = append(attrs, attribute.String(k, v))
	}
	res, err := resource.New(ctx, resource.WithAttributes(attrs...), resource.WithFromEnv(), resource.WithTelemetrySDK())
	if err != nil {
		return nil, fmt.Errorf("building the trace resource: %w", err)
	}
	q := newSpanQueue(exp, orDefaultInt(cfg.QueueSize, 4096), orDefaultInt(cfg.BatchSize, 512),
		orDefaultDur(cfg.Interval, time.Second), orDefaultDur(cfg.ExportTimeout, 5*time.Second), dropped)
	opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res), sdktrace.WithSpanProcessor(q)}
	if getenv("OTEL_TRACES_SAMPLER") == "" {
		opts = append(opts, sdktrace.WithSampler(sampler(cfg.Sampler, cfg.SamplerArg)))
	}
	tp := sdktrace.NewTracerProvider(opts...)
	t.Provider, t.shutdown = tp, tp.Shutdown
	return t, nil
}

// sampler builds a sampler from its OTEL_TRACES_SAMPLER-style name.
func sampler(name string, arg float64) sdktrace.Sampler {
	switch name {
	case "always_on":
		return sdktrace.AlwaysSample()
	case "always_off":
		return sdktrace.NeverSample()
	case "traceidratio":
		return sdktrace.TraceIDRatioBased(arg)
	case "parentbased_traceidratio":
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(arg))
	}
	return sdktrace.ParentBased(sdktrace.AlwaysSample())
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func orDefaultInt(v, d int) int {
	if v <= 0 {
		return d
	}
	return v
}

func orDefaultDur(v, d time.Duration) time.Duration {
	if v <= 0 {
		return d
	}
	return v
}
