package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// Items 4, 5, 6, 12 (a second Authorization) and 13 of issue 11: what a
// consumer can smuggle to a registry in the path and the headers, and what
// a registry's answer headers tell a client limited to some fields.

func init() {
	// Item 4: a dot segment behind a matrix parameter, which Tomcat and
	// Spring resolve upward after dropping ";...".
	registerAttack("paths/dot-segment-before-matrix-parameter", func(t *testing.T) {
		w := sharedAttackWorld(t)
		for _, p := range []string{
			"/persons/..;/admin", "/persons/.;/admin", "/persons/1000000201/..;/1000000202",
			"/persons/%2e%2e;x/admin", "/persons/.%2E;/admin", "/persons/..%3B/admin",
			"/persons/.%3bx/admin", "/..;/persons/1000000201", "/persons/..;a=b;c/admin",
		} {
			w.clearReceived(t, "9101")
			a := w.do(t, "GET", civilPath+p, nil, eservice...)
			if a.Status != http.StatusBadRequest || a.Type != "Client.BadRequest" {
				t.Errorf("%s: got %v, want 400 Client.BadRequest", p, a)
			}
			w.wantNothingReceived(t, "9101")
		}
		for _, id := range []string{"1000000201", "1000000202"} {
			if n := w.trackerCount(t, id); n != 0 {
				t.Errorf("tracker lists %d accesses of %s, want 0", n, id)
			}
		}
	})

	// Item 5: headers that make some registry stack rewrite the method,
	// the path, the caller's address or session never reach it.
	registerAttack("paths/dangerous-headers-dropped", func(t *testing.T) {
		w := sharedAttackWorld(t)
		const id = "1000000203"
		dangerous := []string{
			"X-HTTP-Method-Override: DELETE", "X-HTTP-Method: DELETE", "X-Method-Override: DELETE",
			"X-Original-URL: /admin", "X-Rewrite-URL: /admin", "X-Real-IP: 10.0.0.1",
			"True-Client-IP: 10.0.0.1", "X-Client-IP: 10.0.0.1", "Cookie: JSESSIONID=stolen",
			"X-Custom-Header: not in pass_headers",
		}
		w.clearReceived(t, "9101")
		a := w.do(t, "GET", civilPath+"/persons/"+id, nil, with(eservice, append(dangerous, "Accept-Language: uk")...)...)
		if a.Status != http.StatusOK || a.Type != "" {
			t.Fatalf("got %v, want the registry's 200", a)
		}
		got := w.received(t, "9101")
		if len(got) != 1 {
			t.Fatalf("the registry received %d requests, want 1", len(got))
		}
		for _, h := range dangerous {
			name, _, _ := strings.Cut(h, ":")
			if v := got[0].Header.Values(name); len(v) > 0 {
				t.Errorf("the registry received %s: %v", name, v)
			}
		}
		if v := got[0].Header.Get("Accept-Language"); v != "uk" {
			t.Errorf("the registry received Accept-Language %q, want uk (default allowlist)", v)
		}
		if v := got[0].Header.Get("X-Road-Client"); v != "UA/GOV/00000003/eservice" {
			t.Errorf("the registry received X-Road-Client %q", v)
		}
		if n := w.trackerCount(t, id); n != 1 {
			t.Errorf("tracker lists %d accesses of %s, want 1", n, id)
		}
	})

	// Item 5: underscore forms that CGI-style stacks read as the identity
	// headers refuse the whole request.
	registerAttack("paths/underscore-identity-header", func(t *testing.T) {
		w := sharedAttackWorld(t)
		for i, h := range []string{"X_Road_Client: UA/GOV/00000009/police-covert", "X_Road_UserId: UA0000000001", "x_tenant: kyiv"} {
			id := []string{"1000000204", "1000000205", "1000000206"}[i]
			w.clearReceived(t, "9101")
			a := w.do(t, "GET", civilPath+"/persons/"+id, nil, with(eservice, h)...)
			if a.Status != http.StatusBadRequest || a.Type != "Client.BadRequest" {
				t.Errorf("%s: got %v, want 400 Client.BadRequest", h, a)
			}
			w.wantNothingReceived(t, "9101")
			if n := w.trackerCount(t, id); n != 0 {
				t.Errorf("%s: tracker lists %d accesses, want 0", h, n)
			}
		}
	})

	// Item 12: a second credential is never silently ignored.
	registerAttack("paths/second-authorization", func(t *testing.T) {
		w := sharedAttackWorld(t)
		for _, extra := range [][]string{
			{"Authorization: Bearer demo-benefits-key"},
			{},
		} {
			headers := with(eservice, extra...)
			if len(extra) == 0 {
				headers = []string{"X-Road-Client: UA/GOV/00000003/eservice", "X-Road-Purpose: service-delivery",
					"Authorization: Bearer demo-eservice-key, Bearer demo-benefits-key"}
			}
			w.clearReceived(t, "9101")
			a := w.do(t, "GET", civilPath+"/persons/1000000207", nil, headers...)
			if a.Status != http.StatusBadRequest || a.Type != "Client.BadRequest" {
				t.Errorf("%v: got %v, want 400 Client.BadRequest", extra, a)
			}
			w.wantNothingReceived(t, "9101")
		}
		w.clearReceived(t, "9101")
		a := w.do(t, "GET", civilPath+"/persons/1000000207", nil,
			"X-Road-Client: UA/GOV/00000003/eservice", "X-Road-Purpose: service-delivery", "Authorization: Basic ZXNlcnZpY2U6aw==")
		if a.Status != http.StatusUnauthorized || a.Type != "Client.Unauthenticated" {
			t.Errorf("Basic credential: got %v, want 401 Client.Unauthenticated", a)
		}
		w.wantNothingReceived(t, "9101")
		if n := w.trackerCount(t, "1000000207"); n != 0 {
			t.Errorf("tracker lists %d accesses, want 0", n)
		}
	})

	// Item 6: under benefits' fields rule the body is filtered, and the
	// answer's headers tell no more than the filtered body: no person's
	// name, no cookie, no ETag or file name of the whole answer.
	registerAttack("paths/response-headers-under-fields-rule", func(t *testing.T) {
		w := sharedAttackWorld(t)
		const id = "1000000208"
		a := w.do(t, "GET", civilPath+"/persons/"+id+"?leak=1", nil, benefits...)
		if a.Status != http.StatusOK || a.Type != "" {
			t.Fatalf("benefits: got %v, want 200", a)
		}
		if strings.Contains(string(a.Body), "given_name") {
			t.Errorf("benefits: body %s not filtered", a.Body)
		}
		for _, name := range []string{"X-Person-Name", "Set-Cookie", "Etag", "Content-Disposition"} {
			if v := a.Header.Values(name); len(v) > 0 {
				t.Errorf("benefits got %s: %v", name, v)
			}
		}
		if ct := a.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("benefits got Content-Type %q", ct)
		}
		// Without a fields rule the default allowlist applies: the ETag
		// passes, the name header and the cookie never do.
		a = w.do(t, "GET", civilPath+"/persons/"+id+"?leak=1", nil, eservice...)
		if a.Status != http.StatusOK {
			t.Fatalf("eservice: got %v, want 200", a)
		}
		for _, name := range []string{"X-Person-Name", "Set-Cookie"} {
			if v := a.Header.Values(name); len(v) > 0 {
				t.Errorf("eservice got %s: %v", name, v)
			}
		}
		if a.Header.Get("Etag") == "" {
			t.Errorf("eservice got no ETag (default allowlist)")
		}
		if n := w.trackerCount(t, id); n != 2 {
			t.Errorf("tracker lists %d accesses of %s, want 2", n, id)
		}
	})

	// Item 13: an obs-folded header line gets 400 at once and a closed
	// connection, not a served request on a connection left open.
	registerAttack("paths/obs-folded-header", func(t *testing.T) {
		w := sharedAttackWorld(t)
		w.clearReceived(t, "9101")
		raw := "GET " + civilPath + "/persons/1000000209 HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
			strings.Join(eservice, "\r\n") + "\r\nAccept-Language: uk\r\n X-Road-Client: UA/GOV/00000009/police-covert\r\n\r\n"
		got := w.doRaw(t, "8080", raw)
		if !strings.HasPrefix(got, "HTTP/1.1 400 ") {
			t.Errorf("got %.80q, want HTTP/1.1 400", got)
		}
		if strings.Count(got, "HTTP/1.1 ") != 1 {
			t.Errorf("got %d answers, want one", strings.Count(got, "HTTP/1.1 "))
		}
		w.wantNothingReceived(t, "9101")
		if n := w.trackerCount(t, "1000000209"); n != 0 {
			t.Errorf("tracker lists %d accesses, want 0", n)
		}
	})

	// Item 13: a service code with '/' (X-Road's BAR/SERVICE) can be
	// configured and is called as BAR%2FSERVICE; the path after it is
	// forwarded as sent.
	registerAttack("paths/service-code-with-slash", func(t *testing.T) {
		w := newAttackWorld(t, func(cfg string) string {
			cfg = strings.Replace(cfg, "        subject: {in: path, name: id}   # the person is the data subject (Data Tracker)\n",
				`        subject: {in: path, name: id}   # the person is the data subject (Data Tracker)
      - code: persons/v2
        methods: [GET]
        paths: ["/persons/{id}"]
        subject: {in: path, name: id}
`, 1)
			return strings.Replace(cfg, "\nrules:\n", `
rules:
  - id: eservice-persons-v2
    clients: [UA/GOV/00000003/eservice]
    services: [UA/GOV/00000001/civil-registry/persons%2Fv2]
    purposes: [service-delivery]
`, 1)
		})
		w.clearReceived(t, "9101")
		a := w.do(t, "GET", "/r1/UA/GOV/00000001/civil-registry/persons%2Fv2/persons/1000000210", nil, eservice...)
		if a.Status != http.StatusOK || a.Type != "" {
			t.Fatalf("got %v, want the registry's 200", a)
		}
		if got := a.Header.Get("X-Road-Service"); got != "UA/GOV/00000001/civil-registry/persons%2Fv2" {
			t.Errorf("X-Road-Service = %q", got)
		}
		got := w.received(t, "9101")
		if len(got) != 1 || got[0].Target != "/persons/1000000210" {
			t.Fatalf("the registry received %+v, want one GET /persons/1000000210", got)
		}
		if v := got[0].Header.Get("X-Road-Service"); v != "UA/GOV/00000001/civil-registry/persons%2Fv2" {
			t.Errorf("the registry received X-Road-Service %q", v)
		}
		if n := w.trackerCount(t, "1000000210"); n != 1 {
			t.Errorf("tracker lists %d accesses, want 1", n)
		}
	})
}
