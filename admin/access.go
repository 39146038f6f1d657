package admin

import (
	"crypto/x509"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/govbus/govbus/authn"
	"github.com/govbus/govbus/config"
	"github.com/govbus/govbus/gateway"
)

// guard stands before every admin path. In this order it refuses a
// request whose Host is not the listener's (DNS rebinding), one a browser
// sends from another site (a cross-site form or fetch), one without a
// known admin credential (all but GET /admin/status need one) and one whose
// admin's role is below what it asks; then it serves it. Each request
// leaves one log line.
type guard struct {
	hosts    hostCheck
	keyring  func() *Keyring
	throttle *authn.Throttle
	limits   authn.ThrottleLimits
	logger   *slog.Logger
	newID    func() string
	next     http.Handler
}

func newGuard(opts Options, next http.Handler) *guard {
	g := &guard{hosts: newHostCheck(opts.Listener), keyring: opts.Keyring, throttle: opts.Throttle, limits: opts.ThrottleLimits,
		logger: opts.Logger, newID: opts.NewID, next: next}
	if g.throttle == nil {
		g.throttle = authn.NewThrottle(opts.Now)
	}
	if g.keyring == nil {
		g.keyring = func() *Keyring { return nil }
	}
	if g.logger == nil {
		g.logger = slog.New(slog.DiscardHandler)
	}
	if g.newID == nil {
		g.newID = uuid.NewString
	}
	return g
}

// needs is the least role a request needs; 0 for none.
func needs(r *http.Request) Role {
	get := r.Method == http.MethodGet || r.Method == http.MethodHead
	switch {
	case get && r.URL.Path == "/admin/status":
		return 0
	case get:
		return RoleViewer
	case r.Method == http.MethodPost && r.URL.Path == "/admin/reload":
		return RoleOperator
	default:
		return RoleAdmin
	}
}

func (g *guard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !g.hosts.allows(r.Host) {
		g.refuse(w, r, identity{}, gateway.Errorf(gateway.CodeAccessDenied, "Host %q is not this admin listener's", r.Host),
			slog.String("host", r.Host))
		return
	}
	if why := crossSite(r); why != "" {
		g.refuse(w, r, identity{}, gateway.Errorf(gateway.CodeAccessDenied, "%s", why))
		return
	}
	var who identity
	if need := needs(r); need > 0 {
		peer := peerAddr(r)
		if wait := g.throttle.Wait(peer, g.limits); wait > 0 {
			g.refuse(w, r, identity{}, &gateway.Error{Code: gateway.CodeRateLimited,
				Message: "too many failed admin credentials from this address", RetryAfter: wait})
			return
		}
		var err *gateway.Error
		if who, err = g.authenticate(r); err != nil {
			if err.Code == gateway.CodeUnauthenticated && presented(r) {
				g.throttle.Fail(peer, g.limits)
			}
			g.refuse(w, r, identity{}, err)
			return
		}
		if who.role < need {
			g.refuse(w, r, who, gateway.Errorf(gateway.CodeAccessDenied, "role %s may not %s %s: it needs %s", who.role, r.Method, r.URL.Path, need))
			return
		}
	}
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	g.next.ServeHTTP(rec, r)
	attrs := append(who.attrs(), logged(r)...)
	g.logger.Info("admin request", append(attrs, slog.Int("status", rec.status))...)
}

// authenticate finds the admin of the request's credentials: a bearer
// token, a client certificate verified by the listener's TLS (see
// ServerTLS), or both, which must then be the same admin's.
func (g *guard) authenticate(r *http.Request) (identity, *gateway.Error) {
	var cert *x509.Certificate
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 && len(r.TLS.VerifiedChains[0]) > 0 {
		cert = r.TLS.VerifiedChains[0][0]
	}
	values := r.Header.Values("Authorization")
	switch {
	case len(values) > 1:
		return identity{}, gateway.Errorf(gateway.CodeBadRequest, "more than one Authorization header")
	case len(values) == 0 && cert == nil:
		return identity{}, gateway.Errorf(gateway.CodeUnauthenticated, "an admin credential is required: Authorization: Bearer <token>")
	}
	keyring := g.keyring()
	var who identity
	if len(values) == 1 {
		scheme, token, ok := strings.Cut(values[0], " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return identity{}, gateway.Errorf(gateway.CodeUnauthenticated, "the admin credential is not a bearer token")
		}
		if who, ok = keyring.lookup(token); !ok {
			return identity{}, gateway.Errorf(gateway.CodeUnauthenticated, "unknown admin token")
		}
	}
	if cert != nil {
		owner, ok := keyring.lookupCert(cert)
		switch {
		case !ok:
			return identity{}, gateway.Errorf(gateway.CodeUnauthenticated, "unknown admin certificate")
		case who.id != "" && owner.id != who.id:
			return identity{}, gateway.Errorf(gateway.CodeUnauthenticated, "the token and the certificate are different admins'")
		}
		who = owner
	}
	return who, nil
}

// presented reports whether r carries an admin credential: an
// Authorization header or a verified client certificate.
func presented(r *http.Request) bool {
	return len(r.Header.Values("Authorization")) > 0 || r.TLS != nil && len(r.TLS.VerifiedChains) > 0
}

