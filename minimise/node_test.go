package minimise_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/govbus/govbus/audit"
	"github.com/govbus/govbus/authn"
	"github.com/govbus/govbus/config"
	"github.com/govbus/govbus/gateway"
	"github.com/govbus/govbus/minimise"
	"github.com/govbus/govbus/node"
	"github.com/govbus/govbus/registrysim"
)

const (
	benefitsKey = "test-benefits-key"
	eserviceKey = "test-eservice-key"
	personsSvc  = "/r1/UA/GOV/00000001/civil-registry/persons"
	oddSvc      = "/r1/UA/GOV/00000006/odd-registry/things"
	secret      = "Kovalenko-SECRET"
)

const worldConfig = `
node: test
listeners: {consumer: {address: "127.0.0.1:1"}, status: {address: "127.0.0.1:2"}, admin: {address: "127.0.0.1:3"}}
registries:
  - id: UA/GOV/00000001/civil-registry
    endpoints: [%s]
    retry: {max: 0}
    services:
      - code: persons
        paths: ["/persons/{id}"]
        subject: {in: path, name: id}
  - id: UA/GOV/00000006/odd-registry
    endpoints: [%s]
    retry: {max: 0}
    services:
      - code: things
  - id: UA/GOV/00000002/business-registry
    adapter: soap
    endpoints: [%s]
    retry: {max: 0}
    services:
      - code: companies
        methods: [GET, POST]
        paths: ["/companies/{code}"]
        soap: {operation: companies, namespace: "http://business-registry.gov.ua/ws", result_element: company, not_found_fault: not found}
clients:
  - {id: UA/GOV/00000003/eservice, auth: {api_keys: [%s]}}
  - {id: UA/GOV/00000004/benefits, auth: {api_keys: [%s]}}
rules:
  - id: eservice-reads-persons
    clients: [UA/GOV/00000003/eservice]
    services: [UA/GOV/00000001/civil-registry/persons, UA/GOV/00000006/odd-registry/things, UA/GOV/00000002/business-registry/companies]
  - id: benefits-reads-persons
    clients: [UA/GOV/00000004/benefits]
    services: [UA/GOV/00000001/civil-registry/persons, UA/GOV/00000006/odd-registry/things]
    fields: [id, birth_date, marital_status]
  - id: benefits-reads-companies
    clients: [UA/GOV/00000004/benefits]
    services: [UA/GOV/00000002/business-registry/companies]
    fields: [code, name, address.city]
message_log:
  subject_key: test-subject-key-0123456789
`

// oddRegistry answers whatever its path asks for, every answer holding the
// secret: the fields a limited client must never see.
var oddRegistry = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	send := func(status int, contentType, body string) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
	switch r.URL.Path {
	case "/text":
		send(200, "text/plain", `{"id":"1","family_name":"`+secret+`"}`)
	case "/xml":
		send(200, "application/xml", `<person><id>1</id><family_name>`+secret+`</family_name></person>`)
	case "/broken":
		send(200, "application/json", `{"id":"1","family_name":"`+secret+`"`)
	case "/none":
		send(200, "", `{"id":"1","family_name":"`+secret+`"}`)
	case "/html-error":
		send(502, "text/html", `<html>upstream `+secret+`</html>`)
	case "/problem":
		send(409, "application/problem+json", `{"id":"1","title":"conflict","detail":"`+secret+`"}`)
	case "/list":
		send(200, "application/json", `[{"id":"1","family_name":"`+secret+`","birth_date":"1970-01-01"},{"id":"2","family_name":"`+secret+`"}]`)
	case "/empty":
		w.WriteHeader(http.StatusNoContent)
	default:
		send(404, "application/json", `{"error":"not found"}`)
	}
})

// records is an in-memory message log.
type records struct {
	mu   sync.Mutex
	list []*audit.Record
}

func (r *records) Append(_ context.Context, rec *audit.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.list = append(r.list, rec)
	return nil
}

func (r *records) responses() []*audit.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*audit.Record
	for _, rec := range r.list {
		if rec.Kind == audit.KindResponse {
			out = append(out, rec)
		}
	}
	return out
}

