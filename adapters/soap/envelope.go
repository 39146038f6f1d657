package soap

import (
	"bytes"
	"context"
	"net/http"
	"strings"

	"github.com/govbus/govbus/adapters/rest"
	"github.com/govbus/govbus/gateway"
	"github.com/govbus/govbus/outbound"
)

// Namespaces of the X-Road message protocol 4.0 over SOAP.
const (
	soap11Namespace  = "http://schemas.xmlsoap.org/soap/envelope/"
	soap12Namespace  = "http://www.w3.org/2003/05/soap-envelope"
	xroadNamespace   = "http://x-road.eu/xsd/xroad.xsd"
	xroadIDNamespace = "http://x-road.eu/xsd/identifiers"
)

// envelopeStart opens a request envelope and its header, by SOAP version.
var envelopeStart = [2]string{
	envelopeOpen(soap11Namespace),
	envelopeOpen(soap12Namespace),
}

func envelopeOpen(ns string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<SOAP-ENV:Envelope xmlns:SOAP-ENV="` + ns + `" xmlns:xrd="` + xroadNamespace +
		`" xmlns:id="` + xroadIDNamespace + `"><SOAP-ENV:Header>`
}

// restToSOAP turns a REST call into the service's SOAP operation and the
// registry's answer into JSON (see ServiceMapping).
func (a *Adapter) restToSOAP(ctx context.Context, out *gateway.Outbound) (*gateway.Response, error) {
	m := a.services[out.Route.Service.Code]
	if m == nil {
		return nil, gateway.Errorf(gateway.CodeBadRequest,
			"the service takes X-Road SOAP requests only: no REST call is mapped onto its operations")
	}
	values, ok := m.match(out.Path)
	if !ok {
		// The path itself stays out of the message: it may hold personal data.
		return nil, gateway.Errorf(gateway.CodeBadRequest, "the path does not fit the service's SOAP mapping %s", pathOrRoot(m.Path))
	}
	buf := gateway.GetBuffer()
	defer gateway.PutBuffer(buf)
	if err := a.writeEnvelope(buf, out, m, values); err != nil {
		return nil, err
	}
	h := http.Header{"Content-Type": {m.contentType}, "Accept": {m.accept}}
	if m.soapAction != nil {
		h["Soapaction"] = m.soapAction
	}
	for name, v := range out.Header {
		if strings.HasPrefix(name, "X-Road-") || name == "X-Forwarded-For" {
			h[name] = v
		}
	}
	a.authenticate(h)
	resp, err := a.stack.Do(ctx, outbound.Call{
		Method: http.MethodPost, Header: h, Body: buf.Bytes(),
		Timeout:          out.Route.Timeout,
		PathTemplate:     "/",
		Idempotent:       rest.Idempotent(out.Method) || out.Route.Idempotent,
		MaxResponseBytes: a.maxResp,
		RegistryAnswer:   isFault,
	})
	if err != nil {
		return nil, err
	}
	return translate(resp, m)
}

func pathOrRoot(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// writeEnvelope writes the request envelope: the X-Road header from the
// exchange's headers and route, and the operation.
func (a *Adapter) writeEnvelope(b *bytes.Buffer, out *gateway.Outbound, m *mapping, values []string) error {
	client, err := gateway.ParseClientID(out.Header.Get(gateway.HeaderClient))
	if err != nil {
		return gateway.Wrap(gateway.CodeInternalError, err, "building the X-Road header: the exchange has no valid X-Road-Client")
	}
	v := 0
	if a.soap12 {
		v = 1
	}
	b.WriteString(envelopeStart[v])
	b.WriteString(`<xrd:client id:objectType="SUBSYSTEM">`)
	writeElement(b, "id:xRoadInstance", client.Instance)
	writeElement(b, "id:memberClass", client.MemberClass)
	writeElement(b, "id:memberCode", client.MemberCode)
	writeElement(b, "id:subsystemCode", client.Subsystem)
	b.WriteString(`</xrd:client><xrd:service id:objectType="SERVICE">`)
	svc := out.Route.Service
	writeElement(b, "id:xRoadInstance", svc.Instance)
	writeElement(b, "id:memberClass", svc.MemberClass)
	writeElement(b, "id:memberCode", svc.MemberCode)
	if svc.ClientID.Subsystem != "" {
		writeElement(b, "id:subsystemCode", svc.ClientID.Subsystem)
	}
	writeElement(b, "id:serviceCode", svc.Code)
	b.WriteString(`</xrd:service>`)
	if u := out.Header.Get(gateway.HeaderUserID); u != "" {
		writeElement(b, "xrd:userId", u)
	}
	writeElement(b, "xrd:id", out.Header.Get(gateway.HeaderID))
	if issue := out.Header.Get(gateway.HeaderIssue); issue != "" {
		writeElement(b, "xrd:issue", issue)
	}
	b.WriteString(`<xrd:protocolVersion>4.0</xrd:protocolVersion></SOAP-ENV:Header><SOAP-ENV:Body>`)
	if err := m.writeOperation(b, values, out.RawQuery); err != nil {
		return gateway.Wrap(gateway.CodeInternalError, err, "building the SOAP operation")
	}
	b.WriteString(`</SOAP-ENV:Body></SOAP-ENV:Envelope>`)
	return nil
}

// writeElement writes <name>text</name> with text escaped.
func writeElement(b *bytes.Buffer, name, text string) {
	b.WriteByte('<')
	b.WriteString(name)
	b.WriteByte('>')
	escapeString(b, text)
	b.WriteString("</")
	b.WriteString(name)
	b.WriteByte('>')
}
