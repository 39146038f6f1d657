// Package outbound is the resilient call path from govbus to one registry.
// Per registry, outermost first (DESIGN.md §1):
//
//	deadline (whole call) → bulkhead (in-flight limit)
//	→ retries with failover across endpoints, within a retry budget
//	→ a circuit breaker per endpoint → one attempt → transport
//
// New assembles that stack in one place; adapters (REST, SOAP) build the
// registry's request and hand it to Stack.Do. A registry that is down, slow
// or flapping costs govbus a bounded number of goroutines and connections,
// and never more than a bounded share of extra requests.
package outbound

import (
	"crypto/tls"
	"log/slog"
	"net/url"
	"time"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Config configures the stack of one registry. Zero fields take the
// defaults in their comments.
type Config struct {
	// Registry is the registry's subsystem id, for logs and metrics.
	Registry string
	// Endpoints are the base URLs of the registry's replicas. Required.
	Endpoints []*url.URL
	// TLS is the client TLS configuration for https endpoints.
	TLS *tls.Config
	// MaxInFlight is the bulkhead: requests in flight to the registry at
	// once; more get CodeRegistryBusy at once. Default 256.
	MaxInFlight int
	Pool        Pool
	Retry       Retry
	Breaker     Breaker
	// Observer is told about attempts, retries and breaker changes.
	// Default: nothing is told.
	Observer Observer
	// Logger receives breaker state changes. Default: discard.
	Logger *slog.Logger
	// Tracer records one CLIENT span per attempt. Default: none.
	Tracer trace.Tracer
	// Propagator writes the attempt's trace context (traceparent) into
	// the registry request. Default: W3C trace context.
	Propagator propagation.TextMapPropagator
}

// Pool sizes the registry's own connection pool.
type Pool struct {
	// MaxIdleConnsPerHost is the idle pool per endpoint. Default 256.
	MaxIdleConnsPerHost int
	// MaxConnsPerHost caps connections per endpoint. Default 512.
	MaxConnsPerHost int
	// IdleConnTimeout closes idle connections. Default 90s.
	IdleConnTimeout time.Duration
	// ConnectTimeout bounds TCP and TLS set-up. Default 2s.
	ConnectTimeout time.Duration
}

// Retry configures re-sending.
type Retry struct {
	// Max is how many times a request may be re-sent; -1 for never.
	// Default 2.
	Max int
	// WaitMin and WaitMax bound the exponential backoff with full jitter.
	// Defaults 20ms and 1s.
	WaitMin, WaitMax time.Duration
	// BudgetRatio is the share of requests that may be retries over
	// BudgetWindow. Default 0.2.
	BudgetRatio float64
	// BudgetMinPerSecond is a floor of retries allowed per second however
	// few the requests. Default 5.
	BudgetMinPerSecond float64
	// BudgetWindow is the window of the budget. Default 10s.
	BudgetWindow time.Duration
}

// Breaker configures the circuit breaker of each endpoint.
type Breaker struct {
	// Disabled turns the breakers off (every endpoint always closed).
	Disabled bool
	// ConsecutiveFailures opens the breaker. Default 5.
	ConsecutiveFailures uint32
	// FailureRatio opens the breaker once MinRequests were seen in the
	// current interval. Default 0.5.
	FailureRatio float64
	// MinRequests is the minimum for FailureRatio. Default 20.
	MinRequests uint32
	// Interval resets the counts of a closed breaker. Default 10s.
	Interval time.Duration
	// OpenTimeout is how long a breaker stays open before probing.
	// Default 10s.
	OpenTimeout time.Duration
	// HalfOpenRequests are the probes let through while half-open.
	// Default 1.
	HalfOpenRequests uint32
}

// The defaults that zero fields of a Config take, as their comments give
// them; a constant whose number alone would not take its field's type
// carries that type. The config package fills a registry's settings from
// these too, so that a configuration file and a Config built in code fall
// back to the same values.
const (
	DefaultMaxInFlight                 = 256
	DefaultMaxIdleConnsPerHost         = 256
	DefaultMaxConnsPerHost             = 512
	DefaultIdleConnTimeout             = 90 * time.Second
	DefaultConnectTimeout              = 2 * time.Second
	DefaultRetryMax                    = 2
	DefaultRetryWaitMin                = 20 * time.Millisecond
	DefaultRetryWaitMax                = time.Second
	DefaultBudgetRatio                 = 0.2
	DefaultBudgetMinPerSecond  float64 = 5
	DefaultBudgetWindow                = 10 * time.Second
	DefaultConsecutiveFailures uint32  = 5
	DefaultFailureRatio                = 0.5
	DefaultMinRequests         uint32  = 20
	DefaultBreakerInterval             = 10 * time.Second
	DefaultOpenTimeout                 = 10 * time.Second
	DefaultHalfOpenRequests    uint32  = 1
)

func (c *Config) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = DefaultMaxInFlight
	}
	if c.Pool.MaxIdleConnsPerHost == 0 {
		c.Pool.MaxIdleConnsPerHost = DefaultMaxIdleConnsPerHost
	}
	if c.Pool.MaxConnsPerHost == 0 {
		c.Pool.MaxConnsPerHost = DefaultMaxConnsPerHost
	}
	def(&c.Pool.IdleConnTimeout, DefaultIdleConnTimeout)
	def(&c.Pool.ConnectTimeout, DefaultConnectTimeout)
	if c.Retry.Max == 0 {
		c.Retry.Max = DefaultRetryMax
	}
	if c.Retry.Max < 0 {
		c.Retry.Max = 0
	}
	def(&c.Retry.WaitMin, DefaultRetryWaitMin)
	def(&c.Retry.WaitMax, DefaultRetryWaitMax)
	if c.Retry.BudgetRatio == 0 {
		c.Retry.BudgetRatio = DefaultBudgetRatio
	}
	if c.Retry.BudgetMinPerSecond == 0 {
		c.Retry.BudgetMinPerSecond = DefaultBudgetMinPerSecond
	}
	def(&c.Retry.BudgetWindow, DefaultBudgetWindow)
	b := &c.Breaker
	if b.ConsecutiveFailures == 0 {
		b.ConsecutiveFailures = DefaultConsecutiveFailures
	}
	if b.FailureRatio == 0 {
		b.FailureRatio = DefaultFailureRatio
	}
	if b.MinRequests == 0 {
		b.MinRequests = DefaultMinRequests
	}
	def(&b.Interval, DefaultBreakerInterval)
	def(&b.OpenTimeout, DefaultOpenTimeout)
	if b.HalfOpenRequests == 0 {
		b.HalfOpenRequests = DefaultHalfOpenRequests
	}
	if c.Observer == nil {
		c.Observer = NopObserver{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Tracer == nil {
		c.Tracer = noop.NewTracerProvider().Tracer("")
	}
	if c.Propagator == nil {
		c.Propagator = propagation.TraceContext{}
	}
}
