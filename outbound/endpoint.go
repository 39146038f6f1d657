package outbound

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-kit/kit/circuitbreaker"
	kitendpoint "github.com/go-kit/kit/endpoint"
	"github.com/sony/gobreaker"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/govbus/govbus/gateway"
)

// errBreakerRefused marks an attempt that an endpoint's breaker refused
// (open, or half-open with its probes taken): the registry never saw it.
var errBreakerRefused = errors.New("the endpoint's circuit breaker refused the attempt")

// statusError carries a registry's 5xx answer through the breaker, which
// counts it as a failure; the failover layer hands the answer back.
type statusError struct{ resp *http.Response }

func (e *statusError) Error() string { return "registry answered " + e.resp.Status }

// endpoint is one replica of a registry with its own breaker.
type endpoint struct {
	s     *Stack
	index int
	url   *url.URL
	// key is the endpoint as shown in metrics and status (no credentials).
	key      string
	basePath string // escaped, without a trailing slash
	port     int    // for server.port
	cb       *gobreaker.CircuitBreaker
	call     kitendpoint.Endpoint // breaker(attempt)

	outstanding atomic.Int64
	openedAt    atomic.Int64 // Unix nanoseconds the breaker opened; 0 when not open
	lastErr     atomic.Pointer[note]
}

// note is the last failure of an endpoint, for /admin/status.
type note struct {
	At    time.Time `json:"at"`
	Error string    `json:"error"`
}

func newEndpoint(s *Stack, i int, u *url.URL) *endpoint {
	ep := &endpoint{s: s, index: i, url: u, key: u.Redacted(),
		basePath: strings.TrimSuffix(u.EscapedPath(), "/")}
	ep.port, _ = strconv.Atoi(u.Port())
	if ep.port == 0 {
		ep.port = 80
		if u.Scheme == "https" {
			ep.port = 443
		}
	}
	ep.call = ep.attempt
	b := s.cfg.Breaker
	if !b.Disabled {
		ep.cb = gobreaker.NewCircuitBreaker(gobreaker.Settings{
			Name:        ep.key,
			MaxRequests: b.HalfOpenRequests,
			Interval:    b.Interval,
			Timeout:     b.OpenTimeout,
			ReadyToTrip: func(c gobreaker.Counts) bool {
				return c.ConsecutiveFailures >= b.ConsecutiveFailures ||
					c.Requests >= b.MinRequests && float64(c.TotalFailures) >= b.FailureRatio*float64(c.Requests)
			},
			IsSuccessful:  isSuccessful,
			OnStateChange: ep.stateChanged,
		})
		ep.call = circuitbreaker.Gobreaker(ep.cb)(ep.attempt)
	}
	return ep
}

// isSuccessful counts everything but transport errors, timeouts and 5xx
// answers as success: a consumer that cancels is no sign of a sick
// registry, and 4xx answers and policy denials never reach the breaker.
func isSuccessful(err error) bool {
	return err == nil || errors.Is(err, context.Canceled)
}

func (ep *endpoint) stateChanged(_ string, from, to gobreaker.State) {
	if to == gobreaker.StateOpen {
		ep.openedAt.Store(ep.s.now().UnixNano())
	} else {
		ep.openedAt.Store(0)
	}
	cfg := ep.s.cfg
	cfg.Logger.Warn("circuit breaker changed", "registry", cfg.Registry, "endpoint", ep.key, "from", from.String(), "to", to.String())
	cfg.Observer.BreakerChanged(cfg.Registry, ep.key, from.String(), to.String())
}

// openFor reports whether the breaker refuses requests now and, if so, how
// long until it lets a probe through.
func (ep *endpoint) openFor() (time.Duration, bool) {
	if ep.cb == nil || ep.cb.State() != gobreaker.StateOpen {
		return 0, false
	}
	wait := time.Duration(ep.openedAt.Load()) + ep.s.cfg.Breaker.OpenTimeout - time.Duration(ep.s.now().UnixNano())
	return wait, true
}

// state names the breaker's state for status pages.
func (ep *endpoint) state() string {
	if ep.cb == nil {
		return "disabled"
	}
	return ep.cb.State().String()
}

