package soap

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
)

// Limits on a registry's XML beyond its size (MaxResponseBytes).
const (
	// maxDepth bounds the nesting of elements.
	maxDepth = 64
	// maxElements bounds the number of elements in one document.
	maxElements = 1 << 20
)

// Namespaces the reader checks.
const (
	xsiNamespace    = "http://www.w3.org/2001/XMLSchema-instance"
	wsdl11Namespace = "http://schemas.xmlsoap.org/wsdl/"
)

// errDTD refuses a document type declaration: its entities are never
// expanded, and a registry has no reason to send one.
var errDTD = errors.New("a DTD (<!DOCTYPE) is not allowed")

// reader is encoding/xml's decoder in strict mode (no entity map, no
// charset reader: UTF-8 only, the five predefined entities only) with the
// limits above and no DTD.
type reader struct {
	dec             *xml.Decoder
	depth, elements int
}

func newReader(data []byte) *reader {
	return &reader{dec: xml.NewDecoder(bytes.NewReader(data))}
}

// next returns the next token. CharData is valid until the next call.
func (r *reader) next() (xml.Token, error) {
	tok, err := r.dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok.(type) {
	case xml.StartElement:
		r.depth++
		r.elements++
		if r.depth > maxDepth {
			return nil, fmt.Errorf("elements nested deeper than %d", maxDepth)
		}
		if r.elements > maxElements {
			return nil, fmt.Errorf("more than %d elements", maxElements)
		}
	case xml.EndElement:
		r.depth--
	case xml.Directive:
		return nil, errDTD
	}
	return tok, nil
}

// root reads up to the document element; only white space, comments and
// processing instructions may come before it.
func (r *reader) root() (xml.StartElement, error) {
	for {
		tok, err := r.next()
		if errors.Is(err, io.EOF) {
			return xml.StartElement{}, errors.New("no XML document element")
		}
		if err != nil {
			return xml.StartElement{}, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t, nil
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return xml.StartElement{}, errors.New("text before the document element")
			}
		}
	}
}

// child reads within an element up to its next child element, and
// returns false at the element's end. Text between children is skipped.
func (r *reader) child() (xml.StartElement, bool, error) {
	for {
		tok, err := r.next()
		if err != nil {
			return xml.StartElement{}, false, unexpectedEOF(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t, true, nil
		case xml.EndElement:
			return xml.StartElement{}, false, nil
		}
	}
}

// skip reads past the end of the element whose start tag was just read.
func (r *reader) skip() error {
	for depth := 1; depth > 0; {
		tok, err := r.next()
		if err != nil {
			return unexpectedEOF(err)
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		}
	}
	return nil
}

// end reads after the document element: only white space, comments and
// processing instructions may follow it.
func (r *reader) end() error {
	for {
		tok, err := r.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return errors.New("text after the document element")
			}
		case xml.StartElement:
			return errors.New("a second document element")
		}
	}
}

func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// node is an element of an answer, as the JSON form needs it.
type node struct {
	name     string // local name
	text     []byte // the text of an element without child elements
	children []*node
	nil      bool // xsi:nil="true"
}

// element reads the element whose start tag was just read into a tree.
// Text is kept only while the element has no child element (mixed content
// is dropped).
func (r *reader) element(start xml.StartElement) (*node, error) {
	n := &node{name: start.Name.Local}
	for _, a := range start.Attr {
		if a.Name.Space == xsiNamespace && a.Name.Local == "nil" && (a.Value == "true" || a.Value == "1") {
			n.nil = true
		}
	}
	for {
		tok, err := r.next()
		if err != nil {
			return nil, unexpectedEOF(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			c, err := r.element(t)
			if err != nil {
				return nil, err
			}
			n.children = append(n.children, c)
			n.text = nil
		case xml.CharData:
			if len(n.children) == 0 {
				n.text = append(n.text, t...)
			}
		case xml.EndElement:
			return n, nil
		}
	}
}

// child returns n's first child element with the local name, or nil.
func (n *node) child(name string) *node {
	if n == nil {
		return nil
	}
	for _, c := range n.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

// textOf returns n's text; "" for nil.
func (n *node) textOf() string {
	if n == nil {
		return ""
	}
	return string(n.text)
}

// errNotOneElement reports a rendered operation that is not one element.
var errNotOneElement = errors.New("not exactly one element")

// checkFragment checks that b is one well-formed element.
func checkFragment(b []byte) error {
	r := newReader(b)
	if _, err := r.root(); err != nil {
		return err
	}
	if err := r.skip(); err != nil {
		return err
	}
	if err := r.end(); err != nil {
		return errNotOneElement
	}
	return nil
}

// checkWSDL checks that b is a well-formed WSDL 1.1 document.
func checkWSDL(b []byte) error {
	r := newReader(b)
	root, err := r.root()
	if err != nil {
		return err
	}
	if root.Name.Space != wsdl11Namespace || root.Name.Local != "definitions" {
		return fmt.Errorf("the document element is {%s}%s, not WSDL 1.1 definitions", root.Name.Space, root.Name.Local)
	}
	if err := r.skip(); err != nil {
		return err
	}
	return r.end()
}
