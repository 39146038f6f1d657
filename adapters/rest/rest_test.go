package rest

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/govbus/govbus/gateway"
	"github.com/govbus/govbus/outbound"
)

// registry is a fake registry that counts calls and records the last one.
type registry struct {
	*httptest.Server
	calls atomic.Int32
	last  atomic.Pointer[http.Request]
	body  atomic.Pointer[[]byte]
}

func newRegistry(t *testing.T, h http.HandlerFunc) *registry {
	t.Helper()
	r := &registry{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.calls.Add(1)
		b, _ := io.ReadAll(req.Body)
		r.body.Store(&b)
		r.last.Store(req.Clone(context.Background()))
		h(w, req)
	}))
	t.Cleanup(r.Close)
	return r
}

func ok(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, body) }
}

func status(code int) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code); _, _ = io.WriteString(w, "sick") }
}

// refusing returns a URL on which nothing listens.
func refusing(t *testing.T) *url.URL {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse("http://" + ln.Addr().String())
	ln.Close()
	return u
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func newAdapter(t *testing.T, cfg Config) *Adapter {
	t.Helper()
	if cfg.Outbound.Retry.WaitMin == 0 {
		cfg.Outbound.Retry.WaitMin, cfg.Outbound.Retry.WaitMax = time.Millisecond, 2*time.Millisecond
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a
}

func out(method, path, query string, body []byte) *gateway.Outbound {
	return &gateway.Outbound{Method: method, Path: path, RawQuery: query, Body: body,
		Header: http.Header{"X-Road-Client": {"UA/GOV/1/c"}, "Accept": {"application/json"}},
		Route:  &gateway.Route{Timeout: 5 * time.Second}}
}

func TestForwardsRequestAsGiven(t *testing.T) {
	reg := newRegistry(t, ok(`{"id":1}`))
	a := newAdapter(t, Config{Outbound: outbound.Config{Endpoints: []*url.URL{mustURL(t, reg.URL+"/api/")}}})
	resp, err := a.Exchange(context.Background(), out("POST", "/persons/a%20b", "x=1&y=%2F", []byte("payload")))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Release()
	if resp.Status != 200 || string(resp.Body) != `{"id":1}` {
		t.Errorf("answer = %d %q", resp.Status, resp.Body)
	}
	if got, want := resp.Forwarded, "/api/persons/a%20b?x=1&y=%2F"; got != want {
		t.Errorf("Forwarded = %q, want %q", got, want)
	}
	last := reg.last.Load()
	if got := last.URL.EscapedPath(); got != "/api/persons/a%20b" {
		t.Errorf("registry path = %q", got)
	}
	if got := string(*reg.body.Load()); got != "payload" {
		t.Errorf("registry body = %q", got)
	}
	if got := last.Header.Get("User-Agent"); got != "" {
		t.Errorf("User-Agent = %q, want none", got)
	}
	if got := last.Header.Get("X-Road-Client"); got != "UA/GOV/1/c" {
		t.Errorf("X-Road-Client = %q", got)
	}
}

func TestUpstreamCredential(t *testing.T) {
	for _, tt := range []struct {
		auth         Auth
		header, want string
	}{
		{Auth{Type: "bearer", Value: "tok"}, "Authorization", "Bearer tok"},
		{Auth{Type: "basic", Username: "govbus", Value: "pw"}, "Authorization", "Basic Z292YnVzOnB3"},
		{Auth{Type: "header", Header: "X-Api-Key", Value: "k1"}, "X-Api-Key", "k1"},
		{Auth{Type: "none"}, "Authorization", ""},
	} {
		reg := newRegistry(t, ok("x"))
		a := newAdapter(t, Config{Outbound: outbound.Config{Endpoints: []*url.URL{mustURL(t, reg.URL)}}, Auth: tt.auth})
		o := out("GET", "/", "", nil)
		resp, err := a.Exchange(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		resp.Release()
		if got := reg.last.Load().Header.Get(tt.header); got != tt.want {
			t.Errorf("%s: %s = %q, want %q", tt.auth.Type, tt.header, got, tt.want)
		}
	}
}

func TestRetries(t *testing.T) {
	t.Run("idempotent 503 is retried and passed through", func(t *testing.T) {
		reg := newRegistry(t, status(503))
		a := newAdapter(t, Config{Outbound: outbound.Config{Endpoints: []*url.URL{mustURL(t, reg.URL)}, Retry: outbound.Retry{Max: 2}}})
		resp, err := a.Exchange(context.Background(), out("GET", "/x", "", nil))
		if err != nil {
			t.Fatal(err)
		}
		if resp.Status != 503 || string(resp.Body) != "sick" {
			t.Errorf("answer = %d %q, want the registry's 503", resp.Status, resp.Body)
		}
		if got := reg.calls.Load(); got != 3 {
			t.Errorf("calls = %d, want 3", got)
		}
	})
	t.Run("POST 503 is not retried", func(t *testing.T) {
		reg := newRegistry(t, status(503))
		a := newAdapter(t, Config{Outbound: outbound.Config{Endpoints: []*url.URL{mustURL(t, reg.URL)}, Retry: outbound.Retry{Max: 2}}})
		if _, err := a.Exchange(context.Background(), out("POST", "/x", "", []byte("{}"))); err != nil {
			t.Fatal(err)
		}
		if got := reg.calls.Load(); got != 1 {
			t.Errorf("calls = %d, want 1", got)
		}
	})
	t.Run("4xx is never retried", func(t *testing.T) {
		reg := newRegistry(t, status(404))
		a := newAdapter(t, Config{Outbound: outbound.Config{Endpoints: []*url.URL{mustURL(t, reg.URL)}, Retry: outbound.Retry{Max: 2}}})
		if _, err := a.Exchange(context.Background(), out("GET", "/x", "", nil)); err != nil {
			t.Fatal(err)
		}
		if got := reg.calls.Load(); got != 1 {
			t.Errorf("calls = %d, want 1", got)
		}
	})
	t.Run("POST fails over when the connection was refused", func(t *testing.T) {
		reg := newRegistry(t, ok("second"))
		a := newAdapter(t, Config{Outbound: outbound.Config{Endpoints: []*url.URL{refusing(t), mustURL(t, reg.URL)}, Retry: outbound.Retry{Max: 1}}})
		resp, err := a.Exchange(context.Background(), out("POST", "/x", "", []byte("body")))
		if err != nil {
			t.Fatal(err)
		}
		if resp.Status != 200 || string(resp.Body) != "second" || string(*reg.body.Load()) != "body" {
			t.Errorf("answer = %d %q; registry body %q", resp.Status, resp.Body, *reg.body.Load())
		}
	})
	t.Run("retry max -1 means one attempt", func(t *testing.T) {
		reg := newRegistry(t, status(502))
		a := newAdapter(t, Config{Outbound: outbound.Config{Endpoints: []*url.URL{mustURL(t, reg.URL)}, Retry: outbound.Retry{Max: -1}}})
		if _, err := a.Exchange(context.Background(), out("GET", "/x", "", nil)); err != nil {
			t.Fatal(err)
		}
		if got := reg.calls.Load(); got != 1 {
			t.Errorf("calls = %d, want 1", got)
		}
	})
}

func TestFailures(t *testing.T) {
	t.Run("unreachable", func(t *testing.T) {
		a := newAdapter(t, Config{Outbound: outbound.Config{Registry: "r", Endpoints: []*url.URL{refusing(t)}, Retry: outbound.Retry{Max: 1}}})
		_, err := a.Exchange(context.Background(), out("GET", "/persons/1000000042", "", nil))
		if gateway.CodeOf(err) != gateway.CodeRegistryUnavailable {
			t.Fatalf("error = %v, want %s", err, gateway.CodeRegistryUnavailable)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			t.Errorf("the cause keeps the request URL (personal data): %v", err)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		block := make(chan struct{})
		reg := newRegistry(t, func(http.ResponseWriter, *http.Request) { <-block })
		defer close(block)
		a := newAdapter(t, Config{Outbound: outbound.Config{Endpoints: []*url.URL{mustURL(t, reg.URL)}}})
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := a.Exchange(ctx, out("GET", "/slow", "", nil))
		if gateway.CodeOf(err) != gateway.CodeRegistryTimeout {
			t.Fatalf("error = %v, want %s", err, gateway.CodeRegistryTimeout)
		}
	})
	t.Run("consumer gone", func(t *testing.T) {
		block := make(chan struct{})
		reg := newRegistry(t, func(http.ResponseWriter, *http.Request) { <-block })
		defer close(block)
		a := newAdapter(t, Config{Outbound: outbound.Config{Endpoints: []*url.URL{mustURL(t, reg.URL)}}})
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(20*time.Millisecond, cancel)
		_, err := a.Exchange(ctx, out("GET", "/slow", "", nil))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error = %v, want context.Canceled", err)
		}
		if got := reg.calls.Load(); got != 1 {
			t.Errorf("calls = %d, want 1 (no retry after the consumer left)", got)
		}
	})
	t.Run("answer over the limit", func(t *testing.T) {
		reg := newRegistry(t, ok("0123456789abcdef"))
		a := newAdapter(t, Config{Outbound: outbound.Config{Endpoints: []*url.URL{mustURL(t, reg.URL)}}, MaxResponseBytes: 8})
		_, err := a.Exchange(context.Background(), out("GET", "/", "", nil))
		if gateway.CodeOf(err) != gateway.CodeInternalError {
			t.Fatalf("error = %v, want %s", err, gateway.CodeInternalError)
		}
	})
	t.Run("redirects are passed through, not followed", func(t *testing.T) {
		reg := newRegistry(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		})
		a := newAdapter(t, Config{Outbound: outbound.Config{Endpoints: []*url.URL{mustURL(t, reg.URL)}}})
		resp, err := a.Exchange(context.Background(), out("GET", "/", "", nil))
		if err != nil {
			t.Fatal(err)
		}
		if resp.Status != 302 || resp.Header.Get("Location") != "/elsewhere" || reg.calls.Load() != 1 {
			t.Errorf("answer = %d Location %q after %d calls", resp.Status, resp.Header.Get("Location"), reg.calls.Load())
		}
	})
}

func TestRoundRobin(t *testing.T) {
	r1, r2 := newRegistry(t, ok("1")), newRegistry(t, ok("2"))
	a := newAdapter(t, Config{Outbound: outbound.Config{Endpoints: []*url.URL{mustURL(t, r1.URL), mustURL(t, r2.URL)}}})
	for i := 0; i < 10; i++ {
		resp, err := a.Exchange(context.Background(), out("GET", "/", "", nil))
		if err != nil {
			t.Fatal(err)
		}
		resp.Release()
	}
	if r1.calls.Load() != 5 || r2.calls.Load() != 5 {
		t.Errorf("calls = %d and %d, want 5 and 5", r1.calls.Load(), r2.calls.Load())
	}
}

func TestNeverCalledWithoutEndpoints(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Error("New without endpoints succeeded")
	}
}
