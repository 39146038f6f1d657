package soap

import (
	"bytes"
	"encoding/xml"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// echoedHeader is what a client reads back from a response Header.
type echoedHeader struct {
	Client  xmlID `xml:"http://x-road.eu/xsd/xroad.xsd client"`
	Service xmlID `xml:"http://x-road.eu/xsd/xroad.xsd service"`
	Party   *struct {
		Class string `xml:"http://x-road.eu/xsd/representation.xsd partyClass"`
		Code  string `xml:"http://x-road.eu/xsd/representation.xsd partyCode"`
	} `xml:"http://x-road.eu/xsd/representation.xsd representedParty"`
	UserID      string `xml:"http://x-road.eu/xsd/xroad.xsd userId"`
	ID          string `xml:"http://x-road.eu/xsd/xroad.xsd id"`
	Issue       string `xml:"http://x-road.eu/xsd/xroad.xsd issue"`
	Version     string `xml:"http://x-road.eu/xsd/xroad.xsd protocolVersion"`
	RequestHash struct {
		Algorithm string `xml:"algorithmId,attr"`
		Value     string `xml:",chardata"`
	} `xml:"http://x-road.eu/xsd/xroad.xsd requestHash"`
}

type xmlID struct {
	ObjectType string `xml:"http://x-road.eu/xsd/identifiers objectType,attr"`
	Instance   string `xml:"http://x-road.eu/xsd/identifiers xRoadInstance"`
	Class      string `xml:"http://x-road.eu/xsd/identifiers memberClass"`
	Code       string `xml:"http://x-road.eu/xsd/identifiers memberCode"`
	Subsystem  string `xml:"http://x-road.eu/xsd/identifiers subsystemCode"`
	Service    string `xml:"http://x-road.eu/xsd/identifiers serviceCode"`
	Version    string `xml:"http://x-road.eu/xsd/identifiers serviceVersion"`
}

func (x xmlID) id() ID {
	return ID{ObjectType: x.ObjectType, XRoadInstance: x.Instance, MemberClass: x.Class, MemberCode: x.Code,
		SubsystemCode: x.Subsystem, ServiceCode: x.Service, ServiceVersion: x.Version}
}

// readEchoed decodes a response envelope's Header, failing on XML our own
// strict reader would refuse.
func readEchoed(t *testing.T, env []byte) echoedHeader {
	t.Helper()
	if _, perr := scanResponse(bytes.TrimPrefix(env, utf8BOM), Limits{}.withDefaults()); perr != nil {
		t.Fatalf("the rewritten envelope is refused by our reader: %v\n%s", perr, env)
	}
	var doc struct {
		Header echoedHeader `xml:"http://schemas.xmlsoap.org/soap/envelope/ Header"`
	}
	if err := xml.Unmarshal(env, &doc); err != nil {
		t.Fatalf("the rewritten envelope is not well-formed: %v\n%s", err, env)
	}
	return doc.Header
}

// checkEchoed compares an echoed Header with the request it came from.
func checkEchoed(t *testing.T, env []byte, req *Request) {
	t.Helper()
	h := readEchoed(t, env)
	if got := h.Client.id(); got != req.Client {
		t.Errorf("client = %+v, want %+v", got, req.Client)
	}
	if got := h.Service.id(); got != req.Service {
		t.Errorf("service = %+v, want %+v", got, req.Service)
	}
	for _, c := range []struct{ what, got, want string }{
		{"userId", h.UserID, req.UserID},
		{"id", h.ID, req.MessageID},
		{"issue", h.Issue, req.Issue},
		{"protocolVersion", h.Version, req.ProtocolVersion},
		{"requestHash", h.RequestHash.Value, RequestHash(req.Envelope)},
		{"requestHash algorithmId", h.RequestHash.Algorithm, "http://www.w3.org/2001/04/xmlenc#sha512"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}
	if (h.Party == nil) != (req.RepresentedParty == nil) {
		t.Errorf("representedParty echoed = %v, want %v", h.Party != nil, req.RepresentedParty != nil)
	} else if h.Party != nil && (h.Party.Class != req.RepresentedParty.MemberClass || h.Party.Code != req.RepresentedParty.MemberCode) {
		t.Errorf("representedParty = %+v, want %+v", *h.Party, *req.RepresentedParty)
	}
	for _, field := range []string{"client", "service", "id", "protocolVersion", "requestHash"} {
		if n := strings.Count(string(env), ":"+field+" "); n != 1 {
			t.Errorf("the Header holds %d xrd:%s elements, want 1", n, field)
		}
	}
}

// bodyOf returns the bytes from the Body start tag to the end.
func bodyOf(t *testing.T, env []byte) []byte {
	t.Helper()
	i := bytes.Index(env, []byte(":Body>"))
	if i < 0 {
		t.Fatalf("no Body in %s", env)
	}
	return env[bytes.LastIndexByte(env[:i], '<'):]
}

func TestEchoResponseCorpus(t *testing.T) {
	dir := corpusDir(t, "soap", "messages", "valid")
	cases := []struct{ request, response, contentType string }{
		{"xroad-proxy-simple.query.xml", "xroad-proxy-simple.answer.xml", textXML},
		{"xroad-proxy-getstate.query.xml", "xroad-proxy-getstate.answer.xml", textXML},
		{"xroad-proxy-simple-representedparty.query.xml", "xroad-proxy-simple.answer.xml", textXML},
		{"niis-testService-request-1.xml", "niis-testService-response-1.xml", textXML},
		{"rest-adapter-getRandom-request.xml", "rest-adapter-getRandom-response.xml", "text/xml"},
		{"rest-adapter-helloService-request.xml", "rest-adapter-helloService-response.xml", "text/xml"},
	}
	for _, tc := range cases {
		t.Run(tc.response, func(t *testing.T) {
			req, err := ParseRequest(readFile(t, filepath.Join(dir, tc.request)), textXML, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			resp := readFile(t, filepath.Join(dir, tc.response))
			out, ct, err := EchoResponse(resp, tc.contentType, req, RequestHash(req.Envelope))
			if err != nil {
				t.Fatalf("EchoResponse: %v", err)
			}
			if ct != tc.contentType {
				t.Errorf("content type = %q, want %q", ct, tc.contentType)
			}
			checkEchoed(t, out, req)
			if !bytes.Equal(bodyOf(t, out), bodyOf(t, resp)) {
				t.Errorf("the Body changed:\n%s", bodyOf(t, out))
			}
			if !bytes.HasPrefix(out, resp[:bytes.Index(resp, []byte(":Header>"))]) {
				t.Errorf("the bytes before the Header changed")
			}
		})
	}
}

func TestEchoResponseMultipart(t *testing.T) {
	dir := corpusDir(t, "soap", "messages", "valid")
	req, err := ParseRequest(readFile(t, filepath.Join(dir, "niis-testService-request-2.xml")), textXML, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	resp := readFile(t, filepath.Join(dir, "niis-testService-response-2.multipart.txt"))
	const boundary = "----=_Part_10_289860323.1439664365614"
	for _, ct := range []string{
		`multipart/related; type="text/xml"; boundary="` + boundary + `"`,
		`multipart/related; type="text/xml"; start="<missing-is-not-used>"; boundary="` + boundary + `"`,
	} {
		out, gotCT, err := EchoResponse(resp, ct, req, RequestHash(req.Envelope))
		if strings.Contains(ct, "start=") {
			if codeOf(t, err) != CodeServerInvalidSOAP {
				t.Errorf("start= naming no part: err = %v, want server.invalid_soap", err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("EchoResponse: %v", err)
		}
		if gotCT != ct {
			t.Errorf("content type = %q, want %q", gotCT, ct)
		}
		// Everything from the delimiter after the SOAP part on — the
		// attachment, its headers, the closing delimiter — is unchanged.
		second := []byte("\n--" + boundary + "\nContent-Type: application/xml")
		i, j := bytes.Index(resp, second), bytes.Index(out, second)
		if i < 0 || j < 0 {
			t.Fatalf("attachment part not found (in response %d, in output %d)", i, j)
		}
		if !bytes.Equal(out[j:], resp[i:]) {
			t.Errorf("attachment bytes changed:\n got %q\nwant %q", out[j:], resp[i:])
		}
		// The SOAP part's headers are unchanged, and its envelope is echoed.
		start := bytes.Index(resp, []byte("<SOAP-ENV:Envelope"))
		if !bytes.Equal(out[:start], resp[:start]) {
			t.Errorf("the bytes before the SOAP envelope changed")
		}
		checkEchoed(t, out[start:j], req)
	}
}

func TestEchoResponseShapes(t *testing.T) {
	req, err := ParseRequest([]byte(envelopeWith(`<xrd:userId>EE&amp;1</xrd:userId><xrd:issue>case &lt;7&gt;</xrd:issue>`, "")), textXML, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	hash := RequestHash(req.Envelope)
	const soapNS = `xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"`
	cases := []struct {
		name, resp string
		unchanged  bool   // passes through byte for byte
		keep       string // must still be in the output
	}{
		{name: "no Header", resp: `<S:Envelope ` + soapNS + `><S:Body><c:companiesResponse xmlns:c="urn:x"/></S:Body></S:Envelope>`, keep: `<S:Header><xrd:client`},
		{name: "empty Header element", resp: `<S:Envelope ` + soapNS + `><S:Header/><S:Body><r/></S:Body></S:Envelope>`, keep: `<S:Header><xrd:client`},
		{name: "empty Header element with attributes", resp: `<S:Envelope ` + soapNS + `><S:Header xmlns:a="urn:a" a:x="1" /><S:Body><r/></S:Body></S:Envelope>`, keep: `<S:Header xmlns:a="urn:a" a:x="1" ><xrd:client`},
		{name: "default namespace, no Header", resp: `<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"><Body><r xmlns=""/></Body></Envelope>`, keep: `<Header><xrd:client`},
		{name: "registry sent its own fields and other headers",
			resp: `<S:Envelope ` + soapNS + ` xmlns:x="http://x-road.eu/xsd/xroad.xsd" xmlns:id="urn:not-identifiers"><S:Header>
  <x:client>forged</x:client>
  <id:custom>kept</id:custom>
  <x:requestHash algorithmId="md5">old</x:requestHash>
  <!-- a comment -->
  <x:securityServer>kept too</x:securityServer>
</S:Header><S:Body><r/></S:Body></S:Envelope>`,
			keep: "<id:custom>kept</id:custom>"},
		{name: "Fault without Header", resp: `<?xml version="1.0"?><S:Envelope ` + soapNS + `><S:Body><S:Fault><faultcode>S:Server</faultcode><faultstring>x</faultstring></S:Fault></S:Body></S:Envelope>`, unchanged: true},
		{name: "Fault with Header", resp: `<S:Envelope ` + soapNS + `><S:Header></S:Header><S:Body><S:Fault><faultcode>S:Server</faultcode><faultstring>x</faultstring></S:Fault></S:Body></S:Envelope>`, keep: "<faultstring>x</faultstring>"},
		{name: "BOM and declaration", resp: "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<S:Envelope " + soapNS + "><S:Body><r/></S:Body></S:Envelope>", keep: "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<S:Envelope"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := EchoResponse([]byte(tc.resp), "text/xml; charset=UTF-8", req, hash)
			if err != nil {
				t.Fatalf("EchoResponse: %v", err)
			}
			if tc.unchanged {
				if string(out) != tc.resp {
					t.Errorf("a Fault without Header changed:\n%s", out)
				}
				return
			}
			checkEchoed(t, out, req)
			if !strings.Contains(string(out), tc.keep) {
				t.Errorf("output lacks %q:\n%s", tc.keep, out)
			}
			for _, gone := range []string{"forged", "old", "md5"} {
				if strings.Contains(string(out), gone) {
					t.Errorf("the registry's own %q survived:\n%s", gone, out)
				}
			}
			if strings.Contains(tc.resp, "kept too") && (!strings.Contains(string(out), "kept too") || !strings.Contains(string(out), "<!-- a comment -->")) {
				t.Errorf("other headers or comments were lost:\n%s", out)
			}
		})
	}
}

func TestEchoResponseErrors(t *testing.T) {
	req, err := ParseRequest([]byte(envelopeWith("", "")), textXML, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	const env = `<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><r/></S:Body></S:Envelope>`
	cases := []struct {
		name, resp, contentType string
		want                    Code
	}{
		{"JSON", `{"a":1}`, "application/json", CodeServerInvalidContentType},
		{"Latin-1", env, "text/xml; charset=ISO-8859-1", CodeServerInvalidContentType},
		{"not XML", `hello`, "text/xml", CodeServerInvalidXML},
		{"empty", ``, "text/xml", CodeServerInvalidSOAP},
		{"DOCTYPE", `<!DOCTYPE S:Envelope [<!ENTITY x "y">]>` + env, "text/xml", CodeServerInvalidXML},
		{"no Body", `<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Header/></S:Envelope>`, "text/xml", CodeServerInvalidSOAP},
		{"SOAP 1.2", `<S:Envelope xmlns:S="http://www.w3.org/2003/05/soap-envelope"><S:Body><r/></S:Body></S:Envelope>`, "application/soap+xml", CodeServerInvalidSOAP},
		{"two Bodies", `<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body/><S:Body/></S:Envelope>`, "text/xml", CodeServerInvalidSOAP},
		{"trailing garbage", env + `<x/>`, "text/xml", CodeServerInvalidXML},
		{"multipart without boundary", env, "multipart/related", CodeServerInvalidContentType},
		{"multipart without parts", env, "multipart/related; boundary=b", CodeServerInvalidSOAP},
		{"multipart SOAP part not XML", "--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--\r\n", "multipart/related; boundary=b", CodeServerInvalidContentType},
		{"multipart part not terminated", "--b\r\nContent-Type: text/xml\r\n\r\n" + env, "multipart/related; boundary=b", CodeServerInvalidSOAP},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := EchoResponse([]byte(tc.resp), tc.contentType, req, "h")
			if got := codeOf(t, err); got != tc.want {
				t.Errorf("code = %q, want %q (%v)", got, tc.want, err)
			}
			var e *Error
			if errors.As(err, &e) && e.GovbusType() != "Server.InternalError" {
				t.Errorf("GovbusType = %s, want Server.InternalError", e.GovbusType())
			}
		})
	}
	if _, _, err := EchoResponse([]byte(env), "text/xml", nil, "h"); err == nil {
		t.Error("EchoResponse without a request succeeded")
	}
}

func TestEchoResponseMultipartCRLFAndStart(t *testing.T) {
	req, err := ParseRequest([]byte(envelopeWith("", "")), textXML, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	env := `<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Header>
</S:Header><S:Body><r/></S:Body></S:Envelope>`
	attachment := "--b\r\nContent-Type: application/octet-stream\r\nContent-ID: <att>\r\n\r\n\x00\x01binary\r\n--b\r\n"
	resp := "preamble\r\n" + attachment + "Content-Type: text/xml; charset=UTF-8\r\nContent-ID: <root>\r\n\r\n" + env + "\r\n--b--\r\nepilogue"
	out, _, err := EchoResponse([]byte(resp), `multipart/related; boundary=b; start="<root>"; type="text/xml"`, req, RequestHash(req.Envelope))
	if err != nil {
		t.Fatalf("EchoResponse: %v", err)
	}
	if !bytes.HasPrefix(out, []byte("preamble\r\n"+attachment)) || !bytes.HasSuffix(out, []byte("\r\n--b--\r\nepilogue")) {
		t.Errorf("bytes outside the SOAP part changed:\n%q", out)
	}
	start := bytes.Index(out, []byte("<S:Envelope"))
	end := bytes.LastIndex(out, []byte("\r\n--b--"))
	checkEchoed(t, out[start:end], req)
}

func TestRequestHash(t *testing.T) {
	// SHA-512 of the empty string, base64.
	if got, want := RequestHash(nil), "z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg=="; got != want {
		t.Errorf("RequestHash(empty) = %s, want %s", got, want)
	}
	if RequestHash([]byte("a")) == RequestHash([]byte("b")) {
		t.Error("different envelopes hash the same")
	}
}
