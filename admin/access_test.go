package admin

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/govbus/govbus/authn"
	"github.com/govbus/govbus/config"
	"github.com/govbus/govbus/gateway"
)

// The tokens of the admins in testAdmins.
const (
	viewerToken   = "viewer-token"
	operatorToken = "operator-token"
	adminToken    = "admin-token"
)

// testListener is the admin listener the tests' requests are addressed to.
var testListener = config.AdminListener{Address: "127.0.0.1:9465", Hosts: []string{"govbus-admin.internal"}}

func testAdmins() []config.Admin {
	return []config.Admin{
		{ID: "watcher", Role: "viewer", Auth: config.AdminAuth{APIKeys: []string{authn.HashKey(viewerToken)}}},
		{ID: "on-call", Role: "operator", Auth: config.AdminAuth{APIKeys: []string{authn.HashKey(operatorToken)}}},
		{ID: "ops-lead", Role: "admin", Auth: config.AdminAuth{APIKeys: []string{authn.HashKey(adminToken)}}},
	}
}

func testKeyring(t *testing.T) *Keyring {
	t.Helper()
	k, err := NewKeyring(testAdmins())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// request builds a request to the admin listener at testListener with
// headers "Name: value"; "Host: x" replaces the Host.
func request(method, target string, headers ...string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	r.Host = "127.0.0.1:9465"
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ": ")
		if strings.EqualFold(name, "Host") {
			r.Host = value
			continue
		}
		r.Header.Add(name, value)
	}
	return r
}

func bearer(token string) string { return "Authorization: Bearer " + token }

// guarded is an admin handler whose reload and opmon count their calls.
type guarded struct {
	handler http.Handler
	reloads atomic.Int32
	opmons  atomic.Int32
	log     *bytes.Buffer
}

func newGuarded(t *testing.T, keyring func() *Keyring) *guarded {
	t.Helper()
	g := &guarded{log: &bytes.Buffer{}}
	h := gateway.NewHolder(&gateway.Snapshot{Version: "v1"})
	g.handler = Handler(Options{
		Holder:   h,
		Listener: testListener,
		Keyring:  keyring,
		Logger:   slog.New(slog.NewJSONHandler(g.log, nil)),
		NewID:    func() string { return "detail-1" },
		// A clock that stands still: the failure throttle regains nothing.
		Now: func() time.Time { return time.Unix(1_800_000_000, 0) },
		Reload: func() error {
			g.reloads.Add(1)
			return nil
		},
		Opmon: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			g.opmons.Add(1)
			w.WriteHeader(http.StatusOK)
		}),
	})
	return g
}

