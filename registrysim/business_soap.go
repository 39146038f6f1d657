package registrysim

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
)

// Namespaces of the X-Road message protocol 4.0 over SOAP.
const (
	soap11Namespace  = "http://schemas.xmlsoap.org/soap/envelope/"
	soap12Namespace  = "http://www.w3.org/2003/05/soap-envelope"
	xroadNamespace   = "http://x-road.eu/xsd/xroad.xsd"
	xroadIDNamespace = "http://x-road.eu/xsd/identifiers"
)

// SOAP 1.1 fault codes the business registry sends.
const (
	faultClient          = "SOAP-ENV:Client"
	faultVersionMismatch = "SOAP-ENV:VersionMismatch"
)

// The fixed parts of a getCompany answer, around the echoed header and the
// company's precomputed getCompanyResponse element.
const (
	xmlDeclaration = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"
	responseStart  = xmlDeclaration + `<SOAP-ENV:Envelope xmlns:SOAP-ENV="` + soap11Namespace +
		`" xmlns:xrd="` + xroadNamespace + `" xmlns:id="` + xroadIDNamespace +
		`" xmlns:bus="` + BusinessNamespace + `">`
	bodyStart   = `<SOAP-ENV:Body>`
	responseEnd = `</SOAP-ENV:Body></SOAP-ENV:Envelope>` + "\n"
)

// soapEnvelope is a SOAP 1.1 request as encoding/xml decodes it. Repeated
// parts are slices so that duplicates can be refused.
type soapEnvelope struct {
	XMLName xml.Name
	Headers []xroadHeader `xml:"http://schemas.xmlsoap.org/soap/envelope/ Header"`
	Bodies  []soapBody    `xml:"http://schemas.xmlsoap.org/soap/envelope/ Body"`
}

// xroadHeader holds the X-Road header fields of a request.
type xroadHeader struct {
	Client          []xroadIdentifier `xml:"http://x-road.eu/xsd/xroad.xsd client"`
	Service         []xroadIdentifier `xml:"http://x-road.eu/xsd/xroad.xsd service"`
	UserID          []string          `xml:"http://x-road.eu/xsd/xroad.xsd userId"`
	ID              []string          `xml:"http://x-road.eu/xsd/xroad.xsd id"`
	Issue           []string          `xml:"http://x-road.eu/xsd/xroad.xsd issue"`
	ProtocolVersion []string          `xml:"http://x-road.eu/xsd/xroad.xsd protocolVersion"`
}

// xroadIdentifier is an xrd:client or xrd:service.
type xroadIdentifier struct {
	ObjectType     string `xml:"http://x-road.eu/xsd/identifiers objectType,attr"`
	Instance       string `xml:"http://x-road.eu/xsd/identifiers xRoadInstance"`
	MemberClass    string `xml:"http://x-road.eu/xsd/identifiers memberClass"`
	MemberCode     string `xml:"http://x-road.eu/xsd/identifiers memberCode"`
	SubsystemCode  string `xml:"http://x-road.eu/xsd/identifiers subsystemCode"`
	ServiceCode    string `xml:"http://x-road.eu/xsd/identifiers serviceCode"`
	ServiceVersion string `xml:"http://x-road.eu/xsd/identifiers serviceVersion"`
}

// soapBody holds the Body's elements.
type soapBody struct {
	Elements []operationElement `xml:",any"`
}

// operationElement is a Body element; only getCompany's code is read
// (qualified, as the WSDL says, or unqualified).
type operationElement struct {
	XMLName xml.Name
	Code    []string `xml:"code"`
}

// getCompanyRequest is a valid request: its header, to echo, and the code
// asked for, as sent (surrounding whitespace removed).
type getCompanyRequest struct {
	header xroadHeader
	code   string
}

// fault is a SOAP Fault to answer with.
type fault struct{ code, message string }

func clientFault(message string) *fault { return &fault{faultClient, message} }

