package soap

import (
	"path/filepath"
	"strings"
	"testing"
)

// otherIdentity is baseEnvelope claiming another client: the envelope a
// smuggler hides in a part that govbus does not check.
var otherIdentity = strings.Replace(baseEnvelope,
	"<id:memberCode>00000003</id:memberCode><id:subsystemCode>eservice</id:subsystemCode>",
	"<id:memberCode>00000009</id:memberCode><id:subsystemCode>police-covert</id:subsystemCode>", 1)

// multipartOf frames parts (each "headers\r\n\r\ncontent") with boundary MIME_b.
func multipartOf(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteString("--MIME_b\r\n" + p + "\r\n")
	}
	b.WriteString("--MIME_b--\r\n")
	return b.String()
}

// TestMultipartSmuggling replays multipart requests whose parts a registry
// may read differently from govbus: each is refused, so that no envelope
// but the one govbus checked can reach the registry.
func TestMultipartSmuggling(t *testing.T) {
	if !strings.Contains(otherIdentity, "police-covert") {
		t.Fatal("otherIdentity does not change the client")
	}
	const (
		root       = "Content-Type: text/xml; charset=UTF-8\r\nContent-ID: <soap>\r\n\r\n" + baseEnvelope
		foreign    = "Content-Type: text/xml; charset=UTF-8\r\nContent-ID: <evil>\r\n\r\n"
		attachment = "Content-Type: application/octet-stream\r\nContent-ID: <att>\r\n\r\n\x00binary"
		related    = `multipart/related; type="text/xml"; boundary=MIME_b`
	)
	cases := []struct {
		name, body, contentType string
		want                    Code
	}{
		{"start names the second part, the first carries another identity",
			multipartOf(foreign+otherIdentity, root), `multipart/related; type="text/xml"; start="<soap>"; boundary=MIME_b`, CodeInvalidSOAP},
		{"start names the second part, the first is an attachment",
			multipartOf(attachment, root), `multipart/related; type="text/xml"; start="<soap>"; boundary=MIME_b`, CodeInvalidSOAP},
		{"a second envelope as text/xml",
			multipartOf(root, foreign+otherIdentity), related, CodeInvalidSOAP},
		{"a second envelope as application/soap+xml",
			multipartOf(root, "Content-Type: application/soap+xml\r\nContent-ID: <evil>\r\n\r\n"+otherIdentity), related, CodeInvalidSOAP},
		{"a second envelope as application/xml",
			multipartOf(root, "Content-Type: application/xml\r\nContent-ID: <evil>\r\n\r\n"+otherIdentity), related, CodeInvalidSOAP},
		{"a second envelope as application/xop+xml",
			multipartOf(root, "Content-Type: application/xop+xml; type=\"text/xml\"\r\nContent-ID: <evil>\r\n\r\n"+otherIdentity), related, CodeInvalidSOAP},
		{"duplicate Content-IDs",
			multipartOf(root, "Content-Type: application/octet-stream\r\nContent-ID: <soap>\r\n\r\nx"), related, CodeInvalidSOAP},
		{"duplicate Content-IDs written differently",
			multipartOf(root, "Content-Type: application/octet-stream\r\nContent-ID:  soap \r\n\r\nx"), related, CodeInvalidSOAP},
		{"an attachment with an unreadable Content-Type",
			multipartOf(root, "Content-Type: ;;;\r\n\r\nx"), related, CodeInvalidContentType},
		{"a delimiter-like line govbus reads as content",
			multipartOf(root, "Content-Type: application/octet-stream\r\n\r\nx\r\n--MIME_bX\r\nContent-Type: text/xml\r\n\r\n"+otherIdentity), related, CodeInvalidSOAP},
		{"an envelope after the closing delimiter",
			multipartOf(root) + "--MIME_b\r\n" + foreign + otherIdentity + "\r\n--MIME_b--\r\n", related, CodeInvalidSOAP},
		{"start names the first part, a second envelope follows",
			multipartOf(root, foreign+otherIdentity), `multipart/related; type="text/xml"; start="<soap>"; boundary=MIME_b`, CodeInvalidSOAP},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := ParseRequest([]byte(tc.body), tc.contentType, Limits{})
			if got := codeOf(t, err); got != tc.want {
				client := ""
				if req != nil {
					client = req.Client.String()
				}
				t.Fatalf("code = %q (client %q), want %q (%v)", got, client, tc.want, err)
			}
		})
	}
}

