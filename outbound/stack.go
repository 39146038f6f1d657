package outbound

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/govbus/govbus/gateway"
)

// Stack is the outbound call path of one registry. Safe for concurrent use.
type Stack struct {
	cfg       Config
	endpoints []*endpoint
	transport *http.Transport
	client    *retryablehttp.Client
	budget    *budget
	bulkhead  chan struct{}
	next      atomic.Uint32 // round-robin start among equally loaded endpoints
	now       func() time.Time
}

// Call is one request to the registry, as an adapter prepared it.
type Call struct {
	Method string
	// Path is the path after the endpoint's base path, percent-encoded.
	Path     string
	RawQuery string
	Header   http.Header
	Body     []byte
	// Timeout covers the whole call, every attempt and wait included.
	Timeout time.Duration
	// PathTemplate is Path with its ids replaced by the service's template
	// ("/persons/{id}"); spans show it instead of the path. Default "/{path}".
	PathTemplate string
	// Idempotent marks a call that may be re-sent after it may have
	// reached the registry (GET, HEAD, OPTIONS, PUT, DELETE, or a service
	// configured idempotent).
	Idempotent bool
	// MaxResponseBytes limits the answer; over it the call fails with
	// CodeInternalError.
	MaxResponseBytes int64
	// RegistryAnswer, when set, picks out 5xx answers that are the
	// registry's own business answer (a SOAP Fault, HTTP 500 by SOAP 1.1),
	// so that they never count against the endpoint's breaker. Default:
	// every 5xx counts.
	RegistryAnswer func(*http.Response) bool
}