type world struct {
	bus   *httptest.Server
	log   *records
	civil *registrysim.Civil
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{log: &records{}, civil: registrysim.NewCivilRegistry()}
	civil := httptest.NewServer(w.civil)
	t.Cleanup(civil.Close)
	odd := httptest.NewServer(oddRegistry)
	t.Cleanup(odd.Close)
	business := httptest.NewServer(registrysim.NewBusiness())
	t.Cleanup(business.Close)
	src := fmt.Sprintf(worldConfig, civil.URL, odd.URL, business.URL, authn.HashKey(eserviceKey), authn.HashKey(benefitsKey))
	cfg, problems, err := config.Parse([]byte(src), ".", func(string) string { return "" })
	if err != nil {
		t.Fatalf("config: %v", problems)
	}
	snap, err := node.Build(cfg, node.Options{AuditLog: w.log})
	if err != nil {
		t.Fatal(err)
	}
	if snap.Minimiser == nil {
		t.Fatal("node.Build set no Minimiser although a rule lists fields")
	}
	w.bus = httptest.NewServer(gateway.NewHandler(gateway.Options{Holder: gateway.NewHolder(snap)}))
	t.Cleanup(w.bus.Close)
	return w
}

func (w *world) get(t *testing.T, client, key, target string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", w.bus.URL+target, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Road-Client", client)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func benefits(t *testing.T, w *world, target string) (*http.Response, []byte) {
	return w.get(t, "UA/GOV/00000004/benefits", benefitsKey, target)
}