// TestMultipartAccepted keeps what SOAP with attachments legitimately
// sends: the SOAP part first (named by start= or not) and attachments of
// other types, one Content-ID each.
func TestMultipartAccepted(t *testing.T) {
	const (
		root = "Content-Type: text/xml; charset=UTF-8\r\nContent-ID: <soap>\r\n\r\n" + baseEnvelope
		att1 = "Content-Type: application/octet-stream\r\nContent-ID: <att1>\r\n\r\n\x00binary"
		att2 = "Content-Type: application/pdf\r\nContent-ID: <att2>\r\n\r\n%PDF-1.4"
		att3 = "Content-Type: text/plain\r\n\r\nno id"
	)
	for name, ct := range map[string]string{
		"no start":               `multipart/related; type="text/xml"; boundary=MIME_b`,
		"start names the first":  `multipart/related; type="text/xml"; start="<soap>"; boundary=MIME_b`,
		"start without brackets": `multipart/related; type="text/xml"; start="soap"; boundary=MIME_b`,
		"multipart/mixed":        `multipart/mixed; boundary=MIME_b`,
	} {
		t.Run(name, func(t *testing.T) {
			body := multipartOf(root, att1, att2, att3)
			req, err := ParseRequest([]byte(body), ct, Limits{})
			if err != nil {
				t.Fatalf("ParseRequest: %v", err)
			}
			if string(req.Envelope) != baseEnvelope || req.Client.String() != "UA/GOV/00000003/eservice" {
				t.Errorf("Envelope or client not the first part's: %s", req.Client)
			}
		})
	}
}

// TestMultipartSmugglingCorpus frames the corpus's valid X-Road requests
// as SOAP with attachments: each is accepted as the first part, and
// refused when another envelope of the corpus rides along or start=
// points past the first part.
func TestMultipartSmugglingCorpus(t *testing.T) {
	dir := corpusDir(t, "soap", "messages", "valid")
	const related = `multipart/related; type="text/xml"; boundary=MIME_b`
	part := func(id, body string) string {
		return "Content-Type: text/xml; charset=UTF-8\r\nContent-ID: <" + id + ">\r\n\r\n" + body
	}
	other := string(readFile(t, filepath.Join(dir, "xroad-proxy-simple.query.xml")))
	for _, tc := range validRequests {
		if tc.file == "xroad-proxy-simple.query.xml" {
			continue
		}
		t.Run(tc.file, func(t *testing.T) {
			env := string(readFile(t, filepath.Join(dir, tc.file)))
			req, err := ParseRequest([]byte(multipartOf(part("root", env), "Content-Type: application/octet-stream\r\n\r\nx")), related, Limits{})
			if err != nil || req.Client.String() != tc.client {
				t.Fatalf("as the first part: %v (client %v), want accepted as %s", err, req, tc.client)
			}
			for name, body := range map[string]string{
				"second envelope":       multipartOf(part("root", env), part("other", other)),
				"start names the other": multipartOf(part("other", other), part("root", env)),
			} {
				ct := related
				if name == "start names the other" {
					ct = `multipart/related; type="text/xml"; start="<root>"; boundary=MIME_b`
				}
				if _, err := ParseRequest([]byte(body), ct, Limits{}); codeOf(t, err) != CodeInvalidSOAP {
					t.Errorf("%s: err = %v, want client.invalid_soap", name, err)
				}
			}
		})
	}
}