// TestAccess drives every admin path with each kind of credential and
// Host: a refused request gets its coded error and never reaches reload
// or opmon (the fakes count their calls; a refused one must leave them
// at zero).
func TestAccess(t *testing.T) {
	const (
		evilHost  = "Host: evil.example:9465"
		crossSite = "Sec-Fetch-Site: cross-site"
	)
	cases := []struct {
		name    string
		method  string
		path    string
		headers []string
		status  int
		code    gateway.Code // "" for an answer that is not an error of the guard
		reload  bool         // reload called
		opmon   bool         // opmon called
	}{
		{"status needs no credential", "GET", "/admin/status", nil, 200, "", false, false},
		{"status by HEAD", "HEAD", "/admin/status", nil, 200, "", false, false},
		{"status on localhost", "GET", "/admin/status", []string{"Host: localhost:9465"}, 200, "", false, false},
		{"status on [::1]", "GET", "/admin/status", []string{"Host: [::1]:9465"}, 200, "", false, false},
		{"status, Host in other case", "GET", "/admin/status", []string{"Host: LocalHost:9465"}, 200, "", false, false},
		{"status on a configured name", "GET", "/admin/status", []string{"Host: govbus-admin.internal"}, 200, "", false, false},
		{"status on a configured name with the port", "GET", "/admin/status", []string{"Host: govbus-admin.internal:9465"}, 200, "", false, false},
		{"status, same-origin fetch", "GET", "/admin/status", []string{"Sec-Fetch-Site: same-origin", "Origin: http://127.0.0.1:9465"}, 200, "", false, false},
		{"status, typed in the address bar", "GET", "/admin/status", []string{"Sec-Fetch-Site: none"}, 200, "", false, false},
		{"status, rebound name", "GET", "/admin/status", []string{evilHost}, 403, gateway.CodeAccessDenied, false, false},
		{"status, name under a configured one", "GET", "/admin/status", []string{"Host: evil.govbus-admin.internal:9465"}, 403, gateway.CodeAccessDenied, false, false},
		{"status, other port", "GET", "/admin/status", []string{"Host: 127.0.0.1:9466"}, 403, gateway.CodeAccessDenied, false, false},
		{"status, no port", "GET", "/admin/status", []string{"Host: 127.0.0.1"}, 403, gateway.CodeAccessDenied, false, false},
		{"status, no Host", "GET", "/admin/status", []string{"Host: "}, 403, gateway.CodeAccessDenied, false, false},
		{"status, other loopback address", "GET", "/admin/status", []string{"Host: 127.0.0.2:9465"}, 403, gateway.CodeAccessDenied, false, false},
		{"status, cross-site fetch", "GET", "/admin/status", []string{crossSite}, 403, gateway.CodeAccessDenied, false, false},
		{"status, same-site fetch", "GET", "/admin/status", []string{"Sec-Fetch-Site: same-site"}, 403, gateway.CodeAccessDenied, false, false},
		{"status, foreign Origin", "GET", "/admin/status", []string{"Origin: http://evil.example"}, 403, gateway.CodeAccessDenied, false, false},
		{"status, null Origin", "GET", "/admin/status", []string{"Origin: null"}, 403, gateway.CodeAccessDenied, false, false},
		{"status by POST needs a credential", "POST", "/admin/status", nil, 401, gateway.CodeUnauthenticated, false, false},

		{"opmon without a credential", "GET", "/admin/opmon", nil, 401, gateway.CodeUnauthenticated, false, false},
		{"opmon, unknown token", "GET", "/admin/opmon", []string{bearer("guess")}, 401, gateway.CodeUnauthenticated, false, false},
		{"opmon, empty token", "GET", "/admin/opmon", []string{"Authorization: Bearer "}, 401, gateway.CodeUnauthenticated, false, false},
		{"opmon, basic credentials", "GET", "/admin/opmon", []string{"Authorization: Basic dmlld2VyLXRva2Vu"}, 401, gateway.CodeUnauthenticated, false, false},
		{"opmon, token without a scheme", "GET", "/admin/opmon", []string{"Authorization: " + viewerToken}, 401, gateway.CodeUnauthenticated, false, false},
		{"opmon, the token's hash as token", "GET", "/admin/opmon", []string{bearer(authn.HashKey(viewerToken))}, 401, gateway.CodeUnauthenticated, false, false},
		{"opmon, two credentials", "GET", "/admin/opmon", []string{bearer("guess"), bearer(viewerToken)}, 400, gateway.CodeBadRequest, false, false},
		{"opmon by a viewer", "GET", "/admin/opmon", []string{bearer(viewerToken)}, 200, "", false, true},
		{"opmon, lower-case scheme", "GET", "/admin/opmon", []string{"Authorization: bearer " + viewerToken}, 200, "", false, true},
		{"opmon by an operator", "GET", "/admin/opmon", []string{bearer(operatorToken)}, 200, "", false, true},
		{"opmon by an admin", "GET", "/admin/opmon", []string{bearer(adminToken)}, 200, "", false, true},
		{"opmon by a viewer, rebound name", "GET", "/admin/opmon", []string{bearer(viewerToken), evilHost}, 403, gateway.CodeAccessDenied, false, false},
		{"opmon by a viewer, cross-site", "GET", "/admin/opmon", []string{bearer(viewerToken), crossSite}, 403, gateway.CodeAccessDenied, false, false},

		{"reload without a credential", "POST", "/admin/reload", nil, 401, gateway.CodeUnauthenticated, false, false},
		{"reload, unknown token", "POST", "/admin/reload", []string{bearer("guess")}, 401, gateway.CodeUnauthenticated, false, false},
		{"reload by a viewer", "POST", "/admin/reload", []string{bearer(viewerToken)}, 403, gateway.CodeAccessDenied, false, false},
		{"reload by an operator", "POST", "/admin/reload", []string{bearer(operatorToken)}, 200, "", true, false},
		{"reload by an admin", "POST", "/admin/reload", []string{bearer(adminToken)}, 200, "", true, false},
		{"reload by an admin, own Origin", "POST", "/admin/reload", []string{bearer(adminToken), "Origin: http://127.0.0.1:9465"}, 200, "", true, false},
		{"reload, form post from another site", "POST", "/admin/reload", []string{"Origin: http://evil.example", crossSite, "Content-Type: application/x-www-form-urlencoded"}, 403, gateway.CodeAccessDenied, false, false},
		{"reload, form post without a credential", "POST", "/admin/reload", []string{"Content-Type: application/x-www-form-urlencoded"}, 401, gateway.CodeUnauthenticated, false, false},
		{"reload by an admin, rebound name", "POST", "/admin/reload", []string{bearer(adminToken), evilHost}, 403, gateway.CodeAccessDenied, false, false},
		{"reload by an admin, foreign Origin", "POST", "/admin/reload", []string{bearer(adminToken), "Origin: http://evil.example"}, 403, gateway.CodeAccessDenied, false, false},
		{"reload by an admin, Origin of another port", "POST", "/admin/reload", []string{bearer(adminToken), "Origin: http://127.0.0.1:8080"}, 403, gateway.CodeAccessDenied, false, false},
		{"reload by an admin, same-site", "POST", "/admin/reload", []string{bearer(adminToken), "Sec-Fetch-Site: same-site"}, 403, gateway.CodeAccessDenied, false, false},
		{"reload by GET", "GET", "/admin/reload", []string{bearer(viewerToken)}, 405, "", false, false},
		{"reload by GET without a credential", "GET", "/admin/reload", nil, 401, gateway.CodeUnauthenticated, false, false},
		{"reload through an uncleaned path by an operator", "POST", "/admin//reload", []string{bearer(operatorToken)}, 403, gateway.CodeAccessDenied, false, false},

		{"unknown path without a credential", "GET", "/admin/secret", nil, 401, gateway.CodeUnauthenticated, false, false},
		{"unknown path by a viewer", "GET", "/admin/secret", []string{bearer(viewerToken)}, 404, "", false, false},
		{"a change by an operator", "PUT", "/admin/secret", []string{bearer(operatorToken)}, 403, gateway.CodeAccessDenied, false, false},
		{"a change by an admin", "PUT", "/admin/secret", []string{bearer(adminToken)}, 404, "", false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := newGuarded(t, func() *Keyring { return testKeyring(t) })
			rec := httptest.NewRecorder()
			g.handler.ServeHTTP(rec, request(c.method, c.path, c.headers...))
			if rec.Code != c.status {
				t.Errorf("status = %d, want %d (%s)", rec.Code, c.status, rec.Body)
			}
			if got := rec.Header().Get(gateway.HeaderError); got != string(c.code) {
				t.Errorf("X-Road-Error = %q, want %q", got, c.code)
			}
			if c.code != "" {
				checkErrorBody(t, rec, c.code)
			}
			if got := g.reloads.Load() == 1; got != c.reload {
				t.Errorf("reload called %d times, want called %v", g.reloads.Load(), c.reload)
			}
			if got := g.opmons.Load() == 1; got != c.opmon {
				t.Errorf("opmon called %d times, want called %v", g.opmons.Load(), c.opmon)
			}
		})
	}
}

