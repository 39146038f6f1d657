package ratelimit

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/govbus/govbus/policies"
)

// clock is a fake clock, safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const (
	clientA = "UA/GOV/00000003/eservice"
	clientB = "UA/GOV/00000004/benefits"
	svc1    = "UA/GOV/00000001/civil-registry/persons"
	svc2    = "UA/GOV/00000001/civil-registry/documents"
)

var ctx = context.Background()

// calls makes n calls and returns how many were allowed and the last wait.
func calls(l *Limiter, n int, client, service, rule string) (allowed int, wait time.Duration) {
	for range n {
		w, ok := l.Allow(ctx, client, service, rule)
		if ok {
			allowed++
		} else {
			wait = w
		}
	}
	return allowed, wait
}

func TestBucket(t *testing.T) {
	c := newClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	l := New([]policies.Rule{{ID: "r", RatePerSecond: 10, Burst: 10}}, NewState(c.Now))

	// A new bucket is full: the burst passes at once, the next call waits
	// one token's time (100 ms at 10/s).
	if got, wait := calls(l, 11, clientA, svc1, "r"); got != 10 || wait != 100*time.Millisecond {
		t.Fatalf("burst: allowed %d (wait %v), want 10 (wait 100ms)", got, wait)
	}
	// 40 ms later: still 60 ms to go.
	c.Advance(40 * time.Millisecond)
	if wait, ok := l.Allow(ctx, clientA, svc1, "r"); ok || wait != 60*time.Millisecond {
		t.Fatalf("after 40ms: ok=%v wait=%v, want refused, 60ms", ok, wait)
	}
	// A refused call takes nothing: 60 ms later one token is there.
	c.Advance(60 * time.Millisecond)
	if got, _ := calls(l, 2, clientA, svc1, "r"); got != 1 {
		t.Fatalf("after 100ms: allowed %d, want 1", got)
	}
	// Refill: 0.5 s makes 5 tokens; 10 s more fills the bucket, not more.
	c.Advance(500 * time.Millisecond)
	if got, _ := calls(l, 10, clientA, svc1, "r"); got != 5 {
		t.Fatalf("after 500ms: allowed %d, want 5", got)
	}
	c.Advance(10 * time.Second)
	if got, _ := calls(l, 20, clientA, svc1, "r"); got != 10 {
		t.Fatalf("after 10s: allowed %d, want the burst of 10", got)
	}
	// Steady state at the rate: one call every 100 ms always passes.
	for i := range 50 {
		c.Advance(100 * time.Millisecond)
		if _, ok := l.Allow(ctx, clientA, svc1, "r"); !ok {
			t.Fatalf("call %d at the sustained rate refused", i)
		}
	}
}

func TestBucketSlowRateAndDefaultBurst(t *testing.T) {
	c := newClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	// Half a call a second, burst defaulted to 1: a refused call waits 2 s,
	// which the transport sends as Retry-After: 2.
	l := New([]policies.Rule{{ID: "r", RatePerSecond: 0.5}}, NewState(c.Now))
	if got, wait := calls(l, 3, clientA, svc1, "r"); got != 1 || wait != 2*time.Second {
		t.Fatalf("allowed %d (wait %v), want 1 (wait 2s)", got, wait)
	}
	c.Advance(1500 * time.Millisecond)
	if wait, ok := l.Allow(ctx, clientA, svc1, "r"); ok || wait != 500*time.Millisecond {
		t.Fatalf("after 1.5s: ok=%v wait=%v, want refused, 500ms", ok, wait)
	}
	// Default burst: the rate rounded up.
	for _, tt := range []struct {
		rate float64
		want int
	}{{0.5, 1}, {1, 1}, {2.5, 3}, {10, 10}} {
		lim, _ := LimitsOf(policies.Rule{RatePerSecond: tt.rate})
		if lim.Burst != tt.want {
			t.Errorf("rate %v: default burst %d, want %d", tt.rate, lim.Burst, tt.want)
		}
	}
}

func TestNoLimits(t *testing.T) {
	l := New([]policies.Rule{{ID: "free"}, {ID: "r", RatePerSecond: 1, Burst: 1}}, NewState(nil))
	if got, _ := calls(l, 1000, clientA, svc1, "free"); got != 1000 {
		t.Errorf("a rule without limits allowed %d of 1000", got)
	}
	if got, _ := calls(l, 10, clientA, svc1, "unknown-rule"); got != 10 {
		t.Errorf("an unknown rule allowed %d of 10", got)
	}
	if New([]policies.Rule{{ID: "free"}}, nil).Active() {
		t.Error("a Limiter without limits is active")
	}
	if !l.Active() {
		t.Error("a Limiter with limits is not active")
	}
}

