package soap

import (
	"encoding/base64"
	"strings"
	"testing"
	"unicode/utf16"
)

// utf7 writes s as UTF-7 (RFC 2152) does for characters outside its direct
// set: "+", the base64 of its UTF-16BE code units, "-".
func utf7(s string) string {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u>>8), byte(u))
	}
	return "+" + base64.RawStdEncoding.EncodeToString(b) + "-"
}

// TestXMLDeclarationReadAlike replays XML declarations that encoding/xml
// reads as UTF-8 while XML 1.0 §2.8 (and so libxml2, Xerces, .NET) reads
// another encoding or version. encoding/xml finds `encoding="` literally,
// so `encoding = "UTF-7"` passed as UTF-8; lxml then decodes the document
// as UTF-7, where the text govbus saw is markup: here an xrd:client of
// police-covert, with the checked one inside a comment.
func TestXMLDeclarationReadAlike(t *testing.T) {
	const client = `<xrd:client id:objectType="SUBSYSTEM"><id:xRoadInstance>UA</id:xRoadInstance><id:memberClass>GOV</id:memberClass><id:memberCode>00000003</id:memberCode><id:subsystemCode>eservice</id:subsystemCode></xrd:client>`
	covert := `</x:a><xrd:client id:objectType="SUBSYSTEM"><id:xRoadInstance>UA</id:xRoadInstance><id:memberClass>GOV</id:memberClass><id:memberCode>00000009</id:memberCode><id:subsystemCode>police-covert</id:subsystemCode></xrd:client><x:b><!--`
	hidden := strings.Replace(baseEnvelope, client,
		`<x:a xmlns:x="urn:x">`+utf7(covert)+`</x:a>`+client+`<x:b xmlns:x="urn:x">`+utf7("-->")+`</x:b>`, 1)
	if hidden == baseEnvelope {
		t.Fatal("the envelope holds no xrd:client to hide")
	}
	body := strings.TrimPrefix(hidden, `<?xml version="1.0" encoding="UTF-8"?>`)
	for _, decl := range []string{
		`<?xml version="1.0" encoding = "UTF-7"?>`,
		`<?xml version="1.0" encoding` + "\t" + `='UTF-7'?>`,
		`<?xml version="1.0" encoding= "UTF-16"?>`,
		`<?xml version = "1.1"?>`,
		`<?xml version="1.0" encoding="UTF-8" encoding = "UTF-7"?>`,
		`<?xml version="1.0"encoding="UTF-8"?>`,
		`<?xml encoding="UTF-8" version="1.0"?>`,
		`<?xml encoding="UTF-8"?>`,
		`<?xml version="1.0" standalone="maybe"?>`,
		`<?xml version="1.0" foo="bar"?>`,
		`<?xml version="1.0?>`,
	} {
		t.Run(decl, func(t *testing.T) {
			req, err := ParseRequest([]byte(decl+body), "text/xml", Limits{})
			if got := codeOf(t, err); got != CodeInvalidXML {
				client := ""
				if req != nil {
					client = req.Client.String()
				}
				t.Fatalf("code = %q (client %q), want %q", got, client, CodeInvalidXML)
			}
		})
	}
	for _, decl := range []string{
		``,
		`<?xml version="1.0"?>`,
		`<?xml version='1.0' encoding='utf-8'?>`,
		`<?xml version = "1.0" encoding = "UTF-8" standalone = "yes" ?>`,
		"<?xml version=\"1.0\"\r\n encoding=\"UTF-8\"\tstandalone='no'?>",
	} {
		t.Run("accepted "+decl, func(t *testing.T) {
			if _, err := ParseRequest([]byte(decl+body), "text/xml", Limits{}); err != nil {
				t.Fatalf("ParseRequest: %v", err)
			}
		})
	}
}

