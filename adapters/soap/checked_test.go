package soap

import (
	"context"
	"net/http"
	"testing"

	"github.com/govbus/govbus/gateway"
)

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