// checkErrorBody checks DESIGN.md §3's error shape.
func checkErrorBody(t *testing.T, rec *httptest.ResponseRecorder, code gateway.Code) {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var body map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("error body %q: %v", rec.Body, err)
	}
	if body["type"] != string(code) || body["message"] == "" || body["detail"] != "detail-1" || len(body) != 3 {
		t.Errorf("error body = %v, want type %s, a message and detail detail-1 only", body, code)
	}
	if code == gateway.CodeUnauthenticated && rec.Header().Get("WWW-Authenticate") == "" {
		t.Error("401 without WWW-Authenticate")
	}
}

// TestAccessLog: every request, allowed or refused, leaves one line naming
// the admin (when known), method, path and result; never a token.
func TestAccessLog(t *testing.T) {
	g := newGuarded(t, func() *Keyring { return testKeyring(t) })
	g.handler.ServeHTTP(httptest.NewRecorder(), request("POST", "/admin/reload", bearer(operatorToken)))
	g.handler.ServeHTTP(httptest.NewRecorder(), request("POST", "/admin/reload", bearer(viewerToken)))
	g.handler.ServeHTTP(httptest.NewRecorder(), request("POST", "/admin/reload", bearer("guess-token")))
	g.handler.ServeHTTP(httptest.NewRecorder(), request("GET", "/admin/status", "Host: evil.example:9465"))
	type line struct {
		Msg, Admin, Role, Method, Path, Code, Detail, Host string
		Status                                             int
	}
	var got []line
	for _, l := range strings.Split(strings.TrimSpace(g.log.String()), "\n") {
		var ln line
		if err := json.Unmarshal([]byte(l), &ln); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		got = append(got, ln)
	}
	want := []line{
		{Msg: "admin request", Admin: "on-call", Role: "operator", Method: "POST", Path: "/admin/reload", Status: 200},
		{Msg: "admin request refused", Admin: "watcher", Role: "viewer", Method: "POST", Path: "/admin/reload", Status: 403, Code: "Client.AccessDenied", Detail: "detail-1"},
		{Msg: "admin request refused", Method: "POST", Path: "/admin/reload", Status: 401, Code: "Client.Unauthenticated", Detail: "detail-1"},
		{Msg: "admin request refused", Method: "GET", Path: "/admin/status", Status: 403, Code: "Client.AccessDenied", Detail: "detail-1", Host: "evil.example:9465"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d log lines, want %d:\n%s", len(got), len(want), g.log)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("log line %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	for _, secret := range []string{operatorToken, viewerToken, "guess-token"} {
		if strings.Contains(g.log.String(), secret) {
			t.Errorf("the log holds the token %q:\n%s", secret, g.log)
		}
	}
}

// TestKeyringFollowsReloads: the handler asks for the keyring on every
// request, so a reload that adds or removes an admin takes effect at once;
// no keyring at all refuses every credential.
func TestKeyringFollowsReloads(t *testing.T) {
	var current atomic.Pointer[Keyring]
	g := newGuarded(t, current.Load)
	do := func(token string) int {
		rec := httptest.NewRecorder()
		g.handler.ServeHTTP(rec, request("POST", "/admin/reload", bearer(token)))
		return rec.Code
	}
	if got := do(adminToken); got != 401 {
		t.Errorf("no keyring: reload = %d, want 401", got)
	}
	current.Store(testKeyring(t))
	if got := do(adminToken); got != 200 {
		t.Errorf("admin added: reload = %d, want 200", got)
	}
	k, err := NewKeyring(testAdmins()[:1])
	if err != nil {
		t.Fatal(err)
	}
	current.Store(k)
	if got := do(adminToken); got != 401 {
		t.Errorf("admin removed: reload = %d, want 401", got)
	}
	if got := g.reloads.Load(); got != 1 {
		t.Errorf("%d reloads, want 1", got)
	}
}

func TestNewKeyringRefuses(t *testing.T) {
	hash := authn.HashKey("shared")
	for name, admins := range map[string][]config.Admin{
		"bad role":       {{ID: "a", Role: "root", Auth: config.AdminAuth{APIKeys: []string{hash}}}},
		"bad hash":       {{ID: "a", Role: "viewer", Auth: config.AdminAuth{APIKeys: []string{"sha256:zz"}}}},
		"shared token":   {{ID: "a", Role: "viewer", Auth: config.AdminAuth{APIKeys: []string{hash}}}, {ID: "b", Role: "admin", Auth: config.AdminAuth{APIKeys: []string{hash}}}},
		"bad subject":    {{ID: "a", Role: "viewer", Auth: config.AdminAuth{Certificates: []config.CertIdentity{{Subject: "CN=ops, O=x"}}}}},
		"empty cert":     {{ID: "a", Role: "viewer", Auth: config.AdminAuth{Certificates: []config.CertIdentity{{}}}}},
		"shared cert":    {{ID: "a", Role: "viewer", Auth: config.AdminAuth{Certificates: []config.CertIdentity{{Subject: "CN=ops"}}}}, {ID: "b", Role: "admin", Auth: config.AdminAuth{Certificates: []config.CertIdentity{{Subject: "CN=ops"}}}}},
		"no credentials": {{ID: "a", Role: "viewer"}},
	} {
		if _, err := NewKeyring(admins); err == nil {
			t.Errorf("%s: NewKeyring succeeded", name)
		}
	}
}

// TestHostCheck: which Host values reach a listener on each kind of
// address.
func TestHostCheck(t *testing.T) {
	cases := []struct {
		listener config.AdminListener
		host     string
		ok       bool
	}{
		{config.AdminListener{Address: "127.0.0.1:9465"}, "127.0.0.1:9465", true},
		{config.AdminListener{Address: "127.0.0.1:9465"}, "localhost:9465", true},
		{config.AdminListener{Address: "127.0.0.1:9465"}, "[::1]:9465", true},
		{config.AdminListener{Address: "127.0.0.1:9465"}, "[0:0::1]:9465", true},
		{config.AdminListener{Address: "127.0.0.1:9465"}, "localhost.:9465", false},
		{config.AdminListener{Address: "127.0.0.1:9465"}, "10.0.0.5:9465", false},
		{config.AdminListener{Address: "127.0.0.1:9465"}, "127.0.0.1:9465:9465", false},
		{config.AdminListener{Address: "127.0.0.1:9465"}, "127.0.0.1:09465", false},
		{config.AdminListener{Address: "localhost:9465"}, "127.0.0.1:9465", true},
		{config.AdminListener{Address: "[::1]:9465"}, "localhost:9465", true},
		{config.AdminListener{Address: "10.0.0.5:9465"}, "10.0.0.5:9465", true},
		{config.AdminListener{Address: "10.0.0.5:9465"}, "localhost:9465", false},
		{config.AdminListener{Address: "10.0.0.5:9465"}, "evil.example:9465", false},
		{config.AdminListener{Address: "0.0.0.0:9465"}, "localhost:9465", true},
		{config.AdminListener{Address: "0.0.0.0:9465"}, "10.1.2.3:9465", true},
		{config.AdminListener{Address: "0.0.0.0:9465"}, "[fd00::5]:9465", true},
		{config.AdminListener{Address: "0.0.0.0:9465"}, "10.1.2.3:9466", false},
		{config.AdminListener{Address: "0.0.0.0:9465"}, "evil.example:9465", false},
		{config.AdminListener{Address: ":9465"}, "10.1.2.3:9465", true},
		{config.AdminListener{Address: ":9465"}, "evil.example:9465", false},
		{config.AdminListener{Address: "0.0.0.0:9465", Hosts: []string{"Admin.Govbus.Example"}}, "admin.govbus.example", true},
		{config.AdminListener{Address: "0.0.0.0:9465", Hosts: []string{"admin.govbus.example"}}, "admin.govbus.example:9465", true},
		{config.AdminListener{Address: "0.0.0.0:9465", Hosts: []string{"admin.govbus.example"}}, "admin.govbus.example:8443", false},
		{config.AdminListener{Address: "0.0.0.0:9465", Hosts: []string{"admin.govbus.example:8443"}}, "admin.govbus.example:8443", true},
		{config.AdminListener{Address: "0.0.0.0:9465", Hosts: []string{"admin.govbus.example:8443"}}, "admin.govbus.example", false},
		{config.AdminListener{Address: "not an address"}, "127.0.0.1:9465", false},
	}
	for _, c := range cases {
		if got := newHostCheck(c.listener).allows(c.host); got != c.ok {
			t.Errorf("listener %s %v, Host %q: allowed %v, want %v", c.listener.Address, c.listener.Hosts, c.host, got, c.ok)
		}
	}
}

// TestGuessedTokensThrottled: wrong admin credentials from one address
// are throttled as consumers' are (authn.Throttle): after the burst, even
// the right token from that address gets 429 with Retry-After and never
// reaches reload; another address is not affected, and a request without
// any credential counts nothing.
func TestGuessedTokensThrottled(t *testing.T) {
	g := newGuarded(t, func() *Keyring { return testKeyring(t) })
	do := func(remote string, headers ...string) *httptest.ResponseRecorder {
		r := request("POST", "/admin/reload", headers...)
		r.RemoteAddr = remote
		rec := httptest.NewRecorder()
		g.handler.ServeHTTP(rec, r)
		return rec
	}
	const attacker, other = "192.0.2.7:40000", "192.0.2.8:40000"
	for range 3 {
		if rec := do(attacker); rec.Code != 401 {
			t.Fatalf("no credential: %d, want 401", rec.Code)
		}
	}
	for i := range authn.DefaultThrottleBurst {
		if rec := do(attacker, bearer("guess-"+strconv.Itoa(i))); rec.Code != 401 {
			t.Fatalf("guess %d: %d, want 401", i, rec.Code)
		}
	}
	for _, token := range []string{"one-guess-too-many", operatorToken} {
		rec := do(attacker, bearer(token))
		if rec.Code != 429 || rec.Header().Get(gateway.HeaderError) != string(gateway.CodeRateLimited) {
			t.Errorf("token %q after the burst: %d %q, want 429 %s", token, rec.Code, rec.Header().Get(gateway.HeaderError), gateway.CodeRateLimited)
		}
		if s, err := strconv.Atoi(rec.Header().Get("Retry-After")); err != nil || s < 1 {
			t.Errorf("token %q after the burst: Retry-After %q, want whole seconds >= 1", token, rec.Header().Get("Retry-After"))
		}
	}
	if got := g.reloads.Load(); got != 0 {
		t.Errorf("%d reloads from the throttled address, want 0", got)
	}
	if rec := do(other, bearer(operatorToken)); rec.Code != 200 {
		t.Errorf("the operator's token from another address: %d, want 200", rec.Code)
	}
}
