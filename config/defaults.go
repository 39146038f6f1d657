package config

import "time"

// Defaults of the values that the field comments promise.
const (
	DefaultConsumerAddress  = "127.0.0.1:8080"
	DefaultStatusAddress    = "127.0.0.1:9464"
	DefaultAdminAddress     = "127.0.0.1:9465"
	DefaultTimeout          = 10 * time.Second
	DefaultMaxRequestBytes  = 10 << 20
	DefaultMaxResponseBytes = 32 << 20
	DefaultRetryMax         = 2
)

// setDefaults fills every unset field with its documented default.
func setDefaults(c *Config) {
	if c.Node == "" {
		c.Node = "govbus"
	}
	l := &c.Listeners
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	defD := func(d *Duration, v time.Duration) {
		if *d == 0 {
			*d = Duration(v)
		}
	}
	def(&l.Consumer.Address, DefaultConsumerAddress)
	def(&l.Status.Address, DefaultStatusAddress)
	def(&l.Admin.Address, DefaultAdminAddress)
	defD(&l.ReadHeaderTimeout, 5*time.Second)
	defD(&l.ReadTimeout, 60*time.Second)
	defD(&l.WriteTimeout, 120*time.Second)
	defD(&l.IdleTimeout, 120*time.Second)
	defD(&l.DrainTimeout, 15*time.Second)
	if l.MaxHeaderBytes == 0 {
		l.MaxHeaderBytes = 64 << 10
	}
	ml := &c.MessageLog
	def(&ml.Store, "sqlite")
	if ml.Store == "sqlite" {
		def(&ml.Path, "var/messagelog.db")
	}
	def(&ml.SigningKey, "var/messagelog.key")
	if ml.SignEvery == 0 {
		ml.SignEvery = 1000
	}
	defD(&ml.SignInterval, time.Second)
	for i := range c.Registries {
		r := &c.Registries[i]
		def(&r.Adapter, "rest")
		def(&r.Auth.Type, "none")
		defD(&r.Timeout, DefaultTimeout)
		if r.MaxRequestBytes == 0 {
			r.MaxRequestBytes = DefaultMaxRequestBytes
		}
		if r.MaxResponseBytes == 0 {
			r.MaxResponseBytes = DefaultMaxResponseBytes
		}
		if r.Retry.Max == nil {
			n := DefaultRetryMax
			r.Retry.Max = &n
		}
		if r.MaxInFlight == 0 {
			r.MaxInFlight = 256
		}
		if r.Retry.BudgetRatio == 0 {
			r.Retry.BudgetRatio = 0.2
		}
		if r.Retry.BudgetMinPerSecond == 0 {
			r.Retry.BudgetMinPerSecond = 5
		}
		b := &r.Breaker
		if b.ConsecutiveFailures == 0 {
			b.ConsecutiveFailures = 5
		}
		if b.FailureRatio == 0 {
			b.FailureRatio = 0.5
		}
		if b.MinRequests == 0 {
			b.MinRequests = 20
		}
		defD(&b.Interval, 10*time.Second)
		defD(&b.OpenTimeout, 10*time.Second)
		if b.HalfOpenRequests == 0 {
			b.HalfOpenRequests = 1
		}
		defD(&r.Retry.WaitMin, 20*time.Millisecond)
		defD(&r.Retry.WaitMax, time.Second)
		if r.Pool.MaxIdleConnsPerHost == 0 {
			r.Pool.MaxIdleConnsPerHost = 256
		}
		if r.Pool.MaxConnsPerHost == 0 {
			r.Pool.MaxConnsPerHost = 512
		}
		defD(&r.Pool.IdleConnTimeout, 90*time.Second)
		defD(&r.Pool.ConnectTimeout, 2*time.Second)
		for j := range r.Services {
			s := &r.Services[j]
			if len(s.Methods) == 0 {
				s.Methods = []string{"GET"}
			}
			defD(&s.Timeout, r.Timeout.D())
			if s.MaxRequestBytes == 0 {
				s.MaxRequestBytes = r.MaxRequestBytes
			}
		}
	}
}