// peerAddr is r's TCP peer address (IPv4-mapped IPv6 unmapped); unset when
// RemoteAddr does not parse.
func peerAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// crossSite says why a request comes from a page of another site, or "".
// Browsers name the site in Sec-Fetch-Site and the origin in Origin;
// other clients send neither.
func crossSite(r *http.Request) string {
	for _, s := range r.Header.Values("Sec-Fetch-Site") {
		if s != "same-origin" && s != "none" {
			return "a browser request from another site (Sec-Fetch-Site: " + s + ")"
		}
	}
	origins := r.Header.Values("Origin")
	if len(origins) > 1 {
		return "more than one Origin header"
	}
	if len(origins) == 1 {
		o := strings.ToLower(origins[0])
		host := strings.ToLower(r.Host)
		if o != "http://"+host && o != "https://"+host {
			return "a browser request from another origin (" + origins[0] + ")"
		}
	}
	return ""
}

// refuse answers e in DESIGN.md §3's shape and logs it with its detail id.
func (g *guard) refuse(w http.ResponseWriter, r *http.Request, who identity, e *gateway.Error, attrs ...any) {
	detail := g.newID()
	status := gateway.StatusOf(e.Code)
	h := w.Header()
	h.Set(gateway.HeaderError, string(e.Code))
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	if e.Code == gateway.CodeUnauthenticated {
		h.Set("WWW-Authenticate", `Bearer realm="govbus admin"`)
	}
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(max(int((e.RetryAfter+time.Second-1)/time.Second), 1)))
	}
	b, _ := json.Marshal(map[string]string{"type": string(e.Code), "message": e.Message, "detail": detail})
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
	all := append(who.attrs(), logged(r)...)
	all = append(all, slog.Int("status", status), slog.String("code", string(e.Code)), slog.String("detail", detail),
		slog.String("reason", e.Message))
	g.logger.Warn("admin request refused", append(all, attrs...)...)
}

// attrs names the admin in a log line, when known.
func (who identity) attrs() []any {
	if who.id == "" {
		return nil
	}
	return []any{slog.String("admin", who.id), slog.String("role", who.role.String())}
}

// maxLoggedPath bounds the path a log line repeats.
const maxLoggedPath = 256

// logged describes r in a log line: its method and path, never its
// headers (they hold the token) nor its query.
func logged(r *http.Request) []any {
	path := r.URL.Path
	if len(path) > maxLoggedPath {
		path = path[:maxLoggedPath] + "..."
	}
	return []any{slog.String("method", r.Method), slog.String("path", path), slog.String("remote", r.RemoteAddr)}
}

// statusRecorder keeps the status an answer was sent with.
type statusRecorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wroteHeader {
		s.status, s.wroteHeader = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// hostCheck decides which Host values name the admin listener.
type hostCheck struct {
	port string
	// names are the accepted hosts, canonical (see canonicalHost).
	names map[string]bool
	// loopback: the listener is on loopback, so 127.0.0.1, localhost and
	// [::1] with its port name it.
	loopback bool
	// anyIP: the listener is on every address (0.0.0.0, [::]), so any IP
	// address with its port names it; an IP cannot be rebound.
	anyIP bool
}

func newHostCheck(l config.AdminListener) hostCheck {
	c := hostCheck{names: map[string]bool{}}
	host, port, err := net.SplitHostPort(l.Address)
	if err != nil || port == "" {
		return c // refuses every Host
	}
	c.port = port
	ip, err := netip.ParseAddr(host)
	isIP := err == nil
	switch {
	case host == "" || isIP && ip.IsUnspecified():
		c.anyIP = true
	case strings.EqualFold(host, "localhost") || isIP && ip.IsLoopback():
		c.loopback = true
		fallthrough
	default:
		if name, p, ok := canonicalHost(l.Address); ok {
			c.names[joinHost(name, p)] = true
		}
	}
	for _, h := range l.Hosts {
		name, p, ok := canonicalHost(h)
		if !ok {
			continue
		}
		c.names[joinHost(name, p)] = true
		if p == "" {
			c.names[joinHost(name, port)] = true
		}
	}
	return c
}

// allows reports whether host (a request's Host) names the listener.
func (c hostCheck) allows(host string) bool {
	name, port, ok := canonicalHost(host)
	if !ok || c.port == "" {
		return false
	}
	if c.names[joinHost(name, port)] {
		return true
	}
	if port != c.port {
		return false
	}
	ip, err := netip.ParseAddr(name)
	switch {
	case c.anyIP && err == nil:
		return true
	case c.loopback || c.anyIP:
		return name == "localhost" || err == nil && (ip == netip.MustParseAddr("127.0.0.1") || ip == netip.IPv6Loopback())
	}
	return false
}

// canonicalHost splits a Host value into a lower-case name (an IP address
// in its canonical form) and its port ("" when absent). It refuses what is
// no Host: empty, an unbracketed IPv6 address, a zone, a bad port.
func canonicalHost(h string) (name, port string, ok bool) {
	h = strings.ToLower(h)
	rest := h
	if strings.HasPrefix(h, "[") {
		end := strings.Index(h, "]")
		if end < 0 {
			return "", "", false
		}
		ip, err := netip.ParseAddr(h[1:end])
		if err != nil || ip.Zone() != "" || !ip.Is6() {
			return "", "", false
		}
		name, rest = ip.String(), h[end+1:]
		if rest != "" && rest[0] != ':' {
			return "", "", false
		}
	} else {
		name, rest, _ = strings.Cut(h, ":")
		rest = h[len(name):]
		if ip, err := netip.ParseAddr(name); err == nil {
			name = ip.String()
		}
	}
	if rest != "" {
		port = rest[1:]
		if port == "" || strings.Trim(port, "0123456789") != "" {
			return "", "", false
		}
	}
	if name == "" {
		return "", "", false
	}
	return name, port, true
}

// joinHost is name with port, bracketing an IPv6 address.
func joinHost(name, port string) string {
	if port == "" {
		if strings.Contains(name, ":") {
			return "[" + name + "]"
		}
		return name
	}
	return net.JoinHostPort(name, port)
}
