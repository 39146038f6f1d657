package gateway

import (
	"fmt"
	"net/http"
	"net/textproto"
	"strings"
)

// Header names govbus reads and sets.
const (
	HeaderClient      = "X-Road-Client"
	HeaderService     = "X-Road-Service"
	HeaderID          = "X-Road-Id"
	HeaderRequestID   = "X-Road-Request-Id"
	HeaderUserID      = "X-Road-Userid"
	HeaderIssue       = "X-Road-Issue"
	HeaderPurpose     = "X-Road-Purpose"
	HeaderRequestHash = "X-Road-Request-Hash"
	HeaderError       = "X-Road-Error"
	HeaderRepresented = "X-Road-Represented-Party"
)

// clientHeaders are the header names that may carry the client id.
var clientHeaders = [...]string{
	HeaderClient,
	textproto.CanonicalMIMEHeaderKey("Information-Mediator-Client"),
	textproto.CanonicalMIMEHeaderKey("X-GovStack-Client"),
}

// hopByHop are the hop-by-hop headers of RFC 9110 §7.6.1 plus the ones
// X-Road never passes on as received.
var hopByHop = map[string]bool{
	"Connection": true, "Proxy-Connection": true, "Keep-Alive": true,
	"Proxy-Authenticate": true, "Proxy-Authorization": true, "Te": true,
	"Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
	"Host": true, "User-Agent": true, "Server": true, "Content-Length": true,
	"Authorization": true, "Forwarded": true, "Traceparent": true, "Tracestate": true,
	"Information-Mediator-Client": true, "X-Govstack-Client": true,
}

// IsReservedHeader reports whether a canonical header name is one govbus
// never passes on as received, whatever a service's pass_headers say:
// hop-by-hop headers, credentials, trace context, the client header's
// aliases, X-Road-* and X-Forwarded-*. Which of the other headers reach a
// registry (and a rule condition) is the service's allowlist
// (Route.ForwardsHeader).
func IsReservedHeader(name string) bool {
	return hopByHop[name] ||
		strings.HasPrefix(name, "X-Road-") ||
		strings.HasPrefix(name, "X-Forwarded-")
}

// DefaultRequestHeaders are the consumer headers every service forwards
// (besides its pass_headers): content negotiation, the body's type and
// language, and conditional requests.
var DefaultRequestHeaders = []string{
	"Accept", "Accept-Charset", "Accept-Language",
	"Content-Type", "Content-Language",
	"If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since",
}

// DefaultResponseHeaders are the registry answer headers every service
// passes to the consumer (besides its pass_response_headers). Under a rule
// that lists fields only ContentHeaders pass.
var DefaultResponseHeaders = []string{
	"Content-Type", "Content-Language", "Content-Encoding", "Content-Disposition",
	"Cache-Control", "Expires", "Last-Modified", "Etag", "Vary", "Retry-After",
}

// ContentHeaders are the answer headers that pass under a rule listing
// fields: they describe the filtered body as well as the whole one.
var ContentHeaders = []string{"Content-Type", "Content-Language"}

// soapAction is forwarded to SOAP registries, which dispatch on it.
const soapAction = "Soapaction"

// conditionalHeaders are dropped from a call under a rule listing fields:
// compared with the whole answer's validators they would tell the client
// whether the fields it may not see hold a guessed value.
var conditionalHeaders = [...]string{"If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since", "If-Range", "Range"}

// neverRequest are consumer headers no service may pass on: each one makes
// some registry stack rewrite the method, the path or the caller's address
// or session, or changes the body govbus reads.
var neverRequest = map[string]bool{
	"Cookie": true, "X-Http-Method-Override": true, "X-Http-Method": true, "X-Method-Override": true,
	"X-Original-Url": true, "X-Rewrite-Url": true, "X-Original-Host": true, "X-Host": true,
	"X-Real-Ip": true, "True-Client-Ip": true, "X-Client-Ip": true, "X-Cluster-Client-Ip": true,
	"Accept-Encoding": true, "Content-Encoding": true, "Expect": true,
}