func TestQuotaWindow(t *testing.T) {
	c := newClock(time.Date(2026, 3, 1, 23, 59, 0, 0, time.UTC))
	st := NewState(c.Now)
	l := New([]policies.Rule{{ID: "q", QuotaPerDay: 3}}, st)
	got, wait := calls(l, 5, clientA, svc1, "q")
	if got != 3 || wait != time.Minute {
		t.Fatalf("allowed %d (wait %v), want 3 (wait 1m, until midnight UTC)", got, wait)
	}
	// Refused calls used no quota: one second before midnight it is still
	// spent, and the wait shrinks.
	c.Advance(59 * time.Second)
	if wait, ok := l.Allow(ctx, clientA, svc1, "q"); ok || wait != time.Second {
		t.Fatalf("23:59:59: ok=%v wait=%v, want refused, 1s", ok, wait)
	}
	// Midnight UTC starts a new window.
	c.Advance(time.Second)
	if got, _ := calls(l, 5, clientA, svc1, "q"); got != 3 {
		t.Fatalf("new day: allowed %d, want 3", got)
	}
	// Windows are UTC days whatever the clock's zone: 01:30 on 3 March in
	// Kyiv is still 2 March in UTC, whose quota is spent.
	kyiv := time.FixedZone("EET", 2*3600)
	c.mu.Lock()
	c.t = time.Date(2026, 3, 3, 1, 30, 0, 0, kyiv)
	c.mu.Unlock()
	if wait, ok := l.Allow(ctx, clientA, svc1, "q"); ok || wait != 30*time.Minute {
		t.Fatalf("01:30 EET: ok=%v wait=%v, want refused, 30m (until 00:00 UTC)", ok, wait)
	}
	c.Advance(30 * time.Minute)
	if got, _ := calls(l, 4, clientA, svc1, "q"); got != 3 {
		t.Fatalf("02:00 EET (00:00 UTC): allowed %d, want 3", got)
	}
}

func TestRateBeforeQuota(t *testing.T) {
	c := newClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	l := New([]policies.Rule{{ID: "rq", RatePerSecond: 1, Burst: 2, QuotaPerDay: 5}}, NewState(c.Now))
	// 10 calls at once: 2 pass the bucket; the 8 it refuses count nothing.
	if got, wait := calls(l, 10, clientA, svc1, "rq"); got != 2 || wait != time.Second {
		t.Fatalf("allowed %d (wait %v), want 2 (wait 1s)", got, wait)
	}
	// So 3 more fit in the quota, one a second.
	allowed := 0
	for range 10 {
		c.Advance(time.Second)
		if _, ok := l.Allow(ctx, clientA, svc1, "rq"); ok {
			allowed++
		}
	}
	if allowed != 3 {
		t.Fatalf("allowed %d more after the burst, want 3 (quota 5)", allowed)
	}
	c.Advance(time.Second) // a token, but no quota
	if wait, ok := l.Allow(ctx, clientA, svc1, "rq"); ok || wait != 12*time.Hour-11*time.Second {
		t.Fatalf("spent quota: ok=%v wait=%v, want refused until midnight", ok, wait)
	}
}

