package e2e

// Real SOAP clients against govbus's X-Road SOAP 4.0 entry (POST /): node-soap
// (the `soap` npm package pinned in tools/soapclients) with the NIIS test
// service's WSDL and with the business registry's, and Debian's python3-zeep
// with the business registry's WSDL (zeep rejects the NIIS one, see
// shared/corpora/soap/EXPECTED.md). scripts/ensure-soapclients.sh (make deps)
// installs both; without them the tests skip, except under CI=true.

import (
	"context"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/govbus/govbus/registrysim"
)

const (
	soapClientsDir = "../tools/soapclients"
	niisWSDL       = "../../shared/corpora/soap/wsdl/niis-test-service.wsdl"
	debianPython   = "/usr/bin/python3" // python3-zeep is for Debian's python3, not pyenv's
	knownCompany   = "10000042"
)

// xrdID is an X-Road identifier as the client scripts take it.
type xrdID struct {
	XRoadInstance  string `json:"xRoadInstance"`
	MemberClass    string `json:"memberClass"`
	MemberCode     string `json:"memberCode"`
	SubsystemCode  string `json:"subsystemCode,omitempty"`
	ServiceCode    string `json:"serviceCode,omitempty"`
	ServiceVersion string `json:"serviceVersion,omitempty"`
}

// soapCall is the spec the client scripts take (tools/soapclients).
type soapCall struct {
	WSDL        string            `json:"wsdl"`
	Endpoint    string            `json:"endpoint"`
	Operation   string            `json:"operation"`
	Args        map[string]string `json:"args"`
	Client      xrdID             `json:"client"`
	Service     xrdID             `json:"service"`
	ID          string            `json:"id"`
	UserID      string            `json:"userId,omitempty"`
	HTTPHeaders map[string]string `json:"httpHeaders"`
}

// soapOutcome is what a client script prints.
type soapOutcome struct {
	OK             bool                       `json:"ok"`
	Kind           string                     `json:"kind"`
	Status         int                        `json:"status"`
	Result         json.RawMessage            `json:"result"`
	ResponseHeader map[string]json.RawMessage `json:"responseHeader"`
	RawRequest     string                     `json:"rawRequest"`
	RawResponse    string                     `json:"rawResponse"`
	Fault          *struct {
		Code   any `json:"faultcode"`
		String any `json:"faultstring"`
	} `json:"fault"`
	Error    string   `json:"error"`
	Message  string   `json:"message"`
	Warnings []string `json:"warnings"`
	stdout   string
}

var eserviceXRD = xrdID{XRoadInstance: "UA", MemberClass: "GOV", MemberCode: "00000003", SubsystemCode: "eservice"}

// requireCorpus skips, even under CI=true, when the shared corpora are not
// beside the repository (a clone elsewhere): they are referenced, never
// copied in.
func requireCorpus(t *testing.T, why string) {
	t.Helper()
	if why != "" {
		t.Skip(why)
	}
}

// requireTool skips (or, under CI=true, fails) when a client is missing.
func requireTool(t *testing.T, ok bool, why string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s; scripts/ensure-soapclients.sh (make deps) installs it", why)
	}
	t.Skipf("%s; run scripts/ensure-soapclients.sh (make deps) to install it", why)
}

func nodeSOAPMissing() string {
	if _, err := exec.LookPath("node"); err != nil {
		return "node not found (node-soap needs Node.js >= 20.19 and npm)"
	}
	if _, err := os.Stat(filepath.Join(soapClientsDir, "node_modules", "soap", "package.json")); err != nil {
		return "node-soap is not installed in tools/soapclients/node_modules"
	}
	return ""
}

func zeepMissing() string {
	if err := exec.Command(debianPython, "-c", "import zeep").Run(); err != nil {
		return "python3-zeep is not importable by " + debianPython + " (" + err.Error() + ")"
	}
	return ""
}

