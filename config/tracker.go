package config

import (
	"math"

	"github.com/govbus/govbus/tracker"
)

// Tracker configures the citizen's Data Tracker (GET /tracker/v1/accesses):
// how often each client may ask, and how large a page may be.
type Tracker struct {
	// Rate is each client's token bucket of tracker calls; beyond it the
	// client gets 429 Client.RateLimited with Retry-After. The buckets
	// outlive reloads. Default {per_second: 5, burst: 10}.
	Rate *TrackerRate `yaml:"rate"`
	// MaxLimit is the largest page (the limit= parameter) a caller may ask
	// for, from 1 to 500; a larger limit is 400 Client.BadRequest. A page
	// holds 50 accesses (or MaxLimit, when smaller) when the caller names
	// no limit. Default 100.
	MaxLimit int `yaml:"max_limit"`
}

// TrackerRate is a token bucket of tracker calls.
type TrackerRate struct {
	// PerSecond is the sustained rate. Required, positive.
	PerSecond float64 `yaml:"per_second"`
	// Burst is the bucket size. Default: PerSecond rounded up, at least 1.
	Burst int `yaml:"burst"`
}

// RateLimit returns each client's bucket of tracker calls, defaults
// applied: the rate per second and the burst.
func (t Tracker) RateLimit() (perSecond float64, burst int) {
	if t.Rate == nil {
		return tracker.DefaultRate, tracker.DefaultBurst
	}
	burst = t.Rate.Burst
	if burst <= 0 {
		burst = int(max(1, min(math.Ceil(t.Rate.PerSecond), math.MaxInt32)))
	}
	return t.Rate.PerSecond, burst
}

// PageMax returns the largest page a caller may ask for, default applied.
func (t Tracker) PageMax() int {
	if t.MaxLimit == 0 {
		return tracker.DefaultMaxLimit
	}
	return t.MaxLimit
}

// tracker validates the tracker section.
func (v *validator) tracker() {
	t := v.cfg.Tracker
	if r := t.Rate; r != nil {
		if !(r.PerSecond > 0) || math.IsInf(r.PerSecond, 0) {
			v.addf("tracker.rate.per_second", "must be a positive number of calls per second")
		}
		if r.Burst < 0 {
			v.addf("tracker.rate.burst", "must not be negative")
		}
	}
	if t.MaxLimit < 0 || t.MaxLimit > tracker.MaxLimit {
		v.addf("tracker.max_limit", "must be from 1 to %d", tracker.MaxLimit)
	}
}
