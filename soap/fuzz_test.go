package soap

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseRequest checks that ParseRequest never panics, answers only
// *Error, and that what it accepts is consistent: the identifiers are there,
// the Body element is the service code, and the request can be echoed and
// its Fault written.
func FuzzParseRequest(f *testing.F) {
	f.Add([]byte(baseEnvelope), textXML)
	f.Add([]byte("--b\r\nContent-Type: text/xml\r\n\r\n"+baseEnvelope+"\r\n--b--\r\n"), "multipart/related; boundary=b")
	root := filepath.Join("..", "..", "shared", "corpora")
	for _, dir := range []string{"soap/messages", "attacks/xml"} {
		_ = filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || strings.HasSuffix(path, ".tsv") {
				return nil
			}
			if b, err := os.ReadFile(path); err == nil {
				f.Add(b, textXML)
			}
			return nil
		})
	}
	resp := []byte(`<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><r/></S:Body></S:Envelope>`)
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		req, err := ParseRequest(body, contentType, Limits{MaxBytes: 1 << 20})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is a %T, not a *Error", err, err)
			}
			if e.Code == "" || e.Message == "" {
				t.Fatalf("error without code or message: %+v", e)
			}
			var fault struct {
				Code string `xml:"Body>Fault>faultcode"`
			}
			if err := xml.Unmarshal(Fault(string(e.Code), e.Message, e.GovbusType(), "id"), &fault); err != nil || fault.Code != string(e.Code) {
				t.Fatalf("Fault for %v does not parse back: %v", e, err)
			}
			return
		}
		if req.Client.XRoadInstance == "" || req.Client.MemberClass == "" || req.Client.MemberCode == "" {
			t.Fatalf("accepted a client without instance, class or code: %+v", req.Client)
		}
		if req.Service.ServiceCode == "" || req.BodyName.Local != req.Service.ServiceCode {
			t.Fatalf("accepted body %q for service code %q", req.BodyName.Local, req.Service.ServiceCode)
		}
		if req.ProtocolVersion != "4.0" || req.MessageID == "" {
			t.Fatalf("accepted protocolVersion %q, id %q", req.ProtocolVersion, req.MessageID)
		}
		if !bytes.Contains(body, req.Envelope) || !bytes.Contains(req.Envelope, req.HeaderXML) {
			t.Fatal("Envelope or HeaderXML is not a piece of the input")
		}
		out, _, err := EchoResponse(resp, "text/xml", req, RequestHash(req.Envelope))
		if err != nil {
			t.Fatalf("echoing an accepted request: %v", err)
		}
		var echoed struct {
			Hash string `xml:"Header>requestHash"`
		}
		if err := xml.Unmarshal(out, &echoed); err != nil || echoed.Hash != RequestHash(req.Envelope) {
			t.Fatalf("echoed response does not parse back (%v):\n%s", err, out)
		}
	})
}

// FuzzSubjectText checks that SubjectText never panics, answers only
// *Error, and that a value it returns is one reading away from the bytes:
// no white space at its edges, and found whenever a value is returned.
func FuzzSubjectText(f *testing.F) {
	f.Add([]byte(baseEnvelope), "code")
	f.Add([]byte(strings.Replace(baseEnvelope, "<c:code>10000001</c:code>", "<c:code>1<!---->0</c:code><c:code>2</c:code>", 1)), "code")
	f.Add([]byte(strings.Replace(baseEnvelope, "<c:code>10000001</c:code>", "<c:code><![CDATA[ 1 ]]></c:code>", 1)), "code")
	f.Fuzz(func(t *testing.T, env []byte, element string) {
		v, found, err := SubjectText(env, element, Limits{MaxBytes: 1 << 20})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is a %T, not a *Error", err, err)
			}
			if v != "" || found {
				t.Fatalf("an error with a value: %q, %v", v, found)
			}
			return
		}
		if v != "" && !found {
			t.Fatalf("value %q without found", v)
		}
		if v != "" && (isBlank(v[0]) || isBlank(v[len(v)-1])) {
			t.Fatalf("value %q has white space at an edge", v)
		}
	})
}
