package policies

import (
	"strings"
	"testing"
)

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		glob, path string
		want       bool
	}{
		// one segment: * and {name}
		{"/persons/*", "/persons/1000000042", true},
		{"/persons/*", "/persons", false},
		{"/persons/*", "/persons/", false},
		{"/persons/*", "/persons/1/x", false},
		{"/persons/*", "/Persons/1", false},
		{"/persons/{id}", "/persons/1000000042", true},
		{"/persons/{id}", "/persons", false},
		{"/persons/{id}", "/persons/1/x", false},
		{"/persons/{id}/address", "/persons/1/address", true},
		{"/persons/{id}/address", "/persons/1/phone", false},
		{"/*/*", "/a/b", true},
		{"/*/*", "/a//b", false},

		// ** at the end
		{"/persons/**", "/persons", true},
		{"/persons/**", "/persons/", true},
		{"/persons/**", "/persons/1", true},
		{"/persons/**", "/persons/1/x/y", true},
		{"/persons/**", "/personsX", false},
		{"/persons/**", "/", false},
		{"/**", "/", true},
		{"/**", "", true},
		{"/**", "/a/b/c", true},
		{"/**", "relative", false},

		// ** in the middle and at the start
		{"/persons/**/address", "/persons/address", true},
		{"/persons/**/address", "/persons/1/address", true},
		{"/persons/**/address", "/persons/1/2/3/address", true},
		{"/persons/**/address", "/persons/1/address/x", false},
		{"/persons/**/address", "/persons/1/addresses", false},
		{"/**/address", "/a/address/b/address", true},
		{"/**/a/*/b", "/x/a/y/a/z/b", true},
		{"/**/a/*/b", "/x/a/y/a/z/c", false},
		{"/a/**/**/b", "/a/x/y/b", true},
		{"/a/**/b/**", "/a/b", true},

		// trailing slash is an empty last segment
		{"/persons/", "/persons/", true},
		{"/persons/", "/persons", false},
		{"/persons", "/persons/", false},
		{"/persons", "/persons", true},
		{"/persons/*/", "/persons/1/", true},
		{"/persons/*/", "/persons/1", false},

		// root
		{"/", "/", true},
		{"/", "", true},
		{"/", "/persons", false},
		{"/", "//", false},

		// literals are exact
		{"/persons/1%2F2", "/persons/1%2F2", true},
		{"/persons/1%2F2", "/persons/1/2", false},
	}
	for _, tt := range tests {
		g, err := compileGlob(tt.glob)
		if err != nil {
			t.Fatalf("compileGlob(%q): %v", tt.glob, err)
		}
		if got := g.match(tt.path); got != tt.want {
			t.Errorf("glob %q match %q: got %v, want %v", tt.glob, tt.path, got, tt.want)
		}
	}
}

func TestCompileGlobErrors(t *testing.T) {
	tests := []struct {
		glob, wantErr string
	}{
		{"", "empty path glob"},
		{"persons/*", `must start with "/"`},
		{"/persons/**x", `segment "**x"`},
		{"/persons/x*", `segment "x*"`},
		{"/persons/{}", `segment "{}"`},
		{"/persons/{id}.json", `segment "{id}.json"`},
		{"/persons/{a{b}", `segment "{a{b}"`},
		{"/persons//x", "empty segment"},
		{"//", "empty segment"},
	}
	for _, tt := range tests {
		_, err := compileGlob(tt.glob)
		if err == nil {
			t.Errorf("compileGlob(%q): got no error, want one containing %q", tt.glob, tt.wantErr)
			continue
		}
		if got := err.Error(); !strings.Contains(got, tt.wantErr) {
			t.Errorf("compileGlob(%q): got error %q, want it to contain %q", tt.glob, got, tt.wantErr)
		}
	}
}

func TestGlobMatchDoesNotAllocate(t *testing.T) {
	g, err := compileGlob("/persons/**/{id}/address")
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if !g.match("/persons/a/b/c/1/address") {
			t.Fatal("got no match, want a match")
		}
	})
	if allocs != 0 {
		t.Errorf("allocations per match: got %v, want 0", allocs)
	}
}