func eservice(t *testing.T, w *world, target string) (*http.Response, []byte) {
	return w.get(t, "UA/GOV/00000003/eservice", eserviceKey, target)
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestThroughTheChain runs answers through the real handler chain: the
// limited client receives only its fields, the other the whole answer,
// and an answer that cannot be filtered never reaches the limited client.
func TestThroughTheChain(t *testing.T) {
	w := newWorld(t)

	t.Run("limited client gets only its fields", func(t *testing.T) {
		resp, body := benefits(t, w, personsSvc+"/persons/1000000001")
		if resp.StatusCode != 200 || resp.Header.Get("X-Road-Error") != "" {
			t.Fatalf("status %d, X-Road-Error %q, body %s", resp.StatusCode, resp.Header.Get("X-Road-Error"), body)
		}
		p, _ := registrysim.PersonByID("1000000001")
		want := fmt.Sprintf(`{"id":%q,"birth_date":%q,"marital_status":%q}`, p.ID, p.BirthDate, p.MaritalStatus)
		if string(body) != want {
			t.Errorf("body = %s, want %s", body, want)
		}
		if cl := resp.Header.Get("Content-Length"); cl != fmt.Sprint(len(body)) {
			t.Errorf("Content-Length = %q, want %d", cl, len(body))
		}
		if ct := resp.Header.Get("Content-Type"); !minimise.IsJSON(ct) {
			t.Errorf("Content-Type = %q", ct)
		}
		// The message log's response record has the digest of what the
		// client received, and the digest of the registry's whole answer.
		recs := w.log.responses()
		last := recs[len(recs)-1]
		if last.BodySHA256 != sha(body) || last.Size != int64(len(body)) || last.RuleID != "benefits-reads-persons" {
			t.Errorf("response record: rule %s, size %d, digest %s; want the received body's (%d, %s)",
				last.RuleID, last.Size, last.BodySHA256, len(body), sha(body))
		}
		whole, _ := w.civil.PersonJSON("1000000001")
		if last.OriginalSHA256 != sha(whole) {
			t.Errorf("response record: original digest %q, want the registry's answer's %s", last.OriginalSHA256, sha(whole))
		}
	})

	t.Run("client without a field list gets the whole person", func(t *testing.T) {
		resp, body := eservice(t, w, personsSvc+"/persons/1000000001")
		whole, _ := w.civil.PersonJSON("1000000001")
		if resp.StatusCode != 200 || !bytes.Equal(body, whole) {
			t.Errorf("status %d, body %s; want the registry's answer %s", resp.StatusCode, body, whole)
		}
		if recs := w.log.responses(); recs[len(recs)-1].OriginalSHA256 != "" {
			t.Errorf("an answer passed whole has an original digest: %q", recs[len(recs)-1].OriginalSHA256)
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil || m["given_name"] == nil || m["address"] == nil || m["children"] == nil {
			t.Errorf("whole person lacks fields: %s", body)
		}
	})

	t.Run("registry's own error answer is filtered too", func(t *testing.T) {
		resp, body := benefits(t, w, personsSvc+"/persons/999")
		if resp.StatusCode != 404 || string(body) != `{}` || resp.Header.Get("X-Road-Error") != "" {
			t.Errorf("status %d, body %s, X-Road-Error %q; want the registry's 404 with no field", resp.StatusCode, body, resp.Header.Get("X-Road-Error"))
		}
		resp, body = benefits(t, w, oddSvc+"/problem")
		if resp.StatusCode != 409 || string(body) != `{"id":"1"}` {
			t.Errorf("problem+json: status %d, body %s", resp.StatusCode, body)
		}
	})

	t.Run("top-level array filtered element by element", func(t *testing.T) {
		resp, body := benefits(t, w, oddSvc+"/list")
		if resp.StatusCode != 200 || string(body) != `[{"id":"1","birth_date":"1970-01-01"},{"id":"2"}]` {
			t.Errorf("status %d, body %s", resp.StatusCode, body)
		}
	})

	t.Run("no content stays no content", func(t *testing.T) {
		resp, body := benefits(t, w, oddSvc+"/empty")
		if resp.StatusCode != 204 || len(body) != 0 {
			t.Errorf("status %d, body %q", resp.StatusCode, body)
		}
	})

	t.Run("REST-to-SOAP answer filtered", func(t *testing.T) {
		resp, body := benefits(t, w, "/r1/UA/GOV/00000002/business-registry/companies/companies/10000042")
		c, _ := registrysim.CompanyByCode("10000042")
		want := fmt.Sprintf(`{"code":%q,"name":%q,"address":{"city":%q}}`, c.Code, c.Name, c.Address.City)
		if resp.StatusCode != 200 || string(body) != want {
			t.Errorf("status %d, body %s; want %s", resp.StatusCode, body, want)
		}
	})

	t.Run("X-Road SOAP answer fails closed", func(t *testing.T) {
		c, _ := registrysim.CompanyByCode("10000042")
		post := func(member, subsystem, key string) (*http.Response, []byte) {
			req, _ := http.NewRequest("POST", w.bus.URL+"/", strings.NewReader(soapRequest(member, subsystem, "10000042")))
			req.Header.Set("Content-Type", "text/xml; charset=utf-8")
			req.Header.Set("Authorization", "Bearer "+key)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return resp, body
		}
		// The same call by a client without a field list gets the answer.
		resp, body := post("00000003", "eservice", eserviceKey)
		if resp.StatusCode != 200 || !bytes.Contains(body, []byte(c.Director)) {
			t.Fatalf("client without a field list: status %d, body %s", resp.StatusCode, body)
		}
		resp, body = post("00000004", "benefits", benefitsKey)
		if resp.Header.Get("X-Road-Error") != "Server.InternalError" || !bytes.Contains(body, []byte("Fault")) {
			t.Errorf("status %d, X-Road-Error %q, body %s; want a SOAP Fault", resp.StatusCode, resp.Header.Get("X-Road-Error"), body)
		}
		if bytes.Contains(body, []byte(c.Director)) || bytes.Contains(body, []byte("director")) {
			t.Errorf("the unfiltered SOAP answer reached the consumer: %s", body)
		}
	})

	for _, path := range []string{"/text", "/xml", "/broken", "/none", "/html-error"} {
		t.Run("fails closed on "+path, func(t *testing.T) {
			before := len(w.log.responses())
			resp, body := benefits(t, w, oddSvc+path)
			if resp.StatusCode != 500 || resp.Header.Get("X-Road-Error") != "Server.InternalError" {
				t.Errorf("status %d, X-Road-Error %q; want 500 Server.InternalError", resp.StatusCode, resp.Header.Get("X-Road-Error"))
			}
			if bytes.Contains(body, []byte(secret)) || bytes.Contains(body, []byte("family_name")) {
				t.Errorf("the unfiltered answer reached the consumer: %s", body)
			}
			var e struct{ Type, Message, Detail string }
			if err := json.Unmarshal(body, &e); err != nil || e.Type != "Server.InternalError" || e.Detail == "" {
				t.Errorf("error body %s (%v)", body, err)
			}
			recs := w.log.responses()
			if len(recs) != before+1 || recs[len(recs)-1].ErrorType != "Server.InternalError" {
				t.Errorf("the response record does not show the refusal")
			}
			// The same answer passes whole to the client without a field list.
			resp, body = eservice(t, w, oddSvc+path)
			if resp.Header.Get("X-Road-Error") != "" || !bytes.Contains(body, []byte(secret)) {
				t.Errorf("client without a field list: status %d, body %s", resp.StatusCode, body)
			}
		})
	}
}

// soapRequest is an X-Road SOAP 4.0 request of the business registry's
// companies service.
func soapRequest(member, subsystem, code string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"
    xmlns:xrd="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers"
    xmlns:bus="http://business-registry.gov.ua/ws">
  <SOAP-ENV:Header>
    <xrd:client id:objectType="SUBSYSTEM">
      <id:xRoadInstance>UA</id:xRoadInstance><id:memberClass>GOV</id:memberClass>
      <id:memberCode>` + member + `</id:memberCode><id:subsystemCode>` + subsystem + `</id:subsystemCode>
    </xrd:client>
    <xrd:service id:objectType="SERVICE">
      <id:xRoadInstance>UA</id:xRoadInstance><id:memberClass>GOV</id:memberClass>
      <id:memberCode>00000002</id:memberCode><id:subsystemCode>business-registry</id:subsystemCode>
      <id:serviceCode>companies</id:serviceCode>
    </xrd:service>
    <xrd:id>test-soap-1</xrd:id>
    <xrd:protocolVersion>4.0</xrd:protocolVersion>
  </SOAP-ENV:Header>
  <SOAP-ENV:Body>
    <bus:companies><bus:code>` + code + `</bus:code></bus:companies>
  </SOAP-ENV:Body>
</SOAP-ENV:Envelope>`
}

// TestBuildWithoutFields checks that a configuration whose rules list no
// fields gets no Minimiser at all.
func TestBuildWithoutFields(t *testing.T) {
	var lines []string
	for _, l := range strings.Split(fmt.Sprintf(worldConfig, "http://127.0.0.1:9", "http://127.0.0.1:9", "http://127.0.0.1:9",
		authn.HashKey(eserviceKey), authn.HashKey(benefitsKey)), "\n") {
		if !strings.HasPrefix(l, "    fields:") {
			lines = append(lines, l)
		}
	}
	src := strings.Join(lines, "\n")
	cfg, problems, err := config.Parse([]byte(src), ".", func(string) string { return "" })
	if err != nil {
		t.Fatalf("config: %v", problems)
	}
	snap, err := node.Build(cfg, node.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if snap.Minimiser != nil {
		t.Errorf("Minimiser = %v, want none", snap.Minimiser)
	}
}

// TestDemo checks the demo's agreement: the benefits system reads only id,
// birth_date and marital_status, and the README's call for it stays 200.
func TestDemo(t *testing.T) {
	cfg, problems, err := config.Load(filepath.Join("..", "deploy", "demo", "govbus.yaml"), func(string) string { return "" })
	if err != nil {
		t.Fatalf("demo config: %v", problems)
	}
	var fields []string
	for _, r := range cfg.Rules {
		if r.ID == "benefits-reads-persons" {
			fields = r.Fields
		} else if len(r.Fields) > 0 {
			t.Errorf("rule %s lists fields %v", r.ID, r.Fields)
		}
	}
	if want := []string{"id", "birth_date", "marital_status"}; !slices.Equal(fields, want) {
		t.Errorf("benefits-reads-persons fields = %v, want %v", fields, want)
	}
	civil := httptest.NewServer(registrysim.NewCivil())
	t.Cleanup(civil.Close)
	for i := range cfg.Registries {
		if cfg.Registries[i].ID == "UA/GOV/00000001/civil-registry" {
			cfg.Registries[i].Endpoints = []string{civil.URL}
		}
	}
	snap, err := node.Build(cfg, node.Options{})
	if err != nil {
		t.Fatal(err)
	}
	bus := httptest.NewServer(gateway.NewHandler(gateway.Options{Holder: gateway.NewHolder(snap)}))
	t.Cleanup(bus.Close)

	// The README's example call of the benefits system.
	req, _ := http.NewRequest("GET", bus.URL+"/r1/UA/GOV/00000001/civil-registry/persons/persons/1000000001", nil)
	req.Header.Set("X-Road-Client", "UA/GOV/00000004/benefits")
	req.Header.Set("Authorization", "Bearer demo-benefits-key")
	req.Header.Set("X-Road-Purpose", "benefit-eligibility")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var got map[string]any
	if resp.StatusCode != 200 || json.Unmarshal(body, &got) != nil {
		t.Fatalf("status %d, body %s; want 200 and JSON", resp.StatusCode, body)
	}
	keys := make([]string, 0, len(got))
	for k := range got {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"birth_date", "id", "marital_status"}; !slices.Equal(keys, want) {
		t.Errorf("benefits received %v, want only %v: %s", keys, want, body)
	}
}
