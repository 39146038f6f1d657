package bench

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/govbus/govbus/registrysim"
	"github.com/govbus/govbus/soap"
)

// soapEnvelopeFile is the X-Road SOAP request of the soap-direct and
// soap-govbus scenarios (bench/run.sh), with IDPlaceholder for the
// company code.
const soapEnvelopeFile = "soap-companies.xml"

// TestSOAPEnvelope checks the bench's envelope as govbus and the business
// registry read it: about 2 KiB once a code is in, a valid X-Road SOAP 4.0
// request of eservice to the companies service whose Body element is the
// service code (govbus's rule), with userId and issue, and a getCompany the
// simulated business registry answers for every code of the bench.
func TestSOAPEnvelope(t *testing.T) {
	raw, err := os.ReadFile(soapEnvelopeFile)
	if err != nil {
		t.Fatal(err)
	}
	bt := NewBodyTemplate(raw)
	if !bt.Varies() {
		t.Fatalf("%s holds no %s", soapEnvelopeFile, IDPlaceholder)
	}
	first, last := bt.Expand(10000001), bt.Expand(10001000)
	if len(first) != len(last) {
		t.Errorf("the size depends on the code: %d and %d bytes", len(first), len(last))
	}
	if n := len(first); n < 1900 || n > 2200 {
		t.Errorf("the envelope is %d bytes, want about 2 KiB", n)
	}

	req, err := soap.ParseRequest(first, "text/xml; charset=utf-8", soap.Limits{})
	if err != nil {
		t.Fatalf("govbus refuses the envelope: %v", err)
	}
	if got := req.Client.String(); got != "UA/GOV/00000003/eservice" {
		t.Errorf("client %q", got)
	}
	if got := req.Service.String(); got != "UA/GOV/00000002/business-registry/companies" {
		t.Errorf("service %q", got)
	}
	if req.BodyName != (xml.Name{Space: registrysim.BusinessNamespace, Local: "companies"}) {
		t.Errorf("Body element %v", req.BodyName)
	}
	if req.UserID == "" || len(req.Issue) < 200 || req.ProtocolVersion != "4.0" || !strings.HasSuffix(req.MessageID, "10000001") {
		t.Errorf("header: userId %q, issue of %d bytes, protocolVersion %q, id %q", req.UserID, len(req.Issue), req.ProtocolVersion, req.MessageID)
	}

	// govbus copies userId, id and issue into the X-Road-UserId, X-Road-Id
	// and X-Road-Issue headers of its call to the registry, where a line
	// break makes the call fail (Server.RegistryUnavailable: net/http
	// refuses the header value). Keep each on one line.
	for name, v := range map[string]string{"userId": req.UserID, "id": req.MessageID, "issue": req.Issue} {
		if strings.ContainsAny(v, "\r\n") {
			t.Errorf("xrd:%s spans lines; govbus cannot forward it as a header", name)
		}
	}

	reg := httptest.NewServer(registrysim.NewBusiness())
	defer reg.Close()
	for _, code := range []uint64{10000001, 10000042, 10001000} {
		resp, err := http.Post(reg.URL+"/", "text/xml; charset=utf-8", bytes.NewReader(bt.Expand(code)))
		if err != nil {
			t.Fatal(err)
		}
		var answer bytes.Buffer
		_, _ = answer.ReadFrom(resp.Body)
		_ = resp.Body.Close()
		want := "<bus:code>" + strconv.FormatUint(code, 10) + "</bus:code>"
		if resp.StatusCode != http.StatusOK || !strings.Contains(answer.String(), want) {
			t.Errorf("code %d: %s, want 200 and %s: %.300s", code, resp.Status, want, answer.String())
		}
	}
}
