package soap

import (
	"encoding/xml"
)

// header reads the Header's children. Only the first Header's content is
// kept as HeaderXML (a second Header is already an error).
func (p *envelopeParser) header(start token) error {
	first := p.headerXML == nil
	for {
		t, err := p.s.next()
		if err != nil {
			return err
		}
		switch t.kind {
		case tokEnd:
			if first {
				p.headerXML = p.data[start.end:t.off:t.off]
			}
			return nil
		case tokText:
			if !isSpace(t.text) {
				p.soapErr("text directly inside the Header")
			}
		case tokStart:
			if err := p.field(t); err != nil {
				return err
			}
		}
	}
}

// field reads one Header child. Every child element name may appear once (as
// X-Road checks it: by qualified name, whatever the namespace); X-Road's own
// fields are decoded, other headers are skipped.
func (p *envelopeParser) field(t token) error {
	if p.seen == nil {
		p.seen = make(map[xml.Name]struct{}, 8)
	}
	key := t.name
	if fieldNames[key.Local] {
		// An X-Road field's local name in another namespace (its prefix
		// may even be xrd, bound elsewhere) is the field to readers
		// that match local names or prefixes: it counts as the field.
		key.Space = ""
	}
	_, dup := p.seen[key]
	if dup && p.dupErr == nil {
		p.dupErr = newError(CodeDuplicateHeaderField, "the Header holds the field "+t.name.Local+" more than once")
	}
	p.seen[key] = struct{}{}

	switch t.name {
	case xml.Name{Space: nsXRoad, Local: "client"}, xml.Name{Space: nsXRoad, Local: "service"}:
		service := t.name.Local == "service"
		id, err := p.identifier(t, service)
		if err != nil || dup || id == nil {
			return err
		}
		if service {
			p.service = id
		} else {
			p.client = id
		}
		return nil
	case xml.Name{Space: nsXRoad, Local: "id"}, xml.Name{Space: nsXRoad, Local: "userId"},
		xml.Name{Space: nsXRoad, Local: "issue"}, xml.Name{Space: nsXRoad, Local: "protocolVersion"}:
		v, ok, err := p.text("xrd:" + t.name.Local)
		if err != nil || dup || !ok {
			return err
		}
		switch t.name.Local {
		case "id":
			p.id = &v
		case "userId":
			p.userID = &v
		case "issue":
			p.issue = &v
		case "protocolVersion":
			if v != "4.0" {
				p.headerErr(CodeInvalidProtocolVersion, "unsupported xrd:protocolVersion: only 4.0 is accepted")
			}
			p.version = &v
		}
		return nil
	case xml.Name{Space: nsRepr, Local: "representedParty"}:
		party, err := p.representedParty()
		if err != nil || dup || party == nil {
			return err
		}
		p.party = party
		return nil
	}
	return p.skipNested()
}

// fieldNames are the local names of the X-Road header fields (xroad.xsd's
// and repr:representedParty).
var fieldNames = map[string]bool{
	"client": true, "service": true, "id": true, "userId": true, "issue": true,
	"protocolVersion": true, "requestHash": true, "representedParty": true,
}

// isField reports whether n is an X-Road header field's name.
func isField(n xml.Name) bool {
	return n.Space == nsXRoad && fieldNames[n.Local] && n.Local != "representedParty" ||
		n == xml.Name{Space: nsRepr, Local: "representedParty"}
}

// skipNested consumes the rest of the element whose start tag was just
// read — another header than X-Road's, or the Body's operation — and
// refuses (client.invalid_soap) an X-Road header field inside it: readers
// that take the first xrd:client in document order (DOM's
// getElementsByTagNameNS, XPath //xrd:client, lxml's find(".//")) would
// read that one rather than the Header's own.
func (p *envelopeParser) skipNested() error {
	for depth := 1; ; {
		t, err := p.s.next()
		if err != nil {
			return err
		}
		switch t.kind {
		case tokStart:
			depth++
			if isField(t.name) {
				p.soapErr("the X-Road header field " + t.name.Local + " appears inside another element: it belongs in the Header only")
			}
		case tokEnd:
			depth--
			if depth == 0 {
				return nil
			}
		}
	}
}

// text reads the value of a header field whose start tag was just read. The
// value is the element's character data, which must be a single text node:
// plain text or one CDATA section. A comment or a second text node inside a
// value is refused (client.invalid_xml) rather than concatenated, because
// readers disagree on such values (DOM's first text child versus XPath's
// string value), and the registry behind us reads the same bytes. ok is
// false when the value was refused.
func (p *envelopeParser) text(field string) (v string, ok bool, err error) {
	ok = true
	nodes := 0
	for {
		t, err := p.s.next()
		if err != nil {
			return "", false, err
		}
		switch t.kind {
		case tokEnd:
			return v, ok, nil
		case tokText:
			nodes++
			if nodes == 1 {
				v = string(t.text)
			} else {
				ok = false
				p.headerErr(CodeInvalidXML, field+": the value is split into several text nodes")
			}
		case tokComment:
			ok = false
			p.headerErr(CodeInvalidXML, field+": a comment inside a header value is not accepted")
		case tokStart:
			ok = false
			p.headerErr(CodeInvalidXML, field+": a header value must be text, not elements")
			if _, err := p.s.skip(); err != nil {
				return "", false, err
			}
		}
	}
}