// TestMultipartParametersReadAlike replays multipart Content-Types whose
// boundary or start readers decode differently. mime.ParseMediaType takes
// an RFC 2231 boundary*= over the plain boundary=, which a registry that
// ignores RFC 2231 keeps; and it reads an unneeded backslash in a quoted
// string as a backslash, where RFC 2045's quoted-pair drops it. Either
// way the registry frames the body by another boundary (or looks for
// another start) than govbus, and reads the envelope hidden in what
// govbus took for the preamble or an attachment.
func TestMultipartParametersReadAlike(t *testing.T) {
	const (
		root    = "Content-Type: text/xml; charset=UTF-8\r\nContent-ID: <soap>\r\n\r\n" + baseEnvelope
		foreign = "Content-Type: text/xml; charset=UTF-8\r\nContent-ID: <evil>\r\n\r\n" + "%s"
	)
	framed := func(boundary string, parts ...string) string {
		var b strings.Builder
		for _, p := range parts {
			b.WriteString("--" + boundary + "\r\n" + p + "\r\n")
		}
		b.WriteString("--" + boundary + "--\r\n")
		return b.String()
	}
	evil := strings.Replace(foreign, "%s", otherIdentity, 1)
	cases := []struct {
		name, body, contentType string
	}{
		{"boundary*= beside boundary=",
			framed("A", evil) + framed("MIME_b", root), `multipart/related; type="text/xml"; boundary=A; boundary*=utf-8''MIME_b`},
		{"boundary in RFC 2231 pieces",
			framed("A", evil) + framed("MIME_b", root), `multipart/related; type="text/xml"; boundary=A; boundary*0=MIME; boundary*1=_b`},
		{"a backslash before a plain character in the boundary",
			framed("MIME_b", evil) + framed(`MIME\_b`, root), `multipart/related; type="text/xml"; boundary="MIME\_b"`},
		{"a backslash in start",
			framed("MIME_b", strings.Replace(root, "<soap>", `<so\ap>`, 1), "Content-ID: <soap>\r\n\r\n"+otherIdentity),
			`multipart/related; type="text/xml"; start="<so\ap>"; boundary=MIME_b`},
		{"start*= beside start=",
			framed("MIME_b", root, "Content-ID: <evil>\r\n\r\n"+otherIdentity),
			`multipart/related; type="text/xml"; start="<evil>"; start*=utf-8''%3Csoap%3E; boundary=MIME_b`},
		{"a boundary outside RFC 2046's characters",
			framed("A", evil) + framed("A;b", root), `multipart/related; type="text/xml"; boundary="A;b"`},
		{"a boundary ending in a space",
			framed("MIME_b ", root), `multipart/related; type="text/xml"; boundary="MIME_b "`},
		{"a boundary longer than 70 characters",
			framed(strings.Repeat("b", 71), root), `multipart/related; type="text/xml"; boundary=` + strings.Repeat("b", 71)},
		{"charset*= in the SOAP part",
			framed("MIME_b", strings.Replace(root, "charset=UTF-8", "charset=UTF-8; charset*=iso-8859-1''x", 1)),
			`multipart/related; type="text/xml"; boundary=MIME_b`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := ParseRequest([]byte(tc.body), tc.contentType, Limits{})
			if got := codeOf(t, err); got != CodeInvalidContentType {
				client := ""
				if req != nil {
					client = req.Client.String()
				}
				t.Fatalf("code = %q (client %q), want %q (%v)", got, client, CodeInvalidContentType, err)
			}
		})
	}
	t.Run("text/xml with charset*=", func(t *testing.T) {
		_, err := ParseRequest([]byte(baseEnvelope), `text/xml; charset=utf-8; charset*=utf-8''utf-8`, Limits{})
		if got := codeOf(t, err); got != CodeInvalidContentType {
			t.Fatalf("code = %q, want %q", got, CodeInvalidContentType)
		}
	})
	// What SOAP with attachments writes still passes.
	for _, ct := range []string{
		`multipart/related; type="text/xml"; start="<soap>"; boundary="MIME_boundary=_(x)+,-./:?' end"`,
		`Multipart/Related; boundary=MIME_b; type="text/xml"; start-info="text/xml"; charset=utf-8`,
	} {
		t.Run("accepted "+ct, func(t *testing.T) {
			_, params, _ := strings.Cut(ct, "boundary=")
			boundary, _, _ := strings.Cut(params, ";")
			boundary = strings.Trim(boundary, `"`)
			if _, err := ParseRequest([]byte(framed(boundary, root)), ct, Limits{}); err != nil {
				t.Fatalf("ParseRequest: %v", err)
			}
		})
	}
}

