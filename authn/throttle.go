package authn

import (
	"container/list"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of ThrottleLimits.
const (
	DefaultThrottleBurst        = 10
	DefaultThrottlePerSecond    = 1.0
	DefaultThrottleMaxAddresses = 10000
)

// ThrottleLimits say how many failed authentications a source address may
// make.
type ThrottleLimits struct {
	// Burst is how many failures an address may make at once; the attempt
	// after them is refused until the allowance refills. Zero: 10.
	Burst int
	// PerSecond is how many failures the allowance regains per second.
	// Zero: 1.
	PerSecond float64
	// MaxAddresses bounds the addresses remembered; beyond it the address
	// that failed least recently is forgotten. Zero: 10,000.
	MaxAddresses int
}

// withDefaults fills the zero fields of l.
func (l ThrottleLimits) withDefaults() ThrottleLimits {
	if l.Burst <= 0 {
		l.Burst = DefaultThrottleBurst
	}
	if l.PerSecond <= 0 {
		l.PerSecond = DefaultThrottlePerSecond
	}
	if l.MaxAddresses <= 0 {
		l.MaxAddresses = DefaultThrottleMaxAddresses
	}
	return l
}

// Throttle remembers failed authentications per source address (an IPv6
// address by its /64, which one host usually holds whole), as a token
// bucket of failures per address. It holds only addresses that failed and
// have not yet regained their whole allowance, at most MaxAddresses of
// them. A success changes nothing: only time gives an address its
// allowance back. It outlives configuration reloads (pass the same
// Throttle to every Authenticator) and is safe for concurrent use.
type Throttle struct {
	now func() time.Time

	size    atomic.Int64 // len(entries), read without the lock
	mu      sync.Mutex
	entries map[netip.Addr]*list.Element
	lru     list.List // of *failures, the most recent failure first
}

// failures is the allowance left to one address at a time.
type failures struct {
	key    netip.Addr
	tokens float64
	at     time.Time
}

// NewThrottle returns an empty Throttle on clock now (nil: time.Now).
func NewThrottle(now func() time.Time) *Throttle {
	if now == nil {
		now = time.Now
	}
	return &Throttle{now: now, entries: map[netip.Addr]*list.Element{}}
}

// Len returns the number of addresses the Throttle remembers.
func (t *Throttle) Len() int { return int(t.size.Load()) }

// Wait returns how long addr must wait under l (zero fields: defaults)
// before its next attempt, 0 when it may try now. It is for listeners
// other than the consumer's (the admin listener), which count their
// failures with Fail on a Throttle of their own.
func (t *Throttle) Wait(addr netip.Addr, l ThrottleLimits) time.Duration {
	return t.wait(addr, l.withDefaults())
}

// Fail counts one failed authentication from addr under l (zero fields:
// defaults).
func (t *Throttle) Fail(addr netip.Addr, l ThrottleLimits) {
	t.fail(addr, l.withDefaults())
}

// throttleKey is the address an attempt is counted under.
func throttleKey(a netip.Addr) netip.Addr {
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.Addr()
	}
	return a
}

// left returns f's allowance at now.
func (f *failures) left(now time.Time, l ThrottleLimits) float64 {
	tokens := f.tokens
	if d := now.Sub(f.at); d > 0 {
		tokens += d.Seconds() * l.PerSecond
	}
	return min(tokens, float64(l.Burst))
}

// wait returns how long addr must wait before its next attempt, 0 when it
// may try now.
func (t *Throttle) wait(addr netip.Addr, l ThrottleLimits) time.Duration {
	if t.size.Load() == 0 {
		return 0
	}
	k := throttleKey(addr)
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.entries[k]
	if !ok {
		return 0
	}
	f := e.Value.(*failures)
	left := f.left(t.now(), l)
	if left >= float64(l.Burst) {
		t.remove(e) // whole again: as good as never seen
		return 0
	}
	if left >= 1 {
		return 0
	}
	return time.Duration((1 - left) / l.PerSecond * float64(time.Second))
}

// fail counts one failed authentication from addr.
func (t *Throttle) fail(addr netip.Addr, l ThrottleLimits) {
	k := throttleKey(addr)
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if e, ok := t.entries[k]; ok {
		f := e.Value.(*failures)
		f.tokens, f.at = max(f.left(now, l)-1, 0), now
		t.lru.MoveToFront(e)
		return
	}
	for len(t.entries) >= l.MaxAddresses {
		t.remove(t.lru.Back())
	}
	t.entries[k] = t.lru.PushFront(&failures{key: k, tokens: float64(l.Burst) - 1, at: now})
	t.size.Store(int64(len(t.entries)))
}

// remove forgets the address of e; t.mu is held.
func (t *Throttle) remove(e *list.Element) {
	delete(t.entries, t.lru.Remove(e).(*failures).key)
	t.size.Store(int64(len(t.entries)))
}
