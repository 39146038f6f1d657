package gateway_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/govbus/govbus/authn"
	"github.com/govbus/govbus/gateway"
	"github.com/govbus/govbus/minimise"
	"github.com/govbus/govbus/policies"
)

// recordingAdapter keeps what it was sent and answers with fixed headers.
type recordingAdapter struct {
	mu     sync.Mutex
	calls  []*gateway.Outbound
	header http.Header
	body   []byte
}

func (a *recordingAdapter) Exchange(_ context.Context, out *gateway.Outbound) (*gateway.Response, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	// The chain may reuse out.Header; keep a copy of what was sent.
	cp := *out
	cp.Header = out.Header.Clone()
	a.calls = append(a.calls, &cp)
	return &gateway.Response{Status: 200, Header: a.header.Clone(), Body: a.body, Forwarded: out.Path}, nil
}

func (a *recordingAdapter) sent(t *testing.T) []*gateway.Outbound {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.calls)
}

// headerWorld is the real chain over one persons service and a recording
// adapter; eservice reads it whole, benefits only some fields.
type headerWorld struct {
	h       http.Handler
	adapter *recordingAdapter
}

const personsTarget = "/r1/UA/GOV/00000001/civil-registry/persons/persons/1000000042"

func newHeaderWorld(t *testing.T, tweak func(*gateway.Route)) *headerWorld {
	t.Helper()
	auth, err := authn.New([]authn.Client{
		{ID: "UA/GOV/00000003/eservice", KeyHashes: []string{authn.HashKey("k")}},
		{ID: "UA/GOV/00000004/benefits", KeyHashes: []string{authn.HashKey("b")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	rules := []policies.Rule{
		{ID: "eservice", Clients: []string{"UA/GOV/00000003/eservice"},
			Services: []string{"UA/GOV/00000001/civil-registry/persons"}, Methods: []string{"GET"}},
		{ID: "benefits", Clients: []string{"UA/GOV/00000004/benefits"},
			Services: []string{"UA/GOV/00000001/civil-registry/persons"}, Methods: []string{"GET"},
			Fields: []string{"id", "birth_date"}},
	}
	engine, err := policies.Compile(rules, nil)
	if err != nil {
		t.Fatal(err)
	}
	mini, err := minimise.New(rules)
	if err != nil {
		t.Fatal(err)
	}
	ad := &recordingAdapter{
		header: http.Header{
			"Content-Type":        {"application/json"},
			"Content-Language":    {"uk"},
			"Etag":                {`"v1-hash-of-the-whole-person"`},
			"Last-Modified":       {"Tue, 01 Dec 2026 10:00:00 GMT"},
			"Cache-Control":       {"private, max-age=60"},
			"Content-Disposition": {`inline; filename="Hrytsenko-Marta-1990-05-17.json"`},
			"X-Person-Name":       {"Marta Hrytsenko"},
			"Set-Cookie":          {"JSESSIONID=abc; Path=/"},
			"Location":            {"http://10.0.0.5:8080/persons/1000000042"},
			"X-Powered-By":        {"Tomcat"},
		},
		body: []byte(`{"id":"1000000042","given_name":"Marta","family_name":"Hrytsenko","birth_date":"1990-05-17"}`),
	}
	svc, _ := gateway.ParseServiceID("UA/GOV/00000001/civil-registry/persons")
	route := &gateway.Route{Service: svc, ServiceKey: svc.String(), Registry: "UA/GOV/00000001/civil-registry",
		Methods: []string{"GET"}, Paths: []string{"/persons/{id}"}, Timeout: time.Second, MaxRequestBytes: 1 << 20,
		Adapter: ad}
	if tweak != nil {
		tweak(route)
	}
	snap := &gateway.Snapshot{Routes: map[string]*gateway.Route{route.ServiceKey: route},
		Authenticator: auth, Policy: engine, Minimiser: mini}
	return &headerWorld{h: gateway.NewHandler(gateway.Options{Holder: gateway.NewHolder(snap)}), adapter: ad}
}

// call sends a request with the given header lines ("Name: value"; a name
// may repeat) as eservice unless the lines name another client.
func (w *headerWorld) call(target string, lines ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", target, nil)
	for _, l := range lines {
		name, value, _ := strings.Cut(l, ":")
		// Set the map directly: names are kept exactly as sent, as a
		// server reading them from the wire would (textproto keeps
		// names with '_' uncanonicalised).
		req.Header[http.CanonicalHeaderKey(name)] = append(req.Header[http.CanonicalHeaderKey(name)], strings.TrimSpace(value))
	}
	if _, ok := req.Header["X-Road-Client"]; !ok {
		req.Header.Set("X-Road-Client", "UA/GOV/00000003/eservice")
	}
	if _, ok := req.Header["Authorization"]; !ok {
		req.Header.Set("Authorization", "Bearer k")
	}
	rec := httptest.NewRecorder()
	w.h.ServeHTTP(rec, req)
	return rec
}

var benefits = []string{"X-Road-Client: UA/GOV/00000004/benefits", "Authorization: Bearer b"}

func TestRequestHeadersAllowlist(t *testing.T) {
	w := newHeaderWorld(t, func(r *gateway.Route) { r.PassHeaders = []string{"x-tenant"} })
	rec := w.call(personsTarget,
		// Dangerous: each one rewrites the method, the path or the
		// caller's identity in some registry stack.
		"X-HTTP-Method-Override: DELETE", "X-HTTP-Method: DELETE", "X-Method-Override: DELETE",
		"X-Original-URL: /admin", "X-Rewrite-URL: /admin",
		"X-Real-IP: 10.0.0.1", "True-Client-IP: 10.0.0.1", "X-Client-IP: 10.0.0.1",
		"Cookie: JSESSIONID=stolen", "X-Custom-Header: anything",
		// End-to-end headers a registry may read.
		"Accept: application/json", "Accept-Language: uk", "If-None-Match: \"v0\"",
		"If-Modified-Since: Tue, 01 Dec 2026 10:00:00 GMT", "Content-Type: application/json",
		// Extended for this service.
		"X-Tenant: kyiv",
		// Never: govbus reads bodies and answers itself.
		"Accept-Encoding: gzip", "Range: bytes=0-10", "Expect: 100-continue",
	)
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	sent := w.adapter.sent(t)
	if len(sent) != 1 {
		t.Fatalf("registry called %d times, want 1", len(sent))
	}
	var got []string
	for name := range sent[0].Header {
		got = append(got, name)
	}
	slices.Sort(got)
	want := []string{"Accept", "Accept-Language", "Content-Type", "If-Modified-Since", "If-None-Match",
		"X-Forwarded-For", "X-Road-Client", "X-Road-Id", "X-Road-Request-Id", "X-Road-Service", "X-Tenant"}
	if !slices.Equal(got, want) {
		t.Errorf("registry got headers %v\nwant %v", got, want)
	}
}

func TestRequestHeadersOfAnotherService(t *testing.T) {
	w := newHeaderWorld(t, nil) // no pass_headers
	if rec := w.call(personsTarget, "X-Tenant: kyiv"); rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if v, ok := w.adapter.sent(t)[0].Header["X-Tenant"]; ok {
		t.Errorf("registry got X-Tenant %v without pass_headers", v)
	}
}

func TestSubjectHeaderPasses(t *testing.T) {
	w := newHeaderWorld(t, func(r *gateway.Route) {
		r.Subject = &gateway.SubjectSpec{In: "header", Name: "X-Person-Id"}
	})
	if rec := w.call(personsTarget, "X-Person-Id: 1000000042"); rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if got := w.adapter.sent(t)[0].Header.Get("X-Person-Id"); got != "1000000042" {
		t.Errorf("registry got X-Person-Id %q, want the subject header as sent", got)
	}
}

func TestRefusedRequestHeaders(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines []string
		code  string
	}{
		{"underscore client", []string{"X_Road_Client: UA/GOV/00000009/police-covert"}, "Client.BadRequest"},
		{"underscore user id", []string{"X_Road_UserId: EE1"}, "Client.BadRequest"},
		{"underscore anything", []string{"x_tenant: kyiv"}, "Client.BadRequest"},
		{"two Authorization headers", []string{"Authorization: Bearer k", "Authorization: Bearer b"}, "Client.BadRequest"},
		{"two credentials in one", []string{"Authorization: Bearer k, Bearer b"}, "Client.BadRequest"},
		{"bearer with a comma", []string{"Authorization: Bearer k,b"}, "Client.BadRequest"},
		{"bearer without a key", []string{"Authorization: Bearer"}, "Client.BadRequest"},
		{"bearer with spaces inside", []string{"Authorization: Bearer k b"}, "Client.BadRequest"},
		{"another scheme", []string{"Authorization: Basic ZXNlcnZpY2U6aw=="}, "Client.Unauthenticated"},
		{"compressed body", []string{"Content-Encoding: gzip"}, "Client.BadRequest"},
		// Go's readers take the first, others the last or the joined list.
		{"two content types", []string{"Content-Type: application/json", "Content-Type: application/x-www-form-urlencoded"}, "Client.BadRequest"},
		{"a list of content types", []string{"Content-Type: application/json, application/x-www-form-urlencoded"}, "Client.BadRequest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newHeaderWorld(t, nil)
			rec := w.call(personsTarget, tc.lines...)
			if got := rec.Header().Get("X-Road-Error"); got != tc.code {
				t.Errorf("status %d X-Road-Error %q, want %s (%s)", rec.Code, got, tc.code, rec.Body)
			}
			if n := len(w.adapter.sent(t)); n != 0 {
				t.Errorf("registry called %d times, want none", n)
			}
		})
	}
	// Case-insensitive scheme, extra spaces between scheme and key: fine.
	w := newHeaderWorld(t, nil)
	if rec := w.call(personsTarget, "Authorization: bearer   k"); rec.Code != 200 {
		t.Errorf("lower-case scheme: status %d: %s", rec.Code, rec.Body)
	}
	if rec := w.call(personsTarget, `Content-Type: multipart/related; boundary="a,b"`); rec.Code != 200 {
		t.Errorf("a quoted comma in Content-Type: status %d: %s", rec.Code, rec.Body)
	}
}

func TestResponseHeadersAllowlist(t *testing.T) {
	for _, tc := range []struct {
		name    string
		tweak   func(*gateway.Route)
		as      []string
		want    []string // every header the consumer gets from the registry
		wantLen bool
	}{
		{"default", nil, nil,
			[]string{"Cache-Control", "Content-Disposition", "Content-Language", "Content-Type", "Etag", "Last-Modified"}, true},
		{"extended", func(r *gateway.Route) { r.PassResponseHeaders = []string{"X-Person-Name", "location"} }, nil,
			[]string{"Cache-Control", "Content-Disposition", "Content-Language", "Content-Type", "Etag", "Last-Modified", "Location", "X-Person-Name"}, true},
		// Under a fields rule only content headers pass: an ETag or a
		// file name describes the whole answer, not the granted part.
		{"fields rule", func(r *gateway.Route) { r.PassResponseHeaders = []string{"X-Person-Name"} }, benefits,
			[]string{"Content-Language", "Content-Type"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newHeaderWorld(t, tc.tweak)
			rec := w.call(personsTarget, tc.as...)
			if rec.Code != 200 {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			var got []string
			for name := range rec.Header() {
				if !strings.HasPrefix(name, "X-Road-") && name != "Content-Length" {
					got = append(got, name)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("consumer got headers %v\nwant %v", got, tc.want)
			}
			if rec.Header().Get("Content-Length") == "" {
				t.Errorf("no Content-Length")
			}
		})
	}
}

func TestFieldsRuleDropsConditionalRequests(t *testing.T) {
	// If-None-Match against the whole answer's ETag would tell a client
	// limited to some fields whether the others hold a guessed value.
	w := newHeaderWorld(t, nil)
	lines := append([]string{`If-None-Match: "guess"`, "If-Modified-Since: Tue, 01 Dec 2026 10:00:00 GMT",
		`If-Match: "guess"`, "If-Unmodified-Since: Tue, 01 Dec 2026 10:00:00 GMT", "Accept-Language: uk"}, benefits...)
	if rec := w.call(personsTarget, lines...); rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	h := w.adapter.sent(t)[0].Header
	for _, name := range []string{"If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since"} {
		if v, ok := h[name]; ok {
			t.Errorf("registry got %s %v under a fields rule", name, v)
		}
	}
	if h.Get("Accept-Language") != "uk" {
		t.Errorf("registry got Accept-Language %q, want uk", h.Get("Accept-Language"))
	}
}

func TestServiceCodeWithSlash(t *testing.T) {
	w := newHeaderWorld(t, func(r *gateway.Route) {
		id, err := gateway.ParseServiceID("UA/GOV/00000001/civil-registry/persons/v2")
		if err != nil {
			t.Fatal(err)
		}
		r.Service, r.ServiceKey = id, id.String()
	})
	// The rules name the service as persons; only routing is under test,
	// so a listing rule is not needed: the policy denies, after routing.
	rec := w.call("/r1/UA/GOV/00000001/civil-registry/persons%2Fv2/persons/1")
	if got := rec.Header().Get("X-Road-Error"); got != "Client.AccessDenied" {
		t.Errorf("persons%%2Fv2: X-Road-Error %q, want Client.AccessDenied (routed, then denied)", got)
	}
	rec = w.call("/r1/UA/GOV/00000001/civil-registry/persons/v2/persons/1")
	if got := rec.Header().Get("X-Road-Error"); got != "Client.UnknownService" {
		t.Errorf("persons/v2 unencoded: X-Road-Error %q, want Client.UnknownService", got)
	}
}
