// Package ratelimit enforces the rates and daily quotas of the policy
// rules (DESIGN.md §3, Client.RateLimited): it implements the gateway's
// Limiter.
//
// A rule's rate is a token bucket of Burst tokens refilled at
// RatePerSecond; its quota is a fixed window of QuotaPerDay calls per UTC
// day. Each client allowed by the rule has its own bucket and counter, or
// one per client × service with PerService. The rate is checked first: a
// call it refuses is not counted against the quota, and no refused call
// ever uses quota (a call refused by a spent quota still spends its token).
//
// The Limiter is rebuilt with each configuration; the counts live in a
// Store that outlives it. State, the node-local Store, keeps them in
// memory: give the same State to every New so that a reload resets no
// bucket and no quota, and a changed limit applies from the next call.
package ratelimit

import (
	"context"
	"math"
	"time"

	"github.com/govbus/govbus/policies"
)

// day is the length of a quota window.
const day = 24 * time.Hour

// Limits are one rule's limits; zero values mean none.
type Limits struct {
	// Rate is the sustained rate in calls per second and Burst the bucket
	// size (0: Rate rounded up, at least 1).
	Rate  float64
	Burst int
	// PerDay caps the calls per UTC day.
	PerDay int
	// PerService keys the limits by client × service instead of client.
	PerService bool
}

// LimitsOf returns the limits of rule r and whether it has any.
func LimitsOf(r policies.Rule) (Limits, bool) {
	l := Limits{PerService: r.PerService}
	if r.RatePerSecond > 0 && !math.IsInf(r.RatePerSecond, 0) {
		l.Rate, l.Burst = r.RatePerSecond, r.Burst
		if l.Burst <= 0 {
			l.Burst = int(min(math.Ceil(l.Rate), math.MaxInt32))
		}
	}
	if r.QuotaPerDay > 0 {
		l.PerDay = r.QuotaPerDay
	}
	return l, l.Rate > 0 || l.PerDay > 0
}

// Limiter enforces the limits of one configuration. It is safe for
// concurrent use.
type Limiter struct {
	rules map[string]Limits
	store Store
	state *State // store, when it is a State: one lookup for both limits
	now   func() time.Time
}

// New returns the Limiter of rules over st, whose entries outlive it (nil:
// a State of its own). It drops from st what the rules no longer limit, so
// that rules removed by a reload leave nothing behind.
func New(rules []policies.Rule, st *State) *Limiter {
	l := build(rules)
	if st == nil {
		if len(l.rules) == 0 {
			return l
		}
		st = NewState(nil)
	}
	st.retain(func(k Key) bool {
		lim, ok := l.rules[k.Rule]
		return ok && lim.PerService == (k.Service != "")
	})
	l.store, l.state, l.now = st, st, st.now
	return l
}

// NewWithStore returns the Limiter of rules over store, reading the time
// from now (nil: time.Now). A shared store makes the limits hold across the
// nodes that use it.
func NewWithStore(rules []policies.Rule, store Store, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	l := build(rules)
	l.store, l.now = store, now
	l.state, _ = store.(*State)
	return l
}

func build(rules []policies.Rule) *Limiter {
	l := &Limiter{rules: map[string]Limits{}}
	for _, r := range rules {
		if lim, ok := LimitsOf(r); ok {
			l.rules[r.ID] = lim
		}
	}
	return l
}

// Active reports whether any rule has a limit; a Limiter that has none
// allows every call and need not be installed.
func (l *Limiter) Active() bool { return len(l.rules) > 0 }

// Allow takes one call of client on service under rule ruleID: ok=true
// when the rule's rate and quota allow it; otherwise how long to wait —
// until the bucket holds a token, or until the next UTC midnight when the
// day's quota is spent. Calls under rules without limits are always
// allowed.
func (l *Limiter) Allow(_ context.Context, client, service, ruleID string) (time.Duration, bool) {
	lim, ok := l.rules[ruleID]
	if !ok {
		return 0, true
	}
	k := Key{Rule: ruleID, Client: client}
	if lim.PerService {
		k.Service = service
	}
	now := l.now()
	var day int64
	var midnight time.Time
	if lim.PerDay > 0 {
		day, midnight = utcDay(now)
	}
	var wait time.Duration
	rateOK, quotaOK := true, true
	if st := l.state; st != nil {
		// The same as Take then Count, with one lookup and one lock.
		e := st.entry(k)
		e.mu.Lock()
		if lim.Rate > 0 {
			wait, rateOK = e.take(lim.Rate, float64(lim.Burst), now)
		}
		if rateOK && lim.PerDay > 0 {
			quotaOK = e.count(day, lim.PerDay)
		}
		e.mu.Unlock()
	} else {
		if lim.Rate > 0 {
			wait, rateOK = l.store.Take(k, lim.Rate, lim.Burst, now)
		}
		if rateOK && lim.PerDay > 0 {
			quotaOK = l.store.Count(k, day, lim.PerDay)
		}
	}
	switch {
	case !rateOK:
		return wait, false
	case !quotaOK:
		return midnight.Sub(now), false
	}
	return 0, true
}

// utcDay returns the UTC day of t (days since 1970-01-01) and the midnight
// that ends it.
func utcDay(t time.Time) (int64, time.Time) {
	start := t.UTC().Truncate(day) // Truncate works in absolute time: UTC days
	return start.Unix() / int64(day/time.Second), start.Add(day)
}