// clientEnv is the environment without proxy settings: every call here is
// to loopback.
func clientEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasSuffix(strings.ToLower(k), "_proxy") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// runSOAPClient runs one client script with spec and decodes its answer.
func runSOAPClient(t *testing.T, name string, spec soapCall, args ...string) soapOutcome {
	t.Helper()
	js, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, append(args, string(js))...)
	cmd.Env = clientEnv()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var res soapOutcome
	if jerr := json.Unmarshal(out, &res); jerr != nil {
		t.Fatalf("%s %s: %v (exit: %v)\nstdout: %s\nstderr: %s", name, args, jerr, err, out, stderr.String())
	}
	res.stdout = string(out)
	if err != nil && res.Kind != "wsdl" {
		t.Fatalf("%s %s: %v\nstdout: %s\nstderr: %s", name, args, err, out, stderr.String())
	}
	return res
}

func nodeSOAP(t *testing.T, spec soapCall) soapOutcome {
	t.Helper()
	return runSOAPClient(t, "node", spec, filepath.Join(soapClientsDir, "node-client.js"))
}

func zeepCall(t *testing.T, spec soapCall) soapOutcome {
	t.Helper()
	return runSOAPClient(t, debianPython, spec, filepath.Join(soapClientsDir, "zeep_client.py"))
}

