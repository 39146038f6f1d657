package gateway

import (
	"context"
	"crypto/x509"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/govbus/govbus/policies"
	"github.com/govbus/govbus/soap"
)

// Request is one consumer request, as decoded by the transport and then
// completed by the steps of the chain.
type Request struct {
	// Received is when govbus read the request head.
	Received time.Time
	// RequestID is govbus's own id of this exchange (X-Road-Request-Id).
	RequestID string
	// MessageID is the consumer's X-Road-Id, or a generated UUID.
	MessageID string
	// Client is the claimed client, proven by Credential.
	Client ClientID
	// ClientKey is Client in canonical string form.
	ClientKey string
	Target    Target
	// ServiceKey is Target.Service in canonical string form.
	ServiceKey string
	Method     string
	// Header holds the end-to-end headers to forward, already filtered.
	Header http.Header
	// Body is the request body as received; BodyBytes is set once it has
	// been read (within the service's limit) by the chain.
	Body          io.Reader
	ContentLength int64
	BodyBytes     []byte
	// SOAP is the X-Road SOAP envelope that BodyBytes carries, parsed by
	// the hardened parser and checked against this exchange (soapbody.go);
	// nil when the body is not one.
	SOAP   *soap.Request
	UserID string
	Issue  string
	// RepresentedParty and RepresentedPartyClass name the party the client
	// acts for (X-Road-Represented-Party: CLASS/CODE, or SOAP's
	// repr:representedParty); "" when none.
	RepresentedParty, RepresentedPartyClass string
	Purpose                                 string
	Credential                              Credential
	// Host is the Host the consumer addressed (metaservices use it to point
	// descriptions at govbus).
	Host string
	// RemoteIP is the consumer's address, sent on as X-Forwarded-For.
	RemoteIP string
	// Subject is the call's data subject as the registry will read it
	// (Route.SubjectOf), set before the request record is written; it is
	// never logged, traced or counted in clear. SubjectHash is its keyed
	// hash, set by the message log.
	Subject     string
	SubjectHash string
	// SOAPSubject is the data subject read from a SOAP body by the
	// hardened parser, for services whose subject is "in: soap".
	SOAPSubject string
	// Route and Decision are set by the route and policy steps.
	Route    *Route
	Decision policies.Decision
	// Snapshot is the configuration this exchange runs under from start to
	// end, even when a reload swaps it meanwhile.
	Snapshot *Snapshot
}

// Credential is what the consumer presented to prove its identity.
type Credential struct {
	// APIKey is the bearer key from Authorization, if any.
	APIKey string
	// Certificate is the verified TLS client certificate, if any.
	Certificate *x509.Certificate
	// RemoteAddr is the TCP peer's address (never a header's claim): what
	// auth none's networks and the throttle of failed authentications
	// judge. Unset when unknown.
	RemoteAddr netip.Addr
}

// Outbound is what an adapter sends to a registry.
type Outbound struct {
	Method string
	// Path is the path after the service code, still percent-encoded.
	Path     string
	RawQuery string
	// Header holds end-to-end headers plus govbus's own X-Road-* headers.
	Header http.Header
	Body   []byte
	// SOAP is Body's checked X-Road SOAP envelope (Request.SOAP); nil when
	// Body is not one. An adapter passes a body on as SOAP only when it
	// has one.
	SOAP *soap.Request
	// Service is the route of the called service.
	Route *Route
}

// Response is a registry's answer.
type Response struct {
	Status int
	// Header holds the registry's end-to-end headers (filtered by the
	// transport before they reach the consumer).
	Header http.Header
	Body   []byte
	// Forwarded is the path-and-query as sent to the registry, the input of
	// X-Road-Request-Hash together with the method and body.
	Forwarded string
	// RequestHash is the X-Road-Request-Hash of the forwarded request.
	RequestHash string
	// OriginalSHA256 is the hex digest of the registry's answer before data
	// minimisation ("" when nothing was removed).
	OriginalSHA256 string
	// Request is the exchange this answers; nil for metaservices.
	Request *Request
	// SentAt is when the first attempt was sent to the registry, and
	// ReceivedAt when the answer arrived; Attempts counts the attempts.
	SentAt, ReceivedAt time.Time
	Attempts           int
	// Release, when set, returns Body's buffer to its pool once the answer
	// has been written.
	Release func()
}

