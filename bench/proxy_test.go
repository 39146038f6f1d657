package bench

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// startProxy serves the bare proxy to target on a free port; stop cancels
// it and returns what ServeProxy returned.
func startProxy(t *testing.T, target string, drain time.Duration) (base string, stop func() error) {
	t.Helper()
	u, err := ParseProxyTarget(target)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeProxy(ctx, ln, u, drain) }()
	var once bool
	var result error
	stop = func() error {
		if !once {
			once = true
			cancel()
			result = <-done
		}
		return result
	}
	t.Cleanup(func() { _ = stop() })
	return "http://" + ln.Addr().String(), stop
}

// noProxyClient is a client that ignores proxies from the environment.
func noProxyClient() *http.Client {
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil}}
}

func TestProxyForwardsThePathAsGiven(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 6<<10) // 96 KiB: several buffers
	type seen struct{ uri, host, xff, acceptEncoding string }
	got := make(chan seen, 10)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.RequestURI, r.Host, r.Header.Get("X-Forwarded-For"), r.Header.Get("Accept-Encoding")}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	defer backend.Close()
	base, stop := startProxy(t, backend.URL, time.Second)

	client := noProxyClient()
	for _, path := range []string{"/persons/1000000001", "/persons/a%2Fb?x=1&y=%20"} {
		req, err := http.NewRequest(http.MethodGet, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept-Encoding", "identity")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || !bytes.Equal(b, body) ||
			resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("%s: %s, %d bytes, %v", path, resp.Status, len(b), err)
		}
		s := <-got
		if s.uri != path {
			t.Errorf("the registry got %q, want %q", s.uri, path)
		}
		if s.host != strings.TrimPrefix(base, "http://") {
			t.Errorf("Host %q: NewSingleHostReverseProxy keeps the client's", s.host)
		}
		if s.xff != "127.0.0.1" || s.acceptEncoding != "identity" {
			t.Errorf("X-Forwarded-For %q, Accept-Encoding %q", s.xff, s.acceptEncoding)
		}
	}
	if err := stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
}

func TestProxyUnderATargetPath(t *testing.T) {
	got := make(chan string, 1)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.URL.Path
	}))
	defer backend.Close()
	base, _ := startProxy(t, backend.URL+"/civil/", time.Second)
	resp, err := noProxyClient().Get(base + "/persons/1")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if p := <-got; p != "/civil/persons/1" {
		t.Errorf("path %q", p)
	}
}

func TestProxyAnswers502WithoutATarget(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	_ = ln.Close() // refused from now on
	base, _ := startProxy(t, dead, time.Second)
	resp, err := noProxyClient().Get(base + "/persons/1")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("status %s, want 502", resp.Status)
	}
}

func TestProxyStopsGracefully(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		_, _ = w.Write([]byte("done"))
	}))
	defer backend.Close()
	base, stop := startProxy(t, backend.URL, 5*time.Second)

	type answer struct {
		body string
		err  error
	}
	answered := make(chan answer, 1)
	go func() {
		resp, err := noProxyClient().Get(base + "/slow")
		if err != nil {
			answered <- answer{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		answered <- answer{string(b), err}
	}()
	<-entered
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()

	// The listener closes at once; the request in flight goes on.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), time.Second)
		if err != nil {
			break
		}
		_ = c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the proxy still accepts connections after the stop")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-stopped:
		t.Fatalf("stopped (%v) before the request in flight finished", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if a := <-answered; a.err != nil || a.body != "done" {
		t.Errorf("request in flight: %q, %v", a.body, a.err)
	}
	if err := <-stopped; err != nil {
		t.Errorf("stop: %v", err)
	}
}

func TestProxyDrainCutShort(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
	}))
	defer backend.Close()
	defer close(release) // before backend.Close, which waits for the handler
	base, stop := startProxy(t, backend.URL, 50*time.Millisecond)
	go func() {
		if resp, err := noProxyClient().Get(base + "/slow"); err == nil {
			_ = resp.Body.Close()
		}
	}()
	<-entered
	start := time.Now()
	err := stop()
	if err == nil || !strings.Contains(err.Error(), "in flight") || time.Since(start) > 2*time.Second {
		t.Errorf("stop: %v after %v", err, time.Since(start))
	}
}

