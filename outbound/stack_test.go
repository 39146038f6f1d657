package outbound

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/govbus/govbus/gateway"
)

// fake is a registry endpoint whose behaviour a test sets per request.
type fake struct {
	*httptest.Server
	calls   atomic.Int32
	mu      sync.Mutex
	handler http.HandlerFunc
}

func newFake(t *testing.T, h http.HandlerFunc) *fake {
	t.Helper()
	f := &fake{handler: h}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.calls.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		f.mu.Lock()
		h := f.handler
		f.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fake) set(h http.HandlerFunc) { f.mu.Lock(); f.handler = h; f.mu.Unlock() }

func (f *fake) url(t *testing.T) *url.URL {
	t.Helper()
	u, err := url.Parse(f.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func answer(code int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code); _, _ = io.WriteString(w, body) }
}

// deadURL is an endpoint that refuses connections.
func deadURL(t *testing.T) *url.URL {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse("http://" + ln.Addr().String())
	ln.Close()
	return u
}

// recorder is an Observer that remembers what it was told.
type recorder struct {
	NopObserver
	mu          sync.Mutex
	attempts    map[string]int
	retries     int
	exhausted   int
	transitions []string
}

func (r *recorder) Attempt(_ context.Context, _, ep, result string, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.attempts == nil {
		r.attempts = map[string]int{}
	}
	r.attempts[result]++
}
func (r *recorder) Retry(string)           { r.mu.Lock(); r.retries++; r.mu.Unlock() }
func (r *recorder) BudgetExhausted(string) { r.mu.Lock(); r.exhausted++; r.mu.Unlock() }
func (r *recorder) BreakerChanged(_, _, from, to string) {
	r.mu.Lock()
	r.transitions = append(r.transitions, from+">"+to)
	r.mu.Unlock()
}

