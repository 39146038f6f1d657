package soap

import (
	"bytes"
	"crypto/sha512"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"mime"
	"strings"
)

// HashAlgorithmSHA512 is the algorithmId of the requestHash EchoResponse adds.
const HashAlgorithmSHA512 = "http://www.w3.org/2001/04/xmlenc#sha512"

// RequestHash is base64(SHA-512(the request envelope bytes as sent)) — X-Road
// hashes the SOAP message (for multipart, the SOAP part only).
func RequestHash(envelope []byte) string {
	sum := sha512.Sum512(envelope)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// EchoResponse rewrites a registry's SOAP response so that its Header carries
// the request's X-Road header fields (client, service, representedParty,
// userId, id, issue, protocolVersion) and adds
// <xrd:requestHash algorithmId="http://www.w3.org/2001/04/xmlenc#sha512">BASE64</xrd:requestHash>;
// it returns the new body and content type (the same as contentType).
//
// userId and issue are echoed when the request had them non-empty.
// Only the Header changes: the registry's own copies of those fields and any
// requestHash it sent are replaced, its other headers and everything outside
// the Header stay byte for byte. A response without a Header gets one,
// inserted before the Body. A multipart response has its SOAP part rewritten
// and its attachments (and every part header) kept byte for byte.
//
// A SOAP Fault passes through with the fields echoed into its Header when it
// has one, and unchanged (no requestHash) when it has none — X-Road-style
// faults from a service usually have no Header, and inventing one would
// change a message that X-Road clients accept as it is.
//
// EchoResponse parses the response with the same hardened reader as
// ParseRequest and default Limits. Errors are *Error with server.* codes:
// server.invalid_content_type, server.message_too_large (SOAP part over
// MaxBytes), server.invalid_xml, server.invalid_soap (not a SOAP 1.1
// Envelope with one Body, or no SOAP part).
func EchoResponse(resp []byte, contentType string, req *Request, requestHash string) (body []byte, newContentType string, err error) {
	return EchoResponseLimits(resp, contentType, req, requestHash, Limits{})
}

// EchoResponseLimits is EchoResponse with explicit parsing limits for the
// response's SOAP part.
func EchoResponseLimits(resp []byte, contentType string, req *Request, requestHash string, lim Limits) ([]byte, string, error) {
	if req == nil {
		return nil, "", errors.New("soap: EchoResponse needs the parsed request")
	}
	lim = lim.withDefaults()
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, "", newError(CodeServerInvalidContentType, "malformed Content-Type in the response")
	}
	switch mt {
	case "text/xml", "application/soap+xml":
		if !utf8Charset(params["charset"]) {
			return nil, "", newError(CodeServerInvalidContentType, "only the UTF-8 charset is accepted")
		}
		out, perr := echoEnvelope(resp, req, requestHash, lim)
		if perr != nil {
			return nil, "", perr
		}
		return out, contentType, nil
	case "multipart/related", "multipart/mixed":
		cs, ce, perr := soapPartSpan(resp, params)
		if perr != nil {
			return nil, "", serverSide(perr)
		}
		out, perr := echoEnvelope(resp[cs:ce], req, requestHash, lim)
		if perr != nil {
			return nil, "", perr
		}
		body := make([]byte, 0, len(resp)-(ce-cs)+len(out))
		body = append(body, resp[:cs]...)
		body = append(body, out...)
		body = append(body, resp[ce:]...)
		return body, contentType, nil
	}
	return nil, "", newError(CodeServerInvalidContentType, "the response is not text/xml or multipart")
}

// span is a byte range [start, end).
type span struct{ start, end int }

// responseShape is what echoEnvelope needs to know about a response envelope.
type responseShape struct {
	envPrefix string // prefix of the Envelope element ("" for none)

	hasHeader   bool
	headerTag   span   // the Header's start tag
	headerEmpty bool   // the start tag is an empty-element tag, <Header/>
	headerName  string // the Header's raw qualified name
	indent      string // the whitespace that opens the Header's content
	remove      []span // echoed fields the registry sent, with the whitespace before them

	bodyOff int // where the Body's start tag begins
	fault   bool
}