func TestKeys(t *testing.T) {
	c := newClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	st := NewState(c.Now)
	l := New([]policies.Rule{
		{ID: "per-client", RatePerSecond: 1, Burst: 2},
		{ID: "per-service", RatePerSecond: 1, Burst: 2, PerService: true},
		{ID: "quota-per-service", QuotaPerDay: 1, PerService: true},
	}, st)
	// Per client: both services share the client's bucket; another client
	// has its own.
	if got, _ := calls(l, 2, clientA, svc1, "per-client"); got != 2 {
		t.Fatalf("per-client, svc1: allowed %d, want 2", got)
	}
	if _, ok := l.Allow(ctx, clientA, svc2, "per-client"); ok {
		t.Error("per-client: svc2 has a bucket of its own")
	}
	if got, _ := calls(l, 2, clientB, svc1, "per-client"); got != 2 {
		t.Errorf("per-client: another client allowed %d, want its own 2", got)
	}
	// Per service: each client × service pair has a bucket.
	for _, cs := range [][2]string{{clientA, svc1}, {clientA, svc2}, {clientB, svc1}} {
		if got, _ := calls(l, 3, cs[0], cs[1], "per-service"); got != 2 {
			t.Errorf("per-service %v: allowed %d, want 2", cs, got)
		}
	}
	// Same rule for quotas.
	for _, cs := range [][2]string{{clientA, svc1}, {clientA, svc2}, {clientB, svc1}} {
		if got, _ := calls(l, 2, cs[0], cs[1], "quota-per-service"); got != 1 {
			t.Errorf("quota-per-service %v: allowed %d, want 1", cs, got)
		}
	}
	// The same rule under another id is another bucket.
	l2 := New([]policies.Rule{{ID: "other", RatePerSecond: 1, Burst: 2}}, st)
	if got, _ := calls(l2, 2, clientA, svc1, "other"); got != 2 {
		t.Errorf("another rule: allowed %d, want 2", got)
	}
	// Keys hold identifiers only; String is unambiguous.
	if got := (Key{"r", clientA, svc1}).String(); got != "r\x00"+clientA+"\x00"+svc1 {
		t.Errorf("Key.String = %q", got)
	}
}

// TestReload: the same State under a new Limiter keeps the buckets and the
// counters; a changed limit applies from the next call; rules that are gone
// leave nothing behind.
func TestReload(t *testing.T) {
	c := newClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	st := NewState(c.Now)
	rules := []policies.Rule{{ID: "r", RatePerSecond: 1, Burst: 5}, {ID: "q", QuotaPerDay: 2}, {ID: "gone", RatePerSecond: 1}}
	l1 := New(rules, st)
	calls(l1, 5, clientA, svc1, "r")
	calls(l1, 2, clientA, svc1, "q")
	calls(l1, 1, clientA, svc1, "gone")
	if st.Len() != 3 {
		t.Fatalf("state holds %d keys, want 3", st.Len())
	}

	// Same limits, new Limiter: nothing reset.
	l2 := New(rules[:2], st)
	if _, ok := l2.Allow(ctx, clientA, svc1, "r"); ok {
		t.Error("reload reset the bucket")
	}
	if _, ok := l2.Allow(ctx, clientA, svc1, "q"); ok {
		t.Error("reload reset the quota")
	}
	if st.Len() != 2 {
		t.Errorf("state holds %d keys after the rule was removed, want 2", st.Len())
	}
	// The old Limiter keeps working meanwhile (in-flight exchanges).
	if _, ok := l1.Allow(ctx, clientA, svc1, "r"); ok {
		t.Error("old Limiter: bucket reset")
	}

	// Raised quota: from the next call. Lowered burst: the bucket clamps.
	c.Advance(10 * time.Second) // would refill 10 tokens, capacity 5
	l3 := New([]policies.Rule{{ID: "r", RatePerSecond: 1, Burst: 2}, {ID: "q", QuotaPerDay: 3}}, st)
	if got, _ := calls(l3, 5, clientA, svc1, "r"); got != 2 {
		t.Errorf("lowered burst: allowed %d, want 2", got)
	}
	if got, _ := calls(l3, 5, clientA, svc1, "q"); got != 1 {
		t.Errorf("raised quota: allowed %d, want 1 more", got)
	}
	// Raised burst: the bucket fills up to it at the rate, not at once.
	l4 := New([]policies.Rule{{ID: "r", RatePerSecond: 1, Burst: 10}}, st)
	c.Advance(3 * time.Second)
	if got, _ := calls(l4, 10, clientA, svc1, "r"); got != 3 {
		t.Errorf("raised burst after 3s: allowed %d, want 3", got)
	}
	// Switching a rule to per-service keys drops its per-client entries.
	New([]policies.Rule{{ID: "r", RatePerSecond: 1, Burst: 10, PerService: true}}, st)
	if st.Len() != 0 {
		t.Errorf("state holds %d keys after the switch to per-service, want 0", st.Len())
	}
}

