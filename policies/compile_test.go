package policies

import (
	"errors"
	"strings"
	"testing"
)

func TestCompileReportsEveryProblem(t *testing.T) {
	rules := []Rule{
		{ID: "ok", Clients: []string{eservice}, Services: []string{persons}},
		{ID: "ok", Clients: []string{eservice}, Services: []string{persons}},
		{ID: "no-clients", Services: []string{persons}},
		{ID: "unknown-group", Clients: []string{"group:nobody", eservice}, Services: []string{persons}},
		{ID: "bad-globs", Clients: []string{eservice}, Services: []string{persons},
			Paths: []string{"/ok/*", "persons/*", "/persons/**x"}},
		{ID: "bad-methods", Clients: []string{eservice}, Services: []string{persons},
			Methods: []string{"GET", "", "get", "GE T"}},
		{Clients: []string{""}, Services: []string{"", "UA/GOV/1/*", "UA/GOV/00000001/civil-registry/per*", "UA/GOV/00000001/civil-registry"}},
		{ID: "nothing", Clients: []string{eservice}, Purposes: []string{"p"}},
		{ID: "empty-values", Clients: []string{eservice}, Services: []string{persons},
			Purposes: []string{""}, Rights: []string{""}},
	}
	groups := Groups{"nested": {eservice, "group:other", ""}}
	e, err := Compile(rules, groups)
	if e != nil {
		t.Errorf("Compile: got an engine, want nil")
	}
	var probs Problems
	if !errors.As(err, &probs) {
		t.Fatalf("Compile: got error %v, want Problems", err)
	}
	want := []string{
		`groups.nested[1]: groups do not nest: group:other`,
		`groups.nested[2]: empty client id`,
		`rules[1].id: duplicate rule id "ok" (first used by rules[0])`,
		`rules[2].clients: no clients`,
		`rules[3].clients[0]: unknown group "nobody"`,
		`rules[4].paths[1]: path glob "persons/*" must start with "/"`,
		`rules[4].paths[2]: path glob "/persons/**x": segment "**x" must be a literal, "*", "**" or "{name}"`,
		`rules[5].methods[1]: method "" is not an upper-case HTTP method`,
		`rules[5].methods[2]: method "get" is not an upper-case HTTP method`,
		`rules[5].methods[3]: method "GE T" is not an upper-case HTTP method`,
		`rules[6].id: missing rule id`,
		`rules[6].clients[0]: empty client id`,
		`rules[6].services[0]: empty service id`,
		`rules[6].services[1]: wildcard "UA/GOV/1/*" must be INSTANCE/CLASS/CODE/SUBSYSTEM/*`,
		`rules[6].services[2]: service "UA/GOV/00000001/civil-registry/per*": "*" may only replace a whole service code`,
		`rules[6].services[3]: service "UA/GOV/00000001/civil-registry" is not INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICECODE`,
		`rules[7]: grants nothing: no services and no rights`,
		`rules[7].purposes: purposes without services`,
		`rules[8].purposes[0]: empty purpose`,
		`rules[8].rights[0]: empty right`,
	}
	if len(probs) != len(want) {
		t.Errorf("got %d problems, want %d", len(probs), len(want))
	}
	for i := 0; i < len(probs) || i < len(want); i++ {
		var got, w string
		if i < len(probs) {
			got = probs[i].Error()
		}
		if i < len(want) {
			w = want[i]
		}
		if got != w {
			t.Errorf("problem %d: got %q, want %q", i, got, w)
		}
	}
	if got, want := err.Error(), strings.Join(want, "; "); got != want {
		t.Errorf("Error(): got %q, want %q", got, want)
	}
}

func TestCompileProblemLocation(t *testing.T) {
	_, err := Compile([]Rule{
		{ID: "a", Clients: []string{eservice}, Services: []string{persons}},
		{ID: "b", Clients: []string{eservice}, Services: []string{persons}, Paths: []string{"/x", "y"}},
	}, nil)
	var probs Problems
	if !errors.As(err, &probs) || len(probs) != 1 {
		t.Fatalf("Compile: got %v, want exactly one problem", err)
	}
	got := probs[0]
	if got.Rule != 1 || got.Field != "paths" || got.Item != 1 || got.Path() != "rules[1].paths[1]" {
		t.Errorf("problem: got %+v at %q, want rule 1, paths, item 1 at %q", got, got.Path(), "rules[1].paths[1]")
	}
}

func TestCompileValid(t *testing.T) {
	rules := []Rule{
		{ID: "all-forms", Clients: []string{eservice, "group:g", eservice}, Services: []string{persons, civilAll, persons},
			Methods: []string{"GET", "M-SEARCH", "*"}, Paths: []string{"/", "/a/", "/**", "/a/**/b", "/{id}", "/*"},
			Purposes: []string{"p", "p"}, Rights: []string{"tracker"}},
		{ID: "rights-only", Clients: []string{"group:g"}, Rights: []string{"tracker"}},
		{ID: "empty-group", Clients: []string{"group:empty"}, Services: []string{persons}},
	}
	e, err := Compile(rules, Groups{"g": {benefits, eservice}, "empty": nil})
	if err != nil {
		t.Fatalf("Compile: got error %v, want none", err)
	}
	if got, want := e.Len(), len(rules); got != want {
		t.Errorf("Len: got %d, want %d", got, want)
	}
	grants := e.Allows(benefits, persons)
	if len(grants) != 1 || grants[0].Methods != nil || len(grants[0].Purposes) != 1 {
		t.Errorf("Allows: got %+v, want one grant with any method and the purpose once", grants)
	}
}