// identifier reads xrd:client (service false) or xrd:service (true), whose
// start tag t was just read. The structure follows identifiers.xsd:
// id:objectType is required (MEMBER or SUBSYSTEM for a client, SERVICE for a
// service), xRoadInstance, memberClass and memberCode are required,
// subsystemCode is required for a SUBSYSTEM and absent for a MEMBER, a
// service needs serviceCode and may have serviceVersion; each part at most
// once, nothing else inside. A violation is client.invalid_xml (as X-Road
// answers a missing objectType) and yields a nil ID.
func (p *envelopeParser) identifier(t token, service bool) (*ID, error) {
	f := &partsField{p: p, name: "xrd:client", valid: true}
	if service {
		f.name = "xrd:service"
	}

	id := &ID{}
	ot, has := attrValue(t.attrs, xml.Name{Space: nsID, Local: "objectType"})
	switch {
	case !has:
		f.bad("no id:objectType attribute")
	case service && ot != ObjectService:
		f.bad("id:objectType must be SERVICE")
	case !service && ot != ObjectMember && ot != ObjectSubsystem:
		f.bad("id:objectType must be MEMBER or SUBSYSTEM")
	}
	id.ObjectType = ot

	var seen [6]bool
	err := f.parts("text between identifier parts", seen[:], func(n xml.Name) (int, *string) {
		return idPart(id, n, service)
	})
	if err != nil {
		return nil, err
	}

	switch {
	case id.XRoadInstance == "" || id.MemberClass == "" || id.MemberCode == "":
		f.bad("xRoadInstance, memberClass and memberCode are required and non-empty")
	case service && id.ServiceCode == "":
		f.bad("serviceCode is required and non-empty")
	case !service && ot == ObjectSubsystem && id.SubsystemCode == "":
		f.bad("a SUBSYSTEM needs a non-empty subsystemCode")
	case !service && ot == ObjectMember && seen[3]:
		f.bad("a MEMBER has no subsystemCode")
	case seen[3] && id.SubsystemCode == "":
		f.bad("subsystemCode is empty")
	}
	if !f.valid {
		return nil, nil
	}
	return id, nil
}

// idPart returns the index and destination of identifier part n, or a nil
// destination when n is not a part this identifier may hold.
func idPart(id *ID, n xml.Name, service bool) (int, *string) {
	if n.Space != nsID {
		return 0, nil
	}
	switch n.Local {
	case "xRoadInstance":
		return 0, &id.XRoadInstance
	case "memberClass":
		return 1, &id.MemberClass
	case "memberCode":
		return 2, &id.MemberCode
	case "subsystemCode":
		return 3, &id.SubsystemCode
	}
	if !service {
		return 0, nil
	}
	switch n.Local {
	case "serviceCode":
		return 4, &id.ServiceCode
	case "serviceVersion":
		return 5, &id.ServiceVersion
	}
	return 0, nil
}

// representedParty reads repr:representedParty: an optional repr:partyClass
// and a required repr:partyCode, each at most once. A violation is
// client.invalid_xml and yields a nil ID.
func (p *envelopeParser) representedParty() (*ID, error) {
	f := &partsField{p: p, name: "repr:representedParty", valid: true}
	party := &ID{}
	var seen [2]bool
	err := f.parts("text between its parts", seen[:], func(n xml.Name) (int, *string) {
		switch n {
		case xml.Name{Space: nsRepr, Local: "partyClass"}:
			return 0, &party.MemberClass
		case xml.Name{Space: nsRepr, Local: "partyCode"}:
			return 1, &party.MemberCode
		}
		return 0, nil
	})
	if err != nil {
		return nil, err
	}
	if party.MemberCode == "" {
		f.bad("partyCode is required and non-empty")
	}
	if !f.valid {
		return nil, nil
	}
	return party, nil
}

// partsField reads a header field whose value is made of parts: child
// elements holding text (xrd:client, xrd:service, repr:representedParty).
// Each problem it finds is client.invalid_xml, its message prefixed with
// the field's name, and makes the field invalid.
type partsField struct {
	p     *envelopeParser
	name  string // e.g. "xrd:client"
	valid bool
}

// bad records a problem of the field.
func (f *partsField) bad(msg string) {
	f.valid = false
	f.p.headerErr(CodeInvalidXML, f.name+": "+msg)
}

// parts reads the field's parts up to its end tag, the start tag having
// just been read. part gives the index in seen of the part named n and
// where its value goes, or a nil destination for an element the field may
// not hold, which is skipped. A part may appear once. White space and
// comments between parts are ignored; other text is reported as between.
// A value that text refuses makes the field invalid (text reported why).
func (f *partsField) parts(between string, seen []bool, part func(n xml.Name) (int, *string)) error {
	p := f.p
	for {
		t, err := p.s.next()
		if err != nil {
			return err
		}
		if t.kind == tokEnd {
			return nil
		}
		switch t.kind {
		case tokText:
			if !isSpace(t.text) {
				f.bad(between)
			}
			continue
		case tokComment:
			continue
		}
		i, dst := part(t.name)
		if dst == nil {
			f.bad("unexpected element " + t.name.Local)
			if _, err := p.s.skip(); err != nil {
				return err
			}
			continue
		}
		if seen[i] {
			f.bad(t.name.Local + " appears twice")
		}
		seen[i] = true
		v, ok, err := p.text(f.name + "/" + t.name.Local)
		if err != nil {
			return err
		}
		if !ok {
			f.valid = false
		}
		*dst = v
	}
}

// attrValue returns the value of the attribute named n.
func attrValue(attrs []xml.Attr, n xml.Name) (string, bool) {
	for _, a := range attrs {
		if a.Name == n {
			return a.Value, true
		}
	}
	return "", false
}