// target is the URL of an attempt on this endpoint. The path goes out as
// given: RawPath holds it (Go's URL would otherwise re-encode characters
// such as "(" or "!" that need no encoding), which the request line uses
// whenever it is a valid encoding of Path.
func (ep *endpoint) target(path, rawQuery string) *url.URL {
	u := &url.URL{Scheme: ep.url.Scheme, Host: ep.url.Host, User: ep.url.User, RawQuery: rawQuery}
	raw := ep.basePath + path
	if raw == "" {
		raw = "/"
	}
	if dec, err := url.PathUnescape(raw); err == nil {
		u.Path, u.RawPath = dec, raw
	} else {
		u.Path = raw
	}
	return u
}

// roundTrip runs one attempt through the breaker, as a CLIENT span whose
// context travels to the registry in traceparent.
func (ep *endpoint) roundTrip(r *http.Request, resend int) (*http.Response, error) {
	ep.outstanding.Add(1)
	defer ep.outstanding.Add(-1)
	ctx, sp := ep.s.cfg.Tracer.Start(r.Context(), r.Method, trace.WithSpanKind(trace.SpanKindClient))
	defer sp.End()
	if sp.IsRecording() {
		sp.SetAttributes(ep.spanAttributes(r, resend)...)
	}
	// Attempts of one call run one after another, so the call's header map
	// may carry each attempt's own traceparent.
	ep.s.cfg.Propagator.Inject(ctx, propagation.HeaderCarrier(r.Header))
	r = r.WithContext(ctx)
	out, err := ep.call(ctx, r)
	if err != nil {
		var se *statusError
		switch {
		case errors.As(err, &se):
			spanResult(sp, se.resp.StatusCode, "")
			return se.resp, nil
		case errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
			sp.AddEvent("circuit breaker refused the attempt", trace.WithAttributes(attribute.String("govbus.breaker.state", ep.state())))
			spanResult(sp, 0, "breaker_open")
			return nil, errBreakerRefused
		}
		ep.lastErr.Store(&note{At: ep.s.now(), Error: noteText(ctx, err)})
		spanResult(sp, 0, errorType(ctx, err))
		return nil, err
	}
	resp := out.(*http.Response)
	spanResult(sp, resp.StatusCode, "")
	return resp, nil
}

// spanAttributes are the stable HTTP client attributes of an attempt. The
// URL's path is the service's template (no ids) and every query value is
// REDACTED.
func (ep *endpoint) spanAttributes(r *http.Request, resend int) []attribute.KeyValue {
	st := r.Context().Value(callKey{}).(*call)
	full := ep.url.Scheme + "://" + ep.url.Host + ep.basePath + st.pathTemplate
	if st.rawQuery != "" {
		full += "?" + gateway.RedactQuery(st.rawQuery)
	}
	attrs := []attribute.KeyValue{
		attribute.String("http.request.method", r.Method),
		attribute.String("server.address", ep.url.Hostname()),
		attribute.Int("server.port", ep.port),
		attribute.String("url.full", full),
		attribute.String("govbus.registry", ep.s.cfg.Registry),
		attribute.String("govbus.breaker.state", ep.state()),
	}
	if resend > 0 {
		attrs = append(attrs, attribute.Int("http.request.resend_count", resend))
	}
	return attrs
}

// spanResult records an attempt's status or error type on its span.
func spanResult(sp trace.Span, status int, errType string) {
	if status > 0 {
		sp.SetAttributes(attribute.Int("http.response.status_code", status))
		if status >= 500 {
			errType = strconv.Itoa(status)
		}
	}
	if errType != "" {
		sp.SetAttributes(attribute.String("error.type", errType))
		sp.SetStatus(codes.Error, errType)
	}
}