// neverResponse are registry answer headers no service may pass on.
var neverResponse = map[string]bool{"Set-Cookie": true, "Set-Cookie2": true, "Www-Authenticate": true}

// CheckPassHeader returns an error saying why a service may not list name
// (any case) in pass_headers, or nil when it may.
func CheckPassHeader(name string) error {
	return checkPass(name, neverRequest)
}

// CheckPassResponseHeader returns an error saying why a service may not list
// name (any case) in pass_response_headers, or nil when it may.
func CheckPassResponseHeader(name string) error {
	return checkPass(name, neverResponse)
}

func checkPass(name string, never map[string]bool) error {
	if name == "" || !validHeaderName(name) {
		return fmt.Errorf("%q is not a header name", name)
	}
	if strings.IndexByte(name, '_') >= 0 {
		return fmt.Errorf("%q: header names with '_' are refused (some stacks read them as the '-' form)", name)
	}
	c := textproto.CanonicalMIMEHeaderKey(name)
	if IsReservedHeader(c) || never[c] {
		return fmt.Errorf("%s is never passed on", c)
	}
	return nil
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// headerRules are a route's allowlists, by canonical name.
type headerRules struct {
	request, response map[string]bool
}

func nameSet(names ...[]string) map[string]bool {
	m := map[string]bool{}
	for _, list := range names {
		for _, n := range list {
			m[textproto.CanonicalMIMEHeaderKey(n)] = true
		}
	}
	return m
}

var (
	defaultRules = headerRules{request: nameSet(DefaultRequestHeaders), response: nameSet(DefaultResponseHeaders)}
	// soapRules are the rules of a SOAP request (POST /) before routing.
	soapRules    = headerRules{request: nameSet(DefaultRequestHeaders, []string{soapAction}), response: defaultRules.response}
	contentRules = nameSet(ContentHeaders)
)

// rules returns r's allowlists, built at first use; a nil route has the
// defaults.
func (r *Route) rules() *headerRules {
	if r == nil {
		return &defaultRules
	}
	if h := r.headers.Load(); h != nil {
		return h
	}
	h := &headerRules{request: defaultRules.request, response: defaultRules.response}
	var extra []string
	if r.ServiceType == "WSDL" {
		extra = append(extra, soapAction)
	}
	if s := r.Subject; s != nil && s.In == "header" && s.Name != "" {
		extra = append(extra, s.Name) // the registry reads the subject where govbus did
	}
	if len(r.PassHeaders) > 0 || len(extra) > 0 {
		h.request = nameSet(DefaultRequestHeaders, r.PassHeaders, extra)
	}
	if len(r.PassResponseHeaders) > 0 {
		h.response = nameSet(DefaultResponseHeaders, r.PassResponseHeaders)
	}
	// Never what no list may name, even when a Route was built by hand.
	for name := range h.request {
		if IsReservedHeader(name) || neverRequest[name] {
			delete(h.request, name)
		}
	}
	for name := range h.response {
		if IsReservedHeader(name) || neverResponse[name] {
			delete(h.response, name)
		}
	}
	if !r.headers.CompareAndSwap(nil, h) {
		h = r.headers.Load()
	}
	return h
}

// ForwardsHeader reports whether a consumer header of this canonical name
// reaches the service's registry, which is also what the service's rule
// conditions see as headers.
func (r *Route) ForwardsHeader(name string) bool { return r.rules().request[name] }

// checkHead refuses a request head that different stacks would read
// differently: a header name with '_' (CGI-style stacks read X_Road_Client
// as X-Road-Client), more than one credential, or a credential that is not
// a bearer key; more than one Content-Type; and a compressed body, which
// govbus would pass on without having read what the registry will read.
// Errors are CodeBadRequest, or CodeUnauthenticated for an Authorization
// scheme other than Bearer.
func checkHead(h http.Header) error {
	for name := range h {
		if strings.IndexByte(name, '_') >= 0 {
			return Errorf(CodeBadRequest, "header names with '_' are refused")
		}
	}
	if err := checkAuthorization(h["Authorization"]); err != nil {
		return err
	}
	// Go's readers take the first Content-Type, others the last, or the
	// values joined with ", ", which is no media type at all.
	if ct := h["Content-Type"]; len(ct) > 1 || len(ct) == 1 && hasListComma(ct[0]) {
		return Errorf(CodeBadRequest, "more than one Content-Type")
	}
	for _, v := range h["Content-Encoding"] {
		if !strings.EqualFold(strings.TrimSpace(v), "identity") {
			return Errorf(CodeBadRequest, "Content-Encoding is refused: send the body uncompressed")
		}
	}
	return nil
}

// hasListComma reports whether a header value holds a ',' outside a
// quoted string.
func hasListComma(v string) bool {
	quoted := false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			return true
		}
	}
	return false
}

