package soap

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/govbus/govbus/adapters/rest"
	"github.com/govbus/govbus/gateway"
	"github.com/govbus/govbus/outbound"
	"github.com/govbus/govbus/registrysim"
)

// sentEnvelope is a request envelope as a registry decodes it.
type sentEnvelope struct {
	XMLName xml.Name
	Header  struct {
		Client          sentID `xml:"http://x-road.eu/xsd/xroad.xsd client"`
		Service         sentID `xml:"http://x-road.eu/xsd/xroad.xsd service"`
		UserID          string `xml:"http://x-road.eu/xsd/xroad.xsd userId"`
		ID              string `xml:"http://x-road.eu/xsd/xroad.xsd id"`
		Issue           string `xml:"http://x-road.eu/xsd/xroad.xsd issue"`
		ProtocolVersion string `xml:"http://x-road.eu/xsd/xroad.xsd protocolVersion"`
	} `xml:"Header"`
	Body struct {
		Op struct {
			XMLName xml.Name
			Code    struct {
				XMLName xml.Name
				Value   string `xml:",chardata"`
			} `xml:"code"`
		} `xml:",any"`
	} `xml:"Body"`
}

type sentID struct {
	ObjectType string `xml:"http://x-road.eu/xsd/identifiers objectType,attr"`
	Parts      []struct {
		XMLName xml.Name
		Value   string `xml:",chardata"`
	} `xml:",any"`
}

func (id sentID) String() string {
	s := id.ObjectType
	for _, p := range id.Parts {
		s += " " + p.XMLName.Local + "=" + p.Value
	}
	return s
}

func decodeSent(t *testing.T, body []byte) sentEnvelope {
	t.Helper()
	var env sentEnvelope
	if err := xml.Unmarshal(body, &env); err != nil {
		t.Fatalf("decoding the envelope sent %q: %v", body, err)
	}
	return env
}

func TestRESTToSOAPCompany(t *testing.T) {
	sim := registrysim.NewBusiness()
	reg := newRegistry(t, sim)
	a := newAdapter(t, reg.URL, Config{})
	resp := exchange(t, a, restCall(t, "/companies/10000042"))

	if resp.Status != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("answer: got %d %q %q, want 200 application/json", resp.Status, resp.Header.Get("Content-Type"), resp.Body)
	}
	var got registrysim.Company
	dec := json.NewDecoder(bytes.NewReader(resp.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("decoding %q: %v", resp.Body, err)
	}
	if want, _ := registrysim.CompanyByCode("10000042"); !reflect.DeepEqual(got, want) {
		t.Errorf("company:\ngot  %+v\nwant %+v", got, want)
	}
	if !bytes.HasPrefix(resp.Body, []byte(`{"code":"10000042","name":"`)) {
		t.Errorf("body: got %q, want the elements' document order", resp.Body)
	}
	if resp.Forwarded != "/" || resp.Attempts != 1 {
		t.Errorf("Forwarded, Attempts: got %q %d, want / 1", resp.Forwarded, resp.Attempts)
	}

	body, h := reg.last(t)
	for name, want := range map[string]string{
		"Content-Type": "text/xml; charset=utf-8", "Soapaction": `""`, "Accept": "text/xml",
		"X-Road-Client": eservice, "X-Road-Id": "msg-42", "X-Forwarded-For": "192.0.2.1", "User-Agent": "",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("header %s: got %q, want %q", name, got, want)
		}
	}
	env := decodeSent(t, body)
	if env.XMLName.Space != soap11Namespace {
		t.Errorf("envelope namespace: got %q, want SOAP 1.1", env.XMLName.Space)
	}
	hd := env.Header
	if got, want := hd.Client.String(), "SUBSYSTEM xRoadInstance=UA memberClass=GOV memberCode=00000003 subsystemCode=eservice"; got != want {
		t.Errorf("xrd:client: got %s, want %s", got, want)
	}
	if got, want := hd.Service.String(), "SERVICE xRoadInstance=UA memberClass=GOV memberCode=00000002 subsystemCode=business-registry serviceCode=companies"; got != want {
		t.Errorf("xrd:service: got %s, want %s", got, want)
	}
	if hd.UserID != "UA1234567890" || hd.ID != "msg-42" || hd.Issue != "case <7> & co" || hd.ProtocolVersion != "4.0" {
		t.Errorf("userId, id, issue, protocolVersion: got %q %q %q %q", hd.UserID, hd.ID, hd.Issue, hd.ProtocolVersion)
	}
	op := env.Body.Op
	if op.XMLName.Space != registrysim.BusinessNamespace || op.XMLName.Local != "getCompany" ||
		op.Code.XMLName.Space != registrysim.BusinessNamespace || op.Code.Value != "10000042" {
		t.Errorf("operation: got %+v, want getCompany with code 10000042, qualified", op)
	}
}

