package soap

import (
	"bytes"
	"encoding/xml"
	"errors"
)

// Request is a parsed X-Road SOAP 4.0 request.
type Request struct {
	Client, Service ID
	// RepresentedParty is the repr:representedParty header: partyClass and
	// partyCode mapped into MemberClass/MemberCode; nil when absent.
	RepresentedParty *ID
	// MessageID is xrd:id; UserID, Issue and ProtocolVersion the fields of
	// the same name ("" when absent).
	MessageID, UserID, Issue, ProtocolVersion string
	// BodyName is the local name and namespace of the one Body child (the
	// operation).
	BodyName xml.Name
	// Envelope is the raw SOAP envelope bytes (the XML part for multipart);
	// Raw is the whole request body as received (forwarded unchanged in
	// passthrough); ContentType the request's. Raw, and Envelope unless the
	// request is multipart, share memory with the body given to ParseRequest.
	Envelope, Raw []byte
	ContentType   string
	// HeaderXML is the raw bytes of the SOAP Header element's content (for
	// echoing in the response). Its prefixes are declared on the request's
	// Envelope, so it is only well-formed inside that context; EchoResponse
	// writes the fields afresh instead.
	HeaderXML []byte
	// SOAP12 is false for SOAP 1.1 (X-Road uses 1.1). It is always false in
	// a parsed request: a SOAP 1.2 envelope is client.invalid_soap.
	SOAP12 bool
}

// ParseRequest parses and validates a consumer's SOAP request (text/xml,
// application/soap+xml, or multipart/related — also multipart/mixed — with
// the SOAP part first; see multipartEnvelope for what else a multipart
// must satisfy). It never resolves entities or
// DTDs, never fetches anything, and enforces lim while reading. Errors are
// *Error; the checks, in the order they decide the code:
//
//	client.invalid_content_type   Content-Type, charset, multipart SOAP part type
//	client.message_too_large      body over lim.MaxBytes
//	client.invalid_soap           empty message, malformed or ambiguous multipart (start= not the
//	                              first part, a Content-ID twice, a second XML part), no XML element
//	client.invalid_xml            not (namespace-)well-formed, DTD, PI, XInclude, limits, trailing garbage
//	client.invalid_soap           root not a SOAP 1.1 Envelope, two Headers/Bodies, stray content
//	client.missing_body           no Body
//	client.duplicate_header_field a Header child element twice
//	client.invalid_xml            client/service without a valid id:objectType or a required part; markup in a value
//	client.invalid_protocol_version protocolVersion other than "4.0"
//	client.missing_header         no Header
//	client.missing_header_field   client, id or protocolVersion absent
//	client.invalid_body           Body without exactly one element child (or holding a Fault)
//	client.missing_header_field   service absent
//	client.inconsistent_headers   Body child's local name != serviceCode
func ParseRequest(body []byte, contentType string, lim Limits) (*Request, error) {
	lim = lim.withDefaults()
	env, perr := requestEnvelope(body, contentType, lim)
	if perr != nil {
		return nil, perr
	}
	req, perr := parseEnvelope(env, lim)
	if perr != nil {
		return nil, perr
	}
	req.Envelope = env
	req.Raw = body
	req.ContentType = contentType
	return req, nil
}

// envelopeParser walks one request envelope. XML errors stop it at once;
// SOAP and X-Road problems are recorded (first of each kind wins) and
// decided in ParseRequest's order once the whole document has been read.
type envelopeParser struct {
	s    *scanner
	data []byte

	envErr *Error // invalid_soap
	dupErr *Error // duplicate_header_field
	hdrErr *Error // invalid_xml or invalid_protocol_version in a header field

	hasHeader, hasBody bool
	headerXML          []byte
	seen               map[xml.Name]struct{}

	client, service, party     *ID
	id, userID, issue, version *string
	bodyChildren               int
	bodyText                   bool
	bodyName                   xml.Name
}

func parseEnvelope(data []byte, lim Limits) (*Request, *Error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, newError(CodeInvalidSOAP, "empty message: no SOAP envelope")
	}
	p := &envelopeParser{s: newScanner(data, lim), data: data}
	if err := p.document(); err != nil {
		return nil, asError(err)
	}
	return p.decide()
}

// asError returns the *Error in err (the scanner returns nothing else).
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return newError(CodeInvalidXML, "malformed XML")
}

func (p *envelopeParser) soapErr(msg string) {
	if p.envErr == nil {
		p.envErr = newError(CodeInvalidSOAP, msg)
	}
}

func (p *envelopeParser) headerErr(code Code, msg string) {
	if p.hdrErr == nil {
		p.hdrErr = newError(code, msg)
	}
}