// checkAuthorization accepts no Authorization or one "Bearer <key>", the
// key an RFC 7235 token68.
func checkAuthorization(v []string) error {
	switch len(v) {
	case 0:
		return nil
	case 1:
	default:
		return Errorf(CodeBadRequest, "more than one Authorization header")
	}
	scheme, key, _ := strings.Cut(strings.TrimSpace(v[0]), " ")
	if scheme == "" {
		return Errorf(CodeBadRequest, "empty Authorization header")
	}
	if !strings.EqualFold(scheme, "bearer") {
		return Errorf(CodeUnauthenticated, "govbus takes only Authorization: Bearer <key> (or a TLS client certificate)")
	}
	if !isToken68(strings.TrimLeft(key, " ")) {
		return Errorf(CodeBadRequest, "malformed Authorization: want one Bearer key")
	}
	return nil
}

// isToken68 reports whether s is 1*( ALPHA / DIGIT / "-" / "." / "_" /
// "~" / "+" / "/" ) *"=".
func isToken68(s string) bool {
	i := 0
	for i < len(s) && token68Char(s[i]) {
		i++
	}
	if i == 0 {
		return false
	}
	for i < len(s) && s[i] == '=' {
		i++
	}
	return i == len(s)
}

func token68Char(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~+/", c) >= 0
}

// claimedClient returns the one client id the consumer claims, from
// X-Road-Client or its aliases. It is read straight from the received
// headers, before any Connection-named header is dropped.
func claimedClient(h http.Header) (string, error) {
	var claimed string
	n := 0
	for _, name := range clientHeaders {
		for _, v := range h[name] {
			if n > 0 && v != claimed {
				return "", Errorf(CodeBadRequest, "more than one X-Road-Client")
			}
			claimed = v
			n++
		}
	}
	if n == 0 {
		return "", Errorf(CodeBadRequest, "X-Road-Client header is required")
	}
	return claimed, nil
}

// single returns the one value of a header, or an error naming it when it
// is sent more than once.
func single(h http.Header, name string) (string, error) {
	v := h[name]
	switch len(v) {
	case 0:
		return "", nil
	case 1:
		return v[0], nil
	}
	return "", Errorf(CodeBadRequest, "header %s sent more than once", name)
}

// connectionTokens returns the canonical header names listed in Connection.
func connectionTokens(h http.Header) map[string]bool {
	var m map[string]bool
	for _, v := range h["Connection"] {
		for _, tok := range strings.Split(v, ",") {
			tok = strings.TrimSpace(tok)
			if tok == "" {
				continue
			}
			if m == nil {
				m = make(map[string]bool, 2)
			}
			m[textproto.CanonicalMIMEHeaderKey(tok)] = true
		}
	}
	return m
}

