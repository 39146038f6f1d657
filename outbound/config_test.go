package outbound

import (
	"testing"
	"time"

	"go.opentelemetry.io/otel/propagation"
)

// TestSetDefaults checks every default the field comments of Config
// promise, on a Config that sets nothing.
func TestSetDefaults(t *testing.T) {
	var c Config
	c.setDefaults()
	want := Config{
		MaxInFlight: 256,
		Pool:        Pool{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 512, IdleConnTimeout: 90 * time.Second, ConnectTimeout: 2 * time.Second},
		Retry: Retry{Max: 2, WaitMin: 20 * time.Millisecond, WaitMax: time.Second,
			BudgetRatio: 0.2, BudgetMinPerSecond: 5, BudgetWindow: 10 * time.Second},
		Breaker: Breaker{ConsecutiveFailures: 5, FailureRatio: 0.5, MinRequests: 20,
			Interval: 10 * time.Second, OpenTimeout: 10 * time.Second, HalfOpenRequests: 1},
	}
	if c.MaxInFlight != want.MaxInFlight || c.Pool != want.Pool || c.Retry != want.Retry || c.Breaker != want.Breaker {
		t.Errorf("setDefaults:\ngot  %d %+v %+v %+v\nwant %d %+v %+v %+v",
			c.MaxInFlight, c.Pool, c.Retry, c.Breaker, want.MaxInFlight, want.Pool, want.Retry, want.Breaker)
	}
	if _, ok := c.Observer.(NopObserver); !ok {
		t.Errorf("Observer: got %T, want NopObserver", c.Observer)
	}
	if c.Logger == nil || c.Tracer == nil {
		t.Errorf("Logger, Tracer: got %v, %v, want both set", c.Logger, c.Tracer)
	}
	if _, ok := c.Propagator.(propagation.TraceContext); !ok {
		t.Errorf("Propagator: got %T, want propagation.TraceContext", c.Propagator)
	}
}

// TestSetDefaultsKeepsValues checks that set fields are left alone, and
// that a negative Retry.Max means no retries.
func TestSetDefaultsKeepsValues(t *testing.T) {
	c := Config{
		MaxInFlight: 3,
		Pool:        Pool{MaxIdleConnsPerHost: 4, MaxConnsPerHost: 5, IdleConnTimeout: 6 * time.Second, ConnectTimeout: 7 * time.Second},
		Retry: Retry{Max: -1, WaitMin: time.Millisecond, WaitMax: 2 * time.Millisecond,
			BudgetRatio: 0.5, BudgetMinPerSecond: 1, BudgetWindow: time.Minute},
		Breaker: Breaker{Disabled: true, ConsecutiveFailures: 9, FailureRatio: 0.9, MinRequests: 8,
			Interval: time.Minute, OpenTimeout: time.Hour, HalfOpenRequests: 2},
	}
	want := c
	want.Retry.Max = 0
	c.setDefaults()
	if c.MaxInFlight != want.MaxInFlight || c.Pool != want.Pool || c.Retry != want.Retry || c.Breaker != want.Breaker {
		t.Errorf("setDefaults:\ngot  %d %+v %+v %+v\nwant %d %+v %+v %+v",
			c.MaxInFlight, c.Pool, c.Retry, c.Breaker, want.MaxInFlight, want.Pool, want.Retry, want.Breaker)
	}
}
