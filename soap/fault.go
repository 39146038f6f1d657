package soap

import (
	"bytes"
	"encoding/xml"
)

// FaultNamespace is the namespace of the govbus elements in a Fault's detail.
const FaultNamespace = "urn:govbus:fault"

// Fault builds a SOAP 1.1 Fault envelope: faultcode = code (e.g.
// "client.invalid_body" or, for govbus errors, the govbus type like
// "Server.RegistryTimeout"), faultstring = message, and a detail with
// <govbus:type> (govbusType) and <govbus:detail> (detailID, the error's
// uuid) in namespace "urn:govbus:fault". It returns the bytes with an XML
// declaration. Values are escaped; characters XML cannot carry become
// U+FFFD, so the result is always well-formed.
func Fault(code, message, govbusType, detailID string) []byte {
	var b bytes.Buffer
	b.Grow(len(xml.Header) + 400 + len(code) + len(message) + len(govbusType) + len(detailID))
	b.WriteString(xml.Header)
	b.WriteString(`<SOAP-ENV:Envelope xmlns:SOAP-ENV="` + nsSOAP11 + `">` +
		`<SOAP-ENV:Body><SOAP-ENV:Fault><faultcode>`)
	escapeTo(&b, code)
	b.WriteString(`</faultcode><faultstring>`)
	escapeTo(&b, message)
	b.WriteString(`</faultstring><detail xmlns:govbus="` + FaultNamespace + `"><govbus:type>`)
	escapeTo(&b, govbusType)
	b.WriteString(`</govbus:type><govbus:detail>`)
	escapeTo(&b, detailID)
	b.WriteString(`</govbus:detail></detail></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>`)
	return b.Bytes()
}

func escapeTo(b *bytes.Buffer, s string) {
	_ = xml.EscapeText(b, []byte(s)) // a bytes.Buffer never fails
}
