package soap

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestJSONAnswer pins the JSON form of SOAP answers.
func TestJSONAnswer(t *testing.T) {
	envelope := func(body string) string {
		return `<?xml version="1.0" encoding="UTF-8"?><S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/" ` +
			`xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><S:Header><h>ignored</h></S:Header><S:Body>` + body + `</S:Body></S:Envelope>`
	}
	var many strings.Builder
	for i := range 20 {
		many.WriteString("<n>" + strconv.Itoa(i) + "</n>")
		if i%5 == 0 {
			many.WriteString("<k" + strconv.Itoa(i) + ">x</k" + strconv.Itoa(i) + ">")
		}
	}
	for _, tt := range []struct {
		name, result, body string
		want               string
		wantStatus         int
	}{
		{"flat, in document order", "", `<r:resp xmlns:r="urn:r"><r:b>2</r:b><r:a>1</r:a></r:resp>`, `{"b":"2","a":"1"}`, 200},
		{"nested", "", `<resp><company><address><city>Lviv</city></address></company></resp>`, `{"company":{"address":{"city":"Lviv"}}}`, 200},
		{"repeated names become arrays", "", `<resp><x>1</x><y>a</y><x>2</x><x><z>3</z></x></resp>`, `{"x":["1","2",{"z":"3"}],"y":"a"}`, 200},
		{"many siblings", "", `<resp>` + many.String() + `</resp>`,
			`{"n":["0","1","2","3","4","5","6","7","8","9","10","11","12","13","14","15","16","17","18","19"],"k0":"x","k5":"x","k10":"x","k15":"x"}`, 200},
		{"empty and nil", "", `<resp><e/><f></f><g xsi:nil="true"/><h xsi:nil="false">v</h></resp>`, `{"e":"","f":"","g":null,"h":"v"}`, 200},
		{"text kept as it is", "", "<resp><t> a\tb\n</t></resp>", `{"t":" a\tb\n"}`, 200},
		{"escaping", "", `<resp><q>"\ &amp; &lt; &#x1F600; aäõ</q></resp>`, `{"q":"\"\\ & < 😀 aäõ"}`, 200},
		{"CDATA", "", `<resp><c><![CDATA[<not markup>]]></c></resp>`, `{"c":"<not markup>"}`, 200},
		{"attributes and mixed text dropped", "", `<resp id="1">lead<a x="y">1</a>tail</resp>`, `{"a":"1"}`, 200},
		{"comments dropped", "", `<resp><!-- c --><a>1<!-- d -->2</a></resp>`, `{"a":"12"}`, 200},
		{"a leaf result is a string", "", `<resp>42</resp>`, `"42"`, 200},
		{"result element", "company", `<resp><meta>m</meta><company><code>1</code></company></resp>`, `{"code":"1"}`, 200},
		{"only the first Body element", "", `<resp><a>1</a></resp><other><b>2</b></other>`, `{"a":"1"}`, 200},
		{"SOAP 1.1 fault", "company", `<S:Fault><faultcode>S:Server</faultcode><faultstring> company not found </faultstring>` +
			`<faultactor>urn:biz</faultactor><detail><d:code xmlns:d="urn:d">1</d:code><d:code xmlns:d="urn:d">2</d:code></detail></S:Fault>`,
			`{"faultcode":"S:Server","faultstring":"company not found","faultactor":"urn:biz","detail":{"code":["1","2"]}}`, 404},
		{"fault not matching NotFoundFault", "", `<S:Fault><faultcode>S:Server</faultcode><faultstring>database down</faultstring></S:Fault>`,
			`{"faultcode":"S:Server","faultstring":"database down"}`, 500},
		{"a Fault element of another namespace is content", "", `<Fault><faultstring>x</faultstring></Fault>`, `{"faultstring":"x"}`, 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := &mapping{ServiceMapping: ServiceMapping{ResultElement: tt.result, NotFoundFault: "not found"}}
			var b bytes.Buffer
			status, err := writeJSONAnswer(&b, []byte(envelope(tt.body)), m, true)
			if err != nil {
				t.Fatalf("got %v", err)
			}
			if got := strings.TrimSuffix(b.String(), "\n"); status != tt.wantStatus || got != tt.want {
				t.Errorf("got %d %s, want %d %s", status, got, tt.wantStatus, tt.want)
			}
			if !json.Valid(b.Bytes()) {
				t.Errorf("not valid JSON: %s", b.Bytes())
			}
		})
	}
}

// TestFaultWith500 checks that a Fault is read from a 500 answer, and
// that a 500 answer without one is refused.
func TestFaultWith500(t *testing.T) {
	m := &mapping{}
	fault := `<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><S:Fault><faultcode>S:Client</faultcode>` +
		`<faultstring>bad</faultstring></S:Fault></S:Body></S:Envelope>`
	var b bytes.Buffer
	if status, err := writeJSONAnswer(&b, []byte(fault), m, false); err != nil || status != http.StatusInternalServerError {
		t.Errorf("a Fault with 500: got %d %v, want 500", status, err)
	}
	result := strings.ReplaceAll(fault, "S:Fault", "r")
	if _, err := writeJSONAnswer(&b, []byte(result), m, false); err == nil {
		t.Error("a result with 500: got no error")
	}
}

func TestWriteString(t *testing.T) {
	for _, s := range []string{"", "plain", `"quoted" \back\`, "ctl \x00\x01\x1f\x7f", "ä😀\u2028", "<>&"} {
		var b bytes.Buffer
		writeString(&b, s)
		var got string
		if err := json.Unmarshal(b.Bytes(), &got); err != nil || got != s {
			t.Errorf("%q: wrote %s, which decodes to %q (%v)", s, b.Bytes(), got, err)
		}
	}
}

func TestEscapeString(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"plain 10000042", "plain 10000042"},
		{`<a href="x">&'`, "&lt;a href=&#34;x&#34;&gt;&amp;&#39;"},
		{"tab\tnl\n", "tab&#x9;nl&#xA;"},
		{"nul\x00", "nul\uFFFD"},
		{"bad utf-8 \xff", "bad utf-8 \uFFFD"},
		{"aäõ", "aäõ"},
	} {
		var b bytes.Buffer
		escapeString(&b, tt.in)
		if b.String() != tt.want {
			t.Errorf("%q: got %q, want %q", tt.in, b.String(), tt.want)
		}
	}
}