// document reads the whole document: the root, which must be a SOAP 1.1
// Envelope, and whatever follows it.
func (p *envelopeParser) document() error {
	var root token
	for {
		t, err := p.s.next()
		if err != nil {
			return err
		}
		if t.kind == tokStart {
			root = t
			break
		}
	}
	switch {
	case root.name == xml.Name{Space: nsSOAP11, Local: "Envelope"}:
		if err := p.envelope(); err != nil {
			return err
		}
	case root.name == xml.Name{Space: nsSOAP12, Local: "Envelope"}:
		p.soapErr("SOAP 1.2 envelope: the X-Road message protocol 4.0 uses SOAP 1.1")
		if _, err := p.s.skip(); err != nil {
			return err
		}
	default:
		p.soapErr("the document element is not a SOAP 1.1 Envelope")
		if _, err := p.s.skip(); err != nil {
			return err
		}
	}
	return p.s.drain()
}

// envelope reads the Envelope's children: an optional Header, then the Body.
func (p *envelopeParser) envelope() error {
	for {
		t, err := p.s.next()
		if err != nil {
			return err
		}
		switch t.kind {
		case tokEnd:
			return nil
		case tokText:
			if !isSpace(t.text) {
				p.soapErr("text directly inside the Envelope")
			}
		case tokStart:
			switch {
			case t.name == xml.Name{Space: nsSOAP11, Local: "Header"}:
				switch {
				case p.hasBody:
					p.soapErr("the Header comes after the Body")
				case p.hasHeader:
					p.soapErr("the Envelope has two Headers")
				}
				p.hasHeader = true
				if err := p.header(t); err != nil {
					return err
				}
				continue
			case t.name == xml.Name{Space: nsSOAP11, Local: "Body"}:
				if p.hasBody {
					p.soapErr("the Envelope has two Bodies")
				}
				p.hasBody = true
				if err := p.body(); err != nil {
					return err
				}
				continue
			case p.hasBody:
				p.soapErr("an element follows the Body")
			default:
				p.soapErr("an element other than Header precedes the Body")
			}
			if _, err := p.s.skip(); err != nil {
				return err
			}
		}
	}
}

// body counts the Body's element children and keeps the first one's name.
func (p *envelopeParser) body() error {
	for {
		t, err := p.s.next()
		if err != nil {
			return err
		}
		switch t.kind {
		case tokEnd:
			return nil
		case tokText:
			if !isSpace(t.text) {
				p.bodyText = true
			}
		case tokStart:
			p.bodyChildren++
			if p.bodyChildren == 1 {
				p.bodyName = t.name
			}
			if isField(t.name) {
				p.soapErr("the X-Road header field " + t.name.Local + " appears in the Body")
			}
			if err := p.skipNested(); err != nil {
				return err
			}
		}
	}
}

// decide turns what the walk found into a Request or the first error in
// ParseRequest's order.
func (p *envelopeParser) decide() (*Request, *Error) {
	switch {
	case p.envErr != nil:
		return nil, p.envErr
	case !p.hasBody:
		return nil, newError(CodeMissingBody, "the Envelope has no Body")
	case p.dupErr != nil:
		return nil, p.dupErr
	case p.hdrErr != nil:
		return nil, p.hdrErr
	case !p.hasHeader:
		return nil, newError(CodeMissingHeader, "the Envelope has no Header")
	case p.client == nil:
		return nil, newError(CodeMissingHeaderField, "the Header has no xrd:client")
	case p.id == nil || *p.id == "":
		return nil, newError(CodeMissingHeaderField, "the Header has no xrd:id (or it is empty)")
	case p.version == nil:
		return nil, newError(CodeMissingHeaderField, "the Header has no xrd:protocolVersion")
	case p.bodyChildren != 1 || p.bodyText:
		return nil, newError(CodeInvalidBody, "the Body must hold exactly one element and no text")
	case p.bodyName == xml.Name{Space: nsSOAP11, Local: "Fault"}:
		return nil, newError(CodeInvalidBody, "a request Body cannot hold a SOAP Fault")
	case p.service == nil:
		return nil, newError(CodeMissingHeaderField, "the Header has no xrd:service")
	case p.bodyName.Local != p.service.ServiceCode:
		return nil, newError(CodeInconsistentHeaders, "the Body element's name is not the service code of xrd:service")
	}
	req := &Request{
		Client:          *p.client,
		Service:         *p.service,
		MessageID:       *p.id,
		ProtocolVersion: *p.version,
		BodyName:        p.bodyName,
		HeaderXML:       p.headerXML,
	}
	if p.party != nil {
		party := *p.party
		req.RepresentedParty = &party
	}
	if p.userID != nil {
		req.UserID = *p.userID
	}
	if p.issue != nil {
		req.Issue = *p.issue
	}
	return req, nil
}
