package soap

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Namespaces this package reads or writes.
const (
	nsSOAP11   = "http://schemas.xmlsoap.org/soap/envelope/"
	nsSOAP12   = "http://www.w3.org/2003/05/soap-envelope"
	nsXRoad    = "http://x-road.eu/xsd/xroad.xsd"
	nsID       = "http://x-road.eu/xsd/identifiers"
	nsRepr     = "http://x-road.eu/xsd/representation.xsd"
	nsXInclude = "http://www.w3.org/2001/XInclude"
	nsXML      = "http://www.w3.org/XML/1998/namespace"
	nsXMLNS    = "http://www.w3.org/2000/xmlns/"
)

// utf8BOM is skipped before parsing (the hash still covers it).
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// tokKind tells the tokens a scanner returns apart.
type tokKind uint8

const (
	tokStart tokKind = iota + 1
	tokEnd
	tokText
	tokComment
)

// token is one piece of a document as the scanner returns it. Names are
// resolved (Space is the namespace URI); text, comment and attrs are only
// valid until the next call to next.
type token struct {
	kind   tokKind
	name   xml.Name
	prefix string // the element's prefix as written ("" for none)
	attrs  []xml.Attr
	text   []byte
	// off and end delimit the token's bytes in the scanned input; for the
	// end of an empty-element tag (<a/>) off == end.
	off, end int
}

// noRoot reports a document with no element at all.
func noRoot() *Error {
	return newError(CodeInvalidSOAP, "no XML document element: the message is not a SOAP envelope")
}

// scanner is the hardened XML front end: encoding/xml's tokenizer in strict
// mode, with no entity map and no charset reader, reading through a gate
// (gate.go) and wrapped so that
//   - any <!DOCTYPE ...> or other <! directive is refused by the gate as soon
//     as its first letter is read, before the decoder has seen a single
//     declaration (and the decoder knows only the five predefined entities,
//     so nothing is ever expanded or fetched);
//   - processing instructions are refused, except the XML declaration at the
//     very start (whose encoding must be UTF-8);
//   - XInclude elements are refused (nothing here would process them, but a
//     registry behind us might);
//   - depth, element count, attributes per element, name length and text
//     length are counted as tokens stream by;
//   - what encoding/xml's raw tokens leave unchecked is checked here: start
//     and end tags match, every prefix is declared, attributes are unique
//     after namespace resolution, and nothing but whitespace and comments
//     surrounds the one root element.
//
// Every error is a *Error with CodeInvalidXML, except a document with no
// element (noRoot, CodeInvalidSOAP).
type scanner struct {
	d   *xml.Decoder
	lim Limits

	depth, elements      int
	seenRoot, rootClosed bool
	open                 []xml.Name // raw names of the open elements
	ns                   map[string]string
	undo                 []nsUndo
	marks                []int // len(undo) when each open element started
	attrs                []xml.Attr
}

// nsUndo restores one prefix binding when its element closes.
type nsUndo struct {
	prefix, old string
	had         bool
}

// newScanner returns a scanner over data, which must not start with a BOM.
func newScanner(data []byte, lim Limits) *scanner {
	d := xml.NewDecoder(newGate(data, lim))
	d.Strict = true
	// d.Entity and d.CharsetReader stay nil on purpose: only &lt; &gt; &amp;
	// &apos; &quot; and character references are known, and a declared
	// encoding other than UTF-8 is an error.
	return &scanner{d: d, lim: lim, ns: make(map[string]string)}
}

// syntaxError describes a decoder error without its Go-specific wording.
func syntaxError(err error) *Error {
	var se *xml.SyntaxError
	switch {
	case errors.As(err, &se):
		return xmlError("not well-formed XML (line %d): %s", se.Line, se.Msg)
	case strings.Contains(err.Error(), "CharsetReader"):
		return xmlError("the XML declaration names an encoding other than UTF-8")
	}
	return xmlError("not well-formed XML: %v", err)
}

func xmlError(format string, args ...any) *Error {
	return newError(CodeInvalidXML, fmt.Sprintf(format, args...))
}

