package minimise_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/govbus/govbus/config"
)

// fieldsConfig is a valid file but for the field lists of its rules
// (line 14 holds the first rule's, line 18 the second's, line 22 the
// third's).
const fieldsConfig = `node: test
listeners: {consumer: {address: "127.0.0.1:1"}, status: {address: "127.0.0.1:2"}, admin: {address: "127.0.0.1:3"}}
registries:
  - id: UA/GOV/00000001/civil-registry
    endpoints: [http://127.0.0.1:9]
    services:
      - code: persons
clients:
  - {id: UA/GOV/00000004/benefits, auth: none}
rules:
  - id: r0
    clients: [UA/GOV/00000004/benefits]
    services: [UA/GOV/00000001/civil-registry/persons]
    fields: %s
  - id: r1
    clients: [UA/GOV/00000004/benefits]
    services: [UA/GOV/00000001/civil-registry/persons]
    fields: %s
  - id: r2
    clients: [UA/GOV/00000004/benefits]
    services: [UA/GOV/00000001/civil-registry/persons]
    fields:
      - id
      - %s
`

// TestConfigFields checks that `govbus check` reports bad field paths with
// their YAML path and line. (In a YAML flow sequence a path with "[]" must
// be quoted; in a block sequence it needs no quotes.)
func TestConfigFields(t *testing.T) {
	type problem struct {
		path string
		line int
		msg  string
	}
	tests := []struct {
		name       string
		r0, r1, r2 string
		want       []problem
	}{
		{"valid", "[id, birth_date, marital_status]", `[address.city, "children[].id"]`, "children[].id", nil},
		{"no fields at all", "null", "null", "x", nil},
		{"bad syntax", "[id, birth_date]", "[id]", `"a..b"`,
			[]problem{{"rules[2].fields[1]", 24, `"a..b" is not a field path`}}},
		{"several", `[.id, ok, "x[0]"]`, "[id]", `"a b"`,
			[]problem{
				{"rules[0].fields[0]", 14, `".id" is not a field path (starts with a dot)`},
				{"rules[0].fields[2]", 14, `"x[0]" is not a field path`},
				{"rules[2].fields[1]", 24, `"a b" is not a field path (white space`},
			}},
		{"contradiction", `["children[].id", children.name]`, "[id]", "id", []problem{
			{"rules[0].fields[1]", 14, `"children.name" contradicts "children[].id"`},
		}},
		{"empty list", "[id]", "[]", "id", []problem{{"rules[1].fields", 18, "lists no field"}}},
		{"empty path", "[id]", `[""]`, "id", []problem{{"rules[1].fields[0]", 18, `"" is not a field path (empty)`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := fmt.Sprintf(fieldsConfig, tt.r0, tt.r1, tt.r2)
			cfg, ps, err := config.Parse([]byte(src), t.TempDir(), func(string) string { return "" })
			errs := ps.Errors()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("valid file refused: %v", ps)
				}
				if cfg.Rules[0].Fields == nil && tt.r0 != "null" {
					t.Errorf("fields not decoded")
				}
				return
			}
			if err == nil || cfg != nil {
				t.Fatalf("file accepted, want problems %v", tt.want)
			}
			ok := len(errs) == len(tt.want)
			for i := 0; ok && i < len(errs); i++ {
				w := tt.want[i]
				ok = errs[i].Path == w.path && errs[i].Line == w.line && strings.Contains(errs[i].Message, w.msg)
			}
			if !ok {
				t.Errorf("problems:\n%v\nwant %v", ps, tt.want)
			}
		})
	}
}
