package gateway

import (
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
// never passes on as received (so a registry, and a policy condition, never
// sees it as the consumer sent it): hop-by-hop headers, credentials, trace
// context, the client header's aliases, X-Road-* and X-Forwarded-*.
func IsReservedHeader(name string) bool {
	return hopByHop[name] ||
		strings.HasPrefix(name, "X-Road-") ||
		strings.HasPrefix(name, "X-Forwarded-")
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

// endToEnd copies the headers that may travel on: everything but the
// hop-by-hop ones, those named in Connection, and the reserved ones.
func endToEnd(h http.Header, extra int) http.Header {
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

// responseHeader filters a registry's answer headers into w's headers.
func responseHeader(dst, src http.Header) {
	conn := connectionTokens(src)
	for name, v := range src {
		if IsReservedHeader(name) || conn[name] {
			continue
		}
		dst[name] = v
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
