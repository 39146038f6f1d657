package bench

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
)

// IDPlaceholder is the mark in a URL template that each request replaces
// with an id drawn from the run's IDRange.
const IDPlaceholder = "{id}"

// IDRange is an inclusive range of numeric ids, e.g. the civil registry's
// persons 1000000001-1000010000.
type IDRange struct {
	Lo, Hi uint64
}

// ParseIDRange parses "LO-HI" (inclusive, LO ≤ HI) or a single id "N".
func ParseIDRange(s string) (IDRange, error) {
	lo, hi, found := strings.Cut(strings.TrimSpace(s), "-")
	if !found {
		hi = lo
	}
	l, err1 := strconv.ParseUint(strings.TrimSpace(lo), 10, 64)
	h, err2 := strconv.ParseUint(strings.TrimSpace(hi), 10, 64)
	if err1 != nil || err2 != nil {
		return IDRange{}, fmt.Errorf("id range %q: want LO-HI with decimal ids, e.g. 1000000001-1000010000", s)
	}
	if l > h {
		return IDRange{}, fmt.Errorf("id range %q: LO is greater than HI", s)
	}
	return IDRange{Lo: l, Hi: h}, nil
}

// String formats r as ParseIDRange reads it.
func (r IDRange) String() string {
	return strconv.FormatUint(r.Lo, 10) + "-" + strconv.FormatUint(r.Hi, 10)
}

// Size is the number of ids in r.
func (r IDRange) Size() uint64 { return r.Hi - r.Lo + 1 }

// Pick returns an id of r chosen uniformly by rng.
func (r IDRange) Pick(rng *rand.Rand) uint64 {
	n := r.Size()
	if n == 0 { // the whole uint64 space
		return rng.Uint64()
	}
	return r.Lo + rng.Uint64N(n)
}

// Template is a URL whose path may hold IDPlaceholder once.
type Template struct {
	prefix, suffix string // around the placeholder; prefix alone when none
	varies         bool
}

// ParseTemplate checks that raw is an absolute http URL, with at most one
// IDPlaceholder, in its path.
func ParseTemplate(raw string) (Template, error) {
	probe := strings.Replace(raw, IDPlaceholder, "1", 1)
	if strings.Contains(probe, IDPlaceholder) {
		return Template{}, fmt.Errorf("URL %q: %s may appear only once", raw, IDPlaceholder)
	}
	u, err := url.Parse(probe)
	if err != nil {
		return Template{}, fmt.Errorf("URL %q: %v", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return Template{}, fmt.Errorf("URL %q: want an absolute http:// or https:// URL", raw)
	}
	prefix, suffix, varies := strings.Cut(raw, IDPlaceholder)
	if varies && (strings.ContainsAny(prefix[len(u.Scheme)+3:], "?#") || !strings.Contains(prefix[len(u.Scheme)+3:], "/")) {
		return Template{}, fmt.Errorf("URL %q: %s must be in the path", raw, IDPlaceholder)
	}
	return Template{prefix: prefix, suffix: suffix, varies: varies}, nil
}

// Varies reports whether the template holds IDPlaceholder.
func (t Template) Varies() bool { return t.varies }

// Expand returns the URL for id.
func (t Template) Expand(id uint64) string {
	if !t.varies {
		return t.prefix
	}
	return t.prefix + strconv.FormatUint(id, 10) + t.suffix
}

// Split returns the origin ("http://host:port") and the path and query
// before and after the placeholder, as wrk's script needs them.
func (t Template) Split() (origin, pathPrefix, pathSuffix string) {
	rest := t.prefix
	scheme, after, _ := strings.Cut(rest, "://")
	host, path, found := strings.Cut(after, "/")
	origin = scheme + "://" + host
	if found {
		pathPrefix = "/" + path
	} else {
		pathPrefix = "/"
	}
	return origin, pathPrefix, t.suffix
}

// ParseHeader parses "Name: value" as curl's and wrk's -H take it.
func ParseHeader(s string) (name, value string, err error) {
	name, value, found := strings.Cut(s, ":")
	name = strings.TrimSpace(name)
	if !found || name == "" || strings.ContainsAny(name, " \t\r\n") || strings.ContainsAny(value, "\r\n") {
		return "", "", fmt.Errorf("header %q: want \"Name: value\"", s)
	}
	return textproto.CanonicalMIMEHeaderKey(name), strings.TrimSpace(value), nil
}

// HeaderFlag collects repeated -H flags; it implements flag.Value.
type HeaderFlag struct {
	Header http.Header
	Raw    []string // as given, for wrk
}

// String implements flag.Value.
func (h *HeaderFlag) String() string {
	if h == nil {
		return ""
	}
	return strings.Join(h.Raw, ", ")
}

// Set implements flag.Value.
func (h *HeaderFlag) Set(s string) error {
	name, value, err := ParseHeader(s)
	if err != nil {
		return err
	}
	if h.Header == nil {
		h.Header = http.Header{}
	}
	h.Header.Add(name, value)
	h.Raw = append(h.Raw, name+": "+value)
	return nil
}

// BodyTemplate is a request body in which every IDPlaceholder is replaced
// by the request's id (the same id as in the URL). The zero BodyTemplate
// is no body at all.
type BodyTemplate struct {
	parts [][]byte // the text around the placeholders; nil: no body
	fixed int      // the bytes of parts added up
}

// NewBodyTemplate returns the template of b, which may hold IDPlaceholder
// any number of times. It keeps no reference to b.
func NewBodyTemplate(b []byte) BodyTemplate {
	b = bytes.Clone(b)
	if b == nil {
		b = []byte{}
	}
	parts := bytes.Split(b, []byte(IDPlaceholder))
	return BodyTemplate{parts: parts, fixed: len(b) - (len(parts)-1)*len(IDPlaceholder)}
}

// Present reports whether there is a body to send.
func (t BodyTemplate) Present() bool { return t.parts != nil }

// Varies reports whether the body holds IDPlaceholder.
func (t BodyTemplate) Varies() bool { return len(t.parts) > 1 }

// Expand returns the body for id. A body without placeholder is returned
// as is, shared between calls: callers must not modify it.
func (t BodyTemplate) Expand(id uint64) []byte {
	switch len(t.parts) {
	case 0:
		return nil
	case 1:
		return t.parts[0]
	}
	var num [20]byte
	n := strconv.AppendUint(num[:0], id, 10)
	out := make([]byte, 0, t.fixed+(len(t.parts)-1)*len(n))
	for i, p := range t.parts {
		if i > 0 {
			out = append(out, n...)
		}
		out = append(out, p...)
	}
	return out
}

// ParseMethod checks an HTTP method for a run: one upper-case token,
// GET when empty and there is no body, POST when empty and there is one.
// A body with GET or HEAD is refused.
func ParseMethod(m string, body bool) (string, error) {
	if m == "" {
		if body {
			return http.MethodPost, nil
		}
		return http.MethodGet, nil
	}
	for i := 0; i < len(m); i++ {
		if m[i] < 'A' || m[i] > 'Z' {
			return "", fmt.Errorf("method %q: want an upper-case HTTP method such as GET or POST", m)
		}
	}
	if body && (m == http.MethodGet || m == http.MethodHead) {
		return "", fmt.Errorf("method %s with a body: use POST (or PUT, PATCH...) with -body-file", m)
	}
	return m, nil
}
