package config

import (
	"testing"

	"github.com/govbus/govbus/policies"
)

// conditionDoc is a configuration whose one rule has the condition cond,
// written on line 13 (or starting there, for a block scalar).
func conditionDoc(cond string) string {
	return ruleDoc(`{code: persons, paths: ["/persons/{id}"]}`, `
    clients: [UA/GOV/00000003/eservice]
    services: [UA/GOV/00000001/civil/persons]
    paths: ["/persons/{id}"]
    condition: `+cond+`
`)
}

// TestRuleConditionProblems checks that a condition that does not compile
// is reported at rules[i].condition with its line, and says what and where
// in the expression.
func TestRuleConditionProblems(t *testing.T) {
	tests := []struct {
		name, cond string
		want       []want
	}{
		{"not a bool", `params.id`,
			[]want{{"rules[0].condition", 13, "must be a bool expression, not string"}}},
		{"type error", `now.getHours("Europe/Kyiv") >= "9"`,
			[]want{{"rules[0].condition", 13, "found no matching overload for '_>=_' applied to '(int, string)'"}}},
		{"unknown variable", `represented == params.id`,
			[]want{{"rules[0].condition", 13, "column 1: undeclared reference to 'represented'"}}},
		{"syntax error", `params.id ==`,
			[]want{{"rules[0].condition", 13, "column 13: Syntax error"}}},
		{"unknown time zone", `now.getHours("Europe/Atlantis") < 18`,
			[]want{{"rules[0].condition", 13, "column 14: unknown time zone Europe/Atlantis"}}},
		{"line within a block", "|\n      params.id == represented_party &&\n        user_id > 1",
			[]want{{"rules[0].condition", 13, "line 2, column 11: found no matching overload for '_>_'"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, ps, err := parseDoc(t, t.TempDir(), conditionDoc(tt.cond), nil)
			requireRejected(t, cfg, ps, err)
			checkProblems(t, ps, tt.want)
		})
	}
}

// TestRuleConditionLoads checks that a valid condition loads and reaches
// the policy engine.
func TestRuleConditionLoads(t *testing.T) {
	const cond = `params.id == represented_party && now.getHours("Europe/Kyiv") < 18`
	cfg, ps, err := parseDoc(t, t.TempDir(), conditionDoc(`'`+cond+`'`), nil)
	if err != nil || len(ps) != 0 {
		t.Fatalf("Parse: got problems %v, error %v; want none", ps, err)
	}
	if got := cfg.Rules[0].Condition; got != cond {
		t.Fatalf("condition: got %q, want %q", got, cond)
	}
	pr := PolicyRule(cfg.Rules[0])
	if pr.Condition != cond {
		t.Errorf("PolicyRule condition: got %q, want %q", pr.Condition, cond)
	}
	e, err := policies.Compile([]policies.Rule{pr}, cfg.Groups)
	if err != nil {
		t.Fatal(err)
	}
	g := e.Allows("UA/GOV/00000003/eservice", "UA/GOV/00000001/civil/persons")
	if len(g) != 1 || g[0].Condition != cond {
		t.Errorf("Allows: got %+v, want one grant with the condition", g)
	}
}