// echoEnvelope rewrites one response envelope; see EchoResponse.
func echoEnvelope(env []byte, req *Request, hash string, lim Limits) ([]byte, *Error) {
	if int64(len(env)) > lim.MaxBytes {
		return nil, newError(CodeServerMessageTooLarge, "the response's SOAP message is larger than the limit")
	}
	bom := 0
	if bytes.HasPrefix(env, utf8BOM) {
		bom = len(utf8BOM)
	}
	data := env[bom:]
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, newError(CodeServerInvalidSOAP, "empty response: no SOAP envelope")
	}
	shape, perr := scanResponse(data, lim)
	if perr != nil {
		return nil, serverSide(perr)
	}
	if shape.fault && !shape.hasHeader {
		return env, nil
	}
	fields := headerFields(req, hash, shape.indent)

	var out bytes.Buffer
	out.Grow(len(env) + len(fields) + 64)
	out.Write(env[:bom])
	switch {
	case !shape.hasHeader:
		name := "Header"
		if shape.envPrefix != "" {
			name = shape.envPrefix + ":Header"
		}
		out.Write(data[:shape.bodyOff])
		out.WriteString("<" + name + ">" + fields + "</" + name + ">")
		out.Write(data[shape.bodyOff:])
	case shape.headerEmpty:
		// <S:Header .../> becomes <S:Header ...>fields</S:Header>.
		out.Write(data[:shape.headerTag.end-len("/>")])
		out.WriteString(">" + fields + "</" + shape.headerName + ">")
		out.Write(data[shape.headerTag.end:])
	default:
		out.Write(data[:shape.headerTag.end])
		out.WriteString(fields)
		pos := shape.headerTag.end
		for _, r := range shape.remove {
			out.Write(data[pos:r.start])
			pos = r.end
		}
		out.Write(data[pos:])
	}
	return out.Bytes(), nil
}

// echoed reports whether a Header child is one EchoResponse writes itself.
func echoed(n xml.Name) bool {
	switch n.Space {
	case nsXRoad:
		switch n.Local {
		case "client", "service", "id", "userId", "issue", "protocolVersion", "requestHash":
			return true
		}
	case nsRepr:
		return n.Local == "representedParty"
	}
	return false
}

// scanResponse reads a response envelope: a SOAP 1.1 Envelope with at most
// one Header, before exactly one Body.
func scanResponse(data []byte, lim Limits) (responseShape, *Error) {
	var shape responseShape
	s := newScanner(data, lim)
	fail := func(err error) (responseShape, *Error) { return responseShape{}, asError(err) }
	invalid := func(msg string) (responseShape, *Error) {
		return responseShape{}, newError(CodeInvalidSOAP, msg)
	}

	var root token
	for {
		t, err := s.next()
		if err != nil {
			return fail(err)
		}
		if t.kind == tokStart {
			root = t
			break
		}
	}
	if root.name != (xml.Name{Space: nsSOAP11, Local: "Envelope"}) {
		return invalid("the response is not a SOAP 1.1 Envelope")
	}
	shape.envPrefix = root.prefix

	hasBody := false
envelope:
	for {
		t, err := s.next()
		if err != nil {
			return fail(err)
		}
		switch t.kind {
		case tokEnd:
			break envelope
		case tokText, tokComment:
			continue
		}
		switch t.name {
		case xml.Name{Space: nsSOAP11, Local: "Header"}:
			if shape.hasHeader || hasBody {
				return invalid("the response has a second Header or a Header after the Body")
			}
			shape.hasHeader = true
			if err := scanResponseHeader(s, data, t, &shape); err != nil {
				return fail(err)
			}
			continue
		case xml.Name{Space: nsSOAP11, Local: "Body"}:
			if hasBody {
				return invalid("the response has two Bodies")
			}
			hasBody = true
			shape.bodyOff = t.off
			if err := scanResponseBody(s, &shape); err != nil {
				return fail(err)
			}
			continue
		}
		if _, err := s.skip(); err != nil {
			return fail(err)
		}
	}
	if err := s.drain(); err != nil {
		return fail(err)
	}
	if !hasBody {
		return invalid("the response has no Body")
	}
	return shape, nil
}

