package registrysim

import (
	"bytes"
	_ "embed"
	"encoding/xml"
	"io"
	"mime"
	"net/http"
	"strings"
)

// BusinessWSDL is the WSDL 1.1 description of the business registry. It is
// served at GET ?wsdl and GET /wsdl with its soap:address location replaced
// by the address the request was sent to. Callers must not modify it.
//
//go:embed business.wsdl
var BusinessWSDL []byte

// BusinessNamespace is the namespace of the business registry's operation
// and answer elements.
const BusinessNamespace = "http://business-registry.gov.ua/ws"

// Content types of the business registry.
const contentTypeSOAP11 = "text/xml; charset=utf-8"

// maxBusinessRequest bounds a SOAP request to the business registry.
const maxBusinessRequest = 64 << 10

// Business is the simulated business registry, an X-Road message protocol
// 4.0 provider over SOAP 1.1, document/literal (see BusinessWSDL):
//
//	POST {any path}      getCompany: a SOAP 1.1 envelope (Content-Type
//	                     text/xml) with an X-Road header and the Body
//	                     <bus:getCompany><bus:code>10000042</bus:code></bus:getCompany>;
//	                     answers <bus:getCompanyResponse><bus:company>…,
//	                     the X-Road header echoed as an X-Road provider does
//	GET  {any path}?wsdl BusinessWSDL, soap:address set from the request
//	GET  /wsdl           the same
//
// Every fault is HTTP 500 with a SOAP 1.1 Fault, as SOAP 1.1 §6.2 asks of
// a server that could not process a request:
//
//	SOAP-ENV:Client "company not found"  an 8-digit code outside
//	                                     FirstCompanyCode … LastCompanyCode
//	SOAP-ENV:Client (what is wrong)      a malformed request: not text/xml,
//	                                     not well-formed, a DTD, over 64 KiB,
//	                                     a missing or duplicate X-Road header
//	                                     field, protocolVersion other than
//	                                     4.0, another operation, a code that
//	                                     is not 8 digits
//	SOAP-ENV:VersionMismatch             a SOAP 1.2 envelope
//
// Any other request is a 405 (Allow: POST) with a Client fault. The
// registry does not check that the Body element matches the X-Road
// serviceCode (govbus calls the service "companies", the operation
// getCompany). Business has no /_sim/ endpoints: wrap it with New, or use
// NewBusiness, for fault injection and statistics.
//
// Every company's answer is encoded when the registry is built, so serving
// one is a parse of the request, a slice lookup and a write. A Business is
// safe for concurrent use.
type Business struct {
	companies [][]byte // by companyIndex: the Body's getCompanyResponse element
	notFound  encodedBody
	// wsdlHead and wsdlTail are BusinessWSDL before and after the value of
	// soap:address location.
	wsdlHead, wsdlTail []byte
}

// NewBusiness returns the business registry wrapped in a Sim: the handler
// that cmd/registrysim serves and that tests start with httptest.NewServer.
func NewBusiness() *Sim {
	return New(NewBusinessRegistry())
}

// NewBusinessRegistry returns the bare business registry, without /_sim/.
// It encodes all CompanyCount answers up front.
func NewBusinessRegistry() *Business {
	b := &Business{
		companies: make([][]byte, CompanyCount),
		notFound:  newEncodedBody(faultBody(faultClient, "company not found")),
	}
	for i := range b.companies {
		b.companies[i] = encodeCompanyResponse(generateCompany(i))
	}
	const attr = `<soap:address location="`
	at := bytes.Index(BusinessWSDL, []byte(attr))
	end := -1
	if at >= 0 {
		at += len(attr)
		end = bytes.IndexByte(BusinessWSDL[at:], '"')
	}
	if end < 0 {
		panic("registrysim: business.wsdl has no soap:address location")
	}
	b.wsdlHead, b.wsdlTail = BusinessWSDL[:at], BusinessWSDL[at+end:]
	return b
}

// ServeHTTP answers one request; see Business.
func (b *Business) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodPost:
		b.serveSOAP(w, r)
	case (r.Method == http.MethodGet || r.Method == http.MethodHead) && wantsWSDL(r):
		b.serveWSDL(w, r)
	default:
		w.Header().Set("Allow", http.MethodPost)
		writeFault(w, http.StatusMethodNotAllowed, faultClient,
			"POST a SOAP 1.1 request; the WSDL is at ?wsdl")
	}
}

// serveSOAP answers a getCompany request.
func (b *Business) serveSOAP(w http.ResponseWriter, r *http.Request) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "text/xml" {
		writeFault(w, http.StatusInternalServerError, faultClient,
			"Content-Type must be text/xml: this registry speaks SOAP 1.1 without attachments")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBusinessRequest))
	if err != nil {
		writeFault(w, http.StatusInternalServerError, faultClient, "reading the request: "+err.Error())
		return
	}
	req, f := parseGetCompany(body)
	if f != nil {
		writeFault(w, http.StatusInternalServerError, f.code, f.message)
		return
	}
	if !isCompanyCode(req.code) {
		writeFault(w, http.StatusInternalServerError, faultClient, "invalid company code: want 8 digits")
		return
	}
	i, ok := companyIndex(req.code)
	if !ok {
		writeBody(w, http.StatusInternalServerError, contentTypeSOAP11, b.notFound)
		return
	}
	var out bytes.Buffer
	out.Grow(len(responseStart) + 1024 + len(b.companies[i]) + len(responseEnd))
	out.WriteString(responseStart)
	req.header.writeTo(&out)
	out.WriteString(bodyStart)
	out.Write(b.companies[i])
	out.WriteString(responseEnd)
	writeBody(w, http.StatusOK, contentTypeSOAP11, newEncodedBody(out.Bytes()))
}

// serveWSDL sends BusinessWSDL with soap:address pointing where the request
// was sent.
func (b *Business) serveWSDL(w http.ResponseWriter, r *http.Request) {
	if r.Host == "" { // HTTP/1.0 without Host: keep the default address
		writeBody(w, http.StatusOK, contentTypeSOAP11, newEncodedBody(BusinessWSDL))
		return
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	var out bytes.Buffer
	out.Grow(len(BusinessWSDL) + len(r.Host))
	out.Write(b.wsdlHead)
	_ = xml.EscapeText(&out, []byte(scheme+"://"+r.Host+"/")) // a bytes.Buffer does not fail
	out.Write(b.wsdlTail)
	writeBody(w, http.StatusOK, contentTypeSOAP11, newEncodedBody(out.Bytes()))
}

// wantsWSDL reports whether a GET asks for the WSDL: path /wsdl, or a
// query parameter wsdl (any case, any value) on any path.
func wantsWSDL(r *http.Request) bool {
	if r.URL.Path == "/wsdl" {
		return true
	}
	for kv := range strings.SplitSeq(r.URL.RawQuery, "&") {
		if k, _, _ := strings.Cut(kv, "="); strings.EqualFold(k, "wsdl") {
			return true
		}
	}
	return false
}

// writeFault sends a SOAP 1.1 Fault.
func writeFault(w http.ResponseWriter, status int, code, message string) {
	writeBody(w, status, contentTypeSOAP11, newEncodedBody(faultBody(code, message)))
}