func TestRESTToSOAPFaults(t *testing.T) {
	reg := newRegistry(t, registrysim.NewBusiness())
	withNotFound := newAdapter(t, reg.URL, Config{})
	plain := businessMapping
	plain.NotFoundFault = ""
	without := newAdapter(t, reg.URL, Config{Services: map[string]ServiceMapping{"companies": plain}})
	for _, tt := range []struct {
		name       string
		a          *Adapter
		path       string
		wantStatus int
		wantBody   string
	}{
		{"unknown, mapped to 404", withNotFound, "/companies/10009999", http.StatusNotFound,
			`{"faultcode":"SOAP-ENV:Client","faultstring":"company not found"}`},
		{"unknown, no mapping to 404", without, "/companies/10009999", http.StatusInternalServerError,
			`{"faultcode":"SOAP-ENV:Client","faultstring":"company not found"}`},
		{"malformed code", withNotFound, "/companies/abc", http.StatusInternalServerError,
			`{"faultcode":"SOAP-ENV:Client","faultstring":"invalid company code: want 8 digits"}`},
		{"encoded markup stays text", withNotFound, "/companies/%3Ccode%3E", http.StatusInternalServerError,
			`{"faultcode":"SOAP-ENV:Client","faultstring":"invalid company code: want 8 digits"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp := exchange(t, tt.a, restCall(t, tt.path))
			if resp.Status != tt.wantStatus || strings.TrimSpace(string(resp.Body)) != tt.wantBody ||
				resp.Header.Get("Content-Type") != "application/json" {
				t.Errorf("got %d %q %q, want %d application/json %s", resp.Status, resp.Header.Get("Content-Type"), resp.Body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

func TestRESTToSOAPUnmapped(t *testing.T) {
	reg := newRegistry(t, explosive(t))
	a := newAdapter(t, reg.URL, Config{})
	for _, path := range []string{"", "/", "/companies", "/companies/", "/companies/10000042/", "/companies/10000042/x",
		"/persons/1000000001", "/companies/%zz"} {
		_, err := a.Exchange(context.Background(), restCall(t, path))
		wantError(t, err, gateway.CodeBadRequest)
		if err != nil && strings.Contains(err.Error(), "10000042") {
			t.Errorf("%q: the error repeats the path: %v", path, err)
		}
	}
	other := restCall(t, "/companies/10000042")
	other.Route = route(t, "UA/GOV/00000002/business-registry/founders")
	_, err := a.Exchange(context.Background(), other)
	wantError(t, err, gateway.CodeBadRequest)
}

// TestPassthrough sends X-Road SOAP requests through and expects exactly
// what the registry answers, faults included.
func TestPassthrough(t *testing.T) {
	reg := newRegistry(t, registrysim.NewBusiness())
	a := newAdapter(t, reg.URL, Config{Auth: rest.Auth{Type: "bearer", Value: "registry-key"}})
	for _, code := range []string{"10000042", "10009999"} {
		env := xroadEnvelope(code)
		direct := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(env))
		req.Header.Set("Content-Type", "text/xml; charset=utf-8")
		registrysim.NewBusinessRegistry().ServeHTTP(direct, req)

		resp := exchange(t, a, soapCall(t, env))
		if resp.Status != direct.Code || !bytes.Equal(resp.Body, direct.Body.Bytes()) ||
			resp.Header.Get("Content-Type") != direct.Header().Get("Content-Type") {
			t.Errorf("%s: got %d %q %q,\nwant the registry's own %d %q %q", code, resp.Status, resp.Header.Get("Content-Type"), resp.Body,
				direct.Code, direct.Header().Get("Content-Type"), direct.Body)
		}
		body, h := reg.last(t)
		if string(body) != env {
			t.Errorf("%s: the registry received %q, want the request unchanged", code, body)
		}
		if h.Get("Soapaction") != `"getCompany"` || h.Get("Authorization") != "Bearer registry-key" || h.Get("User-Agent") != "" {
			t.Errorf("%s: headers SOAPAction %q, Authorization %q, User-Agent %q", code, h.Get("Soapaction"), h.Get("Authorization"), h.Get("User-Agent"))
		}
	}
	if resp := exchange(t, a, soapCall(t, xroadEnvelope("10009999"))); resp.Status != http.StatusInternalServerError {
		t.Errorf("a Fault: got status %d, want the registry's 500", resp.Status)
	}
}

func TestIsSOAPRequest(t *testing.T) {
	for _, tt := range []struct {
		method, contentType string
		want                bool
	}{
		{http.MethodPost, "text/xml", true},
		{http.MethodPost, "text/xml; charset=utf-8", true},
		{http.MethodPost, "Text/XML; charset=UTF-8", true},
		{http.MethodPost, "application/soap+xml; charset=utf-8; action=\"x\"", true},
		{http.MethodPost, `multipart/related; type="text/xml"; boundary=b`, true},
		{http.MethodPost, "multipart/mixed; boundary=b", true},
		{http.MethodPost, "application/json", false},
		{http.MethodPost, "application/xml", false},
		{http.MethodPost, "", false},
		{http.MethodPost, "text/xml;;", false},
		{http.MethodGet, "text/xml", false},
		{http.MethodPut, "text/xml", false},
	} {
		out := &gateway.Outbound{Method: tt.method, Header: http.Header{}}
		if tt.contentType != "" {
			out.Header.Set("Content-Type", tt.contentType)
		}
		if got := isSOAPRequest(out); got != tt.want {
			t.Errorf("%s %q: got %v, want %v", tt.method, tt.contentType, got, tt.want)
		}
	}
}

// TestRetries: a REST-to-SOAP GET is re-sent on 503, a SOAP POST is not
// (unless its service is idempotent), counted by the simulator.
func TestRetries(t *testing.T) {
	sim := registrysim.NewBusiness()
	srv := httptest.NewServer(sim)
	defer srv.Close()
	if err := sim.SetFaults(registrysim.Faults{Status: http.StatusServiceUnavailable, Rate: 1}); err != nil {
		t.Fatal(err)
	}
	a := newAdapter(t, srv.URL, Config{Outbound: outbound.Config{Retry: outbound.Retry{Max: 2}, Breaker: outbound.Breaker{Disabled: true}}})

	idempotent := soapCall(t, xroadEnvelope("10000042"))
	idempotent.Route.Idempotent = true
	for _, tt := range []struct {
		name         string
		out          *gateway.Outbound
		wantRequests int64
	}{
		{"REST-to-SOAP GET", restCall(t, "/companies/10000042"), 3},
		{"SOAP POST", soapCall(t, xroadEnvelope("10000042")), 1},
		{"SOAP POST, idempotent service", idempotent, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sim.ResetStats()
			resp := exchange(t, a, tt.out)
			if got := sim.Requests(); got != tt.wantRequests {
				t.Errorf("requests: got %d, want %d", got, tt.wantRequests)
			}
			// The registry's last answer, not SOAP, passes through unchanged.
			if resp.Status != http.StatusServiceUnavailable || strings.TrimSpace(string(resp.Body)) != `{"error":"injected fault"}` {
				t.Errorf("answer: got %d %q, want the simulator's 503", resp.Status, resp.Body)
			}
		})
	}
}

// TestSOAP12 talks to a SOAP 1.2 registry: the request's content type and
// envelope, a result and a Fault.
func TestSOAP12(t *testing.T) {
	const result = `<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Header/><env:Body>` +
		`<m:getCompanyResponse xmlns:m="urn:biz"><m:company><m:code>10000042</m:code><m:name>TOV Kyivska Pekarnia</m:name></m:company></m:getCompanyResponse>` +
		`</env:Body></env:Envelope>`
	const fault = `<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body><env:Fault>` +
		`<env:Code><env:Value>env:Sender</env:Value></env:Code><env:Reason><env:Text xml:lang="en">company not found</env:Text></env:Reason>` +
		`<env:Detail><m:code xmlns:m="urn:biz">10009999</m:code></env:Detail></env:Fault></env:Body></env:Envelope>`
	reg := newRegistry(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var env sentEnvelope
		_ = xml.NewDecoder(r.Body).Decode(&env)
		w.Header().Set("Content-Type", "application/soap+xml; charset=utf-8")
		switch {
		case env.XMLName.Space != soap12Namespace:
			w.WriteHeader(http.StatusBadRequest)
		case env.Body.Op.Code.Value == "10000042":
			_, _ = w.Write([]byte(result))
		default:
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(fault))
		}
	}))
	m := businessMapping
	m.Namespace, m.SOAPAction = "urn:biz", "urn:biz#getCompany"
	a := newAdapter(t, reg.URL, Config{SOAP12: true, Services: map[string]ServiceMapping{"companies": m}})

	resp := exchange(t, a, restCall(t, "/companies/10000042"))
	if want := `{"code":"10000042","name":"TOV Kyivska Pekarnia"}`; resp.Status != http.StatusOK || strings.TrimSpace(string(resp.Body)) != want {
		t.Errorf("result: got %d %q, want 200 %s", resp.Status, resp.Body, want)
	}
	_, h := reg.last(t)
	if got, want := h.Get("Content-Type"), `application/soap+xml; charset=utf-8; action="urn:biz#getCompany"`; got != want {
		t.Errorf("Content-Type: got %q, want %q", got, want)
	}
	if h.Get("Soapaction") != "" || h.Get("Accept") != "application/soap+xml" {
		t.Errorf("SOAPAction, Accept: got %q %q, want none and application/soap+xml", h.Get("Soapaction"), h.Get("Accept"))
	}
	resp = exchange(t, a, restCall(t, "/companies/10009999"))
	if want := `{"faultcode":"env:Sender","faultstring":"company not found","detail":{"code":"10009999"}}`; resp.Status != http.StatusNotFound || strings.TrimSpace(string(resp.Body)) != want {
		t.Errorf("fault: got %d %q, want 404 %s", resp.Status, resp.Body, want)
	}
}

// TestTemplate renders the operation from a template: path params, query
// params, and escaping of both.
func TestTemplate(t *testing.T) {
	reg := newRegistry(t, registrysim.NewBusiness())
	m := ServiceMapping{
		Path:          "/companies/{code}",
		Template:      `<b:getCompany xmlns:b="http://business-registry.gov.ua/ws"><b:code>{{.code}}</b:code><!--{{.note}}|{{.absent}}--></b:getCompany>`,
		ResultElement: "company", NotFoundFault: "not found",
	}
	a := newAdapter(t, reg.URL, Config{Services: map[string]ServiceMapping{"companies": m}})
	out := restCall(t, "/companies/10000042")
	out.RawQuery = "note=a%3Cb%3E%26c&code=99999999"
	resp := exchange(t, a, out)
	var got registrysim.Company
	if err := json.Unmarshal(resp.Body, &got); err != nil || got.Code != "10000042" {
		t.Errorf("got %d %q (%v), want company 10000042: a query param never overrides a path param", resp.Status, resp.Body, err)
	}
	body, _ := reg.last(t)
	if !bytes.Contains(body, []byte(`<!--a&lt;b&gt;&amp;c|-->`)) {
		t.Errorf("the registry received %q, want the query param escaped and a missing one empty", body)
	}

	// A value that would close the element stays text.
	reg2 := newRegistry(t, answer(http.StatusOK, "text/xml", `<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><r><company/></r></S:Body></S:Envelope>`))
	a2 := newAdapter(t, reg2.URL, Config{Services: map[string]ServiceMapping{"companies": m}})
	exchange(t, a2, restCall(t, "/companies/1%3C%2Fb:code%3E%3Cx%3E"))
	body, _ = reg2.last(t)
	if env := decodeSent(t, body); env.Body.Op.Code.Value != "1</b:code><x>" {
		t.Errorf("code: got %q, want the decoded path segment as text", env.Body.Op.Code.Value)
	}
}

func TestNewRefusesBadMappings(t *testing.T) {
	for _, tt := range []struct {
		name string
		m    ServiceMapping
	}{
		{"no operation", ServiceMapping{Path: "/companies/{code}"}},
		{"operation not a name", ServiceMapping{Operation: "get Company"}},
		{"operation starting with a digit", ServiceMapping{Operation: "1get"}},
		{"relative path", ServiceMapping{Operation: "op", Path: "companies/{code}"}},
		{"param not a name", ServiceMapping{Operation: "op", Path: "/companies/{co de}"}},
		{"param not closed", ServiceMapping{Operation: "op", Path: "/companies/{code"}},
		{"brace in a literal", ServiceMapping{Operation: "op", Path: "/comp{anies}/x"}},
		{"empty segment", ServiceMapping{Operation: "op", Path: "/companies//{code}"}},
		{"duplicate param", ServiceMapping{Operation: "op", Path: "/{code}/{code}"}},
		{"template syntax", ServiceMapping{Template: "<op>{{.code</op>"}},
		{"template of two elements", ServiceMapping{Template: "<a/><b/>"}},
		{"template not well-formed", ServiceMapping{Template: "<a><b></a>"}},
		{"template with a DTD", ServiceMapping{Template: `<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>`}},
		{"result element not a name", ServiceMapping{Operation: "op", ResultElement: "a/b"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(Config{Outbound: outbound.Config{Endpoints: nil}, Services: map[string]ServiceMapping{"svc": tt.m}})
			if err == nil || !strings.Contains(err.Error(), "service svc") {
				t.Errorf("got %v, want an error naming service svc", err)
			}
		})
	}
	if _, err := New(Config{}); err == nil {
		t.Error("no endpoints: got no error")
	}
}

func TestMatch(t *testing.T) {
	m, err := compileMapping(ServiceMapping{Operation: "op", Path: "/companies/{code}/founders/{n}"}, false)
	if err != nil {
		t.Fatal(err)
	}
	root, err := compileMapping(ServiceMapping{Operation: "op"}, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		m    *mapping
		path string
		want []string // nil: no match
	}{
		{m, "/companies/10000042/founders/2", []string{"10000042", "2"}},
		{m, "/companies/a%20b/founders/%C3%A4", []string{"a b", "ä"}},
		{m, "/companies/10000042/founders/", nil},
		{m, "/companies/10000042/founders/2/", nil},
		{m, "/companies/10000042/founders/2/x", nil},
		{m, "/companies//founders/2", nil},
		{m, "/companies/10000042/owners/2", nil},
		{m, "companies/10000042/founders/2", nil},
		{m, "/companies/%zz/founders/2", nil},
		{m, "", nil},
		{root, "", []string{}},
		{root, "/", []string{}},
		{root, "/x", nil},
	} {
		got, ok := tt.m.match(tt.path)
		if ok != (tt.want != nil) || ok && len(got)+len(tt.want) > 0 && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s on %q: got %q %v, want %q", tt.m.Path, tt.path, got, ok, tt.want)
		}
	}
}

func TestUpstreamCredential(t *testing.T) {
	for _, tt := range []struct {
		auth         rest.Auth
		header, want string
	}{
		{rest.Auth{Type: "bearer", Value: "k1"}, "Authorization", "Bearer k1"},
		{rest.Auth{Type: "basic", Username: "govbus", Value: "pw"}, "Authorization", "Basic Z292YnVzOnB3"},
		{rest.Auth{Type: "header", Header: "x-api-key", Value: "k2"}, "X-Api-Key", "k2"},
		{rest.Auth{}, "Authorization", ""},
	} {
		reg := newRegistry(t, registrysim.NewBusiness())
		a := newAdapter(t, reg.URL, Config{Auth: tt.auth})
		exchange(t, a, restCall(t, "/companies/10000042"))
		exchange(t, a, soapCall(t, xroadEnvelope("10000042")))
		if _, err := a.WSDL(context.Background()); err != nil {
			t.Fatal(err)
		}
		reg.mu.Lock()
		for i, h := range reg.headers {
			if got := h.Get(tt.header); got != tt.want {
				t.Errorf("%s, request %d: %s: got %q, want %q", tt.auth.Type, i, tt.header, got, tt.want)
			}
		}
		reg.mu.Unlock()
	}
}

func TestWSDL(t *testing.T) {
	reg := newRegistry(t, registrysim.NewBusiness())
	a := newAdapter(t, reg.URL, Config{})
	wsdl, err := a.WSDL(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		TargetNamespace string `xml:"targetNamespace,attr"`
		Operations      []struct {
			Name string `xml:"name,attr"`
		} `xml:"portType>operation"`
		Address struct {
			Location string `xml:"location,attr"`
		} `xml:"service>port>address"`
	}
	if err := xml.Unmarshal(wsdl, &d); err != nil {
		t.Fatal(err)
	}
	if d.TargetNamespace != registrysim.BusinessNamespace || len(d.Operations) != 1 || d.Operations[0].Name != "getCompany" ||
		d.Address.Location != reg.URL+"/" {
		t.Errorf("WSDL: got %+v, want getCompany at %s/", d, reg.URL)
	}
	_, h := reg.last(t)
	if h.Get("Accept") == "" || h.Get("User-Agent") != "" {
		t.Errorf("headers: %v", h)
	}

	for _, tt := range []struct {
		name   string
		status int
		body   string
	}{
		{"404", http.StatusNotFound, "no WSDL here"},
		{"not a WSDL", http.StatusOK, `<definitions/>`},
		{"a DTD", http.StatusOK, `<!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]><wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/">&e;</wsdl:definitions>`},
		{"not well-formed", http.StatusOK, `<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/">`},
	} {
		reg := newRegistry(t, answer(tt.status, "text/xml", tt.body))
		a := newAdapter(t, reg.URL, Config{})
		_, err := a.WSDL(context.Background())
		wantError(t, err, gateway.CodeInternalError)
	}
}
