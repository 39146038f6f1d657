package gateway_test

import (
	"strings"
	"testing"

	"github.com/govbus/govbus/gateway"
)

const registryWSDL = `<?xml version="1.0"?>
<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/">
<wsdl:service name="companies"><wsdl:port name="p"><soap:address location="http://10.0.0.7:9102/ws"/></wsdl:port></wsdl:service>
</wsdl:definitions>`

const wsdlTarget = "/r1/" + business + "/getWsdl?serviceCode=companies"

// TestGetWsdlAddress points soap:address at the configured public URL,
// never at the Host the consumer sent.
func TestGetWsdlAddress(t *testing.T) {
	w := newSOAPWorld(t, gateway.Options{}, &soapRegistry{wsdl: registryWSDL})
	req := "GET"
	rec := w.send(req, wsdlTarget, "", asEservice[0], asEservice[1], "Host: evil.example")
	if rec.Code != 200 {
		t.Fatalf("status %d %q: %s", rec.Code, rec.Header().Get("X-Road-Error"), rec.Body)
	}
	body := rec.Body.String()
	if strings.Contains(body, "evil.example") || !strings.Contains(body, `location="https://govbus.example.gov.ua:8443/"`) {
		t.Errorf("soap:address does not point at the public URL:\n%s", body)
	}
}

// TestGetWsdlIsAuthorisedAndLogged: a caller that no rule lets call the
// service gets Client.AccessDenied and the registry is not asked; an
// allowed one's getWsdl leaves both records in the message log.
func TestGetWsdlIsAuthorisedAndLogged(t *testing.T) {
	reg := &soapRegistry{wsdl: registryWSDL}
	w := newSOAPWorld(t, gateway.Options{}, reg)
	rec := w.send("GET", wsdlTarget, "", "X-Road-Client: "+covert, "Authorization: Bearer "+covertKey)
	if rec.Code != 403 || rec.Header().Get("X-Road-Error") != "Client.AccessDenied" {
		t.Errorf("no rule: status %d %q, want 403 Client.AccessDenied", rec.Code, rec.Header().Get("X-Road-Error"))
	}
	if reg.wsdlCalls != 0 {
		t.Errorf("the registry was asked for its WSDL %d times for a denied caller", reg.wsdlCalls)
	}
	if reqs, resps := w.log.count(); reqs+resps != 0 {
		t.Errorf("a denied getWsdl wrote %d+%d records, want none (as a denied call)", reqs, resps)
	}
	rec = w.send("GET", wsdlTarget, "", asEservice[0], asEservice[1])
	if rec.Code != 200 {
		t.Fatalf("allowed: status %d %q", rec.Code, rec.Header().Get("X-Road-Error"))
	}
	reqs, resps := w.log.count()
	if reqs != 1 || resps != 1 {
		t.Fatalf("records %d request, %d response; want one of each", reqs, resps)
	}
	if r := w.log.requests[0]; r.ClientKey != eservice || r.Route == nil || r.Route.ServiceKey != companies || r.Decision.RuleID != "eservice-reads-companies" {
		t.Errorf("request record: client %q, route %v, rule %q", r.ClientKey, r.Route, r.Decision.RuleID)
	}
}