// scanResponseHeader records the Header's tag and the spans of the echoed
// fields in it.
func scanResponseHeader(s *scanner, data []byte, start token, shape *responseShape) error {
	shape.headerTag = span{start.off, start.end}
	shape.headerName = "Header"
	if start.prefix != "" {
		shape.headerName = start.prefix + ":Header"
	}
	ws := -1 // where the whitespace just before the current token began
	for first := true; ; first = false {
		t, err := s.next()
		if err != nil {
			return err
		}
		switch t.kind {
		case tokEnd:
			if t.off == start.end && data[start.end-2] == '/' {
				shape.headerEmpty = true
			}
			return nil
		case tokText:
			if isSpace(t.text) {
				if first {
					shape.indent = string(t.text)
				}
				ws = t.off
				continue
			}
		case tokStart:
			from := t.off
			if ws >= 0 {
				from = ws
			}
			end, err := s.skip()
			if err != nil {
				return err
			}
			if echoed(t.name) {
				shape.remove = append(shape.remove, span{from, end.end})
			}
		}
		ws = -1
	}
}

// scanResponseBody notes whether the Body's first element is a Fault.
func scanResponseBody(s *scanner, shape *responseShape) error {
	first := true
	for {
		t, err := s.next()
		if err != nil {
			return err
		}
		switch t.kind {
		case tokEnd:
			return nil
		case tokStart:
			if first && t.name == (xml.Name{Space: nsSOAP11, Local: "Fault"}) {
				shape.fault = true
			}
			first = false
			if _, err := s.skip(); err != nil {
				return err
			}
		}
	}
}

// headerFields writes the request's X-Road header fields and the request
// hash, each preceded by indent. Every element declares the namespaces it
// uses, so the fields are well-formed wherever they are placed, whatever
// prefixes the response binds.
func headerFields(req *Request, hash, indent string) string {
	var b strings.Builder
	b.Grow(1024)
	b.WriteString(indent)
	writeID(&b, "client", req.Client, false)
	b.WriteString(indent)
	writeID(&b, "service", req.Service, true)
	if p := req.RepresentedParty; p != nil {
		b.WriteString(indent)
		b.WriteString(`<repr:representedParty xmlns:repr="` + nsRepr + `">`)
		if p.MemberClass != "" {
			writeElem(&b, "repr:partyClass", p.MemberClass)
		}
		writeElem(&b, "repr:partyCode", p.MemberCode)
		b.WriteString(`</repr:representedParty>`)
	}
	if req.UserID != "" {
		b.WriteString(indent)
		writeField(&b, "userId", req.UserID)
	}
	b.WriteString(indent)
	writeField(&b, "id", req.MessageID)
	if req.Issue != "" {
		b.WriteString(indent)
		writeField(&b, "issue", req.Issue)
	}
	version := req.ProtocolVersion
	if version == "" {
		version = "4.0"
	}
	b.WriteString(indent)
	writeField(&b, "protocolVersion", version)
	b.WriteString(indent)
	b.WriteString(`<xrd:requestHash xmlns:xrd="` + nsXRoad + `" algorithmId="` + HashAlgorithmSHA512 + `">`)
	escape(&b, hash)
	b.WriteString(`</xrd:requestHash>`)
	return b.String()
}

// writeID writes xrd:client or xrd:service.
func writeID(b *strings.Builder, local string, id ID, service bool) {
	b.WriteString(`<xrd:` + local + ` xmlns:xrd="` + nsXRoad + `" xmlns:id="` + nsID + `" id:objectType="`)
	escape(b, id.ObjectType)
	b.WriteString(`">`)
	writeElem(b, "id:xRoadInstance", id.XRoadInstance)
	writeElem(b, "id:memberClass", id.MemberClass)
	writeElem(b, "id:memberCode", id.MemberCode)
	if id.SubsystemCode != "" {
		writeElem(b, "id:subsystemCode", id.SubsystemCode)
	}
	if service {
		writeElem(b, "id:serviceCode", id.ServiceCode)
		if id.ServiceVersion != "" {
			writeElem(b, "id:serviceVersion", id.ServiceVersion)
		}
	}
	b.WriteString(`</xrd:` + local + `>`)
}

// writeField writes a simple X-Road header field with its namespace.
func writeField(b *strings.Builder, local, value string) {
	b.WriteString(`<xrd:` + local + ` xmlns:xrd="` + nsXRoad + `">`)
	escape(b, value)
	b.WriteString(`</xrd:` + local + `>`)
}

func writeElem(b *strings.Builder, qname, value string) {
	b.WriteString("<" + qname + ">")
	escape(b, value)
	b.WriteString("</" + qname + ">")
}

// escape writes s as XML character data (also safe in attribute values);
// characters XML cannot carry become U+FFFD.
func escape(b *strings.Builder, s string) {
	_ = xml.EscapeText(b, []byte(s)) // a strings.Builder never fails
}
