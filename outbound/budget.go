package outbound

import (
	"sync"
	"time"
)

// budgetSlots is how many slots the budget window is divided into.
const budgetSlots = 10

// budget caps retries to a share of requests over a sliding window, plus a
// small floor per second, so that retries cannot multiply the load on a sick
// registry (a retry storm).
type budget struct {
	ratio float64
	floor float64 // retries allowed per window whatever the traffic
	width int64   // nanoseconds per slot
	now   func() time.Time

	mu    sync.Mutex
	slots [budgetSlots]budgetSlot
}

type budgetSlot struct {
	epoch   int64 // which slot-width period this slot counts
	reqs    float64
	retries float64
}

func newBudget(ratio, minPerSecond float64, window time.Duration, now func() time.Time) *budget {
	return &budget{
		ratio: ratio, floor: minPerSecond * window.Seconds(),
		width: int64(window) / budgetSlots, now: now,
	}
}

// slot returns the current slot, cleared when it starts a new period.
func (b *budget) slot() *budgetSlot {
	epoch := b.now().UnixNano() / b.width
	s := &b.slots[epoch%budgetSlots]
	if s.epoch != epoch {
		*s = budgetSlot{epoch: epoch}
	}
	return s
}

// request counts one new request.
func (b *budget) request() {
	b.mu.Lock()
	b.slot().reqs++
	b.mu.Unlock()
}

// withdraw reports whether one more retry fits in the budget, and counts
// it when it does.
func (b *budget) withdraw() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	cur := b.slot()
	oldest := cur.epoch - budgetSlots + 1
	var reqs, retries float64
	for i := range b.slots {
		if s := &b.slots[i]; s.epoch >= oldest {
			reqs += s.reqs
			retries += s.retries
		}
	}
	if retries+1 > b.ratio*reqs+b.floor {
		return false
	}
	cur.retries++
	return true
}
