package node

import (
	"errors"
	"sync"
	"time"
)

// ErrBodyBudgetSpent is returned by the message log for a service whose
// daily budget of kept bodies is spent (the exchange gets
// Server.LoggingFailed; other services are not affected).
var ErrBodyBudgetSpent = errors.New("the service's daily budget of kept bodies is spent")

// BodyBudget counts, per service and UTC day, the bytes of bodies the
// message log keeps (keep_bodies). Pass the same BodyBudget to every
// Build so that a reload resets nothing. Safe for concurrent use.
type BodyBudget struct {
	now  func() time.Time
	mu   sync.Mutex
	day  string
	used map[string]int64
}

// NewBodyBudget returns an empty budget on clock now (nil: time.Now).
func NewBodyBudget(now func() time.Time) *BodyBudget {
	if now == nil {
		now = time.Now
	}
	return &BodyBudget{now: now, used: map[string]int64{}}
}

// reserve counts n more bytes kept for service under a daily limit. A
// request (strict) is refused when it would pass the limit; a response,
// whose request was already recorded, is always counted, so the day's use
// passes the limit by at most one answer.
func (b *BodyBudget) reserve(service string, n, limit int64, strict bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if day := b.now().UTC().Format(time.DateOnly); day != b.day {
		b.day, b.used = day, map[string]int64{}
	}
	used := b.used[service]
	if strict && (used >= limit || n > limit-used) {
		return ErrBodyBudgetSpent
	}
	b.used[service] = used + n
	return nil
}
