package soap

import (
	"bytes"
	"context"
	"net/http"
	"testing"

	"github.com/govbus/govbus/gateway"
	"github.com/govbus/govbus/outbound"
	"github.com/govbus/govbus/registrysim"
)

func registrysimBusiness() http.Handler { return registrysim.NewBusiness() }

// TestPassthroughNeedsCheckedEnvelope: a SOAP body that reaches the adapter
// without the gateway's checked envelope (a route that skipped the check)
// is refused and never sent, whatever its SOAP content type.
func TestPassthroughNeedsCheckedEnvelope(t *testing.T) {
	reg := newRegistry(t, explosive(t))
	a := newAdapter(t, reg.URL, Config{})
	for _, ct := range []string{"text/xml", "application/soap+xml", "multipart/related; boundary=b", "multipart/mixed; boundary=b"} {
		out := soapCall(t, xroadEnvelope("10000042"))
		out.SOAP = nil
		out.Header.Set("Content-Type", ct)
		_, err := a.Exchange(context.Background(), out)
		wantError(t, err, gateway.CodeBadRequest)
	}
	if n := reg.calls.Load(); n != 0 {
		t.Errorf("the registry received %d requests, want none", n)
	}
}

// TestPassthroughSendsWhatWasChecked sends the checked envelope's bytes
// and its one Content-Type, not whatever else the exchange carries.
func TestPassthroughSendsWhatWasChecked(t *testing.T) {
	reg := newRegistry(t, answer(http.StatusOK, "text/xml", "<ok/>"))
	a := newAdapter(t, reg.URL, Config{})
	out := soapCall(t, xroadEnvelope("10000042"))
	out.Header["Content-Type"] = []string{"text/xml; charset=utf-8", "text/plain"}
	exchange(t, a, out)
	body, h := reg.last(t)
	if string(body) != string(out.SOAP.Raw) {
		t.Errorf("the registry received %q, want the checked envelope", body)
	}
	if got := h.Values("Content-Type"); len(got) != 1 || got[0] != out.SOAP.ContentType {
		t.Errorf("Content-Type at the registry = %q, want only the checked %q", got, out.SOAP.ContentType)
	}
}

// TestCheckedEnvelopeOnGET: an envelope on a GET is no SOAP call; the
// mapping answers it and the body is not sent.
func TestCheckedEnvelopeOnGET(t *testing.T) {
	reg := newRegistry(t, registrysimBusiness())
	a := newAdapter(t, reg.URL, Config{})
	out := soapCall(t, xroadEnvelope("10000042"))
	out.Method, out.Path = http.MethodGet, "/companies/10000042"
	if resp := exchange(t, a, out); resp.Status != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("GET with an envelope: %d %q, want the mapping's JSON", resp.Status, resp.Header.Get("Content-Type"))
	}
	if body, _ := reg.last(t); bytes.Equal(body, out.SOAP.Raw) {
		t.Errorf("the consumer's envelope was sent on a GET: %s", body)
	}
}

// TestPassthroughAnswerWithoutDTD: a passthrough answer that says it is
// XML is read by the hardened reader before it is logged or echoed; one
// with a DTD (entities a SOAP consumer's parser might expand) or that is
// not well-formed is CodeInternalError, never handed on unchanged.
func TestPassthroughAnswerWithoutDTD(t *testing.T) {
	const env = `<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><r xmlns="urn:r">&x;</r></S:Body></S:Envelope>`
	for _, tt := range []struct {
		status            int
		contentType, body string
	}{
		{http.StatusOK, "text/xml; charset=utf-8", `<?xml version="1.0"?><!DOCTYPE S:Envelope [<!ENTITY x SYSTEM "file:///etc/passwd">]>` + env},
		{http.StatusInternalServerError, "text/xml", `<!DOCTYPE S:Envelope [<!ENTITY x "y">]>` + env},
		{http.StatusOK, "application/soap+xml", `<!DOCTYPE S:Envelope [<!ENTITY x "y">]>` + env},
		{http.StatusOK, "application/xml", `<!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>`},
		{http.StatusOK, "multipart/related; boundary=b", "--b\r\nContent-Type: text/xml\r\n\r\n<!DOCTYPE S:Envelope [<!ENTITY x \"y\">]>" + env + "\r\n--b--\r\n"},
	} {
		reg := newRegistry(t, answer(tt.status, tt.contentType, tt.body))
		a := newAdapter(t, reg.URL, Config{Outbound: outbound.Config{Retry: outbound.Retry{Max: -1}}})
		resp, err := a.Exchange(context.Background(), soapCall(t, xroadEnvelope("10000042")))
		if err == nil {
			t.Errorf("%d %s: passed on %q, want CodeInternalError", tt.status, tt.contentType, resp.Body)
			continue
		}
		wantError(t, err, gateway.CodeInternalError)
	}
	// A registry's own non-XML page still passes.
	reg := newRegistry(t, answer(http.StatusBadGateway, "text/html", "<!DOCTYPE html><p>down</p>"))
	a := newAdapter(t, reg.URL, Config{Outbound: outbound.Config{Retry: outbound.Retry{Max: -1}}})
	if resp := exchange(t, a, soapCall(t, xroadEnvelope("10000042"))); resp.Status != http.StatusBadGateway {
		t.Errorf("an HTML error page: %d, want it unchanged", resp.Status)
	}
}
