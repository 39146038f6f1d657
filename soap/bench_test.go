package soap

import (
	"strings"
	"testing"
)

// benchEnvelope is a typical request of about 2 KB: the X-Road header and a
// body with a few dozen elements.
var benchEnvelope = func() []byte {
	var body strings.Builder
	body.WriteString(`<c:companies xmlns:c="urn:x">`)
	for body.Len() < 1000 {
		body.WriteString(`<c:field name="a">value &amp; more</c:field>`)
	}
	body.WriteString(`</c:companies>`)
	return []byte(strings.Replace(baseEnvelope, `<c:companies xmlns:c="urn:x"><c:code>10000001</c:code></c:companies>`, body.String(), 1))
}()

func BenchmarkParseRequest(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchEnvelope)))
	for b.Loop() {
		if _, err := ParseRequest(benchEnvelope, textXML, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEchoResponse(b *testing.B) {
	req, err := ParseRequest(benchEnvelope, textXML, Limits{})
	if err != nil {
		b.Fatal(err)
	}
	resp := []byte(strings.Replace(string(benchEnvelope), "c:companies", "c:companiesResponse", 2))
	hash := RequestHash(req.Envelope)
	b.ReportAllocs()
	b.SetBytes(int64(len(resp)))
	for b.Loop() {
		if _, _, err := EchoResponse(resp, textXML, req, hash); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFault(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Fault("client.invalid_body", "the Body must hold exactly one element", "Client.BadRequest", "6f1c2a9e-0d3b-4c51-9d1e-2f5a8b7c6d40")
	}
}