// TestHeaderFieldsReadAlike replays envelopes with a second X-Road field
// that govbus skipped: nested in another header or in the Body, where
// readers that take the first xrd:client in document order (DOM's
// getElementsByTagNameNS, XPath //xrd:client, lxml's find(".//")) find it
// before the Header's own; or a Header child with a field's local name in
// another namespace (its prefix even bound to xrd), which readers that
// match local names or prefixes take for the field. Each is refused.
func TestHeaderFieldsReadAlike(t *testing.T) {
	const (
		client    = `<xrd:client id:objectType="SUBSYSTEM"><id:xRoadInstance>UA</id:xRoadInstance><id:memberClass>GOV</id:memberClass><id:memberCode>00000003</id:memberCode><id:subsystemCode>eservice</id:subsystemCode></xrd:client>`
		covert    = `<xrd:client id:objectType="SUBSYSTEM"><id:xRoadInstance>UA</id:xRoadInstance><id:memberClass>GOV</id:memberClass><id:memberCode>00000009</id:memberCode><id:subsystemCode>police-covert</id:subsystemCode></xrd:client>`
		userID    = `<xrd:userId>EE37702211234</xrd:userId>`
		operation = `<c:companies xmlns:c="urn:x">`
	)
	cases := []struct {
		name, old, new string
	}{
		{"xrd:client nested in another header before the Header's", client, `<w:wrap xmlns:w="urn:w">` + covert + `</w:wrap>` + client},
		{"xrd:client nested deeper", client, `<w:wrap xmlns:w="urn:w"><w:in>` + covert + `</w:in></w:wrap>` + client},
		{"xrd:client in the Body's operation", operation, operation + covert},
		{"xrd:userId in the Body's operation", operation, operation + `<xrd:userId>EE00000000000</xrd:userId>`},
		{"repr:representedParty nested in another header", client, `<w:wrap xmlns:w="urn:w"><repr:representedParty xmlns:repr="http://x-road.eu/xsd/representation.xsd"><repr:partyCode>P1</repr:partyCode></repr:representedParty></w:wrap>` + client},
		{"client in another namespace, its prefix bound to xrd", client, strings.Replace(covert, `<xrd:client `, `<xrd:client xmlns:xrd="urn:not-xroad" `, 1) + client},
		{"client in another namespace with its own prefix", client, strings.ReplaceAll(strings.Replace(covert, `<xrd:client `, `<o:client xmlns:o="urn:other" `, 1), "</xrd:client>", "</o:client>") + client},
		{"userId in another namespace", userID, `<o:userId xmlns:o="urn:other">EE00000000000</o:userId>` + userID},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := ParseRequest(edit(t, tc.old, tc.new), "text/xml", Limits{})
			if err == nil {
				t.Fatalf("accepted (client %s, userId %q), want a refusal", req.Client, req.UserID)
			}
		})
	}
	// Elements of X-Road's namespace that are not header fields, and
	// fields' local names in the Body under other namespaces, still pass.
	for name, body := range map[string]string{
		"xrd:serviceCode in the Body": operation + `<xrd:serviceCode>x</xrd:serviceCode>`,
		"an id of the service's own":  operation + `<c:id>1</c:id><c:client>x</c:client>`,
	} {
		t.Run("accepted "+name, func(t *testing.T) {
			if _, err := ParseRequest(edit(t, operation, body), "text/xml", Limits{}); err != nil {
				t.Fatalf("ParseRequest: %v", err)
			}
		})
	}
}

// TestRootPartHeadersOnce replays a SOAP part with two Content-Types or two
// Content-Transfer-Encodings: govbus read the first, a registry reading
// the last would decode the part as base64 (javax.mail's decoder skips
// what is not base64) or not as XML at all. Each is refused.
func TestRootPartHeadersOnce(t *testing.T) {
	for name, headers := range map[string]string{
		"two Content-Types":              "Content-Type: text/xml; charset=UTF-8\r\nContent-Type: application/octet-stream\r\n",
		"two Content-Transfer-Encodings": "Content-Type: text/xml; charset=UTF-8\r\nContent-Transfer-Encoding: binary\r\nContent-Transfer-Encoding: base64\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			body := multipartOf(headers + "Content-ID: <soap>\r\n\r\n" + baseEnvelope)
			_, err := ParseRequest([]byte(body), `multipart/related; type="text/xml"; boundary=MIME_b`, Limits{})
			if code := codeOf(t, err); code != CodeInvalidContentType {
				t.Fatalf("code = %q, want %q (%v)", code, CodeInvalidContentType, err)
			}
		})
	}
}

// TestMultipartPreambleEpilogue replays SOAP with attachments carrying an
// envelope in the preamble or the epilogue, which MIME readers skip and a
// registry that reads the body as XML from its first element (Go's
// xml.Decoder.Decode, lenient SAX readers) takes for the message. Only
// white space may surround the parts.
func TestMultipartPreambleEpilogue(t *testing.T) {
	const root = "Content-Type: text/xml; charset=UTF-8\r\nContent-ID: <soap>\r\n\r\n" + baseEnvelope
	for name, body := range map[string]string{
		"an envelope in the preamble": otherIdentity + "\r\n" + multipartOf(root),
		"an envelope in the epilogue": multipartOf(root) + otherIdentity,
		"text in the preamble":        "This is a multi-part message in MIME format.\r\n" + multipartOf(root),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseRequest([]byte(body), `multipart/related; type="text/xml"; boundary=MIME_b`, Limits{})
			if code := codeOf(t, err); code != CodeInvalidSOAP {
				t.Fatalf("code = %q, want %q (%v)", code, CodeInvalidSOAP, err)
			}
		})
	}
	for name, body := range map[string]string{
		"no preamble or epilogue":      multipartOf(root),
		"white space around the parts": "\r\n \r\n" + multipartOf(root) + "\r\n\r\n",
	} {
		t.Run("accepted "+name, func(t *testing.T) {
			if _, err := ParseRequest([]byte(body), `multipart/related; type="text/xml"; boundary=MIME_b`, Limits{}); err != nil {
				t.Fatalf("ParseRequest: %v", err)
			}
		})
	}
}
