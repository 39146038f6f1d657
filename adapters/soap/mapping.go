package soap

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/url"
	"strings"
	"text/template"
	"unicode/utf8"

	xsoap "github.com/govbus/govbus/soap"
)

// mapping is a ServiceMapping ready for use.
type mapping struct {
	ServiceMapping
	segments []segment
	params   []string // the names of the {params}, in template order
	tmpl     *template.Template
	// opStart and opEnd enclose the default body's param elements, whose
	// names are elements (params prefixed ns1: when there is a namespace).
	opStart, opEnd string
	elements       []string
	// contentType, accept and soapAction are the HTTP headers of the
	// registry request; soapAction is nil for SOAP 1.2.
	contentType, accept string
	soapAction          []string
}

// segment is one segment of a path template.
type segment struct {
	literal string // the escaped segment to match, when not a param
	param   bool
}

// compileMapping checks sm and prepares it for the SOAP version.
func compileMapping(sm ServiceMapping, soap12 bool) (*mapping, error) {
	m := &mapping{ServiceMapping: sm}
	if err := m.compilePath(); err != nil {
		return nil, err
	}
	switch {
	case sm.Template != "":
		t, err := template.New("operation").Option("missingkey=zero").Parse(sm.Template)
		if err != nil {
			return nil, fmt.Errorf("template: %w", err)
		}
		m.tmpl = t
	case !xsoap.IsNCName(sm.Operation):
		return nil, fmt.Errorf("operation: %q is not an XML name (an operation or a template is required)", sm.Operation)
	case sm.Namespace == "":
		m.opStart, m.opEnd = "<"+sm.Operation+">", "</"+sm.Operation+">"
	default:
		var b bytes.Buffer
		escapeString(&b, sm.Namespace)
		m.opStart = `<ns1:` + sm.Operation + ` xmlns:ns1="` + b.String() + `">`
		m.opEnd = "</ns1:" + sm.Operation + ">"
	}
	for _, name := range m.params {
		if m.tmpl == nil && sm.Namespace != "" {
			name = "ns1:" + name
		}
		m.elements = append(m.elements, name)
	}
	if sm.ResultElement != "" && !xsoap.IsNCName(sm.ResultElement) {
		return nil, fmt.Errorf("result element: %q is not an XML name", sm.ResultElement)
	}
	// Render once with sample values: a template that cannot produce one
	// well-formed element fails here, not on the first call.
	sample := make([]string, len(m.params))
	for i := range sample {
		sample[i] = "0"
	}
	var b bytes.Buffer
	if err := m.writeOperation(&b, sample, ""); err != nil {
		return nil, err
	}
	if err := checkFragment(b.Bytes()); err != nil {
		return nil, fmt.Errorf("template: the operation it renders: %w", err)
	}
	if soap12 {
		m.contentType, m.accept = "application/soap+xml; charset=utf-8", "application/soap+xml"
		if sm.SOAPAction != "" {
			m.contentType += `; action="` + sm.SOAPAction + `"`
		}
	} else {
		m.contentType, m.accept = "text/xml; charset=utf-8", "text/xml"
		m.soapAction = []string{`"` + sm.SOAPAction + `"`}
	}
	return m, nil
}

// compilePath splits the path template into segments.
func (m *mapping) compilePath() error {
	p := m.Path
	if p == "" || p == "/" {
		return nil
	}
	if p[0] != '/' {
		return fmt.Errorf("path: %q does not start with /", p)
	}
	seen := map[string]bool{}
	for s := range strings.SplitSeq(p[1:], "/") {
		name, isParam := strings.CutPrefix(s, "{")
		if !isParam {
			if s == "" || strings.ContainsAny(s, "{}") {
				return fmt.Errorf("path: %q has an empty or malformed segment", p)
			}
			m.segments = append(m.segments, segment{literal: s})
			continue
		}
		name, ok := strings.CutSuffix(name, "}")
		if !ok || !xsoap.IsNCName(name) {
			return fmt.Errorf("path: param %q is not {name} with an XML name", s)
		}
		if seen[name] {
			return fmt.Errorf("path: param {%s} appears twice", name)
		}
		seen[name] = true
		m.segments = append(m.segments, segment{param: true})
		m.params = append(m.params, name)
	}
	return nil
}

// match returns the decoded values of the params when path (escaped)
// fits the template.
func (m *mapping) match(path string) ([]string, bool) {
	if len(m.segments) == 0 {
		return nil, path == "" || path == "/"
	}
	rest, ok := strings.CutPrefix(path, "/")
	if !ok {
		return nil, false
	}
	values := make([]string, 0, len(m.params))
	for i, seg := range m.segments {
		s := rest
		if i < len(m.segments)-1 {
			var found bool
			if s, rest, found = strings.Cut(rest, "/"); !found {
				return nil, false
			}
		} else if strings.IndexByte(s, '/') >= 0 {
			return nil, false
		}
		if !seg.param {
			if s != seg.literal {
				return nil, false
			}
			continue
		}
		v, err := url.PathUnescape(s)
		if s == "" || err != nil {
			return nil, false
		}
		values = append(values, v)
	}
	return values, true
}

// writeOperation writes the operation element for the param values and
// the call's raw query (used by templates only).
func (m *mapping) writeOperation(b *bytes.Buffer, values []string, rawQuery string) error {
	if m.tmpl == nil {
		b.WriteString(m.opStart)
		for i, name := range m.elements {
			writeElement(b, name, values[i])
		}
		b.WriteString(m.opEnd)
		return nil
	}
	data := make(map[string]string, len(m.params))
	var esc bytes.Buffer
	set := func(k, v string) {
		esc.Reset()
		escapeString(&esc, v)
		data[k] = esc.String()
	}
	for i, name := range m.params {
		set(name, values[i])
	}
	if rawQuery != "" {
		q, _ := url.ParseQuery(rawQuery) // malformed pairs are left out
		for k, vs := range q {
			if _, taken := data[k]; !taken && len(vs) > 0 {
				set(k, vs[0])
			}
		}
	}
	if err := m.tmpl.Execute(b, data); err != nil {
		return fmt.Errorf("rendering the template: %w", err)
	}
	return nil
}

// escapeString writes s escaped for XML text and attribute values; bytes
// that are not valid XML characters become U+FFFD.
func escapeString(b *bytes.Buffer, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= utf8.RuneSelf || c == '&' || c == '<' || c == '>' || c == '"' || c == '\'' {
			b.WriteString(s[:i])
			escapeSlow(b, s[i:])
			return
		}
	}
	b.WriteString(s)
}

// escapeSlow is escapeString's general case, through encoding/xml.
func escapeSlow(b *bytes.Buffer, s string) {
	_ = xml.EscapeText(b, []byte(s)) // a bytes.Buffer does not fail
}
