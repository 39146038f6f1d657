package gateway

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/go-kit/kit/endpoint"
	kithttp "github.com/go-kit/kit/transport/http"
	"github.com/google/uuid"

	"github.com/govbus/govbus/soap"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// statusOf is the one table from error code to HTTP status.
var statusOf = map[Code]int{
	CodeBadRequest:          http.StatusBadRequest,
	CodeUnauthenticated:     http.StatusUnauthorized,
	CodeAccessDenied:        http.StatusForbidden,
	CodePurposeRequired:     http.StatusForbidden,
	CodeUnknownService:      http.StatusNotFound,
	CodeMethodNotAllowed:    http.StatusMethodNotAllowed,
	CodePayloadTooLarge:     http.StatusRequestEntityTooLarge,
	CodeURITooLong:          http.StatusRequestURITooLong,
	CodeRateLimited:         http.StatusTooManyRequests,
	CodeCircuitOpen:         http.StatusServiceUnavailable,
	CodeRegistryBusy:        http.StatusServiceUnavailable,
	CodeRegistryUnavailable: http.StatusBadGateway,
	CodeRegistryTimeout:     http.StatusGatewayTimeout,
	CodeLoggingFailed:       http.StatusServiceUnavailable,
	CodeInternalError:       http.StatusInternalServerError,
}

