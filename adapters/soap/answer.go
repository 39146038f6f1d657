package soap

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/govbus/govbus/gateway"
)

// translate turns the registry's answer to a REST-to-SOAP call into the
// consumer's answer (see ServiceMapping).
func translate(resp *gateway.Response, m *mapping) (*gateway.Response, error) {
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	ok2xx := resp.Status >= 200 && resp.Status < 300
	// SOAP answers are 2xx, or 500 for a Fault (SOAP 1.1 §6.2).
	if soap := isXMLType(mt) && (ok2xx || resp.Status == http.StatusInternalServerError); !soap {
		if ok2xx {
			release(resp)
			return nil, gateway.Errorf(gateway.CodeInternalError, "the registry answered %d with Content-Type %q, not SOAP", resp.Status, mt)
		}
		return resp, nil // the registry's own error, passed on as a REST registry's
	}
	buf := gateway.GetBuffer()
	status, err := writeJSONAnswer(buf, resp.Body, m, ok2xx)
	release(resp)
	if err != nil {
		gateway.PutBuffer(buf)
		return nil, gateway.Wrap(gateway.CodeInternalError, err, "reading the registry's SOAP answer")
	}
	return &gateway.Response{
		Status: status, Header: http.Header{"Content-Type": {"application/json"}}, Body: buf.Bytes(),
		Forwarded: resp.Forwarded, SentAt: resp.SentAt, ReceivedAt: resp.ReceivedAt, Attempts: resp.Attempts,
		Release: func() { gateway.PutBuffer(buf) },
	}, nil
}

// isXMLType reports whether a media type holds XML.
func isXMLType(mt string) bool {
	return mt == "text/xml" || mt == "application/xml" || strings.HasSuffix(mt, "+xml")
}

// writeJSONAnswer reads a SOAP answer and writes its JSON form to b,
// returning the status of the consumer's answer: 200 for a result (which
// only a 2xx answer may carry), 404 or 500 for a Fault.
func writeJSONAnswer(b *bytes.Buffer, body []byte, m *mapping, ok2xx bool) (int, error) {
	r := newReader(body)
	root, err := r.root()
	if err != nil {
		return 0, err
	}
	env := root.Name.Space
	if root.Name.Local != "Envelope" || env != soap11Namespace && env != soap12Namespace {
		return 0, errors.New("not a SOAP envelope")
	}
	var content *node
	isFault := false
	for {
		start, ok, err := r.child()
		if err != nil {
			return 0, err
		}
		if !ok {
			break
		}
		if start.Name.Space != env || start.Name.Local != "Body" || content != nil {
			if err := r.skip(); err != nil { // the Header: the JSON answer has no use for it
				return 0, err
			}
			continue
		}
		if content, isFault, err = r.bodyContent(env); err != nil {
			return 0, err
		}
	}
	if err := r.end(); err != nil {
		return 0, err
	}
	switch {
	case content == nil:
		return 0, errors.New("the SOAP Body is missing or empty")
	case isFault:
		return writeFault(b, content, m.NotFoundFault), nil
	case !ok2xx:
		return 0, errors.New("a 500 answer without a SOAP Fault")
	}
	result := content
	if m.ResultElement != "" {
		if result = content.child(m.ResultElement); result == nil {
			return 0, fmt.Errorf("the answer has no %s element", m.ResultElement)
		}
	}
	writeValue(b, result)
	b.WriteByte('\n')
	return http.StatusOK, nil
}

// bodyContent reads the SOAP Body after its start tag: the tree of its
// first element, and whether that is a Fault.
func (r *reader) bodyContent(env string) (*node, bool, error) {
	var content *node
	isFault := false
	for {
		start, ok, err := r.child()
		if err != nil {
			return nil, false, err
		}
		if !ok {
			return content, isFault, nil
		}
		if content != nil {
			if err := r.skip(); err != nil {
				return nil, false, err
			}
			continue
		}
		isFault = start.Name.Space == env && start.Name.Local == "Fault"
		if content, err = r.element(start); err != nil {
			return nil, false, err
		}
	}
}

// writeFault writes a Fault (SOAP 1.1 or 1.2) as JSON and returns its
// status: 404 when notFound is set and in the faultstring, else 500.
func writeFault(b *bytes.Buffer, f *node, notFound string) int {
	code := f.child("faultcode")
	if c := f.child("Code"); code == nil && c != nil {
		code = c.child("Value")
	}
	reason := f.child("faultstring")
	if r := f.child("Reason"); reason == nil && r != nil {
		reason = r.child("Text")
	}
	actor := f.child("faultactor")
	if actor == nil {
		actor = f.child("Role")
	}
	detail := f.child("detail")
	if detail == nil {
		detail = f.child("Detail")
	}
	faultstring := strings.TrimSpace(reason.textOf())
	b.WriteString(`{"faultcode":`)
	writeString(b, strings.TrimSpace(code.textOf()))
	b.WriteString(`,"faultstring":`)
	writeString(b, faultstring)
	if actor != nil {
		b.WriteString(`,"faultactor":`)
		writeString(b, strings.TrimSpace(actor.textOf()))
	}
	if detail != nil {
		b.WriteString(`,"detail":`)
		writeValue(b, detail)
	}
	b.WriteString("}\n")
	if notFound != "" && strings.Contains(faultstring, notFound) {
		return http.StatusNotFound
	}
	return http.StatusInternalServerError
}

// writeValue writes n as JSON: null when xsi:nil, its text when it has no
// child elements, else an object of its children.
func writeValue(b *bytes.Buffer, n *node) {
	switch {
	case n.nil:
		b.WriteString("null")
	case len(n.children) == 0:
		writeString(b, string(n.text))
	default:
		writeObject(b, n.children)
	}
}

// writeObject writes sibling elements as a JSON object in document order;
// a name that repeats becomes one key with an array of the values.
func writeObject(b *bytes.Buffer, children []*node) {
	type group struct {
		name  string
		nodes []*node
	}
	groups := make([]group, 0, len(children))
	var index map[string]int // for long lists of siblings only
	if len(children) > 16 {
		index = make(map[string]int, len(children))
	}
	for i, c := range children {
		g := -1
		if index != nil {
			if j, ok := index[c.name]; ok {
				g = j
			}
		} else {
			for j := range groups {
				if groups[j].name == c.name {
					g = j
					break
				}
			}
		}
		if g >= 0 {
			groups[g].nodes = append(groups[g].nodes, c)
			continue
		}
		groups = append(groups, group{c.name, children[i : i+1 : i+1]})
		if index != nil {
			index[c.name] = len(groups) - 1
		}
	}
	b.WriteByte('{')
	for i, g := range groups {
		if i > 0 {
			b.WriteByte(',')
		}
		writeString(b, g.name)
		b.WriteByte(':')
		if len(g.nodes) == 1 {
			writeValue(b, g.nodes[0])
			continue
		}
		b.WriteByte('[')
		for k, n := range g.nodes {
			if k > 0 {
				b.WriteByte(',')
			}
			writeValue(b, n)
		}
		b.WriteByte(']')
	}
	b.WriteByte('}')
}

// writeString writes s as a JSON string. s is valid UTF-8 (encoding/xml
// refuses anything else), so only ASCII needs escaping.
func writeString(b *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b.WriteString(s[start:i])
		switch c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteString(`\u00`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		}
		start = i + 1
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
}
