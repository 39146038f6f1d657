// Package rest is the adapter for registries that speak HTTP/REST: it
// forwards an exchange's method, path, query, body and end-to-end headers
// to one of the registry's endpoints, authenticating with the registry's own
// credential, and hands back the registry's answer unchanged.
package rest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/govbus/govbus/gateway"
)

// Config configures the adapter of one registry.
type Config struct {
	// Registry is the registry's subsystem id, for logs.
	Registry string
	// Endpoints are the base URLs of the registry's replicas. Required.
	Endpoints []*url.URL
	// Auth is how govbus authenticates to the registry. Default: none.
	Auth Auth
	// TLS is the client TLS configuration for https endpoints (CA, client
	// certificate). Default: the system roots, no client certificate.
	TLS *tls.Config
	// RetryMax is how many times an idempotent request is re-sent.
	// Default 2 (set -1 for none).
	RetryMax int
	// RetryWaitMin and RetryWaitMax bound the backoff. Defaults 20ms, 1s.
	RetryWaitMin, RetryWaitMax time.Duration
	// ConnectTimeout bounds one TCP (and TLS) connection set-up. Default 2s.
	ConnectTimeout time.Duration
	// MaxIdleConnsPerHost is the idle pool per endpoint. Default 256.
	MaxIdleConnsPerHost int
	// MaxConnsPerHost caps connections per endpoint. Default 512.
	MaxConnsPerHost int
	// IdleConnTimeout closes idle pooled connections. Default 90s.
	IdleConnTimeout time.Duration
	// MaxResponseBytes limits the registry's answer. Default 32 MiB.
	MaxResponseBytes int64
	// Logger receives retry and failure lines; nil discards.
	Logger *slog.Logger
	// Wrap, when set, wraps the per-attempt transport (the seam where a
	// per-endpoint circuit breaker goes). Nil: the plain transport.
	Wrap func(http.RoundTripper) http.RoundTripper
}

// Auth is the credential govbus presents to a registry.
type Auth struct {
	// Type is "none", "header", "basic" or "bearer". Default "none".
	Type string
	// Header is the header name for Type "header".
	Header string
	// Value is the key (header, bearer) or password (basic).
	Value string
	// Username is the user for Type "basic".
	Username string
}

// Adapter forwards exchanges to one REST registry. Safe for concurrent use.
type Adapter struct {
	cfg       Config
	client    *retryablehttp.Client
	transport *http.Transport
	next      atomic.Uint32
	authValue string
	inFlight  atomic.Int64
	lastErr   atomic.Pointer[failureNote]
}

// failureNote is the last failure seen, for /admin/status.
type failureNote struct {
	At    time.Time
	Error string
}

// Status is what /admin/status shows of the adapter.
type Status struct {
	Kind      string           `json:"adapter"`
	InFlight  int64            `json:"in_flight"`
	Endpoints []EndpointStatus `json:"endpoints"`
	LastError *failureNote     `json:"last_error,omitempty"`
}

// EndpointStatus is one endpoint's state.
type EndpointStatus struct {
	URL string `json:"url"`
}

// Status reports the adapter's state.
func (a *Adapter) Status() any {
	st := Status{Kind: "rest", InFlight: a.inFlight.Load(), LastError: a.lastErr.Load()}
	for _, e := range a.cfg.Endpoints {
		st.Endpoints = append(st.Endpoints, EndpointStatus{URL: e.Redacted()})
	}
	return st
}

var _ gateway.Adapter = (*Adapter)(nil)

// New builds the adapter of one registry, with its own connection pool and
// its own retry client (so one registry's failures never empty another's
// pool).
func New(cfg Config) (*Adapter, error) {
	if len(cfg.Endpoints) == 0 {
		return nil, errors.New("building REST adapter: no endpoints")
	}
	setDefaults(&cfg)
	t := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       cfg.TLS,
		TLSHandshakeTimeout:   cfg.ConnectTimeout,
		MaxIdleConns:          cfg.MaxIdleConnsPerHost * len(cfg.Endpoints),
		MaxIdleConnsPerHost:   cfg.MaxIdleConnsPerHost,
		MaxConnsPerHost:       cfg.MaxConnsPerHost,
		IdleConnTimeout:       cfg.IdleConnTimeout,
		ExpectContinueTimeout: time.Second,
		// Bodies pass through as the registry encoded them.
		DisableCompression: true,
		ForceAttemptHTTP2:  cfg.TLS != nil,
	}
	var rt http.RoundTripper = t
	if cfg.Wrap != nil {
		rt = cfg.Wrap(rt)
	}
	a := &Adapter{cfg: cfg, transport: t}
	a.client = &retryablehttp.Client{
		HTTPClient: &http.Client{
			Transport: rt,
			// Redirects are the consumer's to follow, not govbus's.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		RetryWaitMin: cfg.RetryWaitMin,
		RetryWaitMax: cfg.RetryWaitMax,
		RetryMax:     max(cfg.RetryMax, 0),
		CheckRetry:   checkRetry,
		Backoff:      retryablehttp.DefaultBackoff,
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
		PrepareRetry: a.failover,
	}
	switch cfg.Auth.Type {
	case "bearer":
		a.authValue = "Bearer " + cfg.Auth.Value
	case "basic":
		r := &http.Request{Header: http.Header{}}
		r.SetBasicAuth(cfg.Auth.Username, cfg.Auth.Value)
		a.authValue = r.Header.Get("Authorization")
	case "header":
		a.authValue = cfg.Auth.Value
	}
	return a, nil
}

