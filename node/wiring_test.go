package node_test

import (
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strings"
	"testing"

	"github.com/govbus/govbus/registrysim"
)

func TestExchangeHappyPath(t *testing.T) {
	w := newWorld(t)
	h := eservice()
	h.Set("X-Road-Id", "msg-1")
	h.Set("X-Road-UserId", "EE12345678901")
	h.Set("X-Road-Issue", "case-7")
	h.Set("X-Forwarded-For", "6.6.6.6")
	h.Set("X-Road-Request-Hash", "forged")
	h.Set("X-Road-Service", "UA/GOV/1/x/forged")
	h.Set("X-Custom-Header", "passes")
	h.Set("Traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	resp, body := w.call(t, "GET", personsSvc+"/persons/1000000042?lang=uk", h, "")
	if resp.StatusCode != 200 {
		t.Fatalf("status = %d, body %s", resp.StatusCode, body)
	}
	p, _ := registrysim.PersonByID("1000000042")
	want, _ := json.Marshal(p)
	if strings.TrimSpace(body) != strings.TrimSpace(string(want)) {
		t.Errorf("body = %s, want the registry's person %s", body, want)
	}
	for name, want := range map[string]string{
		"X-Road-Id":      "msg-1",
		"X-Road-Client":  "UA/GOV/00000003/eservice",
		"X-Road-Service": "UA/GOV/00000001/civil-registry/persons",
	} {
		if got := resp.Header.Get(name); got != want {
			t.Errorf("answer %s = %q, want %q", name, got, want)
		}
	}
	if resp.Header.Get("X-Road-Request-Id") == "" || resp.Header.Get("X-Road-Error") != "" {
		t.Errorf("answer headers = %v", resp.Header)
	}
	sum := sha512.Sum512([]byte("GET /persons/1000000042?lang=uk\n"))
	if got, want := resp.Header.Get("X-Road-Request-Hash"), base64.StdEncoding.EncodeToString(sum[:]); got != want {
		t.Errorf("X-Road-Request-Hash = %q, want %q", got, want)
	}

	last, _ := w.civil.Last()
	if last.Path != "/persons/1000000042" || last.Query != "lang=uk" {
		t.Errorf("registry saw %s ?%s", last.Path, last.Query)
	}
	for name, want := range map[string]string{
		"X-Road-Client":       "UA/GOV/00000003/eservice",
		"X-Road-Service":      "UA/GOV/00000001/civil-registry/persons",
		"X-Road-Id":           "msg-1",
		"X-Road-Request-Id":   resp.Header.Get("X-Road-Request-Id"),
		"X-Road-Userid":       "EE12345678901",
		"X-Road-Issue":        "case-7",
		"X-Road-Purpose":      "service-delivery",
		"X-Forwarded-For":     "127.0.0.1",
		"X-Custom-Header":     "passes",
		"Traceparent":         "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
		"Authorization":       "",
		"X-Road-Request-Hash": "",
	} {
		if got := strings.Join(last.Header[name], ","); got != want {
			t.Errorf("registry got %s = %q, want %q", name, got, want)
		}
	}
}

// refusal is a request govbus must refuse without calling any registry.
type refusal struct {
	name           string
	method, target string
	header         http.Header
	body           string
	status         int
	code           string
}

func TestRefusedRequestsNeverReachTheRegistry(t *testing.T) {
	w := newWorld(t)
	noClient := eservice()
	noClient.Del("X-Road-Client")
	twoClients := eservice()
	twoClients.Add("X-Road-Client", "UA/GOV/00000004/benefits")
	aliasConflict := eservice()
	aliasConflict.Set("X-GovStack-Client", "UA/GOV/00000004/benefits")
	badMessageID := eservice()
	badMessageID.Add("X-Road-Id", "a")
	badMessageID.Add("X-Road-Id", "b")
	chunked := eservice()
	chunked.Set("Transfer-Encoding", "chunked")
	bigChunk := strings.Repeat("y", 2000)
	chunkedBody := "7d0\r\n" + bigChunk + "\r\n0\r\n\r\n"

	cases := []refusal{
		{"no client header", "GET", personsSvc + "/persons/1000000042", noClient, "", 400, "Client.BadRequest"},
		{"two client headers", "GET", personsSvc + "/persons/1000000042", twoClients, "", 400, "Client.BadRequest"},
		{"client alias disagrees", "GET", personsSvc + "/persons/1000000042", aliasConflict, "", 400, "Client.BadRequest"},
		{"malformed client", "GET", personsSvc + "/persons/1000000042", as("UA/GOV/eservice", eserviceKey, "service-delivery"), "", 400, "Client.BadRequest"},
		{"over-long client part", "GET", personsSvc + "/persons/1000000042", as("UA/GOV/"+strings.Repeat("0", 256)+"/eservice", eserviceKey, ""), "", 400, "Client.BadRequest"},
		{"duplicate message id", "GET", personsSvc + "/persons/1000000042", badMessageID, "", 400, "Client.BadRequest"},
		{"malformed service", "GET", "/r1/UA/GOV/00000001/civil_registry/persons/x", eservice(), "", 400, "Client.BadRequest"},
		{"over-long service part", "GET", "/r1/UA/GOV/00000001/" + strings.Repeat("c", 256) + "/persons/x", eservice(), "", 400, "Client.BadRequest"},
		{"encoded service id", "GET", "/r1/UA%2FGOV%2F00000001%2Fcivil-registry%2Fpersons", eservice(), "", 400, "Client.BadRequest"},
		{"dot-dot", "GET", personsSvc + "/persons/../admin", eservice(), "", 400, "Client.BadRequest"},
		{"encoded dot-dot", "GET", personsSvc + "/persons/%2e%2e/admin", eservice(), "", 400, "Client.BadRequest"},
		{"encoded slash", "GET", personsSvc + "/persons%2f1000000042", eservice(), "", 400, "Client.BadRequest"},
		{"encoded backslash", "GET", personsSvc + "/persons/%5c..%5cadmin", eservice(), "", 400, "Client.BadRequest"},
		{"no credential", "GET", personsSvc + "/persons/1000000042", as("UA/GOV/00000003/eservice", "", "service-delivery"), "", 401, "Client.Unauthenticated"},
		{"unknown key", "GET", personsSvc + "/persons/1000000042", as("UA/GOV/00000003/eservice", "guess", "service-delivery"), "", 401, "Client.Unauthenticated"},
		{"another client's key", "GET", personsSvc + "/persons/1000000042", as("UA/GOV/00000003/eservice", benefitsKey, "service-delivery"), "", 401, "Client.Unauthenticated"},
		{"unknown client", "GET", personsSvc + "/persons/1000000042", as("UA/GOV/00000099/nobody", eserviceKey, ""), "", 401, "Client.Unauthenticated"},
		{"isolated client with another's key", "GET", personsSvc + "/persons/1000000042", as("UA/GOV/00000008/isolated", eserviceKey, "service-delivery"), "", 401, "Client.Unauthenticated"},
		{"unknown service", "GET", "/r1/UA/GOV/00000001/civil-registry/pets/1", eservice(), "", 404, "Client.UnknownService"},
		{"not r1", "GET", "/r9/UA/GOV/00000001/civil-registry/persons/1", eservice(), "", 404, "Client.UnknownService"},
		{"undeclared method", "DELETE", personsSvc + "/persons/1000000042", eservice(), "", 405, "Client.MethodNotAllowed"},
		{"TRACE", "TRACE", personsSvc + "/persons/1000000042", eservice(), "", 405, "Client.MethodNotAllowed"},
		{"CONNECT", "CONNECT", "127.0.0.1:9101", eservice(), "", 405, "Client.MethodNotAllowed"},
		{"no rule", "GET", personsSvc + "/persons/1000000042", as("UA/GOV/00000005/citizen-portal", portalKey, "service-delivery"), "", 403, "Client.AccessDenied"},
		{"path outside the rule", "GET", personsSvc + "/persons/1000000042/children", eservice(), "", 403, "Client.AccessDenied"},
		{"purpose missing", "GET", personsSvc + "/persons/1000000042", as("UA/GOV/00000004/benefits", benefitsKey, ""), "", 403, "Client.PurposeRequired"},
		{"purpose not allowed", "GET", personsSvc + "/persons/1000000042", as("UA/GOV/00000004/benefits", benefitsKey, "service-delivery"), "", 403, "Client.PurposeRequired"},
		{"body over limit by length", "POST", docsSvc + "/upload", eservice(), strings.Repeat("x", 2000), 413, "Client.PayloadTooLarge"},
		{"body over limit chunked", "POST", docsSvc + "/upload", chunked, chunkedBody, 413, "Client.PayloadTooLarge"},
		{"target over 8 KiB", "GET", personsSvc + "/persons/" + strings.Repeat("1", 9000), eservice(), "", 414, "Client.URITooLong"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := w.civil.Requests()
			resp, body := w.call(t, c.method, c.target, c.header, c.body)
			if resp.StatusCode != c.status {
				t.Errorf("status = %d, want %d (body %s)", resp.StatusCode, c.status, body)
			}
			if got := resp.Header.Get("X-Road-Error"); got != c.code {
				t.Errorf("X-Road-Error = %q, want %q", got, c.code)
			}
			checkErrorBody(t, resp, body, c.code)
			if got := w.civil.Requests(); got != before {
				t.Errorf("the registry was called %d time(s)", got-before)
			}
		})
	}
}