// noteText describes a failed attempt for Status (GET /admin/status needs
// no credential): the network or TLS error as it is, but never the text of
// any other, which may repeat bytes the registry sent (a malformed
// answer's first line or header line can hold a person's data).
func noteText(ctx context.Context, err error) string {
	var (
		op     *net.OpError
		verify *tls.CertificateVerificationError
		ne     net.Error
	)
	switch {
	case errors.As(err, &op):
		return op.Error()
	case errors.As(err, &verify):
		return verify.Error()
	case ctx.Err() != nil:
		return ctx.Err().Error()
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout waiting for the registry's answer"
	}
	return "the registry's answer could not be read as HTTP (" + errorType(ctx, err) + ")"
}

// errorType names a transport failure for error.type.
func errorType(ctx context.Context, err error) string {
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return "connection_refused"
	}
	return "transport_error"
}

// attempt is one round trip on the registry's transport.
func (ep *endpoint) attempt(ctx context.Context, request any) (any, error) {
	start := ep.s.now()
	resp, err := ep.s.transport.RoundTrip(request.(*http.Request))
	took := ep.s.now().Sub(start)
	obs, reg := ep.s.cfg.Observer, ep.s.cfg.Registry
	switch {
	case err != nil && ctx.Err() == context.DeadlineExceeded:
		obs.Attempt(ctx, reg, ep.key, "timeout", took)
		return nil, err
	case err != nil:
		obs.Attempt(ctx, reg, ep.key, "error", took)
		return nil, err
	case resp.StatusCode < 200:
		// Only a 101 comes this far (Go's transport skips the other 1xx),
		// and govbus never asks for an upgrade: passed on, it would turn
		// the consumer's connection into a tunnel for a proxy in front.
		resp.Body.Close()
		obs.Attempt(ctx, reg, ep.key, "error", took)
		return nil, fmt.Errorf("the registry answered %d to a request that asked for no protocol switch", resp.StatusCode)
	case resp.StatusCode >= 500 && !isRegistryAnswer(ctx, resp):
		obs.Attempt(ctx, reg, ep.key, "5xx", took)
		ep.lastErr.Store(&note{At: ep.s.now(), Error: "answered " + resp.Status})
		return nil, &statusError{resp}
	}
	obs.Attempt(ctx, reg, ep.key, "ok", took)
	return resp, nil
}

// backoff waits before a retry: the registry's Retry-After when it sent one
// (checkRetry made sure it fits in the deadline), else exponential with full
// jitter: a random wait between 0 and min(max, min·2^attempt).
func backoff(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
	if ra, ok := retryAfter(resp); ok {
		return ra
	}
	ceil := max
	if attempt < 30 {
		if c := min << uint(attempt); c > 0 && c < max {
			ceil = c
		}
	}
	return time.Duration(rand.Int64N(int64(ceil) + 1))
}

// EndpointStatus is an endpoint as /admin/status shows it.
type EndpointStatus struct {
	URL         string     `json:"url"`
	Breaker     string     `json:"breaker"`
	Outstanding int64      `json:"outstanding"`
	OpenedAt    *time.Time `json:"opened_at,omitempty"`
	LastError   *note      `json:"last_error,omitempty"`
}

// Status is the registry's stack as /admin/status shows it.
type Status struct {
	InFlight    int              `json:"in_flight"`
	MaxInFlight int              `json:"max_in_flight"`
	Endpoints   []EndpointStatus `json:"endpoints"`
}

// Status reports the stack's state now.
func (s *Stack) Status() Status {
	st := Status{InFlight: len(s.bulkhead), MaxInFlight: cap(s.bulkhead)}
	for _, ep := range s.endpoints {
		es := EndpointStatus{URL: ep.key, Breaker: ep.state(), Outstanding: ep.outstanding.Load(), LastError: ep.lastErr.Load()}
		if at := ep.openedAt.Load(); at != 0 {
			t := time.Unix(0, at).UTC()
			es.OpenedAt = &t
		}
		st.Endpoints = append(st.Endpoints, es)
	}
	return st
}

// isRegistryAnswer reports whether a 5xx answer is the registry's business
// answer by the call's Call.RegistryAnswer.
func isRegistryAnswer(ctx context.Context, resp *http.Response) bool {
	st, _ := ctx.Value(callKey{}).(*call)
	return st != nil && st.registryAnswer != nil && st.registryAnswer(resp)
}
