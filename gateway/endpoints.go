package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"sync"

	"github.com/go-kit/kit/endpoint"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/govbus/govbus/policies"
)

// chain holds what the steps of the inbound chain share.
type chain struct {
	tracer trace.Tracer
}

// NewExchangeEndpoint builds the inbound chain of an exchange, outermost
// first: authenticate → route → decide policy → rate limit → read body →
// message log (request record durable before forwarding, response record
// before answering) → data minimisation → adapter.
// This is the one place where the order of these concerns is decided.
// Each step records a span (a child of the exchange's server span) under
// tracer. The endpoint takes a *Request and returns a *Response; failures
// are *Error values.
func NewExchangeEndpoint(tracer trace.Tracer) endpoint.Endpoint {
	c := chain{tracer: tracer}
	return endpoint.Chain(
		c.authenticate,
		c.route,
		c.decide,
		c.rateLimit,
		c.readBody,
		c.messageLog,
		c.minimise,
	)(c.forward)
}

// NewMetaEndpoint builds the chain of the metaservices that need the
// caller's identity but no policy rule: authenticate → serve.
func NewMetaEndpoint(tracer trace.Tracer, serve endpoint.Endpoint) endpoint.Endpoint {
	return chain{tracer: tracer}.authenticate(serve)
}

// endSpan ends a step's span, marking it failed when err is set.
func endSpan(sp trace.Span, err error) {
	if err != nil {
		sp.SetStatus(codes.Error, string(CodeOf(err)))
		sp.SetAttributes(attribute.String("error.type", string(CodeOf(err))))
	}
	sp.End()
}

// authenticate proves the claimed X-Road-Client with the credential.
func (c chain) authenticate(next endpoint.Endpoint) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		req := request.(*Request)
		_, sp := c.tracer.Start(ctx, "authenticate")
		err := req.Snapshot.Authenticator.Authenticate(req.ClientKey, req.Credential)
		endSpan(sp, err)
		if err != nil {
			return nil, err
		}
		SummaryFrom(ctx).Client = req.ClientKey
		return next(ctx, req)
	}
}

// route finds the service and checks that it declares the method.
func (c chain) route(next endpoint.Endpoint) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		req := request.(*Request)
		r, ok := req.Snapshot.Routes[req.ServiceKey]
		if !ok {
			return nil, Errorf(CodeUnknownService, "no such service is registered")
		}
		s := SummaryFrom(ctx)
		s.Service, s.Registry = r.ServiceKey, r.Registry
		s.PathTemplate = r.PathTemplate(req.Target.Path)
		if !r.AllowsMethod(req.Method) {
			return nil, &Error{Code: CodeMethodNotAllowed, Message: "the service does not declare this method", Allow: r.Methods}
		}
		req.Route = r
		return next(ctx, req)
	}
}

// decide asks the policy; default deny.
func (c chain) decide(next endpoint.Endpoint) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		req := request.(*Request)
		_, sp := c.tracer.Start(ctx, "policy")
		q := policies.Query{
			Client: req.ClientKey, Service: req.ServiceKey, Method: req.Method,
			Path: req.Target.Path, Purpose: req.Purpose,
			// What rule conditions may read besides.
			UserID: req.UserID, Issue: req.Issue, Header: req.Header, Now: req.Received,
			RepresentedParty: req.RepresentedParty, RepresentedPartyClass: req.RepresentedPartyClass,
		}
		if req.Route != nil {
			q.PathTemplates = req.Route.Paths
		}
		d := req.Snapshot.Policy.Decide(q)
		req.Decision = d
		s := SummaryFrom(ctx)
		s.Decision = d.Effect.String()
		if sp.IsRecording() {
			sp.SetAttributes(attribute.String("govbus.policy.decision", s.Decision),
				attribute.String("govbus.policy.rule_id", d.RuleID), attribute.String("govbus.policy.reason", d.Reason))
		}
		var err error
		switch d.Effect {
		case policies.Allow:
			s.RuleID = d.RuleID
		case policies.PurposeRequired:
			err = Errorf(CodePurposeRequired, "X-Road-Purpose is missing or not among the purposes the agreement allows")
		default:
			err = Errorf(CodeAccessDenied, "no policy rule allows this client to make this call")
		}
		endSpan(sp, err)
		if err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
}

// bufPool recycles request and response body buffers.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// GetBuffer returns an empty buffer from the shared body pool.
func GetBuffer() *bytes.Buffer { return bufPool.Get().(*bytes.Buffer) }

// PutBuffer returns b to the pool; very large buffers are dropped.
func PutBuffer(b *bytes.Buffer) {
	if b.Cap() > 1<<20 {
		return
	}
	b.Reset()
	bufPool.Put(b)
}