// next returns the next token, io.EOF after the root element has closed and
// only whitespace and comments followed it, or a *Error.
func (s *scanner) next() (token, error) {
	for {
		off := int(s.d.InputOffset())
		raw, err := s.d.RawToken()
		end := int(s.d.InputOffset())
		if err != nil {
			var gateErr *Error
			if errors.As(err, &gateErr) {
				return token{}, gateErr
			}
			if errors.Is(err, io.EOF) {
				switch {
				case !s.seenRoot:
					return token{}, noRoot()
				case !s.rootClosed:
					return token{}, xmlError("not well-formed XML: unexpected end of document")
				}
				return token{}, io.EOF
			}
			return token{}, syntaxError(err)
		}
		switch v := raw.(type) {
		case xml.ProcInst:
			if v.Target == "xml" && off == 0 {
				if err := checkXMLDecl(string(v.Inst)); err != nil {
					return token{}, err
				}
				continue // the XML declaration
			}
			return token{}, xmlError("processing instructions are not accepted")
		case xml.Directive:
			return token{}, xmlError("DTDs, entity declarations and other <! directives are not accepted")
		case xml.Comment:
			if len(v) > s.lim.MaxTextLen {
				return token{}, xmlError("a comment is longer than %d bytes", s.lim.MaxTextLen)
			}
			return token{kind: tokComment, text: v, off: off, end: end}, nil
		case xml.CharData:
			if len(v) > s.lim.MaxTextLen {
				return token{}, xmlError("a text node is longer than %d bytes", s.lim.MaxTextLen)
			}
			if s.depth == 0 && !isSpace(v) {
				if s.rootClosed {
					return token{}, xmlError("content after the document element")
				}
				return token{}, xmlError("text before the document element")
			}
			return token{kind: tokText, text: v, off: off, end: end}, nil
		case xml.StartElement:
			return s.start(v, off, end)
		case xml.EndElement:
			return s.finish(v, off, end)
		}
	}
}

func (s *scanner) start(v xml.StartElement, off, end int) (token, error) {
	if s.rootClosed {
		return token{}, xmlError("content after the document element")
	}
	s.elements++
	if s.elements > s.lim.MaxElements {
		return token{}, xmlError("more than %d elements", s.lim.MaxElements)
	}
	s.depth++
	if s.depth > s.lim.MaxDepth {
		return token{}, xmlError("elements nested deeper than %d", s.lim.MaxDepth)
	}
	if len(v.Attr) > s.lim.MaxAttrs {
		return token{}, xmlError("an element has more than %d attributes", s.lim.MaxAttrs)
	}
	if qnameLen(v.Name) > s.lim.MaxNameLen {
		return token{}, xmlError("a name is longer than %d bytes", s.lim.MaxNameLen)
	}
	s.marks = append(s.marks, len(s.undo))
	s.open = append(s.open, v.Name)
	s.seenRoot = true

	for i, a := range v.Attr {
		if qnameLen(a.Name) > s.lim.MaxNameLen {
			return token{}, xmlError("a name is longer than %d bytes", s.lim.MaxNameLen)
		}
		if len(a.Value) > s.lim.MaxTextLen {
			return token{}, xmlError("an attribute value is longer than %d bytes", s.lim.MaxTextLen)
		}
		for _, b := range v.Attr[:i] {
			if b.Name == a.Name {
				return token{}, xmlError("attribute %s appears twice", qname(a.Name))
			}
		}
		switch {
		case a.Name.Space == "" && a.Name.Local == "xmlns":
			if a.Value == nsXML || a.Value == nsXMLNS {
				return token{}, xmlError("reserved namespace bound as the default namespace")
			}
			s.bind("", a.Value)
		case a.Name.Space == "xmlns":
			if err := checkBinding(a.Name.Local, a.Value); err != nil {
				return token{}, err
			}
			s.bind(a.Name.Local, a.Value)
		}
	}

	name, err := s.resolve(v.Name, true)
	if err != nil {
		return token{}, err
	}
	if name.Space == nsXInclude {
		return token{}, xmlError("XInclude is not accepted")
	}
	attrs := s.attrs[:0]
	for _, a := range v.Attr {
		if (a.Name.Space == "" && a.Name.Local == "xmlns") || a.Name.Space == "xmlns" {
			continue
		}
		an, err := s.resolve(a.Name, false)
		if err != nil {
			return token{}, err
		}
		if an.Space == nsXInclude {
			return token{}, xmlError("XInclude is not accepted")
		}
		for _, b := range attrs {
			if b.Name == an {
				return token{}, xmlError("attribute {%s}%s appears twice", an.Space, an.Local)
			}
		}
		attrs = append(attrs, xml.Attr{Name: an, Value: a.Value})
	}
	s.attrs = attrs
	return token{kind: tokStart, name: name, prefix: v.Name.Space, attrs: attrs, off: off, end: end}, nil
}

func (s *scanner) finish(v xml.EndElement, off, end int) (token, error) {
	if len(s.open) == 0 {
		return token{}, xmlError("end tag </%s> without a start tag", qname(v.Name))
	}
	top := s.open[len(s.open)-1]
	if top != v.Name {
		return token{}, xmlError("element <%s> closed by </%s>", qname(top), qname(v.Name))
	}
	name, err := s.resolve(v.Name, true)
	if err != nil {
		return token{}, err
	}
	s.open = s.open[:len(s.open)-1]
	mark := s.marks[len(s.marks)-1]
	s.marks = s.marks[:len(s.marks)-1]
	for i := len(s.undo) - 1; i >= mark; i-- {
		u := s.undo[i]
		if u.had {
			s.ns[u.prefix] = u.old
		} else {
			delete(s.ns, u.prefix)
		}
	}
	s.undo = s.undo[:mark]
	s.depth--
	if s.depth == 0 {
		s.rootClosed = true
	}
	return token{kind: tokEnd, name: name, prefix: v.Name.Space, off: off, end: end}, nil
}