func newStack(t *testing.T, cfg Config) *Stack {
	t.Helper()
	if cfg.Retry.WaitMin == 0 {
		cfg.Retry.WaitMin, cfg.Retry.WaitMax = time.Millisecond, 2*time.Millisecond
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func get() Call {
	return Call{Method: "GET", Path: "/x", Header: http.Header{}, Timeout: 2 * time.Second, Idempotent: true, MaxResponseBytes: 1 << 20}
}

func post() Call {
	c := get()
	c.Method, c.Idempotent, c.Body = "POST", false, []byte(`{"a":1}`)
	return c
}

func do(t *testing.T, s *Stack, c Call) (*gateway.Response, error) {
	t.Helper()
	return s.Do(context.Background(), c)
}

func TestBreakerOpensAndFailsFast(t *testing.T) {
	reg := newFake(t, answer(500, "down"))
	obs := &recorder{}
	s := newStack(t, Config{Endpoints: []*url.URL{reg.url(t)}, Observer: obs,
		Retry:   Retry{Max: -1},
		Breaker: Breaker{ConsecutiveFailures: 3, OpenTimeout: 200 * time.Millisecond}})
	for i := 0; i < 3; i++ {
		resp, err := do(t, s, get())
		if err != nil || resp.Status != 500 || string(resp.Body) != "down" {
			t.Fatalf("call %d: %v %+v, want the registry's own 500", i, err, resp)
		}
	}
	if got := s.Status().Endpoints[0].Breaker; got != "open" {
		t.Fatalf("breaker = %s after 3 failures, want open", got)
	}
	before := reg.calls.Load()
	start := time.Now()
	_, err := do(t, s, get())
	took := time.Since(start)
	var ge *gateway.Error
	if !errors.As(err, &ge) || ge.Code != gateway.CodeCircuitOpen {
		t.Fatalf("error = %v, want %s", err, gateway.CodeCircuitOpen)
	}
	if ge.RetryAfter < time.Second {
		t.Errorf("RetryAfter = %v, want at least 1s", ge.RetryAfter)
	}
	if reg.calls.Load() != before {
		t.Errorf("an open breaker let a call through to the registry")
	}
	if took > 5*time.Millisecond {
		t.Logf("fast failure took %v", took) // reported, not asserted: CI machines vary
	}
	// After the open timeout a probe goes through; a healthy answer closes it.
	reg.set(answer(200, "ok"))
	time.Sleep(250 * time.Millisecond)
	resp, err := do(t, s, get())
	if err != nil || resp.Status != 200 {
		t.Fatalf("probe after the open timeout: %v", err)
	}
	if got := s.Status().Endpoints[0].Breaker; got != "closed" {
		t.Errorf("breaker = %s after a good probe, want closed", got)
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	want := []string{"closed>open", "open>half-open", "half-open>closed"}
	if len(obs.transitions) != 3 || obs.transitions[0] != want[0] || obs.transitions[1] != want[1] || obs.transitions[2] != want[2] {
		t.Errorf("transitions = %v, want %v", obs.transitions, want)
	}
}

func TestBreakerIgnoresClientErrorsAndCancellation(t *testing.T) {
	reg := newFake(t, answer(404, "no such person"))
	s := newStack(t, Config{Endpoints: []*url.URL{reg.url(t)}, Breaker: Breaker{ConsecutiveFailures: 2}})
	for i := 0; i < 5; i++ {
		if resp, err := do(t, s, get()); err != nil || resp.Status != 404 {
			t.Fatalf("%v %+v", err, resp)
		}
	}
	block := make(chan struct{})
	reg.set(func(http.ResponseWriter, *http.Request) { <-block })
	defer close(block)
	for i := 0; i < 3; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(10*time.Millisecond, cancel)
		if _, err := s.Do(ctx, get()); !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled call: %v, want context.Canceled", err)
		}
	}
	if got := s.Status().Endpoints[0].Breaker; got != "closed" {
		t.Errorf("breaker = %s after 4xx answers and cancellations, want closed", got)
	}
}

func TestFailoverAroundADeadEndpoint(t *testing.T) {
	live := newFake(t, answer(200, "live"))
	s := newStack(t, Config{Endpoints: []*url.URL{deadURL(t), live.url(t)},
		Breaker: Breaker{ConsecutiveFailures: 2, OpenTimeout: time.Minute}})
	for i := 0; i < 50; i++ {
		resp, err := do(t, s, post()) // even POSTs: a refused dial never reached the registry
		if err != nil || resp.Status != 200 {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	st := s.Status()
	if st.Endpoints[0].Breaker != "open" || st.Endpoints[1].Breaker != "closed" {
		t.Errorf("breakers = %s, %s; want open, closed", st.Endpoints[0].Breaker, st.Endpoints[1].Breaker)
	}
	if got := live.calls.Load(); got != 50 {
		t.Errorf("live endpoint calls = %d, want 50", got)
	}
}

func TestRetryRules(t *testing.T) {
	for _, tt := range []struct {
		name      string
		call      Call
		status    int
		header    map[string]string
		wantCalls int32
	}{
		{"idempotent 503 retried", get(), 503, nil, 3},
		{"idempotent 502 retried", get(), 502, nil, 3},
		{"500 not retried", get(), 500, nil, 1},
		{"POST 503 never re-sent", post(), 503, nil, 1},
		{"404 not retried", get(), 404, nil, 1},
		{"Retry-After beyond the deadline not waited for", get(), 503, map[string]string{"Retry-After": "30"}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			reg := newFake(t, func(w http.ResponseWriter, _ *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
			})
			s := newStack(t, Config{Endpoints: []*url.URL{reg.url(t)}, Retry: Retry{Max: 2}, Breaker: Breaker{Disabled: true}})
			resp, err := do(t, s, tt.call)
			if err != nil || resp.Status != tt.status {
				t.Fatalf("%v %+v, want the registry's %d", err, resp, tt.status)
			}
			if got := reg.calls.Load(); got != tt.wantCalls {
				t.Errorf("registry calls = %d, want %d", got, tt.wantCalls)
			}
		})
	}
}

func TestRetryBudgetHolds(t *testing.T) {
	reg := newFake(t, answer(503, "sick"))
	obs := &recorder{}
	s := newStack(t, Config{Endpoints: []*url.URL{reg.url(t)}, Observer: obs, Breaker: Breaker{Disabled: true},
		Retry: Retry{Max: 2, BudgetRatio: 0.2, BudgetMinPerSecond: 1, BudgetWindow: 10 * time.Second}})
	const n = 200
	for i := 0; i < n; i++ {
		if _, err := do(t, s, get()); err != nil {
			t.Fatal(err)
		}
	}
	// 200 requests may bring 0.2 × 200 + 1/s × 10 s = 50 retries at most.
	if got, max := reg.calls.Load(), int32(n+50); got > max {
		t.Errorf("registry calls = %d for %d requests, want at most %d", got, n, max)
	}
	if obs.exhausted == 0 {
		t.Errorf("the budget never refused a retry")
	}
}

func TestDeadlineCoversAllAttempts(t *testing.T) {
	reg := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(time.Second):
		case <-r.Context().Done():
		}
	})
	s := newStack(t, Config{Endpoints: []*url.URL{reg.url(t)}, Retry: Retry{Max: 5}})
	c := get()
	c.Timeout = 150 * time.Millisecond
	start := time.Now()
	_, err := do(t, s, c)
	if gateway.CodeOf(err) != gateway.CodeRegistryTimeout {
		t.Fatalf("error = %v, want %s", err, gateway.CodeRegistryTimeout)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("took %v, want about the 150ms deadline", took)
	}
	if got := reg.calls.Load(); got != 1 {
		t.Errorf("registry calls = %d, want 1 (the deadline leaves no time for a retry)", got)
	}
}

