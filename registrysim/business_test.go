package registrysim

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

// envelopeParts are the pieces of a test request; zero fields take the
// defaults of getCompanyEnvelope.
type envelopeParts struct {
	namespace string // SOAP envelope namespace
	header    string // the SOAP Header's content
	body      string // the SOAP Body's content
}

// testHeader is a complete X-Road header with every optional field.
const testHeader = `<xrd:client id:objectType="SUBSYSTEM"><id:xRoadInstance>UA</id:xRoadInstance>` +
	`<id:memberClass>GOV</id:memberClass><id:memberCode>00000003</id:memberCode>` +
	`<id:subsystemCode>eservice</id:subsystemCode></xrd:client>` +
	`<xrd:service id:objectType="SERVICE"><id:xRoadInstance>UA</id:xRoadInstance>` +
	`<id:memberClass>GOV</id:memberClass><id:memberCode>00000002</id:memberCode>` +
	`<id:subsystemCode>business-registry</id:subsystemCode><id:serviceCode>companies</id:serviceCode></xrd:service>` +
	`<xrd:userId>UA1234567890</xrd:userId><xrd:id>msg-1 &amp; &lt;2&gt;</xrd:id><xrd:issue>case 7</xrd:issue>` +
	`<xrd:protocolVersion>4.0</xrd:protocolVersion>`

// getCompanyEnvelope builds a request in the shape of the X-Road corpus
// messages: namespaces declared on the Envelope, the operation's on itself.
func getCompanyEnvelope(p envelopeParts) string {
	if p.namespace == "" {
		p.namespace = soap11Namespace
	}
	if p.header == "" {
		p.header = testHeader
	}
	return `<?xml version="1.0" encoding="utf-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="` + p.namespace + `" xmlns:xrd="` + xroadNamespace + `" xmlns:id="` + xroadIDNamespace + `">
    <SOAP-ENV:Header>` + p.header + `</SOAP-ENV:Header>
    <SOAP-ENV:Body>` + p.body + `</SOAP-ENV:Body>
</SOAP-ENV:Envelope>`
}

func getCompanyBody(code string) string {
	return `<bus:getCompany xmlns:bus="` + BusinessNamespace + `"><bus:code>` + code + `</bus:code></bus:getCompany>`
}

