package policies

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rightQuery is the Data Tracker's query by client, as the gateway makes
// it for a right: method GET, the tracker's path, no service.
func rightQuery(client string, h http.Header, userID string) Query {
	return Query{Client: client, Method: "GET", Path: "/tracker/v1/accesses", Header: h, UserID: userID,
		Now: time.Date(2026, 3, 4, 10, 0, 0, 0, kyiv)}
}

func allowRight(id string) Decision { return Decision{Effect: Allow, RuleID: id} }

var noRight = Decision{Effect: Deny, Reason: ReasonNoRule}

func TestHasRight(t *testing.T) {
	e := mustCompile(t, []Rule{
		{ID: "portal-tracker", Clients: []string{portal}, Rights: []string{"tracker"}},
		{ID: "auditors-tracker", Clients: []string{"group:auditors", portal}, Rights: []string{"tracker", "audit"}},
	}, Groups{"auditors": {"UA/GOV/00000020/audit-office"}})
	tests := []struct {
		client, right string
		want          Decision
	}{
		{portal, "tracker", allowRight("portal-tracker")},
		{portal, "audit", allowRight("auditors-tracker")},
		{"UA/GOV/00000020/audit-office", "tracker", allowRight("auditors-tracker")},
		{eservice, "tracker", noRight},
		{portal, "admin", noRight},
	}
	for _, tt := range tests {
		if got := e.HasRight(rightQuery(tt.client, nil, ""), tt.right); got != tt.want {
			t.Errorf("HasRight(%q, %q): got %+v, want %+v", tt.client, tt.right, got, tt.want)
		}
	}
	var none *Engine
	if got := none.HasRight(rightQuery(portal, nil, ""), "tracker"); got != noRight {
		t.Errorf("nil engine: got %+v, want %+v", got, noRight)
	}
}

