package soap

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// corpusDir returns the shared corpora folder (/work/shared/corpora when the
// repository is /work/main) or skips the test when it is absent.
func corpusDir(t testing.TB, sub ...string) string {
	t.Helper()
	dir := filepath.Join(append([]string{"..", "..", "shared", "corpora"}, sub...)...)
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("corpus folder %s not found, and CI=true: %v", dir, err)
		}
		t.Skipf("corpus folder %s not found (the shared corpora live next to the repository): %v", dir, err)
	}
	return dir
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// listDir returns the names of the regular files in dir.
func listDir(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	return names
}

// codeOf returns the code of a *Error, failing the test for any other error.
func codeOf(t testing.TB, err error) Code {
	t.Helper()
	if err == nil {
		return ""
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *soap.Error", err, err)
	}
	return e.Code
}

const textXML = "text/xml; charset=utf-8"

// validRequests are the requests in messages/valid, with what they carry.
var validRequests = []struct {
	file                                 string
	client, service, id, userID, version string
	issue, serviceVersion, party, bodyNS string
	clientType                           string
}{
	{file: "niis-testService-request-1.xml", client: "NIIS-TEST/GOV/123456-7/TestClient", service: "NIIS-TEST/GOV/0245437-2/TestService/testService", id: "ID11234", userID: "test", version: "4.0", serviceVersion: "v1", bodyNS: "http://test.x-road.global/producer", clientType: "SUBSYSTEM"},
	{file: "niis-testService-request-2.xml", client: "NIIS-TEST/GOV/123456-7/TestClient", service: "NIIS-TEST/GOV/0245437-2/TestService/testService", id: "ID11234", userID: "test", version: "4.0", serviceVersion: "v1", bodyNS: "http://test.x-road.global/producer", clientType: "SUBSYSTEM"},
	{file: "rest-adapter-getRandom-request.xml", client: "FI_TEST/GOV/1234567-8/TestClient", service: "FI_TEST/GOV/9876543-1/DemoService/getRandom", id: "ID11234", userID: "EE1234567890", version: "4.0", serviceVersion: "v1", bodyNS: "http://test.x-road.global/producer", clientType: "SUBSYSTEM"},
	{file: "rest-adapter-helloService-request.xml", client: "FI_TEST/GOV/1234567-8/TestClient", service: "FI_TEST/GOV/9876543-1/DemoService/helloService", id: "ID11234", userID: "EE1234567890", version: "4.0", serviceVersion: "v1", bodyNS: "http://test.x-road.global/producer", clientType: "SUBSYSTEM"},
	{file: "xroad-proxy-simple.query.xml", client: "EE/BUSINESS/consumer", service: "EE/BUSINESS/producer/testQuery", id: "1234567890", userID: "EE37702211234", version: "4.0", bodyNS: "http://cosumer.ee.xroad.net", clientType: "MEMBER"},
	{file: "xroad-proxy-getstate.query.xml", client: "EE/BUSINESS/consumer", service: "EE/BUSINESS/producer/getState", id: "411d6755661409fed365ad8135f8210be07613da", userID: "EE:PIN:abc4567", version: "4.0", bodyNS: "http://x-road.eu/xsd/xroad.xsd", clientType: "MEMBER"},
	{file: "xroad-proxy-missing-userId.query.xml", client: "EE/BUSINESS/consumer", service: "EE/BUSINESS/producer/testQuery", id: "1234567890", version: "4.0", bodyNS: "http://cosumer.ee.xroad.net", clientType: "MEMBER"},
	{file: "xroad-proxy-split-header.query.xml", client: "EE/BUSINESS/consumer", service: "EE/BUSINESS/producer/getState", id: "411d6755661409fed365ad8135f8210be07613da", userID: "12345", version: "4.0", issue: "w\naa\nww\n", bodyNS: "http://x-road.eu/xsd/xroad.xsd", clientType: "MEMBER"},
	{file: "xroad-proxy-simple-rpc.query.xml", client: "EE/BUSINESS/consumer", service: "EE/BUSINESS/producer/testQuery", id: "1234567890", userID: "EE37702211234", version: "4.0", bodyNS: "http://cosumer.ee.xroad.net", clientType: "MEMBER"},
	{file: "xroad-proxy-simple-representedparty.query.xml", client: "EE/BUSINESS/consumer", service: "EE/BUSINESS/producer/testQuery", id: "1234567890", userID: "EE37702211234", version: "4.0", issue: "issue-1", party: "COM/MEMBER3", bodyNS: "http://cosumer.ee.xroad.net", clientType: "MEMBER"},
}

// validResponses are the responses in messages/valid; echo_test.go uses them.
var validResponses = map[string]bool{
	"niis-testService-response-1.xml":           true,
	"niis-testService-response-2.multipart.txt": true,
	"rest-adapter-getRandom-response.xml":       true,
	"rest-adapter-helloService-response.xml":    true,
	"xroad-proxy-simple.answer.xml":             true,
	"xroad-proxy-getstate.answer.xml":           true,
	"xroad-proxy-soapfault-sample.xml":          true,
	"xroad-proxy-customfault.answer.xml":        true,
}