// Adapter carries an exchange to one registry. Implementations return a
// *Response for every answer the registry gave (any status) and an *Error
// with CodeRegistryUnavailable, CodeRegistryTimeout, CodeRegistryBusy,
// CodeCircuitOpen or CodeInternalError when there was none.
type Adapter interface {
	Exchange(ctx context.Context, out *Outbound) (*Response, error)
}

// Route is a service as govbus knows it: where it lives and its limits.
type Route struct {
	Service    ServiceID
	ServiceKey string
	// Registry is the providing subsystem's id in canonical form.
	Registry string
	// Methods are the HTTP methods the service declares.
	Methods []string
	// Paths are the path templates the service declares (for listMethods).
	Paths []string
	// Timeout covers the whole call to the registry, every attempt
	// included; the adapter's outbound stack enforces it.
	Timeout time.Duration
	// Idempotent marks a service whose calls may be re-sent whatever
	// their method.
	Idempotent bool
	// MaxRequestBytes limits the request body.
	MaxRequestBytes int64
	// OpenAPI is the service description served by getOpenAPI, if any.
	OpenAPI []byte
	// Subject locates the call's data subject; nil: none.
	Subject *SubjectSpec
	// KeepBodies keeps the bodies in the message log.
	KeepBodies bool
	// PassHeaders are consumer headers forwarded to the registry besides
	// the default end-to-end set (headers.go); nil: the default set only.
	PassHeaders []string
	// PassResponseHeaders are registry answer headers passed to the
	// consumer besides the default set; nil: the default set only.
	PassResponseHeaders []string
	// headers holds the allowlists built from the two lists above at first
	// use (routes are immutable once in a Snapshot).
	headers atomic.Pointer[headerRules]
	// RegistryFingerprint identifies the registry's configuration; a
	// reload keeps the adapter of a registry whose fingerprint is unchanged.
	RegistryFingerprint string
	// ServiceType is "REST" or, for services of SOAP registries, "WSDL"
	// (as listMethods shows it). Default "REST".
	ServiceType string
	Adapter     Adapter
}

// PathTemplate returns path with its ids replaced by the first of the
// service's path templates that matches it segment by segment ("{name}"
// matches any one segment), or "/{path}" when none does; it never returns
// a raw id. It does not allocate.
func (r *Route) PathTemplate(path string) string {
	for _, t := range r.Paths {
		if templateMatches(t, path) {
			return t
		}
	}
	if path == "" || path == "/" {
		return "/"
	}
	return "/{path}"
}

// templateMatches reports whether path fits template t.
func templateMatches(t, path string) bool {
	_, ok := matchTemplate(t, path, "")
	return ok
}

// matchTemplate reports whether path fits template t segment by segment
// ("{name}" matches any one non-empty segment) and returns the raw segment
// that {name} matched ("" when name is "" or t has no such parameter). It
// does not allocate.
func matchTemplate(t, path, name string) (value string, ok bool) {
	for {
		if t == "" || path == "" {
			return value, t == path
		}
		if t[0] != '/' || path[0] != '/' {
			return "", false
		}
		var ts, ps string
		ts, t = cutSegment(t[1:])
		ps, path = cutSegment(path[1:])
		isVar := len(ts) > 1 && ts[0] == '{' && ts[len(ts)-1] == '}'
		if isVar && ps == "" || !isVar && ts != ps {
			return "", false
		}
		if isVar && name != "" && ts[1:len(ts)-1] == name {
			value = ps
		}
	}
}

// cutSegment splits s, a path after a '/', into its first segment and the
// rest ("" or starting with '/').
func cutSegment(s string) (seg, rest string) {
	if i := strings.IndexByte(s, '/'); i >= 0 {
		return s[:i], s[i:]
	}
	return s, ""
}

// AllowsMethod reports whether the service declares method.
func (r *Route) AllowsMethod(method string) bool {
	for _, m := range r.Methods {
		if m == method {
			return true
		}
	}
	return false
}
