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