// endToEnd copies the headers a SOAP request (POST /) forwards: the
// default allowlist and SOAPAction, except those named in Connection.
func endToEnd(h http.Header, extra int) http.Header {
	return filterHeader(h, soapRules.request, extra)
}

// forwardHeaders copies the headers an exchange with route r forwards (and
// its rule conditions see): r's allowlist, except those named in
// Connection. A nil route has the default allowlist.
func forwardHeaders(h http.Header, r *Route, extra int) http.Header {
	return filterHeader(h, r.rules().request, extra)
}

func filterHeader(h http.Header, allow map[string]bool, extra int) http.Header {
	conn := connectionTokens(h)
	out := make(http.Header, len(h)+extra)
	for name, v := range h {
		if !allow[name] || conn[name] {
			continue
		}
		out[name] = v
	}
	return out
}

// conditionHeaders copies the headers that the conditions of a call that
// reaches no registry (Data Tracker, metaservices) see: every one but the
// reserved ones and those named in Connection.
func conditionHeaders(h http.Header, extra int) http.Header {
	conn := connectionTokens(h)
	out := make(http.Header, len(h)+extra)
	for name, v := range h {
		if IsReservedHeader(name) || conn[name] {
			continue
		}
		out[name] = v
	}
	return out
}

// dropConditional removes the conditional request headers from h.
func dropConditional(h http.Header) {
	for _, name := range conditionalHeaders {
		delete(h, name)
	}
}

// defaultAccept is sent when the consumer names no Accept (as X-Road does).
var defaultAccept = []string{"application/json"}

// outboundHeader is the header set sent to the registry: the consumer's
// end-to-end headers plus govbus's own.
func outboundHeader(req *Request) http.Header {
	h := req.Header
	// One backing array for every value set here: one allocation, not ten.
	vals := make([]string, 0, 11)
	set := func(name, v string) {
		if v != "" {
			vals = append(vals, v)
			h[name] = vals[len(vals)-1 : len(vals) : len(vals)]
		}
	}
	set(HeaderClient, req.ClientKey)
	set(HeaderService, req.ServiceKey)
	set(HeaderID, req.MessageID)
	set(HeaderRequestID, req.RequestID)
	set(HeaderUserID, req.UserID)
	set(HeaderIssue, req.Issue)
	set(HeaderPurpose, req.Purpose)
	if req.RepresentedParty != "" {
		set(HeaderRepresented, strings.TrimPrefix(req.RepresentedPartyClass+"/"+req.RepresentedParty, "/"))
	}
	set("X-Forwarded-For", req.RemoteIP)
	if _, ok := h["Accept"]; !ok {
		h["Accept"] = defaultAccept
	}
	return h
}

// responseHeader filters a registry's answer headers into dst with the
// default allowlist.
func responseHeader(dst, src http.Header) {
	filterResponse(dst, src, defaultRules.response)
}

// routeResponseHeader filters a registry's answer headers into dst with
// route r's allowlist (the default one for a nil route).
func routeResponseHeader(dst, src http.Header, r *Route) {
	filterResponse(dst, src, r.rules().response)
}

func filterResponse(dst, src http.Header, allow map[string]bool) {
	conn := connectionTokens(src)
	for name, v := range src {
		if !allow[name] || conn[name] {
			continue
		}
		dst[name] = v
	}
}

// contentOnly keeps only the ContentHeaders of h, in place.
func contentOnly(h http.Header) {
	for name := range h {
		if !contentRules[name] {
			delete(h, name)
		}
	}
}

// RedactQuery keeps a query's parameter names and replaces every value with
// REDACTED, for spans and logs (values may be personal data).
func RedactQuery(q string) string {
	var b strings.Builder
	for i, kv := range strings.Split(q, "&") {
		if i > 0 {
			b.WriteByte('&')
		}
		k, _, _ := strings.Cut(kv, "=")
		b.WriteString(k)
		b.WriteString("=REDACTED")
	}
	return b.String()
}
