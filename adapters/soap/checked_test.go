package soap

import (
	"bytes"
	"context"
	"net/http"
	"testing"

	"github.com/govbus/govbus/gateway"
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