func setDefaults(c *Config) {
	if c.RetryMax == 0 {
		c.RetryMax = 2
	}
	if c.RetryWaitMin == 0 {
		c.RetryWaitMin = 20 * time.Millisecond
	}
	if c.RetryWaitMax == 0 {
		c.RetryWaitMax = time.Second
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = 2 * time.Second
	}
	if c.MaxIdleConnsPerHost == 0 {
		c.MaxIdleConnsPerHost = 256
	}
	if c.MaxConnsPerHost == 0 {
		c.MaxConnsPerHost = 512
	}
	if c.IdleConnTimeout == 0 {
		c.IdleConnTimeout = 90 * time.Second
	}
	if c.MaxResponseBytes == 0 {
		c.MaxResponseBytes = 32 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Close releases the adapter's idle connections.
func (a *Adapter) Close() { a.transport.CloseIdleConnections() }

// Exchange sends out to the registry and reads its answer. Every answer the
// registry gave is returned as a *gateway.Response; without one the error
// is a *gateway.Error (CodeRegistryTimeout, CodeRegistryUnavailable or
// CodeInternalError for an answer over the size limit).
func (a *Adapter) Exchange(ctx context.Context, out *gateway.Outbound) (*gateway.Response, error) {
	a.inFlight.Add(1)
	defer a.inFlight.Add(-1)
	base := a.cfg.Endpoints[int(a.next.Add(1)-1)%len(a.cfg.Endpoints)]
	u := *base
	u.Path, u.RawPath = joinPath(base, out.Path)
	u.RawQuery = out.RawQuery
	req, err := retryablehttp.NewRequestWithContext(withIdempotency(ctx, out), out.Method, u.String(), out.Body)
	if err != nil {
		return nil, gateway.Wrap(gateway.CodeInternalError, err, "building the registry request failed")
	}
	req.Header = out.Header
	if a.authValue != "" {
		name := "Authorization"
		if a.cfg.Auth.Type == "header" {
			name = a.cfg.Auth.Header
		}
		req.Header.Set(name, a.authValue)
	}
	req.Header["User-Agent"] = nil // never Go's default
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, a.failure(ctx, err)
	}
	defer resp.Body.Close()
	buf := gateway.GetBuffer()
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, a.cfg.MaxResponseBytes+1))
	if err != nil {
		gateway.PutBuffer(buf)
		return nil, a.failure(ctx, fmt.Errorf("reading the answer: %w", err))
	}
	if n > a.cfg.MaxResponseBytes {
		gateway.PutBuffer(buf)
		return nil, gateway.Errorf(gateway.CodeInternalError, "the registry's answer is over the limit of %d bytes", a.cfg.MaxResponseBytes)
	}
	return &gateway.Response{
		Status: resp.StatusCode, Header: resp.Header, Body: buf.Bytes(),
		Forwarded: resp.Request.URL.RequestURI(),
		Release:   func() { gateway.PutBuffer(buf) },
	}, nil
}

// joinPath appends the exchange's (encoded) path to an endpoint's base path.
func joinPath(base *url.URL, p string) (path, rawPath string) {
	bp := strings.TrimSuffix(base.EscapedPath(), "/")
	raw := bp + p
	if raw == "" {
		raw = "/"
	}
	dec, err := url.PathUnescape(raw)
	if err != nil {
		return raw, ""
	}
	if dec == raw {
		return dec, ""
	}
	return dec, raw
}

// failure turns a transport error into a coded one. The request URL is
// cut from the cause: it may hold personal data, and causes reach logs.
func (a *Adapter) failure(ctx context.Context, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	a.lastErr.Store(&failureNote{At: time.Now(), Error: err.Error()})
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		return gateway.Wrap(gateway.CodeRegistryTimeout, err, "the registry did not answer in time")
	case errors.Is(ctx.Err(), context.Canceled):
		return ctx.Err()
	}
	return gateway.Wrap(gateway.CodeRegistryUnavailable, err, "the registry could not be reached")
}

// failover moves a retry to the next endpoint.
func (a *Adapter) failover(r *http.Request) error {
	if len(a.cfg.Endpoints) < 2 {
		return nil
	}
	base := a.cfg.Endpoints[int(a.next.Add(1)-1)%len(a.cfg.Endpoints)]
	r.URL.Scheme, r.URL.Host = base.Scheme, base.Host
	r.Host = ""
	return nil
}
