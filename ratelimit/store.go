package ratelimit

import (
	"hash/maphash"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Key names one token bucket and one daily counter: a rule and a client,
// and the service when the rule limits each client × service pair apart
// (Service is "" otherwise). Its parts are configured identifiers — rule
// ids, subsystem ids, service ids — never personal data.
type Key struct {
	Rule, Client, Service string
}

// String is k as one string, for stores keyed by strings (such as Redis):
// the parts joined by NUL bytes, which client and service ids cannot
// contain, so the form is unambiguous.
func (k Key) String() string {
	return k.Rule + "\x00" + k.Client + "\x00" + k.Service
}

// Store holds the state behind the limits: token buckets and daily
// counters. State is the node-local implementation. A store shared by the
// nodes of a cluster (Redis, say) may implement it too, so that a client's
// limits hold across the cluster rather than per node. Take and Count must
// each be atomic per key: Take as one read-refill-take step (in Redis, a
// Lua script keeping tokens and the time of the last refill in a hash),
// Count as one check-and-increment that leaves a spent counter alone (a
// script over INCR on the key and day, expiring after the day).
// Implementations must be safe for concurrent use.
type Store interface {
	// Take takes one token from the bucket of key, which holds at most
	// burst tokens and gains rate tokens a second; a bucket seen for the
	// first time is full. When no whole token is left it takes nothing and
	// returns ok=false and how long until one is. Capacity changes apply
	// at once: a bucket holding more than burst tokens is cut to burst.
	Take(key Key, rate float64, burst int, now time.Time) (wait time.Duration, ok bool)
	// Count counts one call of key on day (the UTC day, as days since
	// 1970-01-01) unless limit calls were counted already that day; then it
	// counts nothing and returns false. A counter of an earlier day starts
	// again from zero.
	Count(key Key, day int64, limit int) (ok bool)
}

// shards spreads the keys over locks so that calls of different clients
// rarely wait for one another.
const shards = 64

// State is the in-memory, node-local Store: one token bucket and one daily
// counter per key, in a sharded map with a lock per entry. It is safe for
// concurrent use; after the first call of a key, calls take no lock but
// the key's own and allocate nothing.
// Its entries are kept as long as the configuration has a limit for them,
// so one State passed to every New keeps buckets and quotas across
// configuration reloads.
type State struct {
	now    func() time.Time
	seed   maphash.Seed
	shards [shards]shard
}

// shard is read without a lock: its map is never changed once published;
// adding or dropping keys (rare: keys are bounded by the configuration)
// publishes a new one, under mu.
type shard struct {
	m  atomic.Pointer[map[Key]*entry]
	mu sync.Mutex
	_  [48]byte // keeps neighbouring shards off one cache line
}

// entry is the bucket and the counter of one key.
type entry struct {
	mu sync.Mutex
	// Bucket: tokens at the time last; full until first used.
	used   bool
	tokens float64
	last   time.Time
	// Counter: calls counted on day.
	day int64
	n   int
}

// NewState returns an empty State reading the time from now (nil:
// time.Now).
func NewState(now func() time.Time) *State {
	if now == nil {
		now = time.Now
	}
	s := &State{now: now, seed: maphash.MakeSeed()}
	for i := range s.shards {
		s.shards[i].m.Store(&map[Key]*entry{})
	}
	return s
}

// Now returns the current time on the State's clock.
func (s *State) Now() time.Time { return s.now() }

// Len returns the number of keys the State holds.
func (s *State) Len() int {
	n := 0
	for i := range s.shards {
		n += len(*s.shards[i].m.Load())
	}
	return n
}

func (s *State) shard(k Key) *shard {
	h := maphash.String(s.seed, k.Client) ^ maphash.String(s.seed, k.Service)*31 ^ uint64(len(k.Rule))
	return &s.shards[h%shards]
}

// entry returns the entry of k, making it when there is none.
func (s *State) entry(k Key) *entry {
	sh := s.shard(k)
	if e := (*sh.m.Load())[k]; e != nil {
		return e
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	old := *sh.m.Load()
	if e := old[k]; e != nil {
		return e
	}
	m := make(map[Key]*entry, len(old)+1)
	for k, e := range old {
		m[k] = e
	}
	// Own copies: the caller's strings may share a request's memory.
	k = Key{strings.Clone(k.Rule), strings.Clone(k.Client), strings.Clone(k.Service)}
	e := &entry{}
	m[k] = e
	sh.m.Store(&m)
	return e
}

// Take implements Store.
func (s *State) Take(k Key, rate float64, burst int, now time.Time) (time.Duration, bool) {
	e := s.entry(k)
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.take(rate, float64(burst), now)
}

// take is the token bucket: refill for the time since the last call, cut
// to capacity, take one token or say how long until there is one.
func (e *entry) take(rate, capacity float64, now time.Time) (time.Duration, bool) {
	if !e.used {
		e.used, e.tokens, e.last = true, capacity, now
	} else if d := now.Sub(e.last); d > 0 {
		e.tokens += d.Seconds() * rate
		e.last = now
	}
	if e.tokens > capacity {
		e.tokens = capacity
	}
	// The tolerance absorbs rounding in the refill (0.1 s at 10/s must
	// make a whole token).
	const epsilon = 1e-9
	if e.tokens >= 1-epsilon {
		e.tokens--
		return 0, true
	}
	secs := (1 - e.tokens) / rate
	if !(secs < maxWait.Seconds()) { // also catches NaN
		return maxWait, false
	}
	return time.Duration(math.Ceil(secs * 1e9)), false
}

// maxWait bounds a wait computed from a tiny rate.
const maxWait = 365 * 24 * time.Hour

// Count implements Store.
func (s *State) Count(k Key, day int64, limit int) bool {
	e := s.entry(k)
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.count(day, limit)
}

// count is the fixed window: a new day starts from zero; a spent counter
// is left as it is.
func (e *entry) count(day int64, limit int) bool {
	if e.day != day {
		e.day, e.n = day, 0
	}
	if e.n >= limit {
		return false
	}
	e.n++
	return true
}

// retain drops the entries keep refuses, so that rules removed from the
// configuration (or switched between per-client and per-service keys)
// leave nothing behind.
func (s *State) retain(keep func(Key) bool) {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		old := *sh.m.Load()
		m := make(map[Key]*entry, len(old))
		for k, e := range old {
			if keep(k) {
				m[k] = e
			}
		}
		if len(m) != len(old) {
			sh.m.Store(&m)
		}
		sh.mu.Unlock()
	}
}
