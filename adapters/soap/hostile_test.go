package soap

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/govbus/govbus/gateway"
	"github.com/govbus/govbus/outbound"
)

// TestHostileAnswers: answers that must never become a consumer's JSON.
func TestHostileAnswers(t *testing.T) {
	envelope := func(body string) string {
		return `<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body>` + body + `</S:Body></S:Envelope>`
	}
	ok := envelope(`<r:getCompanyResponse xmlns:r="urn:r"><r:company><r:code>1</r:code></r:company></r:getCompanyResponse>`)
	laughs := `<?xml version="1.0"?><!DOCTYPE S:Envelope [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">` +
		`<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>` +
		envelope(`<r:getCompanyResponse xmlns:r="urn:r"><r:company><r:code>&c;</r:code></r:company></r:getCompanyResponse>`)
	external := `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` +
		envelope(`<r:getCompanyResponse xmlns:r="urn:r"><r:company><r:code>&xxe;</r:code></r:company></r:getCompanyResponse>`)
	deep := envelope(`<r:getCompanyResponse xmlns:r="urn:r"><r:company>` + strings.Repeat("<a>", 100) + "x" + strings.Repeat("</a>", 100) + `</r:company></r:getCompanyResponse>`)
	for _, tt := range []struct {
		name, contentType, body string
		status                  int
		wantErr                 string
	}{
		{"billion laughs", "text/xml", laughs, 200, "a DTD"},
		{"external entity", "text/xml", external, 200, "a DTD"},
		{"DTD in a fault", "text/xml", strings.Replace(laughs, "getCompanyResponse", "Fault", 2), 500, "a DTD"},
		{"undeclared entity", "text/xml", strings.Replace(ok, ">1<", ">&xxe;<", 1), 200, "invalid character entity"},
		{"too deep", "text/xml", deep, 200, "nested deeper than 64"},
		{"not well-formed", "text/xml", strings.Replace(ok, "</r:code>", "</r:cod>", 1), 200, "closed by"},
		{"truncated", "text/xml", ok[:len(ok)-20], 200, "unexpected EOF"},
		{"trailing element", "text/xml", ok + "<x/>", 200, "a second document element"},
		{"not XML", "text/xml", `{"code": 1}`, 200, "text before the document element"},
		{"not SOAP", "text/xml", `<company><code>1</code></company>`, 200, "not a SOAP envelope"},
		{"empty Body", "text/xml", envelope(""), 200, "Body is missing or empty"},
		{"no result element", "text/xml", envelope(`<r:getCompanyResponse xmlns:r="urn:r"><r:other/></r:getCompanyResponse>`), 200, "no company element"},
		{"500 without a Fault", "text/xml", ok, 500, "500 answer without a SOAP Fault"},
		{"200 JSON", "application/json", `{"code":"1"}`, 200, "not SOAP"},
		{"200 attachments", "multipart/related; type=text/xml", ok, 200, "not SOAP"},
		{"not UTF-8", "text/xml", `<?xml version="1.0" encoding="ISO-8859-1"?>` + ok, 200, "ISO-8859-1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			reg := newRegistry(t, answer(tt.status, tt.contentType, tt.body))
			a := newAdapter(t, reg.URL, Config{})
			resp, err := a.Exchange(context.Background(), restCall(t, "/companies/10000042"))
			if err == nil {
				t.Fatalf("got %d %q, want an error", resp.Status, resp.Body)
			}
			wantError(t, err, gateway.CodeInternalError)
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error: got %v, want it to say %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "aaaaaaaaaa") || strings.Contains(err.Error(), "root:") {
				t.Errorf("an entity was expanded: %v", err)
			}
		})
	}
}

// TestRegistryErrorsPassThrough: a non-2xx answer that is not a SOAP
// answer is the registry's own and reaches the consumer unchanged.
func TestRegistryErrorsPassThrough(t *testing.T) {
	for _, tt := range []struct {
		status            int
		contentType, body string
	}{
		{http.StatusNotFound, "text/html", "<html>no such endpoint</html>"},
		{http.StatusBadGateway, "text/plain", "upstream down"},
		{http.StatusForbidden, "text/xml", "<denied/>"},
	} {
		reg := newRegistry(t, answer(tt.status, tt.contentType, tt.body))
		a := newAdapter(t, reg.URL, Config{Outbound: outbound.Config{Retry: outbound.Retry{Max: -1}}})
		resp := exchange(t, a, restCall(t, "/companies/10000042"))
		if resp.Status != tt.status || string(resp.Body) != tt.body || resp.Header.Get("Content-Type") != tt.contentType {
			t.Errorf("got %d %q %q, want %d %q %q", resp.Status, resp.Header.Get("Content-Type"), resp.Body, tt.status, tt.contentType, tt.body)
		}
	}
}

func TestOverSizeAnswer(t *testing.T) {
	big := `<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><r xmlns="urn:r"><company><code>` +
		strings.Repeat("1", 4096) + `</code></company></r></S:Body></S:Envelope>`
	for _, out := range []*gateway.Outbound{restCall(t, "/companies/10000042"), soapCall(t, xroadEnvelope("10000042"))} {
		reg := newRegistry(t, answer(http.StatusOK, "text/xml", big))
		a := newAdapter(t, reg.URL, Config{MaxResponseBytes: 1024})
		_, err := a.Exchange(context.Background(), out)
		wantError(t, err, gateway.CodeInternalError)
	}
}