// TestHasRightObeysCondition: a right is granted only when its rule's
// condition holds for the request; a false condition leaves the right to
// a later rule, a failing one denies.
func TestHasRightObeysCondition(t *testing.T) {
	office := `"x-office" in headers && headers["x-office"] == "kyiv"`
	kyivOffice := http.Header{"X-Office": {"kyiv"}}
	tests := []struct {
		name  string
		rules []Rule
		q     Query
		want  Decision
	}{
		{"false condition grants nothing",
			[]Rule{{ID: "office", Clients: []string{portal}, Rights: []string{"tracker"}, Condition: office}},
			rightQuery(portal, nil, "official-1"),
			Decision{Effect: Deny, RuleID: "office", Reason: ReasonConditionNotMet}},
		{"true condition grants",
			[]Rule{{ID: "office", Clients: []string{portal}, Rights: []string{"tracker"}, Condition: office}},
			rightQuery(portal, kyivOffice, "official-1"), allowRight("office")},
		{"failing condition grants nothing",
			[]Rule{{ID: "office", Clients: []string{portal}, Rights: []string{"tracker"}, Condition: `headers["x-office"] == "kyiv"`}},
			rightQuery(portal, nil, "official-1"),
			Decision{Effect: Deny, RuleID: "office", Reason: ReasonConditionError}},
		{"a later rule may grant what a false condition did not",
			[]Rule{
				{ID: "office", Clients: []string{portal}, Rights: []string{"tracker"}, Condition: office},
				{ID: "night", Clients: []string{portal}, Rights: []string{"tracker"}, Condition: `user_id.startsWith("night-")`},
			},
			rightQuery(portal, nil, "night-7"), allowRight("night")},
		{"a failing condition denies though a later rule would grant",
			[]Rule{
				{ID: "office", Clients: []string{portal}, Rights: []string{"tracker"}, Condition: `headers["x-office"] == "kyiv"`},
				{ID: "any", Clients: []string{portal}, Rights: []string{"tracker"}},
			},
			rightQuery(portal, nil, ""),
			Decision{Effect: Deny, RuleID: "office", Reason: ReasonConditionError}},
		{"the condition of a rule granting services and the right",
			[]Rule{{ID: "both", Clients: []string{portal}, Services: []string{persons}, Rights: []string{"tracker"},
				Condition: `method == "GET" && path == "/tracker/v1/accesses" && user_id != ""`}},
			rightQuery(portal, nil, "official-1"), allowRight("both")},
		{"user id required by the condition",
			[]Rule{{ID: "both", Clients: []string{portal}, Services: []string{persons}, Rights: []string{"tracker"},
				Condition: `user_id != ""`}},
			rightQuery(portal, nil, ""),
			Decision{Effect: Deny, RuleID: "both", Reason: ReasonConditionNotMet}},
		{"office hours",
			[]Rule{{ID: "hours", Clients: []string{portal}, Rights: []string{"tracker"},
				Condition: `now.getHours("Europe/Kyiv") >= 9 && now.getHours("Europe/Kyiv") < 18`}},
			rightQuery(portal, nil, "x"), allowRight("hours")},
		{"another client's rule",
			[]Rule{{ID: "office", Clients: []string{eservice}, Rights: []string{"tracker"}, Condition: `true`}},
			rightQuery(portal, kyivOffice, "x"), noRight},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustCompile(t, tt.rules, nil)
			if got := e.HasRight(tt.q, "tracker"); got != tt.want {
				t.Errorf("HasRight: got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestConditionCostRefusedAtLoad: a condition whose worst case costs more
// than MaxConditionCost is a compile problem; ordinary ones compile.
func TestConditionCostRefusedAtLoad(t *testing.T) {
	for _, src := range []string{
		`headers.all(k, headers.all(j, headers.all(i, k + j + i != "")))`,
		`headers.exists(k, headers.exists(j, k == j && j != ""))`,
	} {
		_, err := Compile([]Rule{condRule("costly", src)}, nil)
		var probs Problems
		if !errors.As(err, &probs) || len(probs) != 1 || probs[0].Field != "condition" ||
			!strings.Contains(probs[0].Msg, "cost") {
			t.Errorf("Compile(%s): got %v, want one condition problem about its cost", src, err)
		}
	}
	for _, src := range []string{
		`now.getDayOfWeek("Europe/Kyiv") in [1, 2, 3, 4, 5] && now.getHours("Europe/Kyiv") >= 9 && now.getHours("Europe/Kyiv") < 18`,
		`params.id == represented_party`,
		`headers["x-tenant"] == "kyiv" && user_id.startsWith("UA")`,
		`headers.exists(k, k.startsWith("x-"))`,
		`path.matches("^/persons/[0-9]+$")`,
	} {
		if _, err := Compile([]Rule{condRule("ok", src)}, nil); err != nil {
			t.Errorf("Compile(%s): %v, want it to compile", src, err)
		}
	}
	// The same limit on rights-only rules.
	_, err := Compile([]Rule{{ID: "r", Clients: []string{portal}, Rights: []string{"tracker"},
		Condition: `headers.all(k, headers.all(j, headers.all(i, k + j + i != "")))`}}, nil)
	if err == nil || !strings.Contains(err.Error(), "cost") {
		t.Errorf("rights-only rule with a costly condition: got %v, want a cost problem", err)
	}
}

// TestConditionCostLimitAtRun: a condition within the estimate's
// assumptions compiles, but a request far beyond them (thousands of large
// headers) makes its evaluation exceed MaxConditionCost: the evaluation
// fails and the call is denied.
func TestConditionCostLimitAtRun(t *testing.T) {
	const src = `headers.exists(k, headers[k].contains("never-there"))`
	e := mustCompile(t, []Rule{condRule("scan", src)}, nil)
	q := condQuery("/persons/1")
	q.Header = http.Header{"X-One": {"a"}}
	checkDecide(t, e, "few headers", q, unmet("scan"))
	big := http.Header{}
	value := strings.Repeat("v", 8<<10)
	for i := range 2000 {
		big["X-H"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+string(rune('a'+i/26%26))+string(rune('a'+i/676))] = []string{value}
	}
	q.Header = big
	checkDecide(t, e, "headers beyond the estimate", q, condErr("scan"))
	if got := e.HasRight(Query{Client: eservice, Header: big}, "x"); got.Effect != Deny {
		t.Errorf("HasRight: got %+v", got)
	}
}
