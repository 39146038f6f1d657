package soap

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/govbus/govbus/gateway"
	"github.com/govbus/govbus/registrysim"
)

// BenchmarkExchange measures whole exchanges against the simulated
// business registry over loopback HTTP: the registry's own work included.
func BenchmarkExchange(b *testing.B) {
	srv := httptest.NewServer(registrysim.NewBusiness())
	defer srv.Close()
	a, err := New(Config{Outbound: outboundFor(b, srv.URL), Services: map[string]ServiceMapping{"companies": businessMapping}})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	for _, bc := range []struct {
		name string
		out  func(code string) *gateway.Outbound
	}{
		{"rest-to-soap", func(code string) *gateway.Outbound { return restCall(b, "/companies/"+code) }},
		{"passthrough", func(code string) *gateway.Outbound { return soapCall(b, xroadEnvelope(code)) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				resp, err := a.Exchange(context.Background(), bc.out(strconv.Itoa(10000001+i%registrysim.CompanyCount)))
				if err != nil || resp.Status != http.StatusOK {
					b.Fatalf("got %v %v", resp, err)
				}
				release(resp)
				i++
			}
		})
	}
}

// BenchmarkTranslate measures what REST-to-SOAP adds to an exchange: the
// envelope written and the answer turned into JSON, without the network.
func BenchmarkTranslate(b *testing.B) {
	m, err := compileMapping(businessMapping, false)
	if err != nil {
		b.Fatal(err)
	}
	a := &Adapter{}
	out := restCall(b, "/companies/10000042")
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader([]byte(xroadEnvelope("10000042"))))
	req.Header.Set("Content-Type", "text/xml")
	registrysim.NewBusinessRegistry().ServeHTTP(rec, req)
	answer := rec.Body.Bytes()
	b.ReportAllocs()
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		values, _ := m.match(out.Path)
		if err := a.writeEnvelope(&buf, out, m, values); err != nil {
			b.Fatal(err)
		}
		buf.Reset()
		if _, err := writeJSONAnswer(&buf, answer, m, true); err != nil {
			b.Fatal(err)
		}
	}
}