// postSOAP sends a SOAP 1.1 request to h.
func postSOAP(t *testing.T, h http.Handler, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("SOAPAction", `""`)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// companyAnswer is a getCompany answer as a client decodes it.
type companyAnswer struct {
	XMLName xml.Name `xml:"http://schemas.xmlsoap.org/soap/envelope/ Envelope"`
	Header  struct {
		Client          xroadIdentifier `xml:"http://x-road.eu/xsd/xroad.xsd client"`
		Service         xroadIdentifier `xml:"http://x-road.eu/xsd/xroad.xsd service"`
		UserID          string          `xml:"http://x-road.eu/xsd/xroad.xsd userId"`
		ID              string          `xml:"http://x-road.eu/xsd/xroad.xsd id"`
		Issue           string          `xml:"http://x-road.eu/xsd/xroad.xsd issue"`
		ProtocolVersion string          `xml:"http://x-road.eu/xsd/xroad.xsd protocolVersion"`
	} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Header"`
	Body struct {
		Response struct {
			Company struct {
				Code             string `xml:"http://business-registry.gov.ua/ws code"`
				Name             string `xml:"http://business-registry.gov.ua/ws name"`
				LegalForm        string `xml:"http://business-registry.gov.ua/ws legal_form"`
				RegistrationDate string `xml:"http://business-registry.gov.ua/ws registration_date"`
				Status           string `xml:"http://business-registry.gov.ua/ws status"`
				Address          struct {
					City   string `xml:"http://business-registry.gov.ua/ws city"`
					Street string `xml:"http://business-registry.gov.ua/ws street"`
				} `xml:"http://business-registry.gov.ua/ws address"`
				Director     string `xml:"http://business-registry.gov.ua/ws director"`
				ActivityCode string `xml:"http://business-registry.gov.ua/ws activity_code"`
			} `xml:"http://business-registry.gov.ua/ws company"`
		} `xml:"http://business-registry.gov.ua/ws getCompanyResponse"`
	} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Body"`
}

func (a *companyAnswer) company() Company {
	c := a.Body.Response.Company
	return Company{Code: c.Code, Name: c.Name, LegalForm: c.LegalForm, RegistrationDate: c.RegistrationDate,
		Status: c.Status, Address: CompanyAddress(c.Address), Director: c.Director, ActivityCode: c.ActivityCode}
}

// faultAnswer is a SOAP 1.1 Fault as a client decodes it.
type faultAnswer struct {
	XMLName xml.Name `xml:"http://schemas.xmlsoap.org/soap/envelope/ Envelope"`
	Fault   struct {
		Code   string `xml:"faultcode"`
		String string `xml:"faultstring"`
	} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Body>Fault"`
}

func decodeFault(t *testing.T, rec *httptest.ResponseRecorder) faultAnswer {
	t.Helper()
	var f faultAnswer
	if err := xml.Unmarshal(rec.Body.Bytes(), &f); err != nil || f.Fault.Code == "" {
		t.Fatalf("decoding a fault from %q: %v", rec.Body, err)
	}
	return f
}

func TestBusinessCompanies(t *testing.T) {
	biz := NewBusinessRegistry()
	tests := []struct {
		name, code string
		want       string // the code looked up; "" for a fault
		wantFault  string // faultstring
	}{
		{"first", FirstCompanyCode, FirstCompanyCode, ""},
		{"42nd", "10000042", "10000042", ""},
		{"last", LastCompanyCode, LastCompanyCode, ""},
		{"white space around", "\n  10000042  \n", "10000042", ""},
		{"just below", "10000000", "", "company not found"},
		{"just above", "10001001", "", "company not found"},
		{"zeros", "00000000", "", "company not found"},
		{"seven digits", "1000004", "", "invalid company code: want 8 digits"},
		{"nine digits", "100000042", "", "invalid company code: want 8 digits"},
		{"letters", "1000004a", "", "invalid company code: want 8 digits"},
		{"empty", "", "", "invalid company code: want 8 digits"},
		{"a person id", FirstPersonID, "", "invalid company code: want 8 digits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := postSOAP(t, biz, getCompanyEnvelope(envelopeParts{body: getCompanyBody(tt.code)}))
			if got := rec.Header().Get("Content-Type"); got != "text/xml; charset=utf-8" {
				t.Errorf("Content-Type: got %q, want text/xml; charset=utf-8", got)
			}
			if tt.want == "" {
				if rec.Code != http.StatusInternalServerError {
					t.Errorf("status: got %d, want 500", rec.Code)
				}
				f := decodeFault(t, rec)
				if f.Fault.Code != "SOAP-ENV:Client" || f.Fault.String != tt.wantFault {
					t.Errorf("fault: got %q %q, want SOAP-ENV:Client %q", f.Fault.Code, f.Fault.String, tt.wantFault)
				}
				return
			}
			if rec.Code != http.StatusOK {
				t.Fatalf("status: got %d, want 200 (body %q)", rec.Code, rec.Body)
			}
			var a companyAnswer
			if err := xml.Unmarshal(rec.Body.Bytes(), &a); err != nil {
				t.Fatalf("decoding %q: %v", rec.Body, err)
			}
			want, _ := CompanyByCode(tt.want)
			if got := a.company(); !reflect.DeepEqual(got, want) {
				t.Errorf("company:\ngot  %+v\nwant %+v", got, want)
			}
		})
	}
}