// TestConcurrent: N goroutines × M calls never get more than the burst plus
// the rate times the time elapsed; without refill, exactly the burst.
func TestConcurrent(t *testing.T) {
	const workers, each = 16, 2000
	t.Run("real clock", func(t *testing.T) {
		const rate, burst = 2000.0, 50
		l := New([]policies.Rule{{ID: "r", RatePerSecond: rate, Burst: burst}}, NewState(nil))
		var allowed atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range each {
					if _, ok := l.Allow(ctx, clientA, svc1, "r"); ok {
						allowed.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		limit := burst + rate*elapsed.Seconds()
		if got := float64(allowed.Load()); got > limit+1e-6 || got < burst {
			t.Fatalf("allowed %v in %v, want between %d and %.1f", got, elapsed, burst, limit)
		}
		t.Logf("%d calls, %d allowed in %v (bound %.1f)", workers*each, allowed.Load(), elapsed, limit)
	})
	t.Run("fake clock", func(t *testing.T) {
		c := newClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
		l := New([]policies.Rule{
			{ID: "r", RatePerSecond: 100, Burst: 37},
			{ID: "q", QuotaPerDay: 123},
		}, NewState(c.Now))
		var rate, quota atomic.Int64
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				client := []string{clientA, clientB}[w%2]
				for range each {
					if _, ok := l.Allow(ctx, client, svc1, "r"); ok && client == clientA {
						rate.Add(1)
					}
					if _, ok := l.Allow(ctx, clientA, svc1, "q"); ok {
						quota.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		if rate.Load() != 37 || quota.Load() != 123 {
			t.Fatalf("allowed %d by rate (want 37), %d by quota (want 123)", rate.Load(), quota.Load())
		}
	})
}

// fakeStore records what a Limiter asks of a Store.
type fakeStore struct {
	takes, counts []Key
	days          []int64
}

func (f *fakeStore) Take(k Key, rate float64, burst int, now time.Time) (time.Duration, bool) {
	f.takes = append(f.takes, k)
	return 0, true
}

func (f *fakeStore) Count(k Key, day int64, limit int) bool {
	f.counts, f.days = append(f.counts, k), append(f.days, day)
	return true
}

func TestNewWithStore(t *testing.T) {
	f := &fakeStore{}
	now := time.Date(2026, 3, 1, 23, 59, 59, 0, time.UTC)
	l := NewWithStore([]policies.Rule{{ID: "r", RatePerSecond: 1, QuotaPerDay: 1, PerService: true}}, f, func() time.Time { return now })
	l.Allow(ctx, clientA, svc1, "r")
	want := Key{"r", clientA, svc1}
	if len(f.takes) != 1 || f.takes[0] != want || len(f.counts) != 1 || f.counts[0] != want {
		t.Fatalf("store saw takes %v, counts %v; want one of each for %v", f.takes, f.counts, want)
	}
	if wantDay := now.Unix() / 86400; f.days[0] != wantDay {
		t.Errorf("day %d, want %d", f.days[0], wantDay)
	}
}

func TestAllowAllocs(t *testing.T) {
	l := New([]policies.Rule{{ID: "r", RatePerSecond: 1e9, Burst: 1e9, QuotaPerDay: 1 << 30}}, NewState(nil))
	l.Allow(ctx, clientA, svc1, "r")
	if n := testing.AllocsPerRun(1000, func() { l.Allow(ctx, clientA, svc1, "r") }); n != 0 {
		t.Errorf("Allow allocates %v times per call, want 0", n)
	}
}

// BenchmarkAllow measures one call under a rule with a rate and a quota,
// from many goroutines over 64 clients, after the first call of each.
func BenchmarkAllow(b *testing.B) {
	l := New([]policies.Rule{
		{ID: "r", RatePerSecond: 1e12, Burst: 1 << 30, QuotaPerDay: 1 << 62},
		{ID: "free"},
	}, NewState(nil))
	clients := make([]string, 64)
	for i := range clients {
		clients[i] = "UA/GOV/0000" + string(rune('1'+i/10)) + string(rune('0'+i%10)) + "00/eservice"
		l.Allow(ctx, clients[i], svc1, "r")
	}
	b.Run("limited", func(b *testing.B) {
		b.ReportAllocs()
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			client := clients[next.Add(1)%int64(len(clients))]
			for pb.Next() {
				if _, ok := l.Allow(ctx, client, svc1, "r"); !ok {
					b.Error("refused")
					return
				}
			}
		})
	})
	b.Run("one client", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			l.Allow(ctx, clientA, svc1, "r")
		}
	})
	b.Run("no limits", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			l.Allow(ctx, clientA, svc1, "free")
		}
	})
}