// parseGetCompany decodes and checks a getCompany request. A document type
// declaration is refused before anything is decoded, so no entity of it is
// ever expanded.
func parseGetCompany(body []byte) (getCompanyRequest, *fault) {
	var env soapEnvelope
	dec := xml.NewDecoder(bytes.NewReader(body))
	root, f := rootElement(dec)
	if f != nil {
		return getCompanyRequest{}, f
	}
	if root.Name.Local != "Envelope" || root.Name.Space != soap11Namespace {
		if root.Name.Local == "Envelope" && root.Name.Space == soap12Namespace {
			return getCompanyRequest{}, &fault{faultVersionMismatch, "SOAP 1.2 is not supported: send a SOAP 1.1 envelope"}
		}
		return getCompanyRequest{}, clientFault("not a SOAP 1.1 envelope")
	}
	if err := dec.DecodeElement(&env, &root); err != nil {
		return getCompanyRequest{}, clientFault("malformed XML: " + err.Error())
	}
	if f := endOfDocument(dec); f != nil {
		return getCompanyRequest{}, f
	}
	switch {
	case len(env.Headers) == 0:
		return getCompanyRequest{}, clientFault("missing X-Road header")
	case len(env.Headers) > 1:
		return getCompanyRequest{}, clientFault("more than one SOAP Header")
	case len(env.Bodies) == 0:
		return getCompanyRequest{}, clientFault("missing SOAP Body")
	case len(env.Bodies) > 1:
		return getCompanyRequest{}, clientFault("more than one SOAP Body")
	}
	h := env.Headers[0]
	if f := h.check(); f != nil {
		return getCompanyRequest{}, f
	}
	ops := env.Bodies[0].Elements
	if len(ops) != 1 {
		return getCompanyRequest{}, clientFault("the SOAP Body must hold exactly one element")
	}
	// getCompany, or "companies": X-Road SOAP consumers name the operation
	// after the service code, and the X-Road service is companies.
	if op := ops[0].XMLName; op.Local != "getCompany" && op.Local != "companies" || op.Space != BusinessNamespace {
		return getCompanyRequest{}, clientFault("unknown operation: this registry offers getCompany (also as companies) in " + BusinessNamespace)
	}
	if len(ops[0].Code) != 1 {
		return getCompanyRequest{}, clientFault("getCompany takes exactly one code")
	}
	return getCompanyRequest{header: h, code: strings.TrimSpace(ops[0].Code[0])}, nil
}

// rootElement reads the prolog up to the root element, refusing a DTD.
func rootElement(dec *xml.Decoder) (xml.StartElement, *fault) {
	for {
		tok, err := dec.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return xml.StartElement{}, clientFault("empty request")
			}
			return xml.StartElement{}, clientFault("malformed XML: " + err.Error())
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t, nil
		case xml.Directive:
			return xml.StartElement{}, clientFault("a DTD is not allowed")
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return xml.StartElement{}, clientFault("malformed XML: text before the root element")
			}
		}
	}
}

// endOfDocument checks that only comments, processing instructions and
// white space follow the root element.
func endOfDocument(dec *xml.Decoder) *fault {
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return clientFault("malformed XML: " + err.Error())
		}
		switch t := tok.(type) {
		case xml.Comment, xml.ProcInst:
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return clientFault("malformed XML: text after the Envelope")
			}
		default:
			return clientFault("malformed XML: content after the Envelope")
		}
	}
}

// check enforces the X-Road header: client, service, id and
// protocolVersion 4.0 exactly once; userId and issue at most once.
func (h *xroadHeader) check() *fault {
	for _, field := range []struct {
		name     string
		n        int
		required bool
	}{
		{"client", len(h.Client), true}, {"service", len(h.Service), true},
		{"userId", len(h.UserID), false}, {"id", len(h.ID), true},
		{"issue", len(h.Issue), false}, {"protocolVersion", len(h.ProtocolVersion), true},
	} {
		if field.n == 0 && field.required {
			return clientFault("missing X-Road header field " + field.name)
		}
		if field.n > 1 {
			return clientFault("duplicate X-Road header field " + field.name)
		}
	}
	if v := strings.TrimSpace(h.ProtocolVersion[0]); v != "4.0" {
		return clientFault("unsupported protocolVersion " + v + ": want 4.0")
	}
	c, s := h.Client[0], h.Service[0]
	switch {
	case c.ObjectType != "MEMBER" && c.ObjectType != "SUBSYSTEM":
		return clientFault("xrd:client: objectType must be MEMBER or SUBSYSTEM")
	case c.Instance == "" || c.MemberClass == "" || c.MemberCode == "":
		return clientFault("xrd:client: xRoadInstance, memberClass and memberCode are required")
	case c.ObjectType == "SUBSYSTEM" && c.SubsystemCode == "":
		return clientFault("xrd:client: a SUBSYSTEM needs a subsystemCode")
	case s.ObjectType != "SERVICE":
		return clientFault("xrd:service: objectType must be SERVICE")
	case s.Instance == "" || s.MemberClass == "" || s.MemberCode == "" || s.ServiceCode == "":
		return clientFault("xrd:service: xRoadInstance, memberClass, memberCode and serviceCode are required")
	}
	return nil
}

