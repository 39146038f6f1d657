package bench

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRunClosedLoop(t *testing.T) {
	var (
		mu      sync.Mutex
		ids     = map[string]bool{}
		remotes = map[string]bool{}
		badHdr  atomic.Int64
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Road-Client") != "UA/GOV/00000003/eservice" {
			badHdr.Add(1)
		}
		mu.Lock()
		ids[strings.TrimPrefix(r.URL.Path, "/persons/")] = true
		remotes[r.RemoteAddr] = true
		mu.Unlock()
		_, _ = w.Write([]byte(`{"id":"x"}`))
	}))
	defer srv.Close()

	tp := mustTemplate(t, srv.URL+"/persons/{id}")
	o := Options{
		URL: tp, Header: http.Header{"X-Road-Client": {"UA/GOV/00000003/eservice"}},
		IDs: IDRange{1000000001, 1000010000}, Conns: 4,
		Warmup: 50 * time.Millisecond, Duration: 200 * time.Millisecond, Seed: 1,
	}
	m, w, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if m.Failed() || w.Failed() {
		t.Fatalf("failures: measured %+v, warm-up %+v", m, w)
	}
	if m.Requests == 0 || int64(len(m.Latencies)) != m.Requests {
		t.Fatalf("requests %d, latencies %d", m.Requests, len(m.Latencies))
	}
	for i := 1; i < len(m.Latencies); i++ {
		if m.Latencies[i] < m.Latencies[i-1] {
			t.Fatal("latencies not sorted")
		}
	}
	if m.Elapsed < o.Duration || m.RPS() <= 0 {
		t.Errorf("elapsed %v, rps %v", m.Elapsed, m.RPS())
	}
	if m.CPU <= 0 {
		t.Errorf("no CPU time measured")
	}
	if badHdr.Load() > 0 {
		t.Errorf("%d requests without the header", badHdr.Load())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(ids) < 20 {
		t.Errorf("only %d distinct ids", len(ids))
	}
	for id := range ids {
		if len(id) != 10 || id < "1000000001" || id > "1000010000" {
			t.Errorf("id %q outside the range", id)
		}
	}
	// Keep-alive: no more connections than workers, warm-up included.
	if len(remotes) > o.Conns {
		t.Errorf("%d connections for %d workers", len(remotes), o.Conns)
	}
}

func TestRunCountsNon2xx(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%10 == 0 {
			w.Header().Set("X-Road-Error", "Server.RegistryBusy")
			http.Error(w, `{"type":"Server.RegistryBusy"}`, http.StatusServiceUnavailable)
			return
		}
		if n.Load()%10 == 5 {
			http.Redirect(w, r, "/elsewhere", http.StatusFound) // not a 2xx either
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	m, _, err := Run(context.Background(), Options{
		URL: mustTemplate(t, srv.URL+"/p/{id}"), IDs: IDRange{1, 100}, Conns: 2, Duration: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if m.Non2xx == 0 || m.NetErrors != 0 || !m.Failed() {
		t.Fatalf("non2xx %d, net errors %d", m.Non2xx, m.NetErrors)
	}
	if m.Non2xx < m.Requests/6 {
		t.Errorf("non2xx %d of %d: want about 1 in 5", m.Non2xx, m.Requests)
	}
	if !strings.Contains(m.FirstError, "503") && !strings.Contains(m.FirstError, "302") {
		t.Errorf("FirstError = %q", m.FirstError)
	}
	r := NewResult("x", 1, 2, m, Outcome{})
	if r.Errors() != m.Non2xx {
		t.Errorf("Result.Errors = %d", r.Errors())
	}
}

func TestRunCountsNetworkErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there now
	m, w, err := Run(context.Background(), Options{
		URL: mustTemplate(t, url+"/p/{id}"), IDs: IDRange{1, 2}, Conns: 2,
		Warmup: 30 * time.Millisecond, Duration: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if m.NetErrors == 0 || w.NetErrors == 0 || m.Requests != 0 {
		t.Fatalf("measured %+v, warm-up %+v", m, w)
	}
	r := NewResult("x", 1, 2, Outcome{}, w)
	if r.WarmupErrors == 0 || !strings.HasPrefix(r.FirstError, "during the warm-up") {
		t.Errorf("result %+v", r)
	}
}

func TestRunRejectsBadOptions(t *testing.T) {
	tp := mustTemplate(t, "http://127.0.0.1:1/x")
	if _, _, err := Run(context.Background(), Options{URL: tp, Conns: 0, Duration: time.Second}); err == nil {
		t.Error("0 connections accepted")
	}
	if _, _, err := Run(context.Background(), Options{URL: tp, Conns: 1}); err == nil {
		t.Error("0 duration accepted")
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := Run(ctx, Options{URL: mustTemplate(t, srv.URL+"/"), Conns: 2, Duration: time.Minute})
	if err == nil || time.Since(start) > 5*time.Second {
		t.Errorf("err %v after %v", err, time.Since(start))
	}
}

// TestRunPostsBody: with a method and a body template, every request is
// that method with the body, its placeholder replaced by the id of the
// URL.
func TestRunPostsBody(t *testing.T) {
	var (
		mu  sync.Mutex
		ids = map[string]bool{}
		bad []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		id := strings.TrimPrefix(r.URL.Path, "/c/")
		want := "<code>" + id + "</code>"
		mu.Lock()
		defer mu.Unlock()
		if r.Method != http.MethodPost || string(b) != want || r.ContentLength != int64(len(want)) ||
			r.Header.Get("Content-Type") != "text/xml" {
			bad = append(bad, r.Method+" "+r.URL.Path+" "+string(b))
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		ids[id] = true
	}))
	defer srv.Close()
	m, w, err := Run(context.Background(), Options{
		URL: mustTemplate(t, srv.URL+"/c/{id}"), Method: http.MethodPost,
		Body:   NewBodyTemplate([]byte("<code>{id}</code>")),
		Header: http.Header{"Content-Type": {"text/xml"}},
		IDs:    IDRange{10000001, 10001000}, Conns: 3, Warmup: 20 * time.Millisecond, Duration: 100 * time.Millisecond, Seed: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if m.Failed() || w.Failed() || len(bad) > 0 || m.Requests == 0 {
		t.Errorf("measured %+v, warm-up %+v, bad %q", m, w, bad[:min(3, len(bad))])
	}
	if len(ids) < 20 {
		t.Errorf("only %d distinct ids", len(ids))
	}
	mu.Unlock()

	// A fixed body is sent as is, and a failure names the method.
	m, _, err = Run(context.Background(), Options{
		URL: mustTemplate(t, srv.URL+"/c/10000042"), Method: http.MethodPut,
		Body: NewBodyTemplate([]byte("<code>10000042</code>")), IDs: IDRange{1, 1}, Conns: 1, Duration: 30 * time.Millisecond,
	})
	if err != nil || m.Non2xx == 0 || !strings.HasPrefix(m.FirstError, "PUT "+srv.URL+"/c/10000042: 400") {
		t.Errorf("PUT: %+v, %v", m, err)
	}
}
