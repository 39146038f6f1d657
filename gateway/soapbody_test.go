package gateway_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/govbus/govbus/authn"
	"github.com/govbus/govbus/gateway"
	"github.com/govbus/govbus/policies"
)

const (
	business   = "UA/GOV/00000002/business-registry"
	companies  = business + "/companies"
	eservice   = "UA/GOV/00000003/eservice"
	eserviceK  = "demo-eservice-key"
	covert     = "UA/GOV/00000009/police-covert"
	covertKey  = "covert-key"
	restTarget = "/r1/" + companies
)

// soapRegistry is a fake SOAP adapter: it records what it was given and
// answers with a SOAP envelope; hold, when set, blocks each exchange
// until it is closed, after telling entered.
type soapRegistry struct {
	mu        sync.Mutex
	got       []*gateway.Outbound
	bodies    [][]byte
	entered   chan struct{}
	hold      chan struct{}
	wsdl      string
	wsdlCalls int
}

func (a *soapRegistry) Exchange(ctx context.Context, out *gateway.Outbound) (*gateway.Response, error) {
	a.mu.Lock()
	a.got = append(a.got, out)
	a.bodies = append(a.bodies, append([]byte(nil), out.Body...))
	a.mu.Unlock()
	if a.hold != nil {
		a.entered <- struct{}{}
		<-a.hold
	}
	return &gateway.Response{Status: 200, Header: http.Header{"Content-Type": {"text/xml"}},
		Body: []byte(`<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><r/></S:Body></S:Envelope>`)}, nil
}

func (a *soapRegistry) CarriesSOAP() {}

func (a *soapRegistry) WSDL(context.Context) ([]byte, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.wsdlCalls++
	return []byte(a.wsdl), nil
}

func (a *soapRegistry) calls() []*gateway.Outbound {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]*gateway.Outbound(nil), a.got...)
}

var _ gateway.SOAPCarrier = (*soapRegistry)(nil)

// soapLog is a message log that keeps what it was asked to write.
type soapLog struct {
	mu        sync.Mutex
	requests  []gateway.Request
	responses []string // status or error type of each response record
}

func (l *soapLog) LogRequest(_ context.Context, req *gateway.Request) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.requests = append(l.requests, *req)
	return nil
}

func (l *soapLog) LogResponse(_ context.Context, _ *gateway.Request, resp *gateway.Response, err error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if resp != nil {
		l.responses = append(l.responses, http.StatusText(resp.Status))
	} else {
		l.responses = append(l.responses, string(gateway.CodeOf(err)))
	}
	return nil
}

func (l *soapLog) count() (int, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.requests), len(l.responses)
}

// soapWorld is a handler in front of a fake business registry whose
// companies service takes GET and POST, with its subject "in: soap".
type soapWorld struct {
	h   http.Handler
	reg *soapRegistry
	log *soapLog
}