// checkErrorBody checks the {type,message,detail} body of an error answer.
func checkErrorBody(t *testing.T, resp *http.Response, body, code string) {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var e struct{ Type, Message, Detail string }
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("error body %q: %v", body, err)
	}
	if e.Type != code || e.Message == "" || len(e.Detail) != 36 {
		t.Errorf("error body = %+v, want type %s, a message and a UUID detail", e, code)
	}
}

func TestHopByHopAndIdentityHeaders(t *testing.T) {
	w := newWorld(t)
	tests := []struct {
		name       string
		connection string
		extra      map[string]string
		absent     []string
	}{
		{"Connection names X-Road-Client", "X-Road-Client", nil, nil},
		{"Connection names Authorization", "Authorization", nil, []string{"Authorization"}},
		{"Connection names a custom header", "X-Drop-Me", map[string]string{"X-Drop-Me": "1"}, []string{"X-Drop-Me"}},
		{"Upgrade is not forwarded", "Upgrade", map[string]string{"Upgrade": "websocket"}, []string{"Upgrade", "Connection"}},
		{"h2c upgrade is not forwarded", "Upgrade, HTTP2-Settings", map[string]string{"Upgrade": "h2c", "HTTP2-Settings": "AAMAAABkAAQAAP__"}, []string{"Upgrade", "Http2-Settings"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := eservice()
			for k, v := range tt.extra {
				h.Set(k, v)
			}
			// call() adds "Connection: close"; a second Connection line
			// carries the tokens under test.
			h.Add("Connection", tt.connection)
			resp, body := w.call(t, "GET", personsSvc+"/persons/1000000042", h, "")
			if resp.StatusCode != 200 {
				t.Fatalf("status = %d, want 200 (%s)", resp.StatusCode, body)
			}
			last, _ := w.civil.Last()
			for _, name := range tt.absent {
				if v, ok := last.Header[name]; ok {
					t.Errorf("registry got %s: %v", name, v)
				}
			}
			if got := last.Header.Get("X-Road-Client"); got != "UA/GOV/00000003/eservice" {
				t.Errorf("registry got X-Road-Client %q", got)
			}
		})
	}
}

