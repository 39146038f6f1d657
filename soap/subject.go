package soap

import (
	"bytes"
	"encoding/xml"
	"io"
)

// SubjectText returns the data subject of a request envelope that
// ParseRequest accepted (Request.Envelope): the text of the element whose
// local name is element, in any namespace, anywhere inside the Body's
// operation element. found is false when there is none (value "").
//
// The value is read as a registry will read it, and refused
// (client.invalid_body) whenever two readers could take it two ways:
//   - the element appears more than once inside the operation (nested in
//     itself included): which one a registry reads is its choice, not ours;
//   - its content is not a single text node — a comment or an element
//     inside it, or text next to a CDATA section (DOM's first text child
//     and XPath's string value differ);
//   - its text starts or ends with XML white space, after character
//     references are decoded (a registry reading xs:token trims it, one
//     reading xs:string does not).
//
// Character and entity references are decoded once, as every XML reader
// decodes them; one CDATA section is its content.
func SubjectText(env []byte, element string, lim Limits) (value string, found bool, err error) {
	s := newScanner(bytes.TrimPrefix(env, utf8BOM), lim.withDefaults())
	depth := 0
	inBody, inOp := false, false
	opDepth := 0
	for {
		t, err := s.next()
		if err == io.EOF {
			return value, found, nil
		}
		if err != nil {
			return "", false, err
		}
		switch t.kind {
		case tokEnd:
			depth--
			switch {
			case inOp && depth == opDepth-1:
				return value, found, nil // the operation is over
			case inBody && depth == 1:
				inBody = false
			}
		case tokStart:
			depth++
			switch {
			case depth == 2 && t.name == xml.Name{Space: nsSOAP11, Local: "Body"}:
				inBody = true
			case inBody && depth == 3 && !inOp:
				inOp, opDepth = true, depth
			case inOp && t.name.Local == element:
				if found {
					return "", false, newError(CodeInvalidBody, "the data subject element "+element+" appears more than once")
				}
				found = true
				if value, err = subjectValue(s, element); err != nil {
					return "", false, err
				}
				depth-- // subjectValue read the end tag
			}
		}
	}
}

// subjectValue reads the content of the subject element whose start tag was
// just read, up to and including its end tag.
func subjectValue(s *scanner, element string) (string, error) {
	var v string
	nodes := 0
	for {
		t, err := s.next()
		if err != nil {
			if err == io.EOF {
				return "", xmlError("not well-formed XML: unexpected end of document")
			}
			return "", err
		}
		switch t.kind {
		case tokEnd:
			if v != "" && (isBlank(v[0]) || isBlank(v[len(v)-1])) {
				return "", newError(CodeInvalidBody, "the data subject element "+element+" starts or ends with white space")
			}
			return v, nil
		case tokText:
			nodes++
			if nodes > 1 {
				return "", newError(CodeInvalidBody, "the data subject element "+element+" is split into several text nodes")
			}
			v = string(t.text)
		case tokComment:
			return "", newError(CodeInvalidBody, "the data subject element "+element+" holds a comment")
		case tokStart:
			return "", newError(CodeInvalidBody, "the data subject element "+element+" holds an element")
		}
	}
}