func TestBulkheadRefusesAtOnce(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 2)
	reg := newFake(t, func(w http.ResponseWriter, _ *http.Request) { entered <- struct{}{}; <-release })
	s := newStack(t, Config{Endpoints: []*url.URL{reg.url(t)}, MaxInFlight: 2})
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = do(t, s, get()) }()
	}
	<-entered
	<-entered
	_, err := do(t, s, get())
	if gateway.CodeOf(err) != gateway.CodeRegistryBusy {
		t.Errorf("third call: %v, want %s", err, gateway.CodeRegistryBusy)
	}
	if got := s.Status().InFlight; got != 2 {
		t.Errorf("in flight = %d, want 2", got)
	}
	close(release)
	wg.Wait()
	if got := reg.calls.Load(); got != 2 {
		t.Errorf("registry calls = %d, want 2", got)
	}
}

// TestLayerOrder pins the order of the stack: a full bulkhead answers before
// the breakers are asked; open breakers answer before retries are tried;
// retries go to another endpoint through that endpoint's breaker.
func TestLayerOrder(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	slow := newFake(t, func(http.ResponseWriter, *http.Request) { <-block })
	s := newStack(t, Config{Endpoints: []*url.URL{slow.url(t)}, MaxInFlight: 1,
		Breaker: Breaker{ConsecutiveFailures: 1, OpenTimeout: time.Minute}})
	go func() { _, _ = do(t, s, get()) }()
	for slow.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	// Bulkhead before breaker: the breaker is closed, yet the answer is busy.
	if _, err := do(t, s, get()); gateway.CodeOf(err) != gateway.CodeRegistryBusy {
		t.Errorf("with the bulkhead full: %v, want %s", err, gateway.CodeRegistryBusy)
	}

	// Breaker before retries and transport: an open breaker costs no attempt.
	sick := newFake(t, answer(503, ""))
	obs := &recorder{}
	s2 := newStack(t, Config{Endpoints: []*url.URL{sick.url(t)}, Observer: obs, Retry: Retry{Max: 2},
		Breaker: Breaker{ConsecutiveFailures: 2, OpenTimeout: time.Minute}})
	_, err := do(t, s2, get()) // attempt 1 fails, attempt 2 fails and opens, attempt 3 refused
	if gateway.CodeOf(err) != gateway.CodeCircuitOpen {
		t.Errorf("after the breaker opened mid-call: %v, want %s", err, gateway.CodeCircuitOpen)
	}
	if got := sick.calls.Load(); got != 2 {
		t.Errorf("registry calls = %d, want 2 (the third attempt meets the open breaker)", got)
	}

	// Failover inside retries: a retry goes to the endpoint not yet tried.
	bad, good := newFake(t, answer(503, "")), newFake(t, answer(200, "good"))
	s3 := newStack(t, Config{Endpoints: []*url.URL{bad.url(t), good.url(t)}, Retry: Retry{Max: 1}, Breaker: Breaker{Disabled: true}})
	for i := 0; i < 10; i++ {
		resp, err := do(t, s3, get())
		if err != nil || resp.Status != 200 {
			t.Fatalf("with one bad endpoint: %v %+v", err, resp)
		}
	}
	// Round-robin starts half the calls on the bad endpoint; each of those
	// is retried on the good one, never on the bad one again.
	if good.calls.Load() != 10 || bad.calls.Load() > 10 || bad.calls.Load() == 0 {
		t.Errorf("calls bad %d good %d, want good 10 and bad between 1 and 10", bad.calls.Load(), good.calls.Load())
	}
}

func BenchmarkStackSuccess(b *testing.B) {
	reg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `{"id":"1"}`) }))
	defer reg.Close()
	u, _ := url.Parse(reg.URL)
	for _, tt := range []struct {
		name string
		cfg  Config
	}{
		{"breakers+retries", Config{Endpoints: []*url.URL{u}}},
		{"no-breakers-no-retries", Config{Endpoints: []*url.URL{u}, Breaker: Breaker{Disabled: true}, Retry: Retry{Max: -1}}},
	} {
		b.Run(tt.name, func(b *testing.B) {
			s, err := New(tt.cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			c := get()
			b.ReportAllocs()
			for b.Loop() {
				resp, err := s.Do(context.Background(), c)
				if err != nil {
					b.Fatal(err)
				}
				resp.Release()
			}
		})
	}
}