func TestRegistryCannotSpoofHeaders(t *testing.T) {
	w := newWorld(t)
	resp, body := w.call(t, "GET", spoofSvc+"/x", as("UA/GOV/00000003/eservice", eserviceKey, ""), "")
	if resp.StatusCode != 200 || body != "echo" {
		t.Fatalf("status %d body %q", resp.StatusCode, body)
	}
	if got := resp.Header.Get("X-Road-Client"); got != "UA/GOV/00000003/eservice" {
		t.Errorf("X-Road-Client = %q, want govbus's own", got)
	}
	if got := resp.Header.Get("X-Road-Error"); got != "" {
		t.Errorf("X-Road-Error = %q passed through from the registry", got)
	}
	if got := resp.Header.Get("X-Road-Request-Hash"); got == "forged" || got == "" {
		t.Errorf("X-Road-Request-Hash = %q, want govbus's own", got)
	}
	if got := resp.Header.Get("X-Secret"); got != "" {
		t.Errorf("Connection-named X-Secret passed through: %q", got)
	}
	if got := resp.Header.Get("X-Custom"); got != "kept" {
		t.Errorf("X-Custom = %q, want kept", got)
	}
}

func TestUpstreamFailures(t *testing.T) {
	w := newWorld(t)
	es := as("UA/GOV/00000003/eservice", eserviceKey, "")

	t.Run("registry 5xx passes through after retries", func(t *testing.T) {
		before := w.spoofer.Requests()
		resp, body := w.call(t, "GET", spoofSvc+"/fail", es, "")
		if resp.StatusCode != 503 || body != "echo" || resp.Header.Get("X-Road-Error") != "" {
			t.Errorf("got %d %q X-Road-Error=%q, want the registry's own 503", resp.StatusCode, body, resp.Header.Get("X-Road-Error"))
		}
		if got := w.spoofer.Requests() - before; got != 3 {
			t.Errorf("registry called %d times, want 3 (1 + 2 retries of an idempotent GET)", got)
		}
	})
	t.Run("POST is not retried", func(t *testing.T) {
		before := w.spoofer.Requests()
		resp, _ := w.call(t, "POST", spoofSvc+"/fail", es, "{}")
		if resp.StatusCode != 503 {
			t.Errorf("status = %d", resp.StatusCode)
		}
		if got := w.spoofer.Requests() - before; got != 1 {
			t.Errorf("registry called %d times, want 1", got)
		}
	})
	t.Run("unreachable registry", func(t *testing.T) {
		resp, body := w.call(t, "GET", "/r1/UA/GOV/00000007/down/things/1", es, "")
		if resp.StatusCode != 502 || resp.Header.Get("X-Road-Error") != "Server.RegistryUnavailable" {
			t.Errorf("got %d %s", resp.StatusCode, body)
		}
		checkErrorBody(t, resp, body, "Server.RegistryUnavailable")
		if strings.Contains(body, "127.0.0.1") {
			t.Errorf("error body leaks the endpoint: %s", body)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		if err := w.civil.SetFaults(registrysim.Faults{DelayMS: 2000}); err != nil {
			t.Fatal(err)
		}
		defer w.civil.ClearFaults()
		resp, body := w.call(t, "GET", personsSvc+"/persons/1000000042", eservice(), "")
		if resp.StatusCode != 504 || resp.Header.Get("X-Road-Error") != "Server.RegistryTimeout" {
			t.Errorf("got %d %s", resp.StatusCode, body)
		}
		checkErrorBody(t, resp, body, "Server.RegistryTimeout")
	})
	t.Run("answer over the size limit", func(t *testing.T) {
		resp, body := w.call(t, "GET", spoofSvc+"/big", es, "")
		if resp.StatusCode != 500 || resp.Header.Get("X-Road-Error") != "Server.InternalError" {
			t.Errorf("got %d %s", resp.StatusCode, body)
		}
		checkErrorBody(t, resp, body, "Server.InternalError")
	})
}

func TestErrorAsXML(t *testing.T) {
	w := newWorld(t)
	h := as("UA/GOV/00000003/eservice", "", "")
	h.Set("Accept", "application/xml")
	resp, body := w.call(t, "GET", personsSvc+"/persons/1", h, "")
	if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/xml") {
		t.Fatalf("got %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var e struct {
		Type   string `xml:"type"`
		Detail string `xml:"detail"`
	}
	if err := xml.Unmarshal([]byte(body), &e); err != nil || e.Type != "Client.Unauthenticated" || e.Detail == "" {
		t.Errorf("XML error body %q: %+v %v", body, e, err)
	}
}

func TestIsolatedClientNeedsNoCredential(t *testing.T) {
	w := newWorld(t)
	resp, body := w.call(t, "GET", personsSvc+"/persons/1000000001", as("UA/GOV/00000008/isolated", "", "service-delivery"), "")
	if resp.StatusCode != 200 {
		t.Errorf("status = %d, body %s", resp.StatusCode, body)
	}
}

// TestChainOrder pins the order of the inbound chain: authenticate → route
// → policy → body → adapter. Each request fails two steps; the earlier one
// must answer.
func TestChainOrder(t *testing.T) {
	w := newWorld(t)
	big := strings.Repeat("x", 2000)
	portal := as("UA/GOV/00000005/citizen-portal", portalKey, "")
	for _, tt := range []struct {
		name   string
		method string
		target string
		header http.Header
		body   string
		want   string
	}{
		{"authentication before routing", "GET", "/r1/UA/GOV/00000001/civil-registry/nope/1", as("UA/GOV/00000003/eservice", "", ""), "", "Client.Unauthenticated"},
		{"routing before policy", "GET", "/r1/UA/GOV/00000001/civil-registry/nope/1", portal, "", "Client.UnknownService"},
		{"declared methods before policy", "PUT", docsSvc + "/x", portal, "", "Client.MethodNotAllowed"},
		{"policy before reading the body", "POST", docsSvc + "/x", portal, big, "Client.AccessDenied"},
		{"body limit before the adapter", "POST", docsSvc + "/x", as("UA/GOV/00000003/eservice", eserviceKey, ""), big, "Client.PayloadTooLarge"},
	} {
		resp, body := w.call(t, tt.method, tt.target, tt.header, tt.body)
		if got := resp.Header.Get("X-Road-Error"); got != tt.want {
			t.Errorf("%s: X-Road-Error = %q, want %q (%s)", tt.name, got, tt.want, body)
		}
	}
}
