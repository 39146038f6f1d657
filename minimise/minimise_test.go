package minimise

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/govbus/govbus/gateway"
	"github.com/govbus/govbus/policies"
	"github.com/govbus/govbus/registrysim"
)

var _ gateway.Minimiser = (*Minimiser)(nil)

func newMinimiser(t testing.TB) *Minimiser {
	t.Helper()
	m, err := New([]policies.Rule{
		{ID: "eservice-reads-persons", Clients: []string{"A/B/C/D"}},
		{ID: "benefits-reads-persons", Clients: []string{"A/B/C/E"}, Fields: []string{"id", "birth_date", "marital_status"}},
		{ID: "portal-tracker", Clients: []string{"A/B/C/F"}, Rights: []string{"tracker"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestNew(t *testing.T) {
	m := newMinimiser(t)
	if m.Rules() != 1 || !m.Limits("benefits-reads-persons") || m.Limits("eservice-reads-persons") || m.Limits("nope") {
		t.Errorf("Limits/Rules: wrong rules limited (%d)", m.Rules())
	}
	_, err := New([]policies.Rule{{ID: "r1", Fields: []string{"id"}}, {ID: "r2", Fields: []string{"ok", "a..b"}}})
	if err == nil || !strings.Contains(err.Error(), "rule r2: fields[1]") || !strings.Contains(err.Error(), `"a..b" is not a field path`) {
		t.Errorf("New with a bad path: %v", err)
	}
	_, err = New([]policies.Rule{{ID: "r1", Fields: []string{"id"}}, {ID: "r1", Fields: []string{"x"}}})
	if err == nil {
		t.Error("New with a duplicate rule id: no error")
	}
	m, err = New(nil)
	if err != nil || m.Rules() != 0 {
		t.Errorf("New(nil) = %v, %v", m, err)
	}
}

func TestMinimise(t *testing.T) {
	m := newMinimiser(t)
	body := []byte(person)

	// A rule without fields: nothing to do, the body passes as it is.
	for _, rule := range []string{"eservice-reads-persons", "portal-tracker", "", "unknown"} {
		out, applies, err := m.Minimise(rule, body, "text/plain")
		if applies || err != nil || !bytes.Equal(out, body) {
			t.Errorf("rule %q: got applies=%v err=%v, want the body untouched", rule, applies, err)
		}
	}

	want := `{"id":"1000000001","birth_date":"1961-03-14","marital_status":"married"}`
	for _, ct := range []string{"application/json", "application/json; charset=utf-8", "Application/JSON;charset=\"UTF-8\"",
		"application/problem+json", "application/ld+json; profile=x", " application/json ", "application/vnd.gov.person+JSON"} {
		out, applies, err := m.Minimise("benefits-reads-persons", body, ct)
		if !applies || err != nil || string(out) != want {
			t.Errorf("content type %q: got %s, %v, %v; want %s", ct, out, applies, err, want)
		}
	}

	out, applies, err := m.Minimise("benefits-reads-persons", nil, "")
	if !applies || err != nil || out == nil || len(out) != 0 {
		t.Errorf("no content: got %q, %v, %v; want an empty body", out, applies, err)
	}
}

// TestMinimiseFailsClosed checks that a limited rule never lets an
// unfiltered body through: it gets an error and no body.
func TestMinimiseFailsClosed(t *testing.T) {
	m := newMinimiser(t)
	big := append([]byte(`{"id":"1","pad":"`), bytes.Repeat([]byte{'x'}, MaxBodyBytes)...)
	big = append(big, `"}`...)
	tests := []struct {
		name        string
		body        string
		contentType string
		want        error
	}{
		{"text/plain", person, "text/plain", ErrNotJSON},
		{"no content type", person, "", ErrNotJSON},
		{"XML", `<person><id>1</id><name>x</name></person>`, "application/xml", ErrNotJSON},
		{"SOAP", `<soap:Envelope/>`, "text/xml; charset=utf-8", ErrNotJSON},
		{"HTML error page", `<html>502</html>`, "text/html", ErrNotJSON},
		{"text/json", person, "text/json", ErrNotJSON},
		{"json suffix without plus", person, "application/notjson", ErrNotJSON},
		{"bare +json", person, "application/+json", ErrNotJSON},
		{"another charset", person, "application/json; charset=iso-8859-1", ErrNotJSON},
		{"UTF-16", person, "application/json; charset=utf-16", ErrNotJSON},
		{"octet-stream", person, "application/octet-stream", ErrNotJSON},
		{"empty JSON", "", "application/json", ErrInvalidJSON},
		{"empty text", "", "text/plain", ErrNotJSON},
		{"JSON type, body not JSON", `id=1000000001&name=Olena`, "application/json", ErrInvalidJSON},
		{"truncated JSON", person[:len(person)/2], "application/json", ErrInvalidJSON},
		{"two documents", person + person, "application/json", ErrInvalidJSON},
		{"NDJSON", `{"id":1}` + "\n" + `{"id":2}`, "application/x-ndjson", ErrNotJSON},
		{"NDJSON as JSON", `{"id":1}` + "\n" + `{"id":2}`, "application/json", ErrInvalidJSON},
		{"invalid UTF-8", "{\"id\":\"1\",\"name\":\"\xff\"}", "application/json", ErrInvalidJSON},
		{"too large", string(big), "application/json", ErrTooLarge},
	}
	for _, tt := range tests {
		out, applies, err := m.Minimise("benefits-reads-persons", []byte(tt.body), tt.contentType)
		if !applies || !errors.Is(err, tt.want) || out != nil {
			t.Errorf("%s: got %q, applies=%v, err=%v; want no body and %v", tt.name, out, applies, err, tt.want)
		}
	}
}

// TestJSONTestSuite runs Nicolas Seriot's JSONTestSuite parsing cases
// through a limited rule: every n_ file must be refused, every y_ file
// accepted (and filtered to valid JSON); i_ files may go either way but
// never yield invalid JSON.
func TestJSONTestSuite(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "corpora", "attacks", "json", "JSONTestSuite", "test_parsing")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Skipf("JSONTestSuite not found at %s (%v): skipping", dir, err)
	}
	m := newMinimiser(t)
	var n, y, i, iAccepted int
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".json") {
			continue
		}
		body, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		out, applies, err := m.Minimise("benefits-reads-persons", body, "application/json")
		if !applies {
			t.Fatalf("%s: the rule does not apply", name)
		}
		if err == nil && !json.Valid(out) {
			t.Errorf("%s: accepted, but the result is not JSON: %q", name, out)
		}
		if err != nil && out != nil {
			t.Errorf("%s: refused, but a body came back", name)
		}
		switch name[0] {
		case 'n':
			n++
			if err == nil {
				t.Errorf("%s: accepted (%q), want it refused", name, out)
			}
		case 'y':
			y++
			if err != nil {
				t.Errorf("%s: refused (%v), want it accepted", name, err)
			}
		case 'i':
			i++
			if err == nil {
				iAccepted++
			}
		}
	}
	if n == 0 || y == 0 {
		t.Fatalf("no n_ or y_ files in %s", dir)
	}
	t.Logf("JSONTestSuite: %d n_ refused, %d y_ accepted, %d of %d i_ accepted", n, y, iAccepted, i)
}

// person2KB is a realistic answer of the civil registry padded to about
// 2 KB with a nested field (documents) the benefits rule does not grant.
func person2KB(tb testing.TB) []byte {
	tb.Helper()
	p, ok := registrysim.PersonByID("1000000042")
	if !ok {
		tb.Fatal("no person 1000000042")
	}
	type document struct {
		Type     string `json:"type"`
		Number   string `json:"number"`
		IssuedBy string `json:"issued_by"`
		Issued   string `json:"issued"`
		Expires  string `json:"expires,omitempty"`
	}
	var answer struct {
		registrysim.Person
		Documents []document `json:"documents"`
	}
	answer.Person = p
	b, _ := json.Marshal(answer)
	for i := 0; len(b) < 2048-130; i++ {
		answer.Documents = append(answer.Documents, document{
			Type: "passport", Number: "FE" + strings.Repeat(string(rune('0'+i%10)), 6),
			IssuedBy: "Державна міграційна служба, відділ №" + string(rune('1'+i%9)), Issued: "2016-05-1" + string(rune('0'+i%10)),
		})
		b, _ = json.Marshal(answer)
	}
	return append(b, '\n')
}

func TestPerson2KB(t *testing.T) {
	body := person2KB(t)
	if len(body) < 1900 || len(body) > 2200 {
		t.Fatalf("benchmark body is %d bytes, want about 2 KB", len(body))
	}
	out, _, err := newMinimiser(t).Minimise("benefits-reads-persons", body, "application/json")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil || len(got) != 3 || got["id"] != "1000000042" {
		t.Errorf("filtered 2 KB person: %s (%v)", out, err)
	}
}

func BenchmarkMinimise2KB(b *testing.B) {
	m := newMinimiser(b)
	body := person2KB(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := m.Minimise("benefits-reads-persons", body, "application/json; charset=utf-8"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMinimise2KBNested keeps nested fields (address.city,
// children[].id) and a whole array, so that more of the answer is copied.
func BenchmarkMinimise2KBNested(b *testing.B) {
	m, err := New([]policies.Rule{{ID: "r", Fields: []string{"id", "address.city", "children[].id", "documents"}}})
	if err != nil {
		b.Fatal(err)
	}
	body := person2KB(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := m.Minimise("r", body, "application/json"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUnmarshalMarshal2KB is the naive way (encoding/json into any
// and back), for comparison.
func BenchmarkUnmarshalMarshal2KB(b *testing.B) {
	body := person2KB(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var v map[string]any
		if err := json.Unmarshal(body, &v); err != nil {
			b.Fatal(err)
		}
		out := map[string]any{"id": v["id"], "birth_date": v["birth_date"], "marital_status": v["marital_status"]}
		if _, err := json.Marshal(out); err != nil {
			b.Fatal(err)
		}
	}
}