// checkXMLDecl reads the XML declaration's content as XML 1.0 §2.8 writes
// it — version, then optionally encoding, then optionally standalone, each
// a name, '=' with optional white space around it and a quoted value,
// separated by white space — and accepts only version 1.0 and the UTF-8
// encoding. encoding/xml looks for `encoding="` literally and so reads
// `encoding = "UTF-7"` as no encoding at all, while libxml2 (lxml) decodes
// the rest of such a document as UTF-7, where text govbus read ("+ADw-")
// is markup ('<'). Anything else in the declaration is refused.
func checkXMLDecl(inst string) *Error {
	bad := xmlError("the XML declaration is not version=\"1.0\" [encoding=\"UTF-8\"] [standalone=\"yes\"|\"no\"]")
	names := [...]string{"version", "encoding", "standalone"}
	next := 0
	s := inst
	for {
		trimmed := strings.TrimLeft(s, " \t\r\n")
		if trimmed == "" {
			break
		}
		if len(trimmed) == len(s) && s != inst {
			return bad // no white space before a pseudo-attribute
		}
		s = trimmed
		name, rest, ok := strings.Cut(s, "=")
		if !ok {
			return bad
		}
		name = strings.TrimRight(name, " \t\r\n")
		rest = strings.TrimLeft(rest, " \t\r\n")
		if rest == "" || rest[0] != '"' && rest[0] != '\'' {
			return bad
		}
		end := strings.IndexByte(rest[1:], rest[0])
		if end < 0 {
			return bad
		}
		value := rest[1 : 1+end]
		s = rest[2+end:]
		i := next
		for i < len(names) && names[i] != name {
			i++
		}
		if i == len(names) || next == 0 && i != 0 {
			return bad // unknown, repeated, out of order, or no version first
		}
		next = i + 1
		switch name {
		case "version":
			if value != "1.0" {
				return xmlError("the XML declaration names a version other than 1.0")
			}
		case "encoding":
			if !strings.EqualFold(value, "UTF-8") {
				return xmlError("the XML declaration names an encoding other than UTF-8")
			}
		case "standalone":
			if value != "yes" && value != "no" {
				return bad
			}
		}
	}
	if next == 0 {
		return bad
	}
	return nil
}

// checkBinding refuses the namespace declarations XML Namespaces forbids:
// an empty URI for a prefix, and misuse of the reserved xml and xmlns.
func checkBinding(prefix, uri string) *Error {
	switch {
	case uri == "":
		return xmlError("namespace prefix %s bound to an empty URI", prefix)
	case prefix == "xmlns":
		return xmlError("the xmlns prefix cannot be declared")
	case prefix == "xml" && uri != nsXML, prefix != "xml" && uri == nsXML:
		return xmlError("the xml prefix and its namespace belong together")
	case uri == nsXMLNS:
		return xmlError("the xmlns namespace cannot be bound")
	}
	return nil
}

// bind declares prefix for the element being opened.
func (s *scanner) bind(prefix, uri string) {
	old, had := s.ns[prefix]
	s.undo = append(s.undo, nsUndo{prefix: prefix, old: old, had: had})
	s.ns[prefix] = uri
}

// resolve turns a raw name into {namespace URI, local name}. Unprefixed
// elements take the default namespace, unprefixed attributes none.
func (s *scanner) resolve(n xml.Name, element bool) (xml.Name, *Error) {
	if strings.IndexByte(n.Local, ':') >= 0 {
		return xml.Name{}, xmlError("malformed qualified name %q", n.Local)
	}
	switch n.Space {
	case "":
		if element {
			return xml.Name{Space: s.ns[""], Local: n.Local}, nil
		}
		return n, nil
	case "xml":
		return xml.Name{Space: nsXML, Local: n.Local}, nil
	case "xmlns":
		return xml.Name{}, xmlError("the xmlns prefix cannot name an element")
	}
	uri, ok := s.ns[n.Space]
	if !ok {
		return xml.Name{}, xmlError("namespace prefix %s is not declared", n.Space)
	}
	return xml.Name{Space: uri, Local: n.Local}, nil
}

// skip consumes the rest of the element whose start tag was just returned and
// returns its end token.
func (s *scanner) skip() (token, error) {
	for depth := 1; ; {
		t, err := s.next()
		if err != nil {
			return token{}, err
		}
		switch t.kind {
		case tokStart:
			depth++
		case tokEnd:
			depth--
			if depth == 0 {
				return t, nil
			}
		}
	}
}

// drain reads to the end of the document, so that trailing content and
// syntax errors after the part a caller cares about are still refused.
func (s *scanner) drain() error {
	for {
		_, err := s.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func qnameLen(n xml.Name) int {
	if n.Space == "" {
		return len(n.Local)
	}
	return len(n.Space) + 1 + len(n.Local)
}

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

// isSpace reports whether b is only XML whitespace.
func isSpace(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}