// TestBusinessEchoesHeader checks the X-Road header of an answer: the
// request's, field by field, as an X-Road provider echoes it.
func TestBusinessEchoesHeader(t *testing.T) {
	rec := postSOAP(t, NewBusinessRegistry(), getCompanyEnvelope(envelopeParts{body: getCompanyBody("10000042")}))
	var a companyAnswer
	if err := xml.Unmarshal(rec.Body.Bytes(), &a); err != nil {
		t.Fatalf("decoding %q: %v", rec.Body, err)
	}
	h := a.Header
	wantClient := xroadIdentifier{ObjectType: "SUBSYSTEM", Instance: "UA", MemberClass: "GOV", MemberCode: "00000003", SubsystemCode: "eservice"}
	wantService := xroadIdentifier{ObjectType: "SERVICE", Instance: "UA", MemberClass: "GOV", MemberCode: "00000002",
		SubsystemCode: "business-registry", ServiceCode: "companies"}
	if h.Client != wantClient || h.Service != wantService {
		t.Errorf("client, service: got %+v %+v, want %+v %+v", h.Client, h.Service, wantClient, wantService)
	}
	if h.UserID != "UA1234567890" || h.ID != "msg-1 & <2>" || h.Issue != "case 7" || h.ProtocolVersion != "4.0" {
		t.Errorf("userId, id, issue, protocolVersion: got %q %q %q %q", h.UserID, h.ID, h.Issue, h.ProtocolVersion)
	}

	// Without the optional fields, the echo has none either.
	minimal := strings.Replace(strings.Replace(testHeader, "<xrd:userId>UA1234567890</xrd:userId>", "", 1),
		"<xrd:issue>case 7</xrd:issue>", "", 1)
	rec = postSOAP(t, NewBusinessRegistry(), getCompanyEnvelope(envelopeParts{header: minimal, body: getCompanyBody("10000042")}))
	if rec.Code != http.StatusOK {
		t.Fatalf("minimal header: got %d %q, want 200", rec.Code, rec.Body)
	}
	for _, absent := range []string{"userId", "issue"} {
		if strings.Contains(rec.Body.String(), "xrd:"+absent) {
			t.Errorf("minimal header: answer has xrd:%s: %q", absent, rec.Body)
		}
	}
}

func TestBusinessSameAnswerTwice(t *testing.T) {
	req := getCompanyEnvelope(envelopeParts{body: getCompanyBody("10000777")})
	a := postSOAP(t, NewBusinessRegistry(), req)
	b := postSOAP(t, NewBusinessRegistry(), req)
	if a.Code != http.StatusOK || !bytes.Equal(a.Body.Bytes(), b.Body.Bytes()) {
		t.Errorf("two registries, same code: got %d %q and %q, want 200 and equal bodies", a.Code, a.Body, b.Body)
	}
	c := postSOAP(t, NewBusinessRegistry(), getCompanyEnvelope(envelopeParts{body: getCompanyBody("10000778")}))
	if bytes.Equal(a.Body.Bytes(), c.Body.Bytes()) {
		t.Errorf("two codes: got the same body %q", a.Body)
	}
}