// requestHash is the response header's xrd:requestHash as text (node-soap
// gives {attributes, $value}, the zeep script the text).
func (o soapOutcome) requestHash(t *testing.T) string {
	t.Helper()
	raw, ok := o.ResponseHeader["requestHash"]
	if !ok {
		t.Fatalf("the response header has no requestHash: %s", o.stdout)
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var v struct {
		Attributes map[string]string `json:"attributes"`
		Value      string            `json:"$value"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("requestHash %s: %v", raw, err)
	}
	if alg := v.Attributes["algorithmId"]; alg != "http://www.w3.org/2001/04/xmlenc#sha512" {
		t.Errorf("requestHash algorithmId = %q", alg)
	}
	return v.Value
}

// headerText is a plain response header field, e.g. id.
func (o soapOutcome) headerText(name string) string {
	var s string
	_ = json.Unmarshal(o.ResponseHeader[name], &s)
	return s
}

// fakeNIIS is a small X-Road SOAP provider of the NIIS test service's
// testService: it answers a testServiceResponse (data of
// responseBodySize characters) with the request's X-Road header echoed, as
// shared/corpora/soap/messages/valid/niis-testService-response-1.xml.
type fakeNIIS struct {
	mu       sync.Mutex
	requests []niisSeen
}

type niisSeen struct {
	auth, client, contentType string
	body                      []byte
}

type niisIdentifier struct {
	ObjectType     string `xml:"http://x-road.eu/xsd/identifiers objectType,attr"`
	XRoadInstance  string `xml:"http://x-road.eu/xsd/identifiers xRoadInstance"`
	MemberClass    string `xml:"http://x-road.eu/xsd/identifiers memberClass"`
	MemberCode     string `xml:"http://x-road.eu/xsd/identifiers memberCode"`
	SubsystemCode  string `xml:"http://x-road.eu/xsd/identifiers subsystemCode"`
	ServiceCode    string `xml:"http://x-road.eu/xsd/identifiers serviceCode"`
	ServiceVersion string `xml:"http://x-road.eu/xsd/identifiers serviceVersion"`
}

type niisRequest struct {
	Header struct {
		Client          *niisIdentifier `xml:"http://x-road.eu/xsd/xroad.xsd client"`
		Service         *niisIdentifier `xml:"http://x-road.eu/xsd/xroad.xsd service"`
		UserID          *string         `xml:"http://x-road.eu/xsd/xroad.xsd userId"`
		ID              *string         `xml:"http://x-road.eu/xsd/xroad.xsd id"`
		ProtocolVersion *string         `xml:"http://x-road.eu/xsd/xroad.xsd protocolVersion"`
	} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Header"`
	Body struct {
		TestService *struct {
			// Unqualified in the WSDL's schema, qualified in the corpus's
			// sample: either is read.
			ResponseBodySize string `xml:"responseBodySize"`
		} `xml:"http://test.x-road.global/producer testService"`
	} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Body"`
}

func (f *fakeNIIS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	f.mu.Lock()
	f.requests = append(f.requests, niisSeen{r.Header.Get("Authorization"), r.Header.Get("X-Road-Client"), r.Header.Get("Content-Type"), body})
	f.mu.Unlock()
	var req niisRequest
	if err := xml.Unmarshal(body, &req); err != nil || req.Body.TestService == nil || req.Header.Client == nil || req.Header.Service == nil {
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, `<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body><SOAP-ENV:Fault><faultcode>SOAP-ENV:Client</faultcode><faultstring>not a testService request (%s)</faultstring></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>`, xmlText(fmt.Sprint(err)))
		return
	}
	n, _ := strconv.Atoi(strings.TrimSpace(req.Body.TestService.ResponseBodySize))
	n = max(0, min(n, 10000))
	data := strings.Repeat("ibWHohGndjaJUJvyOBwmfqIZb", n/25+1)[:n]
	var b strings.Builder
	b.WriteString(`<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:id="http://x-road.eu/xsd/identifiers" xmlns:xrd="http://x-road.eu/xsd/xroad.xsd"><SOAP-ENV:Header>`)
	writeNIISID(&b, "client", req.Header.Client)
	writeNIISID(&b, "service", req.Header.Service)
	for _, f := range []struct {
		name string
		v    *string
	}{{"userId", req.Header.UserID}, {"id", req.Header.ID}, {"protocolVersion", req.Header.ProtocolVersion}} {
		if f.v != nil {
			fmt.Fprintf(&b, "<xrd:%s>%s</xrd:%s>", f.name, xmlText(*f.v), f.name)
		}
	}
	fmt.Fprintf(&b, `</SOAP-ENV:Header><SOAP-ENV:Body><ts1:testServiceResponse xmlns:ts1="http://test.x-road.global/producer"><ts1:data>%s</ts1:data><ts1:processingTime>0</ts1:processingTime></ts1:testServiceResponse></SOAP-ENV:Body></SOAP-ENV:Envelope>`, data)
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	_, _ = io.WriteString(w, b.String())
}

func writeNIISID(b *strings.Builder, name string, id *niisIdentifier) {
	fmt.Fprintf(b, `<xrd:%s id:objectType="%s">`, name, xmlText(id.ObjectType))
	for _, p := range [][2]string{{"xRoadInstance", id.XRoadInstance}, {"memberClass", id.MemberClass}, {"memberCode", id.MemberCode},
		{"subsystemCode", id.SubsystemCode}, {"serviceCode", id.ServiceCode}, {"serviceVersion", id.ServiceVersion}} {
		if p[1] != "" {
			fmt.Fprintf(b, "<id:%s>%s</id:%s>", p[0], xmlText(p[1]), p[0])
		}
	}
	fmt.Fprintf(b, "</xrd:%s>", name)
}

func xmlText(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func (f *fakeNIIS) seen() []niisSeen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]niisSeen(nil), f.requests...)
}

// soapWorld is the demo world plus what the real clients call: the
// business registry's getCompany (the operation its WSDL names; X-Road
// clients send the Body element named after the service code) and the NIIS
// test service UA/GOV/00000007/niis-test/testService served by fakeNIIS,
// both allowed to the eservice client for service-delivery.
type soapWorld struct {
	*demo
	consumer, businessWSDL string
	niis                   *fakeNIIS
}

// configEdit inserts text once, after anchor (or before it).
func configEdit(t *testing.T, cfg, anchor, text string, before bool) string {
	t.Helper()
	if n := strings.Count(cfg, anchor); n != 1 {
		t.Fatalf("the demo configuration has %q %d times, want once", anchor, n)
	}
	if before {
		return strings.Replace(cfg, anchor, text+anchor, 1)
	}
	return strings.Replace(cfg, anchor, anchor+text, 1)
}

