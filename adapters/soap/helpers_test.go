package soap

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/govbus/govbus/gateway"
	"github.com/govbus/govbus/outbound"
	"github.com/govbus/govbus/registrysim"
	"github.com/govbus/govbus/soap"
)

const (
	companiesService = "UA/GOV/00000002/business-registry/companies"
	eservice         = "UA/GOV/00000003/eservice"
)

// businessMapping maps GET /companies/{code} onto the simulated business
// registry's getCompany.
var businessMapping = ServiceMapping{
	Operation: "getCompany", Namespace: registrysim.BusinessNamespace,
	Path: "/companies/{code}", ResultElement: "company", NotFoundFault: "not found",
}

// registry is a test registry that records every request it receives and
// then hands it to its handler.
type registry struct {
	*httptest.Server
	calls   atomic.Int32
	mu      sync.Mutex
	bodies  [][]byte
	headers []http.Header
}

func newRegistry(t *testing.T, h http.Handler) *registry {
	t.Helper()
	r := &registry{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.calls.Add(1)
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, body)
		r.headers = append(r.headers, req.Header.Clone())
		r.mu.Unlock()
		req.Body = io.NopCloser(bytes.NewReader(body))
		h.ServeHTTP(w, req)
	}))
	t.Cleanup(r.Close)
	return r
}

// last returns the body and header of the last request.
func (r *registry) last(t *testing.T) ([]byte, http.Header) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.bodies) == 0 {
		t.Fatal("the registry received no request")
	}
	return r.bodies[len(r.bodies)-1], r.headers[len(r.headers)-1]
}

// answer is a handler that always sends the same answer.
func answer(status int, contentType, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	})
}

// explosive fails the test if the registry is called at all.
func explosive(t *testing.T) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		t.Errorf("the registry was called")
		w.WriteHeader(http.StatusTeapot)
	})
}

// newAdapter builds an adapter for the registry at rawURL with quick
// retries; zero Services take the business mapping for "companies".
func newAdapter(t *testing.T, rawURL string, cfg Config) *Adapter {
	t.Helper()
	cfg.Outbound.Endpoints = outboundFor(t, rawURL).Endpoints
	if cfg.Outbound.Retry.WaitMin == 0 {
		cfg.Outbound.Retry.WaitMin, cfg.Outbound.Retry.WaitMax = time.Millisecond, 2*time.Millisecond
	}
	if cfg.Services == nil {
		cfg.Services = map[string]ServiceMapping{"companies": businessMapping}
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a
}

// outboundFor is an outbound configuration with one endpoint.
func outboundFor(t testing.TB, rawURL string) outbound.Config {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return outbound.Config{Endpoints: []*url.URL{u}}
}

// route is the companies service's route.
func route(t testing.TB, service string) *gateway.Route {
	t.Helper()
	id, err := gateway.ParseServiceID(service)
	if err != nil {
		t.Fatal(err)
	}
	return &gateway.Route{Service: id, ServiceKey: id.String(), Registry: id.Subsystem().String(),
		Methods: []string{http.MethodGet, http.MethodPost}, Paths: []string{"/companies/{code}"}, Timeout: 5 * time.Second}
}

// restCall is a REST call as the gateway hands it to an adapter.
func restCall(t testing.TB, path string) *gateway.Outbound {
	t.Helper()
	return &gateway.Outbound{Method: http.MethodGet, Path: path, Route: route(t, companiesService),
		Header: http.Header{
			gateway.HeaderClient: {eservice}, gateway.HeaderService: {companiesService},
			gateway.HeaderID: {"msg-42"}, gateway.HeaderRequestID: {"req-1"},
			gateway.HeaderUserID: {"UA1234567890"}, gateway.HeaderIssue: {"case <7> & co"},
			gateway.HeaderPurpose: {"service-delivery"}, "X-Forwarded-For": {"192.0.2.1"},
			"Accept": {"application/json"},
		}}
}

// soapCall is an X-Road SOAP request as the gateway hands it to an adapter.
func soapCall(t testing.TB, envelope string) *gateway.Outbound {
	t.Helper()
	// SOAP is what the gateway hands on once it has checked the body.
	checked := &soap.Request{Raw: []byte(envelope), Envelope: []byte(envelope), ContentType: "text/xml; charset=utf-8"}
	return &gateway.Outbound{Method: http.MethodPost, Path: "/", Route: route(t, companiesService), Body: []byte(envelope),
		SOAP: checked, Header: http.Header{
			"Content-Type": {"text/xml; charset=utf-8"}, "Soapaction": {`"getCompany"`},
			gateway.HeaderClient: {eservice}, gateway.HeaderID: {"msg-43"},
		}}
}

// xroadEnvelope is an X-Road SOAP 4.0 getCompany request.
func xroadEnvelope(code string) string {
	return `<?xml version="1.0" encoding="utf-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xrd="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers">
    <SOAP-ENV:Header>
        <xrd:client id:objectType="SUBSYSTEM"><id:xRoadInstance>UA</id:xRoadInstance><id:memberClass>GOV</id:memberClass><id:memberCode>00000003</id:memberCode><id:subsystemCode>eservice</id:subsystemCode></xrd:client>
        <xrd:service id:objectType="SERVICE"><id:xRoadInstance>UA</id:xRoadInstance><id:memberClass>GOV</id:memberClass><id:memberCode>00000002</id:memberCode><id:subsystemCode>business-registry</id:subsystemCode><id:serviceCode>companies</id:serviceCode></xrd:service>
        <xrd:id>msg-43</xrd:id>
        <xrd:protocolVersion>4.0</xrd:protocolVersion>
    </SOAP-ENV:Header>
    <SOAP-ENV:Body>
        <bus:getCompany xmlns:bus="http://business-registry.gov.ua/ws"><bus:code>` + code + `</bus:code></bus:getCompany>
    </SOAP-ENV:Body>
</SOAP-ENV:Envelope>`
}

// exchange runs one exchange and fails the test on an error.
func exchange(t *testing.T, a *Adapter, out *gateway.Outbound) *gateway.Response {
	t.Helper()
	resp, err := a.Exchange(context.Background(), out)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	t.Cleanup(func() { release(resp) })
	return resp
}

// wantError fails the test unless err is a *gateway.Error with code.
func wantError(t *testing.T, err error, code gateway.Code) {
	t.Helper()
	var ge *gateway.Error
	if !errors.As(err, &ge) || ge.Code != code {
		t.Errorf("error: got %v, want %s", err, code)
	}
}