func newSOAPWorld(t *testing.T, opts gateway.Options, reg *soapRegistry) *soapWorld {
	t.Helper()
	auth, err := authn.New([]authn.Client{
		{ID: eservice, KeyHashes: []string{authn.HashKey(eserviceK)}},
		{ID: covert, KeyHashes: []string{authn.HashKey(covertKey)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	engine, err := policies.Compile([]policies.Rule{
		{ID: "eservice-reads-companies", Clients: []string{eservice}, Services: []string{companies}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := gateway.ParseServiceID(companies)
	if err != nil {
		t.Fatal(err)
	}
	if reg == nil {
		reg = &soapRegistry{}
	}
	ml := &soapLog{}
	r := &gateway.Route{Service: svc, ServiceKey: companies, Registry: business, Methods: []string{"GET", "POST"},
		Paths: []string{"/companies/{code}"}, Timeout: time.Second, MaxRequestBytes: 1 << 20, Adapter: reg,
		Subject: &gateway.SubjectSpec{In: "soap", Name: "code"}, ServiceType: "WSDL"}
	snap := &gateway.Snapshot{
		Routes: map[string]*gateway.Route{companies: r}, Subsystems: map[string][]*gateway.Route{business: {r}},
		Authenticator: auth, Policy: engine, MessageLog: ml,
		KnownClients: map[string]bool{eservice: true, covert: true},
		PublicURL:    "https://govbus.example.gov.ua:8443",
	}
	opts.Holder = gateway.NewHolder(snap)
	return &soapWorld{h: gateway.NewHandler(opts), reg: reg, log: ml}
}

// envelope is an X-Road SOAP request to the companies service from client
// (an INSTANCE/CLASS/CODE/SUBSYSTEM id) with extra header fields and body.
func envelope(client, extra, body string) string {
	p := strings.Split(client, "/")
	return `<?xml version="1.0" encoding="UTF-8"?>
<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xrd="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers">
<S:Header>
<xrd:client id:objectType="SUBSYSTEM"><id:xRoadInstance>` + p[0] + `</id:xRoadInstance><id:memberClass>` + p[1] + `</id:memberClass><id:memberCode>` + p[2] + `</id:memberCode><id:subsystemCode>` + p[3] + `</id:subsystemCode></xrd:client>
<xrd:service id:objectType="SERVICE"><id:xRoadInstance>UA</id:xRoadInstance><id:memberClass>GOV</id:memberClass><id:memberCode>00000002</id:memberCode><id:subsystemCode>business-registry</id:subsystemCode><id:serviceCode>companies</id:serviceCode></xrd:service>
<xrd:id>m-1</xrd:id>` + extra + `
<xrd:protocolVersion>4.0</xrd:protocolVersion>
</S:Header>
<S:Body>` + body + `</S:Body>
</S:Envelope>`
}

const companyBody = `<b:companies xmlns:b="http://business-registry.gov.ua/ws"><b:code>10000042</b:code></b:companies>`

// send serves one request and returns the answer.
func (w *soapWorld) send(method, target, body string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	for _, h := range header {
		k, v, _ := strings.Cut(h, ": ")
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Add(k, v)
	}
	rec := httptest.NewRecorder()
	w.h.ServeHTTP(rec, req)
	return rec
}

var asEservice = []string{"X-Road-Client: " + eservice, "Authorization: Bearer " + eserviceK, "Content-Type: text/xml; charset=utf-8"}

// TestSOAPBodyOnRESTRoute replays SOAP bodies sent to the SOAP registry
// through its /r1 route: each one that is not this exchange's own is
// refused before it is logged, and the registry receives nothing.
func TestSOAPBodyOnRESTRoute(t *testing.T) {
	cases := []struct {
		name, body string
		extra      []string
	}{
		{"another client in xrd:client", envelope(covert, "", companyBody), nil},
		{"another service in xrd:service", strings.Replace(envelope(eservice, "", companyBody), "<id:serviceCode>companies", "<id:serviceCode>directors", 1), nil},
		{"a DTD", `<!DOCTYPE S:Envelope [<!ENTITY x "y">]>` + envelope(eservice, "", companyBody), nil},
		{"a Body element that is not the service code", envelope(eservice, "", `<b:directors xmlns:b="urn:b"/>`), nil},
		{"xrd:userId without X-Road-UserId", envelope(eservice, "<xrd:userId>EE123</xrd:userId>", companyBody), nil},
		{"xrd:userId other than X-Road-UserId", envelope(eservice, "<xrd:userId>EE123</xrd:userId>", companyBody), []string{"X-Road-UserId: EE999"}},
		{"xrd:issue without X-Road-Issue", envelope(eservice, "<xrd:issue>case-1</xrd:issue>", companyBody), nil},
		{"a represented party the headers do not name", envelope(eservice, `<repr:representedParty xmlns:repr="http://x-road.eu/xsd/representation.xsd"><repr:partyCode>P1</repr:partyCode></repr:representedParty>`, companyBody), nil},
		{"two Content-Types", envelope(eservice, "", companyBody), []string{"Content-Type: application/json"}},
		{"not well-formed", envelope(eservice, "", companyBody)[:200], nil},
		{"a repeated subject element", envelope(eservice, "", `<b:companies xmlns:b="urn:b"><b:code>10000042</b:code><b:code>10000043</b:code></b:companies>`), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newSOAPWorld(t, gateway.Options{}, nil)
			rec := w.send("POST", restTarget, tc.body, append(append([]string{}, asEservice...), tc.extra...)...)
			if rec.Code != 400 || rec.Header().Get("X-Road-Error") != "Client.BadRequest" {
				t.Errorf("status %d %q, want 400 Client.BadRequest: %s", rec.Code, rec.Header().Get("X-Road-Error"), rec.Body)
			}
			if n := len(w.reg.calls()); n != 0 {
				t.Errorf("the registry received %d requests, want none", n)
			}
			if reqs, _ := w.log.count(); reqs != 0 {
				t.Errorf("%d request records written for a refused body, want none", reqs)
			}
		})
	}
}

// TestSOAPBodyOnRESTRouteAccepted passes the exchange's own envelope on,
// byte for byte, with the checked envelope and its data subject.
func TestSOAPBodyOnRESTRouteAccepted(t *testing.T) {
	w := newSOAPWorld(t, gateway.Options{}, nil)
	body := envelope(eservice, "<xrd:userId>EE123</xrd:userId>", companyBody)
	rec := w.send("POST", restTarget, body, append(asEservice, "X-Road-UserId: EE123")...)
	if rec.Code != 200 {
		t.Fatalf("status %d %q: %s", rec.Code, rec.Header().Get("X-Road-Error"), rec.Body)
	}
	calls := w.reg.calls()
	if len(calls) != 1 {
		t.Fatalf("the registry received %d requests, want 1", len(calls))
	}
	if calls[0].SOAP == nil || string(w.reg.bodies[0]) != body {
		t.Errorf("forwarded SOAP = %v, body %q; want the checked envelope and the body as sent", calls[0].SOAP, w.reg.bodies[0])
	}
	if got := w.log.requests[0].SOAPSubject; got != "10000042" {
		t.Errorf("SOAPSubject = %q, want 10000042", got)
	}
}

// TestRESTCallToSOAPRegistry leaves REST calls to the adapter's mapping:
// no envelope, and the subject from the path parameter of the same name.
func TestRESTCallToSOAPRegistry(t *testing.T) {
	w := newSOAPWorld(t, gateway.Options{}, nil)
	rec := w.send("GET", restTarget+"/companies/10000042", "", asEservice[:2]...)
	if rec.Code != 200 {
		t.Fatalf("status %d %q: %s", rec.Code, rec.Header().Get("X-Road-Error"), rec.Body)
	}
	if c := w.reg.calls(); len(c) != 1 || c[0].SOAP != nil {
		t.Fatalf("calls = %v, want one without an envelope", c)
	}
	if got := w.log.requests[0].SOAPSubject; got != "10000042" {
		t.Errorf("SOAPSubject = %q, want the path's 10000042", got)
	}
	// A JSON body is no SOAP message: not parsed, the adapter maps the call.
	rec = w.send("POST", restTarget+"/companies/10000042", `{"code":"1"}`, asEservice[0], asEservice[1], "Content-Type: application/json")
	if rec.Code != 200 {
		t.Fatalf("JSON POST: status %d %q: %s", rec.Code, rec.Header().Get("X-Road-Error"), rec.Body)
	}
	if c := w.reg.calls(); len(c) != 2 || c[1].SOAP != nil {
		t.Errorf("JSON POST reached the adapter with an envelope")
	}
}

// TestSOAPPassthroughSubject reads the subject of POST / from the
// envelope, and refuses an ambiguous one before anything is logged.
func TestSOAPPassthroughSubject(t *testing.T) {
	w := newSOAPWorld(t, gateway.Options{}, nil)
	rec := w.send("POST", "/", envelope(eservice, "", companyBody), asEservice[1:]...)
	if rec.Code != 200 {
		t.Fatalf("status %d %q: %s", rec.Code, rec.Header().Get("X-Road-Error"), rec.Body)
	}
	if got := w.log.requests[0].SOAPSubject; got != "10000042" {
		t.Errorf("SOAPSubject = %q, want 10000042", got)
	}
	if c := w.reg.calls(); len(c) != 1 || c[0].SOAP == nil {
		t.Errorf("POST / reached the adapter without its envelope")
	}
	rec = w.send("POST", "/", envelope(eservice, "", `<b:companies xmlns:b="urn:b"><b:code> 10000042</b:code></b:companies>`), asEservice[1:]...)
	if rec.Header().Get("X-Road-Error") != "Client.BadRequest" {
		t.Errorf("padded subject: X-Road-Error %q, want Client.BadRequest", rec.Header().Get("X-Road-Error"))
	}
	if reqs, _ := w.log.count(); reqs != 1 {
		t.Errorf("%d request records, want 1 (the refused call logs none)", reqs)
	}
}

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// TestSOAPCredentialBeforeBody refuses an anonymous or falsely credentialed
// POST / before reading a byte of its body.
func TestSOAPCredentialBeforeBody(t *testing.T) {
	const size = 10 << 20
	for _, tc := range []struct {
		name   string
		header []string
	}{
		{"no credential", nil},
		{"an unknown key", []string{"Authorization: Bearer guess"}},
		{"X-Road-Client with another client's key", []string{"X-Road-Client: " + eservice, "Authorization: Bearer " + covertKey}},
		{"X-Road-Client without a credential", []string{"X-Road-Client: " + eservice}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newSOAPWorld(t, gateway.Options{}, nil)
			body := &countingReader{r: io.MultiReader(strings.NewReader(envelope(eservice, "", "")), bytes.NewReader(make([]byte, size)))}
			req := httptest.NewRequest("POST", "/", body)
			req.ContentLength = size
			req.Header.Set("Content-Type", "text/xml")
			for _, h := range tc.header {
				k, v, _ := strings.Cut(h, ": ")
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			w.h.ServeHTTP(rec, req)
			if got := rec.Header().Get("X-Road-Error"); got != "Client.Unauthenticated" {
				t.Errorf("X-Road-Error = %q, want Client.Unauthenticated", got)
			}
			if body.n != 0 {
				t.Errorf("%d bytes of the body were read before the credential was checked, want 0", body.n)
			}
		})
	}
}

// TestBodyBudget holds bodies open in the registry and checks that the
// node-wide budget refuses the body that would pass it, and that every
// way out of an exchange gives its share back.
func TestBodyBudget(t *testing.T) {
	body := envelope(eservice, "", companyBody)
	size := int64(len(body))
	reg := &soapRegistry{entered: make(chan struct{}), hold: make(chan struct{})}
	w := newSOAPWorld(t, gateway.Options{MaxBodyBytesInFlight: 2 * size}, reg)
	post := func() *httptest.ResponseRecorder { return w.send("POST", restTarget, body, asEservice...) }

	var wg sync.WaitGroup
	codes := make(chan int, 2)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes <- post().Code
		}()
		<-reg.entered
	}
	rec := post()
	if rec.Code != 503 || rec.Header().Get("X-Road-Error") != "Server.RegistryBusy" || rec.Header().Get("Retry-After") == "" {
		t.Errorf("third body: status %d %q, want 503 Server.RegistryBusy with Retry-After", rec.Code, rec.Header().Get("X-Road-Error"))
	}
	rec = w.send("POST", "/", body, asEservice[1:]...)
	if rec.Header().Get("X-Road-Error") != "Server.RegistryBusy" {
		t.Errorf("third body by POST /: X-Road-Error %q, want Server.RegistryBusy", rec.Header().Get("X-Road-Error"))
	}
	close(reg.hold)
	wg.Wait()
	reg.hold = nil // the registry answers at once from here on
	close(codes)
	for c := range codes {
		if c != 200 {
			t.Errorf("held body: status %d, want 200", c)
		}
	}
	// Refusals after the body was read, and answers, all give it back.
	for range 3 {
		if rec := w.send("POST", restTarget, envelope(covert, "", companyBody), asEservice...); rec.Code != 400 {
			t.Fatalf("foreign envelope: status %d", rec.Code)
		}
		if rec := w.send("POST", "/", envelope(covert, "", companyBody), asEservice[1:]...); rec.Header().Get("X-Road-Error") != "Client.Unauthenticated" {
			t.Fatalf("POST / with another client's envelope: %q", rec.Header().Get("X-Road-Error"))
		}
		if rec := post(); rec.Code != 200 {
			t.Fatalf("after release: status %d %q", rec.Code, rec.Header().Get("X-Road-Error"))
		}
	}
	// The whole budget is free again: two bodies can be held at once.
	reg.hold, reg.entered = make(chan struct{}), make(chan struct{})
	refused := make(chan *httptest.ResponseRecorder, 2)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if rec := post(); rec.Code != 200 {
				refused <- rec
			}
		}()
		select {
		case <-reg.entered:
		case rec := <-refused:
			t.Fatalf("after every exchange ended, a body was refused: %d %q", rec.Code, rec.Header().Get("X-Road-Error"))
		}
	}
	close(reg.hold)
	wg.Wait()
}

// deadlineWriter records the read deadlines a handler sets.
type deadlineWriter struct {
	*httptest.ResponseRecorder
	deadlines []time.Time
}

func (d *deadlineWriter) SetReadDeadline(t time.Time) error {
	d.deadlines = append(d.deadlines, t)
	return nil
}

// TestBodyReadDeadline checks the deadline a body is read against: the
// grace, then MinBodyRate, counted from the first byte's arrival on a fake
// clock; lifted once the body is read.
func TestBodyReadDeadline(t *testing.T) {
	now := time.Date(2026, 12, 8, 1, 0, 0, 0, time.UTC)
	for _, target := range []string{"/", restTarget} {
		w := newSOAPWorld(t, gateway.Options{Now: func() time.Time { return now }, BodyReadTimeout: 3 * time.Second}, nil)
		req := httptest.NewRequest("POST", target, strings.NewReader(envelope(eservice, "", companyBody)))
		for _, h := range asEservice {
			k, v, _ := strings.Cut(h, ": ")
			req.Header.Set(k, v)
		}
		dw := &deadlineWriter{ResponseRecorder: httptest.NewRecorder()}
		w.h.ServeHTTP(dw, req)
		if dw.Code != 200 {
			t.Fatalf("%s: status %d: %s", target, dw.Code, dw.Body)
		}
		if len(dw.deadlines) < 2 {
			t.Fatalf("%s: deadlines %v, want one per read and a last zero one", target, dw.deadlines)
		}
		first := now.Add(3*time.Second + time.Second) // 64 KiB at MinBodyRate
		if !dw.deadlines[0].Equal(first) {
			t.Errorf("%s: first deadline %v, want %v", target, dw.deadlines[0], first)
		}
		if last := dw.deadlines[len(dw.deadlines)-1]; !last.IsZero() {
			t.Errorf("%s: the deadline is not lifted after the body: %v", target, last)
		}
	}
}

// TestBodyBudgetChunked: a body of unknown length takes the budget as it
// arrives, and is refused once it would pass it.
func TestBodyBudgetChunked(t *testing.T) {
	w := newSOAPWorld(t, gateway.Options{MaxBodyBytesInFlight: 128 << 10}, nil)
	for _, target := range []string{"/", restTarget} {
		body := &countingReader{r: io.MultiReader(strings.NewReader(envelope(eservice, "", "")), bytes.NewReader(make([]byte, 512<<10)))}
		req := httptest.NewRequest("POST", target, io.NopCloser(body))
		req.ContentLength = -1
		for _, h := range asEservice {
			k, v, _ := strings.Cut(h, ": ")
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		w.h.ServeHTTP(rec, req)
		if got := rec.Header().Get("X-Road-Error"); got != "Server.RegistryBusy" {
			t.Errorf("%s: X-Road-Error %q, want Server.RegistryBusy", target, got)
		}
		if body.n > 128<<10+64<<10 {
			t.Errorf("%s: %d bytes read, want at most the budget and one step", target, body.n)
		}
	}
	if rec := w.send("POST", restTarget, envelope(eservice, "", companyBody), asEservice...); rec.Code != 200 {
		t.Errorf("after the refusals: status %d %q, want the budget back", rec.Code, rec.Header().Get("X-Road-Error"))
	}
}

// TestSOAPActionNamesTheOperation replays SOAP requests whose SOAPAction
// (the header, or SOAP 1.2's action parameter) names another operation
// than the Body's: registries that dispatch on it (Spring-WS @SoapAction,
// ASMX, WCF) would run an operation no rule allowed while the policy and
// the log saw the Body's service. Each is refused on both routes, and
// nothing reaches the registry; an empty action, or one that names the
// operation, passes.
func TestSOAPActionNamesTheOperation(t *testing.T) {
	withKey := []string{"Authorization: Bearer " + eserviceK}
	body := envelope(eservice, "", companyBody)
	refused := [][]string{
		{"Content-Type: text/xml; charset=utf-8", `SOAPAction: "urn:deleteCompany"`},
		{"Content-Type: text/xml; charset=utf-8", `SOAPAction: "http://business-registry.gov.ua/ws/deleteCompany"`},
		{"Content-Type: text/xml; charset=utf-8", `SOAPAction: deleteCompany`},
		{"Content-Type: text/xml; charset=utf-8", `SOAPAction: "companies/deleteCompany"`},
		{"Content-Type: text/xml; charset=utf-8", `SOAPAction: "xcompanies"`},
		{"Content-Type: text/xml; charset=utf-8", `SOAPAction: ""`, `SOAPAction: "urn:deleteCompany"`},
		{`Content-Type: application/soap+xml; charset=utf-8; action="urn:deleteCompany"`},
		{`Content-Type: application/soap+xml; action="urn:companies"`, `SOAPAction: "urn:deleteCompany"`},
	}
	accepted := [][]string{
		{"Content-Type: text/xml; charset=utf-8"},
		{"Content-Type: text/xml; charset=utf-8", `SOAPAction: ""`},
		{"Content-Type: text/xml; charset=utf-8", `SOAPAction: "companies"`},
		{"Content-Type: text/xml; charset=utf-8", `SOAPAction: "urn:companies"`},
		{"Content-Type: text/xml; charset=utf-8", `SOAPAction: "http://business-registry.gov.ua/ws/companies"`},
		{"Content-Type: text/xml; charset=utf-8", `SOAPAction: "http://business-registry.gov.ua/ws#companies"`},
		{`Content-Type: application/soap+xml; action="http://business-registry.gov.ua/ws/companies"`},
	}
	for _, route := range []struct {
		name, target string
		header       []string
	}{
		{"POST /", "/", withKey},
		{"/r1", restTarget, append([]string{"X-Road-Client: " + eservice}, withKey...)},
	} {
		for _, h := range refused {
			t.Run(route.name+" refused "+strings.Join(h, " "), func(t *testing.T) {
				w := newSOAPWorld(t, gateway.Options{}, nil)
				rec := w.send("POST", route.target, body, append(append([]string{}, route.header...), h...)...)
				if rec.Header().Get("X-Road-Error") != "Client.BadRequest" {
					t.Errorf("status %d %q, want Client.BadRequest: %s", rec.Code, rec.Header().Get("X-Road-Error"), rec.Body)
				}
				if n := len(w.reg.calls()); n != 0 {
					t.Errorf("the registry received %d requests, want none", n)
				}
			})
		}
		for _, h := range accepted {
			t.Run(route.name+" accepted "+strings.Join(h, " "), func(t *testing.T) {
				w := newSOAPWorld(t, gateway.Options{}, nil)
				rec := w.send("POST", route.target, body, append(append([]string{}, route.header...), h...)...)
				if rec.Code != 200 || len(w.reg.calls()) != 1 {
					t.Errorf("status %d %q, %d calls; want 200 and one call: %s", rec.Code, rec.Header().Get("X-Road-Error"), len(w.reg.calls()), rec.Body)
				}
			})
		}
	}
}

// TestSOAPBodyOnlyWithPOST replays a GET to the SOAP registry's /r1 route
// with a SOAP body naming another company than the path: the adapter maps
// the call from the path (the body is never sent), while the log took the
// subject from the body, so the path's company's Data Tracker missed the
// read. A SOAP body travels only with POST; any other method with one is
// refused before anything is logged.
func TestSOAPBodyOnlyWithPOST(t *testing.T) {
	other := strings.Replace(companyBody, "10000042", "10000043", 1)
	for _, method := range []string{"GET", "PUT", "PATCH", "DELETE"} {
		t.Run(method, func(t *testing.T) {
			w := newSOAPWorld(t, gateway.Options{}, nil)
			rec := w.send(method, restTarget+"/companies/10000042", envelope(eservice, "", other), asEservice...)
			if rec.Code == 200 {
				t.Errorf("status 200 with SOAPSubject %q for the path's 10000042, want a refusal", w.log.requests[0].SOAPSubject)
			}
			if n := len(w.reg.calls()); n != 0 {
				t.Errorf("the registry received %d requests, want none", n)
			}
			if reqs, _ := w.log.count(); reqs != 0 {
				t.Errorf("%d request records written, want none", reqs)
			}
		})
	}
}

// TestMappedCallSubjectFromQuery replays REST calls to a SOAP service whose
// mapping's template takes the subject element from the query (as it does
// for a param the path does not hold, its first value): the registry read
// the company while the log recorded no subject. The subject is the query
// parameter of the element's name, and a repeated one is refused.
func TestMappedCallSubjectFromQuery(t *testing.T) {
	w := newSOAPWorld(t, gateway.Options{}, nil)
	rec := w.send("GET", restTarget+"/search?code=10000042", "", asEservice[:2]...)
	if rec.Code != 200 {
		t.Fatalf("status %d %q: %s", rec.Code, rec.Header().Get("X-Road-Error"), rec.Body)
	}
	if got := w.log.requests[0].SOAPSubject; got != "10000042" {
		t.Errorf("SOAPSubject = %q, want the query's 10000042", got)
	}
	rec = w.send("GET", restTarget+"/search?code=10000042&code=10000043", "", asEservice[:2]...)
	if rec.Code != 400 || rec.Header().Get("X-Road-Error") != "Client.BadRequest" {
		t.Errorf("a repeated code: status %d %q, want 400 Client.BadRequest", rec.Code, rec.Header().Get("X-Road-Error"))
	}
	if n := len(w.reg.calls()); n != 1 {
		t.Errorf("the registry received %d requests, want 1", n)
	}
}
