package config

import (
	"time"

	"github.com/govbus/govbus/outbound"
)

// Defaults of the values that the field comments promise.
const (
	DefaultConsumerAddress  = "127.0.0.1:8080"
	DefaultStatusAddress    = "127.0.0.1:9464"
	DefaultAdminAddress     = "127.0.0.1:9465"
	DefaultTimeout          = 10 * time.Second
	DefaultMaxRequestBytes  = 10 << 20
	DefaultMaxResponseBytes = 32 << 20
	// DefaultKeepBodiesPerDay is a service's daily budget of kept bodies.
	DefaultKeepBodiesPerDay = 1 << 30
	// DefaultRetryMax, like a registry's max_in_flight, pool, retry
	// budget and breaker defaults, is package outbound's, which makes the
	// calls.
	DefaultRetryMax = outbound.DefaultRetryMax
)

// orDefault sets *v to d when *v is the zero value.
func orDefault[T comparable](v *T, d T) {
	var zero T
	if *v == zero {
		*v = d
	}
}

// setDefaults fills every unset field with its documented default.
func setDefaults(c *Config) {
	orDefault(&c.Node, "govbus")
	setAuthThrottleDefaults(&c.AuthThrottle)
	l := &c.Listeners
	defD := func(d *Duration, v time.Duration) {
		if *d == 0 {
			*d = Duration(v)
		}
	}
	orDefault(&l.Consumer.Address, DefaultConsumerAddress)
	orDefault(&l.Status.Address, DefaultStatusAddress)
	orDefault(&l.Admin.Address, DefaultAdminAddress)
	defD(&l.ReadHeaderTimeout, 5*time.Second)
	defD(&l.ReadTimeout, 60*time.Second)
	defD(&l.WriteTimeout, 120*time.Second)
	defD(&l.IdleTimeout, 120*time.Second)
	defD(&l.DrainTimeout, 15*time.Second)
	orDefault(&l.MaxHeaderBytes, 64<<10)
	ml := &c.MessageLog
	orDefault(&ml.Store, "sqlite")
	if ml.Store == "sqlite" {
		orDefault(&ml.Path, "var/messagelog.db")
	}
	orDefault(&ml.SigningKey, "var/messagelog.key")
	orDefault(&ml.SignEvery, 1000)
	defD(&ml.SignInterval, time.Second)
	for i := range c.Registries {
		r := &c.Registries[i]
		orDefault(&r.Adapter, "rest")
		orDefault(&r.Auth.Type, "none")
		defD(&r.Timeout, DefaultTimeout)
		orDefault(&r.MaxRequestBytes, DefaultMaxRequestBytes)
		orDefault(&r.MaxResponseBytes, DefaultMaxResponseBytes)
		if r.Retry.Max == nil {
			n := DefaultRetryMax
			r.Retry.Max = &n
		}
		orDefault(&r.MaxInFlight, outbound.DefaultMaxInFlight)
		orDefault(&r.Retry.BudgetRatio, outbound.DefaultBudgetRatio)
		orDefault(&r.Retry.BudgetMinPerSecond, outbound.DefaultBudgetMinPerSecond)
		b := &r.Breaker
		orDefault(&b.ConsecutiveFailures, outbound.DefaultConsecutiveFailures)
		orDefault(&b.FailureRatio, outbound.DefaultFailureRatio)
		orDefault(&b.MinRequests, outbound.DefaultMinRequests)
		defD(&b.Interval, outbound.DefaultBreakerInterval)
		defD(&b.OpenTimeout, outbound.DefaultOpenTimeout)
		orDefault(&b.HalfOpenRequests, outbound.DefaultHalfOpenRequests)
		defD(&r.Retry.WaitMin, outbound.DefaultRetryWaitMin)
		defD(&r.Retry.WaitMax, outbound.DefaultRetryWaitMax)
		orDefault(&r.Pool.MaxIdleConnsPerHost, outbound.DefaultMaxIdleConnsPerHost)
		orDefault(&r.Pool.MaxConnsPerHost, outbound.DefaultMaxConnsPerHost)
		defD(&r.Pool.IdleConnTimeout, outbound.DefaultIdleConnTimeout)
		defD(&r.Pool.ConnectTimeout, outbound.DefaultConnectTimeout)
		for j := range r.Services {
			s := &r.Services[j]
			if len(s.Methods) == 0 {
				s.Methods = []string{"GET"}
			}
			defD(&s.Timeout, r.Timeout.D())
			orDefault(&s.MaxRequestBytes, r.MaxRequestBytes)
			orDefault(&s.KeepBodiesPerDay, DefaultKeepBodiesPerDay)
		}
	}
}