func startSOAPWorld(t *testing.T, govbus, sim string) *soapWorld {
	t.Helper()
	niis := &fakeNIIS{}
	srv := httptest.NewServer(niis)
	t.Cleanup(srv.Close)

	free := freePorts(t, len(demoPorts))
	d := &demo{ports: map[string]string{}}
	for i, p := range demoPorts {
		d.ports[p] = free[i]
	}
	src, err := os.ReadFile("../deploy/demo/govbus.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := d.rewrite(string(src))
	cfg = strings.ReplaceAll(cfg, "../../registrysim/", mustAbs(t, "../registrysim")+"/")
	cfg = configEdit(t, cfg, "\nregistries:\n", "  - {id: UA/GOV/00000007, name: NIIS X-Road test service (fake)}\n", true)
	cfg = configEdit(t, cfg, "          not_found_fault: not found\n", `      - code: getCompany              # X-Road SOAP clients of business.wsdl
        methods: [POST]
`, false)
	cfg = configEdit(t, cfg, "\nclients:\n", `
  - id: UA/GOV/00000007/niis-test
    name: NIIS X-Road test service (fake, in the test)
    adapter: soap
    endpoints: [`+srv.URL+`]
    timeout: 5s
    services:
      - code: testService
        methods: [POST]
`, true)
	cfg += `  - id: eservice-soap-clients
    clients: [UA/GOV/00000003/eservice]
    services: [UA/GOV/00000002/business-registry/getCompany, UA/GOV/00000007/niis-test/testService]
    purposes: [service-delivery]
`
	d.config = filepath.Join(t.TempDir(), "govbus.yaml")
	if err := os.WriteFile(d.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(govbus, "check", "-config", d.config).CombinedOutput(); err != nil {
		t.Fatalf("govbus check of the test's configuration: %v\n%s", err, out)
	}
	start(t, sim, "-civil", "127.0.0.1:"+d.ports["9101"], "-business", "127.0.0.1:"+d.ports["9102"])
	d.govbus = start(t, govbus, "serve", "-config", d.config)
	w := &soapWorld{demo: d, niis: niis,
		consumer:     "http://127.0.0.1:" + d.ports["8080"] + "/",
		businessWSDL: "http://127.0.0.1:" + d.ports["9102"] + "/?wsdl"}
	waitReady(t, "http://127.0.0.1:"+d.ports["9464"]+"/readyz")
	waitReady(t, w.businessWSDL)
	return w
}

// getCompany is a call of the business registry's getCompany through govbus.
func (w *soapWorld) getCompany(id, code, key string) soapCall {
	return soapCall{
		WSDL: w.businessWSDL, Endpoint: w.consumer, Operation: "getCompany",
		Args:   map[string]string{"code": code},
		Client: eserviceXRD,
		Service: xrdID{XRoadInstance: "UA", MemberClass: "GOV", MemberCode: "00000002",
			SubsystemCode: "business-registry", ServiceCode: "getCompany"},
		ID: id, UserID: "EE-soap-client-test",
		HTTPHeaders: map[string]string{"Authorization": "Bearer " + key, "X-Road-Purpose": "service-delivery"},
	}
}

// checkCompany asserts a getCompany answer: the registry's company, and the
// X-Road header echoed with a requestHash.
func checkCompany(t *testing.T, res soapOutcome, id string) {
	t.Helper()
	if !res.OK {
		t.Fatalf("getCompany through govbus failed: %s", res.stdout)
	}
	var body struct {
		Company struct{ Code, Name string } `json:"company"`
	}
	if err := json.Unmarshal(res.Result, &body); err != nil {
		t.Fatalf("result %s: %v", res.Result, err)
	}
	want, ok := registrysim.CompanyByCode(knownCompany)
	if !ok {
		t.Fatalf("registrysim has no company %s", knownCompany)
	}
	if body.Company.Code != knownCompany || body.Company.Name != want.Name {
		t.Errorf("company = %+v, want code %s name %q", body.Company, knownCompany, want.Name)
	}
	if got := res.headerText("id"); got != id {
		t.Errorf("echoed xrd:id = %q, want %q", got, id)
	}
	if h := res.requestHash(t); len(h) != 88 { // base64 of 64 bytes
		t.Errorf("requestHash = %q, want base64 of a SHA-512", h)
	}
}

func TestSOAPClients(t *testing.T) {
	nodeWhy, zeepWhy := nodeSOAPMissing(), zeepMissing()
	if nodeWhy != "" && zeepWhy != "" {
		requireTool(t, false, nodeWhy+"; "+zeepWhy)
	}
	niisWhy := ""
	if _, err := os.Stat(niisWSDL); err != nil {
		niisWhy = "the NIIS test-service WSDL of shared/corpora is not there: " + err.Error()
	}
	govbus, sim := binaries(t)
	w := startSOAPWorld(t, govbus, sim)

	t.Run("node-soap NIIS testService", func(t *testing.T) {
		requireTool(t, nodeWhy == "", nodeWhy)
		requireCorpus(t, niisWhy)
		spec := soapCall{
			WSDL: mustAbs(t, niisWSDL), Endpoint: w.consumer, Operation: "testService",
			Args:   map[string]string{"responseBodySize": "25", "responseAttachmentSize": "0"},
			Client: eserviceXRD,
			Service: xrdID{XRoadInstance: "UA", MemberClass: "GOV", MemberCode: "00000007",
				SubsystemCode: "niis-test", ServiceCode: "testService", ServiceVersion: "v1"},
			ID: "node-soap-niis-1", UserID: "EE-soap-client-test",
			HTTPHeaders: map[string]string{"Authorization": "Bearer demo-eservice-key", "X-Road-Purpose": "service-delivery"},
		}
		res := nodeSOAP(t, spec)
		if !res.OK {
			t.Fatalf("testService through govbus failed: %s", res.stdout)
		}
		var body struct{ Data, ProcessingTime string }
		if err := json.Unmarshal(res.Result, &body); err != nil {
			t.Fatalf("result %s: %v", res.Result, err)
		}
		if len(body.Data) != 25 || body.ProcessingTime == "" {
			t.Errorf("testServiceResponse = %+v, want 25 characters of data and a processingTime", body)
		}
		if got := res.headerText("id"); got != spec.ID {
			t.Errorf("echoed xrd:id = %q, want %q", got, spec.ID)
		}
		var svc struct{ ServiceCode, SubsystemCode string }
		_ = json.Unmarshal(res.ResponseHeader["service"], &svc)
		if svc.ServiceCode != "testService" || svc.SubsystemCode != "niis-test" {
			t.Errorf("echoed xrd:service = %s", res.ResponseHeader["service"])
		}
		// The hash is of the envelope exactly as node-soap sent it.
		sum := sha512.Sum512([]byte(res.RawRequest))
		if got, want := res.requestHash(t), base64.StdEncoding.EncodeToString(sum[:]); got != want {
			t.Errorf("requestHash = %s, want base64(SHA-512(request as sent)) = %s", got, want)
		}
		seen := w.niis.seen()
		if len(seen) != 1 {
			t.Fatalf("the NIIS provider got %d requests, want 1", len(seen))
		}
		if seen[0].auth != "" {
			t.Errorf("the consumer's Authorization reached the provider: %q", seen[0].auth)
		}
		if seen[0].client != "UA/GOV/00000003/eservice" {
			t.Errorf("X-Road-Client at the provider = %q", seen[0].client)
		}
		if !strings.HasPrefix(seen[0].contentType, "text/xml") || !strings.Contains(string(seen[0].body), "testService") {
			t.Errorf("the provider got %s:\n%s", seen[0].contentType, seen[0].body)
		}
	})

	t.Run("node-soap business registry WSDL", func(t *testing.T) {
		requireTool(t, nodeWhy == "", nodeWhy)
		res := nodeSOAP(t, w.getCompany("node-soap-business-1", knownCompany, "demo-eservice-key"))
		checkCompany(t, res, "node-soap-business-1")
		sum := sha512.Sum512([]byte(res.RawRequest))
		if got, want := res.requestHash(t), base64.StdEncoding.EncodeToString(sum[:]); got != want {
			t.Errorf("requestHash = %s, want base64(SHA-512(request as sent)) = %s", got, want)
		}
	})

	t.Run("node-soap faults", func(t *testing.T) {
		requireTool(t, nodeWhy == "", nodeWhy)
		noPurpose := w.getCompany("node-soap-fault-2", knownCompany, "demo-eservice-key")
		delete(noPurpose.HTTPHeaders, "X-Road-Purpose")
		unknown := "00000001"
		if _, ok := registrysim.CompanyByCode(unknown); ok {
			t.Fatalf("registrysim knows company %s", unknown)
		}
		for _, c := range []struct {
			name       string
			spec       soapCall
			code, text string
		}{
			{"wrong key", w.getCompany("node-soap-fault-1", knownCompany, "not-the-eservice-key"), "Unauthenticated", ""},
			{"no purpose", noPurpose, "PurposeRequired", ""},
			// The registry's own Fault, passed through.
			{"unknown company", w.getCompany("node-soap-fault-3", unknown, "demo-eservice-key"), "Client", "not found"},
		} {
			res := nodeSOAP(t, c.spec)
			if res.OK || res.Kind != "fault" || res.Fault == nil {
				t.Errorf("%s: want a SOAP Fault, got %s", c.name, res.stdout)
				continue
			}
			code, text := fmt.Sprint(res.Fault.Code), fmt.Sprint(res.Fault.String)
			if res.Status != http.StatusInternalServerError || !strings.Contains(code, c.code) || !strings.Contains(text, c.text) {
				t.Errorf("%s: HTTP %d faultcode %q faultstring %q, want 500, %q, %q", c.name, res.Status, code, text, c.code, c.text)
			}
			t.Logf("%s: HTTP %d, faultcode %s, faultstring %q", c.name, res.Status, code, text)
		}
	})

	t.Run("zeep business registry WSDL", func(t *testing.T) {
		requireTool(t, zeepWhy == "", zeepWhy)
		checkCompany(t, zeepCall(t, w.getCompany("zeep-business-1", knownCompany, "demo-eservice-key")), "zeep-business-1")
	})

	t.Run("zeep NIIS WSDL", func(t *testing.T) {
		requireTool(t, zeepWhy == "", zeepWhy)
		requireCorpus(t, niisWhy)
		before := len(w.niis.seen())
		res := zeepCall(t, soapCall{
			WSDL: mustAbs(t, niisWSDL), Endpoint: w.consumer, Operation: "testService",
			Args:   map[string]string{"responseBodySize": "5", "responseAttachmentSize": "0"},
			Client: eserviceXRD,
			Service: xrdID{XRoadInstance: "UA", MemberClass: "GOV", MemberCode: "00000007",
				SubsystemCode: "niis-test", ServiceCode: "testService", ServiceVersion: "v1"},
			ID:          "zeep-niis-1",
			HTTPHeaders: map[string]string{"Authorization": "Bearer demo-eservice-key", "X-Road-Purpose": "service-delivery"},
		})
		if res.Kind == "wsdl" {
			// EXPECTED.md: the header message's part issue names xrd:issue,
			// which the WSDL's reduced schema lacks; zeep refuses the WSDL.
			if res.Error != "IndexError" || !strings.Contains(res.Message, "requestheader") {
				t.Errorf("zeep rejected the NIIS WSDL otherwise than known: %s", res.stdout)
			}
			t.Logf("zeep cannot load the NIIS WSDL (known defect of the WSDL, not of govbus): %s: %s; warnings: %q", res.Error, res.Message, res.Warnings)
			if n := len(w.niis.seen()); n != before {
				t.Errorf("the NIIS provider got %d requests from zeep, want none", n-before)
			}
			return
		}
		// A zeep that loads it must then call through govbus like node-soap.
		t.Logf("zeep loads the NIIS WSDL: %s", res.stdout)
		if !res.OK || res.requestHash(t) == "" {
			t.Errorf("testService with zeep through govbus: %s", res.stdout)
		}
	})
}