// New assembles the stack of one registry. This is the one place where the
// order of its layers is decided; Do walks them outermost first:
//
//  1. deadline  — Do: one context deadline for the whole call
//  2. bulkhead  — Do: a slot among MaxInFlight, or CodeRegistryBusy at once
//  3. retries   — s.client (go-retryablehttp): checkRetry (idempotency,
//     retry budget, Retry-After within the deadline) and backoff (full
//     jitter); the registry's last answer is handed back when retries end
//  4. failover  — s.RoundTrip: the least-loaded endpoint whose breaker
//     admits the attempt, preferring one not yet tried in this call
//  5. breaker   — endpoint.call: go-kit's gobreaker middleware
//  6. attempt   — endpoint.attempt: one round trip; a 5xx counts as failure
//  7. transport — s.transport: the registry's own connection pool
func New(cfg Config) (*Stack, error) {
	if len(cfg.Endpoints) == 0 {
		return nil, errors.New("building outbound stack: no endpoints")
	}
	cfg.setDefaults()
	s := &Stack{cfg: cfg, now: time.Now}
	s.transport = newTransport(&cfg)
	s.budget = newBudget(cfg.Retry.BudgetRatio, cfg.Retry.BudgetMinPerSecond, cfg.Retry.BudgetWindow, s.now)
	s.bulkhead = make(chan struct{}, cfg.MaxInFlight)
	keys := make([]string, len(cfg.Endpoints))
	for i, u := range cfg.Endpoints {
		s.endpoints = append(s.endpoints, newEndpoint(s, i, u))
		keys[i] = s.endpoints[i].key
	}
	s.client = &retryablehttp.Client{
		HTTPClient: &http.Client{
			Transport: s, // failover → breaker → attempt → transport
			// Redirects are the consumer's to follow, not govbus's.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		RetryWaitMin: cfg.Retry.WaitMin,
		RetryWaitMax: cfg.Retry.WaitMax,
		RetryMax:     cfg.Retry.Max,
		CheckRetry:   s.checkRetry,
		Backoff:      backoff,
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	cfg.Observer.Endpoints(cfg.Registry, keys)
	return s, nil
}

func newTransport(cfg *Config) *http.Transport {
	return &http.Transport{
		DialContext:           (&net.Dialer{Timeout: cfg.Pool.ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       cfg.TLS,
		TLSHandshakeTimeout:   cfg.Pool.ConnectTimeout,
		MaxIdleConns:          cfg.Pool.MaxIdleConnsPerHost * len(cfg.Endpoints),
		MaxIdleConnsPerHost:   cfg.Pool.MaxIdleConnsPerHost,
		MaxConnsPerHost:       cfg.Pool.MaxConnsPerHost,
		IdleConnTimeout:       cfg.Pool.IdleConnTimeout,
		ExpectContinueTimeout: time.Second,
		// Bodies pass through as the registry encoded them.
		DisableCompression: true,
		ForceAttemptHTTP2:  cfg.TLS != nil,
	}
}

// Close releases idle connections.
func (s *Stack) Close() { s.transport.CloseIdleConnections() }

// call is the state of one Do, shared by its attempts through the context.
type call struct {
	idempotent bool
	path       string // escaped path after the endpoint base
	rawQuery   string
	// pathTemplate is path with ids replaced, for spans.
	pathTemplate string
	tried        uint64 // bit i: endpoint i was tried
	attempts     int
	forwarded    string // path-and-query of the last attempt
	// registryAnswer is Call.RegistryAnswer.
	registryAnswer func(*http.Response) bool
}

type callKey struct{}

// Do sends c through the stack and returns the registry's answer, read in
// full. Without an answer the error is a *gateway.Error:
// CodeRegistryBusy, CodeCircuitOpen (with RetryAfter), CodeRegistryTimeout,
// CodeRegistryUnavailable, or CodeInternalError for an answer over the size
// limit; a consumer that went away gets context.Canceled.
func (s *Stack) Do(ctx context.Context, c Call) (*gateway.Response, error) {
	// 1. deadline
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	// 2. bulkhead
	select {
	case s.bulkhead <- struct{}{}:
	default:
		return nil, gateway.Errorf(gateway.CodeRegistryBusy, "the registry's limit of requests in flight is reached")
	}
	s.cfg.Observer.InFlight(s.cfg.Registry, len(s.bulkhead))
	defer func() {
		<-s.bulkhead
		s.cfg.Observer.InFlight(s.cfg.Registry, len(s.bulkhead))
	}()
	if err := s.allOpen(); err != nil {
		return nil, err
	}
	// 3. retries (4-7 run inside, through s.RoundTrip)
	s.budget.request()
	st := &call{idempotent: c.Idempotent, path: c.Path, rawQuery: c.RawQuery, pathTemplate: c.PathTemplate, registryAnswer: c.RegistryAnswer}
	if st.pathTemplate == "" {
		st.pathTemplate = "/{path}"
	}
	req, err := retryablehttp.NewRequestWithContext(context.WithValue(ctx, callKey{}, st), c.Method, "", c.Body)
	if err != nil {
		return nil, gateway.Wrap(gateway.CodeInternalError, err, "building the registry request failed")
	}
	req.Header = c.Header
	sent := s.now()
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, s.failure(ctx, err)
	}
	received := s.now()
	defer resp.Body.Close()
	limit := c.MaxResponseBytes
	buf := gateway.GetBuffer()
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		gateway.PutBuffer(buf)
		return nil, s.failure(ctx, fmt.Errorf("reading the answer: %w", err))
	}
	if n > limit {
		gateway.PutBuffer(buf)
		return nil, gateway.Errorf(gateway.CodeInternalError, "the registry's answer is over the limit of %d bytes", limit)
	}
	return &gateway.Response{
		Status: resp.StatusCode, Header: resp.Header, Body: buf.Bytes(),
		Forwarded: st.forwarded, Release: func() { gateway.PutBuffer(buf) },
		SentAt: sent, ReceivedAt: received, Attempts: st.attempts,
	}, nil
}

// failure turns an error without an answer into a coded one. The request
// URL is cut from the cause: it may hold personal data, and causes reach
// logs.
func (s *Stack) failure(ctx context.Context, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ge *gateway.Error
	switch {
	case errors.As(err, &ge):
		return ge
	case errors.Is(err, errBreakerRefused):
		return &gateway.Error{Code: gateway.CodeCircuitOpen, Message: "the registry's circuit breakers are letting only probes through", RetryAfter: time.Second, Err: err}
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		return gateway.Wrap(gateway.CodeRegistryTimeout, err, "the registry did not answer in time")
	case errors.Is(ctx.Err(), context.Canceled):
		return ctx.Err()
	}
	return gateway.Wrap(gateway.CodeRegistryUnavailable, err, "the registry could not be reached")
}

// RoundTrip is the failover layer: it sends one attempt to the best
// endpoint through that endpoint's breaker. It implements
// http.RoundTripper for the retry client only.
func (s *Stack) RoundTrip(req *http.Request) (*http.Response, error) {
	st := req.Context().Value(callKey{}).(*call)
	ep, err := s.pick(st)
	if err != nil {
		return nil, err
	}
	st.tried |= 1 << (uint(ep.index) % 64)
	resend := st.attempts
	st.attempts++
	r := *req // a shallow copy: a RoundTripper must not change its request
	u := ep.target(st.path, st.rawQuery)
	r.URL, r.Host = u, ""
	st.forwarded = u.RequestURI()
	return ep.roundTrip(&r, resend)
}

// allOpen fails fast with CodeCircuitOpen when no endpoint's breaker would
// admit a request, without touching the network.
func (s *Stack) allOpen() error {
	if s.cfg.Breaker.Disabled {
		return nil
	}
	var wait time.Duration
	for _, ep := range s.endpoints {
		w, open := ep.openFor()
		if !open {
			return nil
		}
		if wait == 0 || w < wait {
			wait = w
		}
	}
	return &gateway.Error{Code: gateway.CodeCircuitOpen, Message: "every endpoint of the registry is failing; its circuit breakers are open", RetryAfter: max(wait, time.Second)}
}

// pick chooses the endpoint of the next attempt: among those whose breaker
// is not open, the one with the fewest requests outstanding, preferring
// endpoints this call has not tried.
func (s *Stack) pick(st *call) (*endpoint, error) {
	n := len(s.endpoints)
	start := int(s.next.Add(1)) % n
	var best *endpoint
	bestFresh := false
	for i := 0; i < n; i++ {
		ep := s.endpoints[(start+i)%n]
		if _, open := ep.openFor(); open {
			continue
		}
		fresh := st.tried&(1<<(uint(ep.index)%64)) == 0
		switch {
		case best == nil,
			fresh && !bestFresh,
			fresh == bestFresh && ep.outstanding.Load() < best.outstanding.Load():
			best, bestFresh = ep, fresh
		}
	}
	if best == nil {
		return nil, s.allOpen()
	}
	return best, nil
}

// checkRetry decides whether to re-send: only idempotent calls after a
// transport error or a 502/503/504, and any call whose connection was never
// established; never past the deadline, never beyond RetryMax, never when a
// Retry-After would outlast the deadline, and only within the retry budget.
func (s *Stack) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	st := ctx.Value(callKey{}).(*call)
	if st.attempts > s.cfg.Retry.Max {
		return false, nil
	}
	var ge *gateway.Error
	retry := false
	switch {
	case errors.As(err, &ge):
		return false, nil // every breaker is open: nothing left to try
	case err != nil:
		retry = st.idempotent || neverConnected(err)
	default:
		switch resp.StatusCode {
		case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			retry = st.idempotent
		}
	}
	if !retry {
		return false, nil
	}
	if ra, ok := retryAfter(resp); ok {
		if d, has := ctx.Deadline(); has && s.now().Add(ra).After(d) {
			return false, nil
		}
	}
	if !s.budget.withdraw() {
		s.cfg.Observer.BudgetExhausted(s.cfg.Registry)
		return false, nil
	}
	s.cfg.Observer.Retry(s.cfg.Registry)
	return true, nil
}

// neverConnected reports whether err happened before the request could
// reach the registry: a failed dial, or a breaker that refused it.
func neverConnected(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial" || errors.Is(err, errBreakerRefused)
}

// retryAfter reads a Retry-After in seconds from a 429 or 503 answer.
func retryAfter(resp *http.Response) (time.Duration, bool) {
	if resp == nil || (resp.StatusCode != http.StatusServiceUnavailable && resp.StatusCode != http.StatusTooManyRequests) {
		return 0, false
	}
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	var secs int64
	for _, c := range v {
		if c < '0' || c > '9' || secs > 1<<20 {
			return 0, false
		}
		secs = secs*10 + int64(c-'0')
	}
	return time.Duration(secs) * time.Second, true
}
