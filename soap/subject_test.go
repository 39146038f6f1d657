package soap

import (
	"strings"
	"testing"
)

// TestSubjectText reads the data subject out of the Body's operation the
// way a registry reads it, and refuses every value a reader could take two
// ways.
func TestSubjectText(t *testing.T) {
	const code = "<c:code>10000001</c:code>"
	cases := []struct {
		name, old, new string
		element        string
		want           string
		found          bool
		code           Code
	}{
		{name: "the element's text", element: "code", want: "10000001", found: true},
		{name: "absent", element: "taxNumber"},
		{name: "nested deeper", old: code, new: "<c:query><c:code>10000002</c:code></c:query>", element: "code", want: "10000002", found: true},
		{name: "other namespace, same local name", old: code, new: `<d:code xmlns:d="urn:d">10000003</d:code>`, element: "code", want: "10000003", found: true},
		{name: "one CDATA section", old: code, new: "<c:code><![CDATA[10000004]]></c:code>", element: "code", want: "10000004", found: true},
		{name: "character references", old: code, new: "<c:code>&#49;0000005</c:code>", element: "code", want: "10000005", found: true},
		{name: "empty", old: code, new: "<c:code/>", element: "code", want: "", found: true},
		{name: "repeated", old: code, new: code + "<c:code>10000099</c:code>", element: "code", code: CodeInvalidBody},
		{name: "repeated in another namespace", old: code, new: code + `<d:code xmlns:d="urn:d">10000099</d:code>`, element: "code", code: CodeInvalidBody},
		{name: "repeated deeper", old: code, new: code + "<c:x><c:code>10000099</c:code></c:x>", element: "code", code: CodeInvalidBody},
		{name: "nested in itself", old: code, new: "<c:code><c:code>10000099</c:code></c:code>", element: "code", code: CodeInvalidBody},
		{name: "split by a comment", old: code, new: "<c:code>1000<!-- -->0001</c:code>", element: "code", code: CodeInvalidBody},
		{name: "text and CDATA", old: code, new: "<c:code>1000<![CDATA[0001]]></c:code>", element: "code", code: CodeInvalidBody},
		{name: "an element inside", old: code, new: "<c:code>1000<c:b/>0001</c:code>", element: "code", code: CodeInvalidBody},
		{name: "padded with spaces", old: code, new: "<c:code> 10000001 </c:code>", element: "code", code: CodeInvalidBody},
		{name: "padded with a newline", old: code, new: "<c:code>10000001\n</c:code>", element: "code", code: CodeInvalidBody},
		{name: "padding as a character reference", old: code, new: "<c:code>10000001&#32;</c:code>", element: "code", code: CodeInvalidBody},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := []byte(baseEnvelope)
			if tc.old != "" {
				env = edit(t, tc.old, tc.new)
			}
			req, err := ParseRequest(env, textXML, Limits{})
			if err != nil {
				t.Fatalf("ParseRequest: %v", err)
			}
			v, found, err := SubjectText(req.Envelope, tc.element, Limits{})
			if got := codeOf(t, err); got != tc.code {
				t.Fatalf("code = %q, want %q (%v; value %q)", got, tc.code, err, v)
			}
			if err == nil && (v != tc.want || found != tc.found) {
				t.Errorf("SubjectText = %q, %v; want %q, %v", v, found, tc.want, tc.found)
			}
		})
	}
}

// TestSubjectTextOnlyInTheOperation ignores elements of that name outside
// the Body's operation (a header of the consumer's own, say).
func TestSubjectTextOnlyInTheOperation(t *testing.T) {
	env := edit(t, "<xrd:protocolVersion>4.0</xrd:protocolVersion>",
		`<xrd:protocolVersion>4.0</xrd:protocolVersion><h:code xmlns:h="urn:h">99999999</h:code>`)
	if !strings.Contains(string(env), "99999999") {
		t.Fatal("edit failed")
	}
	v, found, err := SubjectText(env, "code", Limits{})
	if err != nil || !found || v != "10000001" {
		t.Errorf("SubjectText = %q, %v, %v; want the operation's 10000001", v, found, err)
	}
}