// readBody reads the request body within the service's limit.
func (c chain) readBody(next endpoint.Endpoint) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		req := request.(*Request)
		limit := req.Route.MaxRequestBytes
		if req.BodyBytes != nil { // a SOAP message, read to learn its sender
			if int64(len(req.BodyBytes)) > limit {
				return nil, Errorf(CodePayloadTooLarge, "request body over the service's limit of %d bytes", limit)
			}
			SummaryFrom(ctx).RequestSize = int64(len(req.BodyBytes))
			if err := checkBody(req); err != nil {
				return nil, err
			}
			return next(ctx, req)
		}
		if req.ContentLength > limit {
			return nil, Errorf(CodePayloadTooLarge, "request body over the service's limit of %d bytes", limit)
		}
		if req.Body == nil || req.ContentLength == 0 {
			if err := checkBody(req); err != nil {
				return nil, err
			}
			return next(ctx, req)
		}
		buf := GetBuffer()
		defer PutBuffer(buf)
		guard, release := guardOf(ctx)
		defer release()
		n, err := guard.read(req.Body, req.ContentLength, limit, buf)
		if err != nil {
			return nil, err
		}
		if n > limit {
			return nil, Errorf(CodePayloadTooLarge, "request body over the service's limit of %d bytes", limit)
		}
		req.BodyBytes = buf.Bytes()
		SummaryFrom(ctx).RequestSize = n
		// Before the request record: a refused body is never logged as
		// forwarded, nor forwarded.
		if err := checkBody(req); err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
}

// forward sends the exchange to the registry's adapter (whose outbound
// stack enforces the service's deadline) and computes the request hash of
// what was forwarded.
func (c chain) forward(ctx context.Context, request any) (any, error) {
	req := request.(*Request)
	r := req.Route
	out := &Outbound{
		Method: req.Method, Path: req.Target.Path, RawQuery: req.Target.RawQuery,
		Header: outboundHeader(req), Body: req.BodyBytes, SOAP: req.SOAP, Route: r,
	}
	ctx, sp := c.tracer.Start(ctx, "adapter", trace.WithAttributes(attribute.String("govbus.registry", r.Registry)))
	resp, err := r.Adapter.Exchange(ctx, out)
	if err != nil {
		err = classify(ctx, err)
		endSpan(sp, err)
		return nil, err
	}
	sp.End()
	resp.RequestHash = RequestHash(req.Method, resp.Forwarded, req.BodyBytes)
	resp.Request = req
	sum := SummaryFrom(ctx)
	sum.SentAt, sum.ReceivedAt, sum.Attempts = resp.SentAt, resp.ReceivedAt, resp.Attempts
	return resp, nil
}

// RequestHash returns the X-Road-Request-Hash of a forwarded request:
// base64(SHA-512(METHOD SP path-and-query LF body)).
func RequestHash(method, pathAndQuery string, body []byte) string {
	h := sha512.New()
	h.Write([]byte(method))
	h.Write([]byte{' '})
	h.Write([]byte(pathAndQuery))
	h.Write([]byte{'\n'})
	h.Write(body)
	var sum [sha512.Size]byte
	return base64.StdEncoding.EncodeToString(h.Sum(sum[:0]))
}

// classify turns an adapter failure without a code into one.
func classify(ctx context.Context, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return Wrap(CodeRegistryTimeout, err, "the registry did not answer in time")
	}
	return Wrap(CodeRegistryUnavailable, err, "the registry could not be reached")
}

// rateLimit spends one request of the client's rate and quota.
func (c chain) rateLimit(next endpoint.Endpoint) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		req := request.(*Request)
		if l := req.Snapshot.Limiter; l != nil {
			if wait, ok := l.Allow(ctx, req.ClientKey, req.ServiceKey, req.Decision.RuleID); !ok {
				return nil, &Error{Code: CodeRateLimited, Message: "the agreement's rate or quota for this client is spent", RetryAfter: wait}
			}
		}
		return next(ctx, req)
	}
}

// fieldLimiter is implemented by a Minimiser that tells, before the call,
// whether a rule lists fields.
type fieldLimiter interface{ Limits(ruleID string) bool }

// minimise removes from the registry's answer the fields the allowing rule
// does not grant, failing closed when the answer cannot be filtered. Under
// such a rule only the content headers of the answer pass (an ETag or a
// file name describes the whole answer), and the call goes without
// conditional request headers (compared with the whole answer they would
// tell the client what the hidden fields hold).
func (c chain) minimise(next endpoint.Endpoint) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		req := request.(*Request)
		if l, ok := req.Snapshot.Minimiser.(fieldLimiter); ok && l.Limits(req.Decision.RuleID) {
			dropConditional(req.Header)
		}
		out, err := next(ctx, request)
		m := req.Snapshot.Minimiser
		if err != nil || m == nil {
			return out, err
		}
		resp := out.(*Response)
		// Every answer is filtered, error answers too: they may carry data.
		body, applies, ferr := m.Minimise(req.Decision.RuleID, resp.Body, resp.Header.Get("Content-Type"))
		if !applies {
			return out, nil
		}
		if ferr != nil {
			releaseResponse(resp)
			return nil, Wrap(CodeInternalError, ferr, "the registry's answer cannot be filtered to the fields the agreement grants")
		}
		resp.OriginalSHA256 = digestHex(resp.Body)
		releaseResponse(resp)
		resp.Body, resp.Release = body, nil
		contentOnly(resp.Header)
		return resp, nil
	}
}

func releaseResponse(r *Response) {
	if r.Release != nil {
		r.Release()
		r.Release = nil
	}
}

func digestHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