// StatusOf returns the HTTP status for an error code (500 for unknown ones).
func StatusOf(c Code) int {
	if s, ok := statusOf[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Options configure the consumer-facing handler.
type Options struct {
	// Holder supplies the configuration each exchange runs under. Required.
	Holder *Holder
	// NewID returns fresh UUIDs; nil uses random (version 4) UUIDs.
	NewID func() string
	// Now is the clock; nil uses time.Now.
	Now func() time.Time
	// Tracer records the spans of the chain's steps; nil records none.
	Tracer trace.Tracer
	// MaxBodyBytesInFlight bounds the request body bytes that all the
	// handler's exchanges hold at once; a body that would pass it is
	// Server.RegistryBusy, refused before it is read when its length is
	// declared (bodyguard.go). 0: DefaultMaxBodyBytesInFlight (64 MiB).
	MaxBodyBytesInFlight int64
	// BodyReadTimeout is how long a request body may take to arrive before
	// it must keep up MinBodyRate on average; a slower body is
	// Client.BadRequest. 0: DefaultBodyReadTimeout (10s).
	BodyReadTimeout time.Duration
}

// Handler serves the consumer API of DESIGN.md §3 on one listener.
type Handler struct {
	opts      Options
	exchange  *kithttp.Server
	tracker   *kithttp.Server
	soap      *kithttp.Server
	meta      map[string]*kithttp.Server
	errorsEnc kithttp.ErrorEncoder
	bodies    *bodyBudget // shared by every exchange of the handler
}

// NewHandler returns the consumer-facing handler.
func NewHandler(opts Options) *Handler {
	if opts.NewID == nil {
		opts.NewID = func() string { return uuid.NewString() }
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Tracer == nil {
		opts.Tracer = noop.NewTracerProvider().Tracer("")
	}
	h := &Handler{opts: opts, bodies: newBodyBudget(opts.MaxBodyBytesInFlight)}
	h.errorsEnc = h.encodeError
	serverOpts := []kithttp.ServerOption{kithttp.ServerErrorEncoder(h.errorsEnc)}
	h.exchange = kithttp.NewServer(NewExchangeEndpoint(opts.Tracer), h.decode, h.encodeResponse, serverOpts...)
	h.soap = kithttp.NewServer(NewExchangeEndpoint(opts.Tracer), h.decodeSOAP, h.encodeSOAPResponse, serverOpts...)
	h.tracker = kithttp.NewServer(chain{tracer: opts.Tracer}.trackerEndpoint(), h.decode, h.encodeResponse, serverOpts...)
	h.meta = map[string]*kithttp.Server{}
	for name, ep := range map[string]endpoint.Endpoint{
		MetaListMethods:    listMethods(false),
		MetaAllowedMethods: listMethods(true),
		MetaGetOpenAPI:     getOpenAPI,
		MetaGetWsdl:        getWsdl,
	} {
		h.meta[name] = kithttp.NewServer(NewMetaEndpoint(opts.Tracer, ep), h.decode, h.encodeResponse, serverOpts...)
	}
	return h
}

type inboundKey struct{}

// inbound is what ServeHTTP learns before the go-kit server runs.
type inbound struct {
	target Target
	xml    bool          // the consumer prefers XML error bodies
	soap   *soap.Request // the parsed envelope of a SOAP request
	isSOAP bool          // errors go back as SOAP Faults
	body   bodyGuard     // the request body's budget and read deadline
}

// wantsXML reports whether errors should be XML rather than JSON.
func wantsXML(ctx context.Context) bool {
	in, ok := ctx.Value(inboundKey{}).(*inbound)
	return ok && in.xml
}

// prefersXML reads an Accept header: XML when it names an XML type and no
// JSON one.
func prefersXML(accept string) bool {
	return strings.Contains(accept, "xml") && !strings.Contains(accept, "json")
}

// ServeHTTP parses the raw request target itself (nothing cleans or
// redirects it first) and dispatches to the exchange or a metaservice.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	in := &inbound{xml: prefersXML(r.Header.Get("Accept")), body: h.bodyGuard(w)}
	defer in.body.release()
	ctx = context.WithValue(ctx, inboundKey{}, in)
	if r.Method == http.MethodTrace || r.Method == http.MethodConnect {
		h.encodeError(ctx, &Error{Code: CodeMethodNotAllowed, Message: r.Method + " is not served"}, w)
		return
	}
	var err error
	if in.target, err = ParseTarget(r.RequestURI); err != nil {
		h.encodeError(ctx, err, w)
		return
	}
	if err := checkHead(r.Header); err != nil {
		h.encodeError(ctx, err, w)
		return
	}
	t := &in.target
	r = r.WithContext(ctx)
	switch t.Kind {
	case TargetListClients:
		h.listClients(w, r)
	case TargetTracker:
		h.tracker.ServeHTTP(w, r)
	case TargetSOAP:
		in.isSOAP = isSOAP(r) || r.Method == http.MethodPost
		h.soap.ServeHTTP(w, r)
	case TargetMeta:
		SummaryFrom(ctx).Service = t.Meta
		h.meta[t.Meta].ServeHTTP(w, r)
	default:
		h.exchange.ServeHTTP(w, r)
	}
}

// decode reads the request head into a *Request. The body is read later,
// by the chain, once the caller is known to be allowed.
func (h *Handler) decode(ctx context.Context, r *http.Request) (any, error) {
	t := &ctx.Value(inboundKey{}).(*inbound).target
	claimed, err := claimedClient(r.Header)
	if err != nil {
		return nil, err
	}
	client, err := ParseClientID(claimed)
	if err != nil {
		return nil, err
	}
	req := &Request{
		Received: h.opts.Now(), RequestID: h.opts.NewID(), Client: client, ClientKey: claimed, Host: r.Host,
		Target: *t, Method: r.Method, Body: r.Body, ContentLength: r.ContentLength,
		Snapshot: h.opts.Holder.Load(),
	}
	if t.Kind == TargetService {
		req.ServiceKey = t.Service.String()
	}
	for _, f := range [...]struct {
		name string
		dst  *string
	}{
		{HeaderID, &req.MessageID}, {HeaderUserID, &req.UserID}, {HeaderIssue, &req.Issue},
		{HeaderPurpose, &req.Purpose},
	} {
		if *f.dst, err = single(r.Header, f.name); err != nil {
			return nil, err
		}
		if len(*f.dst) > 1024 {
			return nil, Errorf(CodeBadRequest, "header %s is longer than 1024 bytes", f.name)
		}
	}
	if req.MessageID == "" {
		req.MessageID = h.opts.NewID()
	}
	party, err := single(r.Header, HeaderRepresented)
	if err != nil {
		return nil, err
	}
	if party != "" {
		class, code, ok := strings.Cut(party, "/")
		if !ok {
			class, code = "", party
		}
		if (class != "" && !validPart(class)) || !validPart(code) {
			return nil, Errorf(CodeBadRequest, "X-Road-Represented-Party must be CLASS/CODE")
		}
		req.RepresentedPartyClass, req.RepresentedParty = class, code
	}
	sum := SummaryFrom(ctx)
	sum.MessageID, sum.RequestID = req.MessageID, req.RequestID
	h.credentials(r, req)
	if t.Kind == TargetService {
		// What reaches the registry is the service's allowlist; the
		// service is looked up again (and refused if unknown) by route.
		var route *Route
		if req.Snapshot != nil {
			route = req.Snapshot.Routes[req.ServiceKey]
		}
		req.Header = forwardHeaders(r.Header, route, 10)
	} else {
		req.Header = conditionHeaders(r.Header, 10)
	}
	return req, nil
}

// credentials reads the consumer's credential and address into req.
func (h *Handler) credentials(r *http.Request, req *Request) {
	if auth := r.Header.Get("Authorization"); len(auth) > 7 && strings.EqualFold(auth[:7], "bearer ") {
		req.Credential.APIKey = strings.TrimSpace(auth[7:])
	}
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 && len(r.TLS.VerifiedChains[0]) > 0 {
		req.Credential.Certificate = r.TLS.VerifiedChains[0][0]
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		req.RemoteIP = host
	}
	req.Credential.RemoteAddr = peerAddr(r)
}

// peerAddr is the TCP peer's address of r (IPv4-mapped IPv6 unmapped),
// never what a header claims; unset when RemoteAddr does not parse.
func peerAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// encodeResponse writes a registry's answer, or a metaservice's.
func (h *Handler) encodeResponse(ctx context.Context, w http.ResponseWriter, response any) error {
	resp := response.(*Response)
	if resp.Release != nil {
		defer resp.Release()
	}
	wh := w.Header()
	var route *Route
	if resp.Request != nil {
		route = resp.Request.Route
	}
	routeResponseHeader(wh, resp.Header, route)
	vals := make([]string, 0, 6) // one allocation for every value set here
	set := func(name, v string) {
		vals = append(vals, v)
		wh[name] = vals[len(vals)-1 : len(vals) : len(vals)]
	}
	if req := resp.Request; req != nil {
		set(HeaderID, req.MessageID)
		set(HeaderRequestID, req.RequestID)
		set(HeaderClient, req.ClientKey)
		set(HeaderService, req.ServiceKey)
		if resp.RequestHash != "" {
			set(HeaderRequestHash, resp.RequestHash)
		}
	}
	set("Content-Length", strconv.Itoa(len(resp.Body)))
	sum := SummaryFrom(ctx)
	sum.Status, sum.ResponseSize = resp.Status, int64(len(resp.Body))
	w.WriteHeader(resp.Status)
	_, err := w.Write(resp.Body)
	return err
}

// errorBody is the JSON (or XML) body of an error answer.
type errorBody struct {
	XMLName xml.Name `json:"-" xml:"error"`
	Type    string   `json:"type" xml:"type"`
	Message string   `json:"message" xml:"message"`
	Detail  string   `json:"detail" xml:"detail"`
}

// encodeError writes an error raised by govbus itself.
func (h *Handler) encodeError(ctx context.Context, err error, w http.ResponseWriter) {
	e := AsError(err)
	if errors.Is(err, context.Canceled) {
		e = Wrap(CodeInternalError, err, "the consumer went away")
	}
	status := StatusOf(e.Code)
	detail := h.opts.NewID()
	s := SummaryFrom(ctx)
	s.Code, s.Status, s.ErrorID, s.Cause, s.Message = e.Code, status, detail, e, e.Message
	wh := w.Header()
	wh.Set(HeaderError, string(e.Code))
	if e.RetryAfter > 0 {
		secs := int((e.RetryAfter + time.Second - 1) / time.Second)
		wh.Set("Retry-After", strconv.Itoa(max(secs, 1)))
	}
	if len(e.Allow) > 0 {
		wh.Set("Allow", strings.Join(e.Allow, ", "))
	}
	if in, ok := ctx.Value(inboundKey{}).(*inbound); ok && in.isSOAP {
		// SOAP 1.1 sends every fault with status 500; X-Road-Error still
		// names the type.
		code := e.FaultCode
		if code == "" {
			code = string(e.Code)
		}
		b := soap.Fault(code, e.Message, string(e.Code), detail)
		wh.Set("Content-Type", "text/xml; charset=utf-8")
		wh.Set("Content-Length", strconv.Itoa(len(b)))
		s.Status = http.StatusInternalServerError
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write(b)
		return
	}
	body := errorBody{Type: string(e.Code), Message: e.Message, Detail: detail}
	var b []byte
	if wantsXML(ctx) {
		wh.Set("Content-Type", "application/xml; charset=utf-8")
		b, _ = xml.Marshal(body)
	} else {
		wh.Set("Content-Type", "application/json; charset=utf-8")
		b, _ = json.Marshal(body)
	}
	wh.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