func TestParseRequestValidCorpus(t *testing.T) {
	dir := corpusDir(t, "soap", "messages", "valid")
	covered := map[string]bool{}
	for _, tc := range validRequests {
		covered[tc.file] = true
		t.Run(tc.file, func(t *testing.T) {
			body := readFile(t, filepath.Join(dir, tc.file))
			req, err := ParseRequest(body, textXML, Limits{})
			if err != nil {
				t.Fatalf("ParseRequest: %v", err)
			}
			checks := []struct{ what, got, want string }{
				{"client", req.Client.String(), tc.client},
				{"client objectType", req.Client.ObjectType, tc.clientType},
				{"service", req.Service.String(), tc.service},
				{"service objectType", req.Service.ObjectType, ObjectService},
				{"serviceVersion", req.Service.ServiceVersion, tc.serviceVersion},
				{"id", req.MessageID, tc.id},
				{"userId", req.UserID, tc.userID},
				{"issue", req.Issue, tc.issue},
				{"protocolVersion", req.ProtocolVersion, tc.version},
				{"body name", req.BodyName.Local, req.Service.ServiceCode},
				{"body namespace", req.BodyName.Space, tc.bodyNS},
				{"content type", req.ContentType, textXML},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
				}
			}
			switch {
			case tc.party == "" && req.RepresentedParty != nil:
				t.Errorf("RepresentedParty = %+v, want nil", *req.RepresentedParty)
			case tc.party != "" && req.RepresentedParty == nil:
				t.Errorf("RepresentedParty = nil, want %s", tc.party)
			case tc.party != "":
				if got := req.RepresentedParty.MemberClass + "/" + req.RepresentedParty.MemberCode; got != tc.party {
					t.Errorf("RepresentedParty = %s, want %s", got, tc.party)
				}
			}
			if string(req.Envelope) != string(body) || string(req.Raw) != string(body) {
				t.Error("Envelope and Raw must be the body as received")
			}
			if req.SOAP12 {
				t.Error("SOAP12 = true for a SOAP 1.1 envelope")
			}
			if !bytes.Contains(body, req.HeaderXML) || !bytes.Contains(req.HeaderXML, []byte("protocolVersion>4.0<")) {
				t.Errorf("HeaderXML is not the Header's content: %q", req.HeaderXML)
			}
		})
	}
	for _, name := range listDir(t, dir) {
		if !covered[name] && !validResponses[name] {
			t.Errorf("valid corpus file %s is in no table: add it to validRequests or validResponses", name)
		}
	}
}

// invalidRequests maps each file in messages/invalid to the code EXPECTED.md
// names (or our documented choice for the two files X-Road uses otherwise).
var invalidRequests = []struct {
	file, contentType string
	want              Code
}{
	{"xroad-proxy-malformed-body1.query.xml", textXML, CodeInvalidBody},
	{"xroad-proxy-malformed-body2.query.xml", textXML, CodeInvalidBody},
	{"xroad-proxy-malformed-body3.query.xml", textXML, CodeInconsistentHeaders},
	{"xroad-proxy-malformed-protocolVersion.query.xml", textXML, CodeInvalidProtocolVersion},
	{"xroad-proxy-wrong-protocolVersion.query.xml", textXML, CodeInvalidProtocolVersion},
	{"xroad-proxy-missing-protocolVersion.query.xml", textXML, CodeMissingHeaderField},
	{"xroad-proxy-no-header.query.xml", textXML, CodeMissingHeader},
	{"xroad-proxy-missing-body.query.xml", textXML, CodeMissingBody},
	{"xroad-proxy-faulty-header2.query.xml", textXML, CodeDuplicateHeaderField},
	{"xroad-proxy-missingobjecttype.query.xml", textXML, CodeInvalidXML},
	{"xroad-proxy-empty.query.xml", textXML, CodeInvalidSOAP},
	// X-Road's NoSoapToServerProxy sends it with this Content-Type.
	{"xroad-proxy-no-soap.query.xml", "multipart/mixed; charset=UTF-8; boundary=jetty771207119h3h10dty", CodeInvalidSOAP},
	// X-Road uses it as a faulty provider response; as a request it lacks
	// xrd:id and xrd:service.
	{"xroad-proxy-faulty-header.query.xml", textXML, CodeMissingHeaderField},
	// X-Road's SoapMessageTest: parser-level rejections.
	{"xroad-proxy-inconsistent-headers.query.xml", textXML, CodeInconsistentHeaders},
	{"xroad-proxy-wrong-version.query.xml", textXML, CodeInvalidProtocolVersion},
}

func TestParseRequestInvalidCorpus(t *testing.T) {
	dir := corpusDir(t, "soap", "messages", "invalid")
	covered := map[string]bool{}
	for _, tc := range invalidRequests {
		covered[tc.file] = true
		t.Run(tc.file, func(t *testing.T) {
			req, err := ParseRequest(readFile(t, filepath.Join(dir, tc.file)), tc.contentType, Limits{})
			if err == nil {
				t.Fatalf("ParseRequest accepted it: client %s service %s", req.Client, req.Service)
			}
			if got := codeOf(t, err); got != tc.want {
				t.Errorf("code = %s, want %s (%v)", got, tc.want, err)
			}
			var e *Error
			errors.As(err, &e)
			if e.GovbusType() != "Client.BadRequest" {
				t.Errorf("GovbusType = %s, want Client.BadRequest", e.GovbusType())
			}
		})
	}
	for _, name := range listDir(t, dir) {
		if !covered[name] {
			t.Errorf("invalid corpus file %s is in no table: add it to invalidRequests", name)
		}
	}
}