func TestBufferPool(t *testing.T) {
	p := NewBufferPool(ProxyBufferSize)
	b := p.Get()
	if len(b) != ProxyBufferSize {
		t.Fatalf("Get: %d bytes", len(b))
	}
	p.Put(b[:10]) // a shortened buffer comes back whole
	if b := p.Get(); len(b) != ProxyBufferSize {
		t.Errorf("Get after Put: %d bytes", len(b))
	}
	p.Put(make([]byte, 10)) // another size is dropped
	for range 100 {
		if b := p.Get(); len(b) != ProxyBufferSize {
			t.Fatalf("Get: %d bytes", len(b))
		}
	}
}

func TestNewProxyIsSizedLikeGovbus(t *testing.T) {
	tr := NewProxyTransport()
	if tr.MaxIdleConnsPerHost != 256 || tr.MaxConnsPerHost != 512 || !tr.DisableCompression ||
		tr.Proxy != nil || tr.ForceAttemptHTTP2 {
		t.Errorf("transport %+v", tr)
	}
	u, _ := url.Parse("http://127.0.0.1:1")
	p := NewProxy(u, tr)
	if p.Transport != tr || p.ErrorLog == nil || p.ErrorLog.Writer() != io.Discard {
		t.Errorf("proxy %+v", p)
	}
	if bp, ok := p.BufferPool.(*BufferPool); !ok || len(bp.Get()) != 32<<10 {
		t.Errorf("buffer pool %T", p.BufferPool)
	}
	if srv := newProxyServer(p); srv.ErrorLog.Writer() != io.Discard || srv.ReadHeaderTimeout <= 0 {
		t.Errorf("server %+v", srv)
	}
}

func TestParseProxyTarget(t *testing.T) {
	for _, ok := range []string{"http://127.0.0.1:19101", "http://127.0.0.1:19101/", "http://h/base"} {
		if _, err := ParseProxyTarget(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "127.0.0.1:19101", "/persons", "https://h", "ftp://h", "http://", "http://h/?q=1", "http://h/#f", "http://u:p@h", "http://h:%"} {
		if _, err := ParseProxyTarget(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestMainProxy(t *testing.T) {
	for _, args := range [][]string{
		{"proxy"},
		{"proxy", "-listen", "127.0.0.1:0"},
		{"proxy", "-target", "http://127.0.0.1:1"},
		{"proxy", "-listen", "127.0.0.1:0", "-target", "127.0.0.1:1"},
		{"proxy", "-listen", "127.0.0.1:0", "-target", "http://127.0.0.1:1", "extra"},
		{"proxy", "-listen", "127.0.0.1:0", "-target", "http://127.0.0.1:1", "-drain", "0s"},
		{"proxy", "-nope"},
	} {
		if code := Main(context.Background(), args, io.Discard, io.Discard); code != 2 {
			t.Errorf("Main(%q) = %d, want 2", args, code)
		}
	}
	if code := Main(context.Background(), []string{"proxy", "-h"}, io.Discard, io.Discard); code != 0 {
		t.Errorf("proxy -h = %d", code)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var stderr bytes.Buffer
	taken := ln.Addr().String()
	if code := Main(context.Background(), []string{"proxy", "-listen", taken, "-target", "http://127.0.0.1:1"}, io.Discard, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), taken+" is not free") {
		t.Errorf("taken port: exit %d: %s", code, stderr.String())
	}

	// Started, then stopped as a signal stops it: exit 0.
	stderr.Reset()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if code := Main(ctx, []string{"proxy", "-listen", "127.0.0.1:0", "-target", "http://127.0.0.1:1"}, io.Discard, &stderr); code != 0 ||
		!strings.Contains(stderr.String(), "listening on 127.0.0.1:") || !strings.Contains(stderr.String(), "stopped") {
		t.Errorf("stop: exit %d: %s", code, stderr.String())
	}
}