// TestBusinessFaults covers the malformed requests: each is a 500 with a
// SOAP Fault naming the problem.
func TestBusinessFaults(t *testing.T) {
	ok := getCompanyBody("10000042")
	replaceHeader := func(old, new string) string {
		return getCompanyEnvelope(envelopeParts{header: strings.Replace(testHeader, old, new, 1), body: ok})
	}
	laughs := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>` +
		getCompanyEnvelope(envelopeParts{body: `<bus:getCompany xmlns:bus="` + BusinessNamespace + `"><bus:code>&lol2;</bus:code></bus:getCompany>`})[len(`<?xml version="1.0" encoding="utf-8"?>`):]
	tests := []struct {
		name, contentType, body string
		wantCode, wantString    string // wantString: a substring of faultstring
	}{
		{"SOAP 1.2 content type", "application/soap+xml", getCompanyEnvelope(envelopeParts{body: ok}), "SOAP-ENV:Client", "Content-Type must be text/xml"},
		{"attachments", "multipart/related; type=text/xml", getCompanyEnvelope(envelopeParts{body: ok}), "SOAP-ENV:Client", "Content-Type must be text/xml"},
		{"no content type", "", getCompanyEnvelope(envelopeParts{body: ok}), "SOAP-ENV:Client", "Content-Type must be text/xml"},
		{"empty", "text/xml", "", "SOAP-ENV:Client", "empty request"},
		{"not XML", "text/xml", `{"code": "10000042"}`, "SOAP-ENV:Client", "malformed XML"},
		{"not well-formed", "text/xml", getCompanyEnvelope(envelopeParts{body: ok})[:300], "SOAP-ENV:Client", "malformed XML"},
		{"DTD with entities", "text/xml", laughs, "SOAP-ENV:Client", "a DTD is not allowed"},
		{"undeclared entity", "text/xml", getCompanyEnvelope(envelopeParts{body: strings.Replace(ok, "10000042", "&xxe;", 1)}), "SOAP-ENV:Client", "malformed XML"},
		{"not an envelope", "text/xml", ok, "SOAP-ENV:Client", "not a SOAP 1.1 envelope"},
		{"SOAP 1.2 envelope", "text/xml", getCompanyEnvelope(envelopeParts{namespace: soap12Namespace, body: ok}), "SOAP-ENV:VersionMismatch", "SOAP 1.2"},
		{"trailing element", "text/xml", getCompanyEnvelope(envelopeParts{body: ok}) + "<x/>", "SOAP-ENV:Client", "after the Envelope"},
		{"no header", "text/xml", strings.Replace(getCompanyEnvelope(envelopeParts{body: ok}), "<SOAP-ENV:Header>"+testHeader+"</SOAP-ENV:Header>", "", 1), "SOAP-ENV:Client", "missing X-Road header"},
		{"no body", "text/xml", strings.Replace(getCompanyEnvelope(envelopeParts{body: ok}), "<SOAP-ENV:Body>"+ok+"</SOAP-ENV:Body>", "", 1), "SOAP-ENV:Client", "missing SOAP Body"},
		{"empty body", "text/xml", getCompanyEnvelope(envelopeParts{body: " "}), "SOAP-ENV:Client", "exactly one element"},
		{"two operations", "text/xml", getCompanyEnvelope(envelopeParts{body: ok + ok}), "SOAP-ENV:Client", "exactly one element"},
		{"other operation", "text/xml", getCompanyEnvelope(envelopeParts{body: strings.ReplaceAll(ok, "getCompany", "deleteCompany")}), "SOAP-ENV:Client", "unknown operation"},
		{"other namespace", "text/xml", getCompanyEnvelope(envelopeParts{body: strings.Replace(ok, BusinessNamespace, "http://example.org/", 1)}), "SOAP-ENV:Client", "unknown operation"},
		{"no code", "text/xml", getCompanyEnvelope(envelopeParts{body: `<bus:getCompany xmlns:bus="` + BusinessNamespace + `"/>`}), "SOAP-ENV:Client", "exactly one code"},
		{"two codes", "text/xml", getCompanyEnvelope(envelopeParts{body: strings.Replace(ok, "</bus:getCompany>", "<bus:code>10000043</bus:code></bus:getCompany>", 1)}), "SOAP-ENV:Client", "exactly one code"},
		{"no id", "text/xml", replaceHeader("<xrd:id>msg-1 &amp; &lt;2&gt;</xrd:id>", ""), "SOAP-ENV:Client", "missing X-Road header field id"},
		{"no protocolVersion", "text/xml", replaceHeader("<xrd:protocolVersion>4.0</xrd:protocolVersion>", ""), "SOAP-ENV:Client", "missing X-Road header field protocolVersion"},
		{"protocolVersion 3.5", "text/xml", replaceHeader(">4.0<", ">3.5<"), "SOAP-ENV:Client", "unsupported protocolVersion 3.5"},
		{"duplicate id", "text/xml", replaceHeader("<xrd:issue>", "<xrd:id>again</xrd:id><xrd:issue>"), "SOAP-ENV:Client", "duplicate X-Road header field id"},
		{"no client objectType", "text/xml", replaceHeader(`<xrd:client id:objectType="SUBSYSTEM">`, `<xrd:client>`), "SOAP-ENV:Client", "objectType"},
		{"subsystem without code", "text/xml", replaceHeader(`<id:subsystemCode>eservice</id:subsystemCode>`, ""), "SOAP-ENV:Client", "subsystemCode"},
		{"service without code", "text/xml", replaceHeader(`<id:serviceCode>companies</id:serviceCode>`, ""), "SOAP-ENV:Client", "serviceCode"},
		{"over 64 KiB", "text/xml", getCompanyEnvelope(envelopeParts{body: ok + "<!--" + strings.Repeat("x", maxBusinessRequest) + "-->"}), "SOAP-ENV:Client", "reading the request"},
	}
	biz := NewBusinessRegistry()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			rec := httptest.NewRecorder()
			biz.ServeHTTP(rec, req)
			if rec.Code != http.StatusInternalServerError {
				t.Errorf("status: got %d, want 500", rec.Code)
			}
			f := decodeFault(t, rec)
			if f.Fault.Code != tt.wantCode || !strings.Contains(f.Fault.String, tt.wantString) {
				t.Errorf("fault: got %q %q, want %q with %q", f.Fault.Code, f.Fault.String, tt.wantCode, tt.wantString)
			}
			if strings.Contains(rec.Body.String(), "lollol") {
				t.Errorf("an entity was expanded: %q", rec.Body)
			}
		})
	}
}

func TestBusinessMethodNotAllowed(t *testing.T) {
	biz := NewBusinessRegistry()
	for _, tt := range []struct{ method, target string }{
		{http.MethodGet, "/"},
		{http.MethodGet, "/companies/10000042"},
		{http.MethodPut, "/"},
		{http.MethodDelete, "/?wsdl"},
	} {
		rec := serve(t, biz, tt.method, tt.target, "")
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "POST" {
			t.Errorf("%s %s: got %d Allow %q, want 405 Allow POST", tt.method, tt.target, rec.Code, rec.Header().Get("Allow"))
		}
		if f := decodeFault(t, rec); f.Fault.Code != "SOAP-ENV:Client" {
			t.Errorf("%s %s: got faultcode %q, want SOAP-ENV:Client", tt.method, tt.target, f.Fault.Code)
		}
	}
}

// TestCompanyData checks every company: fields well-formed and in range,
// directors in the civil registry, and some variety.
func TestCompanyData(t *testing.T) {
	forms, statuses, activities, names := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	for i := range CompanyCount {
		code := companyCode(i)
		c, ok := CompanyByCode(code)
		if !ok || c.Code != code {
			t.Fatalf("CompanyByCode(%s): got %+v %v", code, c, ok)
		}
		if again, _ := CompanyByCode(code); !reflect.DeepEqual(again, c) {
			t.Fatalf("CompanyByCode(%s) twice: got %+v and %+v", code, c, again)
		}
		if !strings.HasPrefix(c.Name, c.LegalForm+" ") || len(strings.Fields(c.Name)) < 3 {
			t.Errorf("%s: name %q does not start with the legal form %q and two words", code, c.Name, c.LegalForm)
		}
		if c.RegistrationDate < "1992-01-01" || c.RegistrationDate > "2024-12-31" || len(c.RegistrationDate) != 10 {
			t.Errorf("%s: registration date %q out of range", code, c.RegistrationDate)
		}
		if _, ok := PersonByID(c.Director); !ok {
			t.Errorf("%s: director %q is not a person of the civil registry", code, c.Director)
		}
		if c.Address.City == "" || !strings.HasPrefix(c.Address.Street, "vul. ") {
			t.Errorf("%s: address %+v", code, c.Address)
		}
		if len(c.ActivityCode) != 5 || c.ActivityCode[2] != '.' {
			t.Errorf("%s: activity code %q is not a KVED class", code, c.ActivityCode)
		}
		forms[c.LegalForm]++
		statuses[c.Status]++
		activities[c.ActivityCode]++
		names[c.Name]++
	}
	if len(statuses) != 2 || statuses[companyActive] < 800 || statuses[companyLiquidated] < 50 {
		t.Errorf("statuses: got %v, want active and liquidated, mostly active", statuses)
	}
	if len(forms) != len(legalForms) || forms["TOV"] < 450 {
		t.Errorf("legal forms: got %v, want all %d, mostly TOV", forms, len(legalForms))
	}
	if len(activities) < 15 || len(names) < 500 {
		t.Errorf("variety: got %d activities and %d distinct names, want ≥ 15 and ≥ 500", len(activities), len(names))
	}
	for _, code := range []string{"10000000", "10001001", "1000004", "1000004a", "+1000004", "", "１0000042"} {
		if _, ok := CompanyByCode(code); ok {
			t.Errorf("CompanyByCode(%q): got a company, want none", code)
		}
	}
}

// TestBusinessOverHTTP checks the registry in its Sim as a real client
// sees it, faults and statistics included.
func TestBusinessOverHTTP(t *testing.T) {
	sim := NewBusiness()
	srv := httptest.NewServer(sim)
	defer srv.Close()
	post := func(code string) *http.Response {
		t.Helper()
		resp, err := srv.Client().Post(srv.URL+"/", "text/xml; charset=utf-8",
			strings.NewReader(getCompanyEnvelope(envelopeParts{body: getCompanyBody(code)})))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	resp := post("10000042")
	body, _ := io.ReadAll(resp.Body)
	var a companyAnswer
	if err := xml.Unmarshal(body, &a); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("got %d %q (%v), want 200 and a company", resp.StatusCode, body, err)
	}
	if resp.ContentLength != int64(len(body)) {
		t.Errorf("Content-Length: got %d, want %d", resp.ContentLength, len(body))
	}
	if resp := post("99999999"); resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("unknown code: got %d, want 500", resp.StatusCode)
	}
	wsdl, err := srv.Client().Get(srv.URL + "/?wsdl")
	if err != nil {
		t.Fatal(err)
	}
	wb, _ := io.ReadAll(wsdl.Body)
	wsdl.Body.Close()
	checkWSDL(t, wb, srv.URL+"/")

	if err := sim.SetFaults(Faults{Status: http.StatusServiceUnavailable, Rate: 1}); err != nil {
		t.Fatal(err)
	}
	if resp := post("10000042"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("with a 503 fault: got %d, want 503", resp.StatusCode)
	}
	sim.ClearFaults()
	st := getStats(t, sim)
	if st.Requests != 4 {
		t.Errorf("requests: got %d, want 4 (two lookups, the WSDL, the faulted one)", st.Requests)
	}
	if st.Last == nil || st.Last.Method != http.MethodPost || st.Last.Header.Get("Content-Type") != "text/xml; charset=utf-8" {
		t.Errorf("last: got %+v, want the faulted POST", st.Last)
	}
}

func BenchmarkBusinessGetCompany(b *testing.B) {
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{
		{"bare", NewBusinessRegistry()},
		{"sim", NewBusiness()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			bodies := make([][]byte, 64)
			for i := range bodies {
				bodies[i] = []byte(getCompanyEnvelope(envelopeParts{body: getCompanyBody(companyCode(i * 15))}))
			}
			w := discardWriter{h: http.Header{}}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(bodies[i%len(bodies)]))
				req.Header.Set("Content-Type", "text/xml; charset=utf-8")
				bc.h.ServeHTTP(w, req)
				i++
			}
		})
	}
}

// TestCompanyNeighbours guards against correlated generators: neighbouring
// codes must not keep sharing fields.
func TestCompanyNeighbours(t *testing.T) {
	same := 0
	for i := range CompanyCount - 1 {
		a, b := generateCompany(i), generateCompany(i+1)
		if a.Director == b.Director {
			same++
		}
	}
	if same > 5 {
		t.Errorf("%d pairs of neighbouring companies share a director, want about none", same)
	}
}