// writeTo writes the header as an X-Road provider echoes it, with the
// prefixes SOAP-ENV, xrd and id of responseStart.
func (h *xroadHeader) writeTo(b *bytes.Buffer) {
	b.WriteString("<SOAP-ENV:Header>")
	h.Client[0].writeTo(b, "xrd:client")
	h.Service[0].writeTo(b, "xrd:service")
	if len(h.UserID) > 0 {
		writeElement(b, "xrd:userId", h.UserID[0])
	}
	writeElement(b, "xrd:id", h.ID[0])
	if len(h.Issue) > 0 {
		writeElement(b, "xrd:issue", h.Issue[0])
	}
	writeElement(b, "xrd:protocolVersion", h.ProtocolVersion[0])
	b.WriteString("</SOAP-ENV:Header>")
}

// writeTo writes the identifier as element name, leaving out empty
// optional parts.
func (id *xroadIdentifier) writeTo(b *bytes.Buffer, name string) {
	b.WriteString("<" + name + ` id:objectType="`)
	_ = xml.EscapeText(b, []byte(id.ObjectType)) // a bytes.Buffer does not fail
	b.WriteString(`">`)
	writeElement(b, "id:xRoadInstance", id.Instance)
	writeElement(b, "id:memberClass", id.MemberClass)
	writeElement(b, "id:memberCode", id.MemberCode)
	for _, part := range []struct{ name, value string }{
		{"id:subsystemCode", id.SubsystemCode},
		{"id:serviceCode", id.ServiceCode},
		{"id:serviceVersion", id.ServiceVersion},
	} {
		if part.value != "" {
			writeElement(b, part.name, part.value)
		}
	}
	b.WriteString("</" + name + ">")
}

// writeElement writes <name>text</name> with text escaped.
func writeElement(b *bytes.Buffer, name, text string) {
	b.WriteString("<" + name + ">")
	_ = xml.EscapeText(b, []byte(text)) // a bytes.Buffer does not fail
	b.WriteString("</" + name + ">")
}

// encodeCompanyResponse encodes the getCompanyResponse element of c, in
// the prefix bus of responseStart.
func encodeCompanyResponse(c Company) []byte {
	var b bytes.Buffer
	b.WriteString("<bus:getCompanyResponse><bus:company>")
	writeElement(&b, "bus:code", c.Code)
	writeElement(&b, "bus:name", c.Name)
	writeElement(&b, "bus:legal_form", c.LegalForm)
	writeElement(&b, "bus:registration_date", c.RegistrationDate)
	writeElement(&b, "bus:status", c.Status)
	b.WriteString("<bus:address>")
	writeElement(&b, "bus:city", c.Address.City)
	writeElement(&b, "bus:street", c.Address.Street)
	b.WriteString("</bus:address>")
	writeElement(&b, "bus:director", c.Director)
	writeElement(&b, "bus:activity_code", c.ActivityCode)
	b.WriteString("</bus:company></bus:getCompanyResponse>")
	return b.Bytes()
}

// faultBody is a SOAP 1.1 envelope holding a Fault.
func faultBody(code, message string) []byte {
	var b bytes.Buffer
	b.WriteString(xmlDeclaration + `<SOAP-ENV:Envelope xmlns:SOAP-ENV="` + soap11Namespace + `"><SOAP-ENV:Body><SOAP-ENV:Fault>`)
	writeElement(&b, "faultcode", code)
	writeElement(&b, "faultstring", message)
	b.WriteString("</SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>\n")
	return b.Bytes()
}
