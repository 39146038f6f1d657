package minimise

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestParsePath(t *testing.T) {
	valid := []struct {
		path string
		want []Segment
	}{
		{"id", []Segment{{"id", 0}}},
		{"birth_date", []Segment{{"birth_date", 0}}},
		{"address.city", []Segment{{"address", 0}, {"city", 0}}},
		{"children[].id", []Segment{{"children", 1}, {"id", 0}}},
		{"children[]", []Segment{{"children", 1}}},
		{"matrix[][]", []Segment{{"matrix", 2}}},
		{"a.b[].c[].d", []Segment{{"a", 0}, {"b", 1}, {"c", 1}, {"d", 0}}},
		{"given-name", []Segment{{"given-name", 0}}},
		{"@id", []Segment{{"@id", 0}}},
		{"$ref", []Segment{{"$ref", 0}}},
		{"прізвище.місто", []Segment{{"прізвище", 0}, {"місто", 0}}},
		{"0", []Segment{{"0", 0}}},
	}
	for _, tt := range valid {
		got, err := ParsePath(tt.path)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParsePath(%q) = %v, %v; want %v", tt.path, got, err, tt.want)
		}
	}
	invalid := []struct{ path, reason string }{
		{"", "empty"},
		{"a..b", "empty name between dots"},
		{".a", "starts with a dot"},
		{"a.", "ends with a dot"},
		{".", "starts with a dot"},
		{"[]", `"[]" must follow a name`},
		{"[].id", `"[]" must follow a name`},
		{"a.[]", `"[]" must follow a name`},
		{"a[0]", "indexes are not supported"},
		{"a[", "indexes are not supported"},
		{"a]", `"]" without "["`},
		{"a[]]", `"]" without "["`},
		{"]", `"]" without "["`},
		{"a[]b", `"[]" must be followed by`},
		{"a b", "white space"},
		{" a", "white space"},
		{"a\tb", "white space"},
		{"a\x00", "control character"},
		{"a\x7f", "control character"},
		{"a\xffb", "not UTF-8"},
		{"a[].", "ends with a dot"},
	}
	for _, tt := range invalid {
		got, err := ParsePath(tt.path)
		var pe *PathError
		if !errors.As(err, &pe) {
			t.Errorf("ParsePath(%q) = %v, %v; want a *PathError", tt.path, got, err)
			continue
		}
		if pe.Path != tt.path || !strings.Contains(err.Error(), tt.reason) || !strings.Contains(err.Error(), "is not a field path") {
			t.Errorf("ParsePath(%q): error %q, want one naming the path and %q", tt.path, err, tt.reason)
		}
	}
}

// shape renders a compiled tree for comparison: name, "[]"s, "*" when
// whole, children in braces (sorted).
func shape(n *node) string {
	var b strings.Builder
	keys := make([]string, 0, len(n.children))
	for k := range n.children {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		c := n.children[k]
		b.WriteString(k + strings.Repeat("[]", c.arrays))
		if c.whole {
			b.WriteByte('*')
		} else {
			b.WriteString("{" + shape(c) + "}")
		}
	}
	return b.String()
}

func TestCompile(t *testing.T) {
	tests := []struct {
		paths []string
		want  string
	}{
		{[]string{"id", "birth_date", "marital_status"}, "birth_date* id* marital_status*"},
		{[]string{"address.city", "address.postal_code"}, "address{city* postal_code*}"},
		{[]string{"address", "address.city"}, "address*"},
		{[]string{"address.city", "address"}, "address*"},
		{[]string{"children[].id"}, "children[]{id*}"},
		{[]string{"children[].id", "children[]"}, "children[]*"},
		{[]string{"children[]", "children[].id"}, "children[]*"},
		{[]string{"children", "children[].id"}, "children*"},
		{[]string{"children[].id", "children"}, "children*"},
		{[]string{"id", "id"}, "id*"},
		{[]string{"a.b.c", "a.b.d", "a.e"}, "a{b{c* d*} e*}"},
	}
	for _, tt := range tests {
		f, err := Compile(tt.paths)
		if err != nil {
			t.Errorf("Compile(%q): %v", tt.paths, err)
			continue
		}
		if got := shape(f.root); got != tt.want {
			t.Errorf("Compile(%q) = %s, want %s", tt.paths, got, tt.want)
		}
	}

	bad := []struct {
		paths []string
		index int
		msg   string
	}{
		{nil, 0, "no field path"},
		{[]string{"id", "a..b"}, 1, `"a..b" is not a field path`},
		{[]string{"children[].id", "children.name"}, 1, `"children.name" contradicts "children[].id"`},
		{[]string{"m[][].x", "m[].y"}, 1, `contradicts "m[][].x"`},
		{[]string{"children.name", "children[]"}, 1, `contradicts "children.name"`},
	}
	for _, tt := range bad {
		_, err := Compile(tt.paths)
		var pe *PathError
		if !errors.As(err, &pe) || pe.Index != tt.index || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("Compile(%q) error = %v, want index %d and %q", tt.paths, err, tt.index, tt.msg)
		}
	}
}
