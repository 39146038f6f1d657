package policies

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// benchWorld builds n rules shaped like a national deployment: 2,000 client
// subsystems, 100 registry subsystems with 5 services each, 50 groups of 20
// clients; one rule in 20 names a group, one in 20 a whole subsystem, and
// every other rule one client and one service (a different pair for each
// rule), with methods, two path globs and, for half of them, purposes.
func benchWorld(n int) ([]Rule, Groups) {
	const clients, subsystems, perSubsystem, groupSize = 2000, 100, 5, 20
	client := func(i int) string { return fmt.Sprintf("UA/GOV/%08d/app-%d", 10000+i%clients, i%clients) }
	subsystem := func(i int) string { return fmt.Sprintf("UA/GOV/%08d/registry-%d", i%subsystems, i%subsystems) }
	service := func(i int) string {
		s := (i/clients*7 + i) % (subsystems * perSubsystem)
		return fmt.Sprintf("%s/service-%d", subsystem(s), s/subsystems)
	}
	groups := make(Groups)
	for g := range clients / groupSize {
		for m := range groupSize {
			name := fmt.Sprintf("g%d", g)
			groups[name] = append(groups[name], client(g*groupSize+m))
		}
	}
	rules := make([]Rule, n)
	for i := range rules {
		r := Rule{
			ID:       fmt.Sprintf("rule-%d", i),
			Clients:  []string{client(i)},
			Services: []string{service(i)},
			Methods:  []string{"GET"},
			Paths:    []string{"/records/{id}/history/**", "/records/{id}"},
		}
		switch i % 20 {
		case 7:
			r.Clients = []string{fmt.Sprintf("group:g%d", i%(clients/groupSize))}
		case 13:
			r.Services = []string{subsystem(i) + "/*"}
		}
		if i%3 == 0 {
			r.Methods = append(r.Methods, "POST")
		}
		if i%2 == 0 {
			r.Purposes = []string{"service-delivery", "statistics"}
		}
		rules[i] = r
	}
	return rules, groups
}

// benchEngine compiles benchWorld(n) and returns a query that rule n/2
// allows (with a purpose, and through its second glob).
func benchEngine(b *testing.B, n int) (*Engine, Query) {
	b.Helper()
	rules, groups := benchWorld(n)
	e := mustCompile(b, rules, groups)
	i := n / 2
	for i%20 == 7 || i%20 == 13 || i%2 != 0 { // an exact rule with purposes
		i++
	}
	q := Query{
		Client:  rules[i].Clients[0],
		Service: rules[i].Services[0],
		Method:  "GET",
		Path:    "/records/1000000042",
		Purpose: "statistics",
	}
	if got, want := e.Decide(q), (Decision{Effect: Allow, RuleID: rules[i].ID}); got != want {
		b.Fatalf("Decide: got %+v, want %+v", got, want)
	}
	return e, q
}

func benchmarkDecide(b *testing.B, n int) {
	e, q := benchEngine(b, n)
	b.ReportAllocs()
	for b.Loop() {
		e.Decide(q)
	}
}

func BenchmarkDecide10(b *testing.B)    { benchmarkDecide(b, 10) }
func BenchmarkDecide10000(b *testing.B) { benchmarkDecide(b, 10000) }

func BenchmarkDecideDeny(b *testing.B) {
	e, allowed := benchEngine(b, 10000)
	unknownClient := allowed
	unknownClient.Client = "UA/GOV/99999999/stranger"
	unknownService := allowed
	unknownService.Service = "UA/GOV/99999999/registry-x/service-x"
	wrongPath := allowed
	wrongPath.Path = "/records/1000000042/photo"
	wrongPurpose := allowed
	wrongPurpose.Purpose = "marketing"
	for _, bb := range []struct {
		name string
		q    Query
		want Effect
	}{
		{"unknown-client", unknownClient, Deny},
		{"unknown-service", unknownService, Deny},
		{"path-mismatch", wrongPath, Deny},
		{"purpose-not-allowed", wrongPurpose, PurposeRequired},
	} {
		b.Run(bb.name, func(b *testing.B) {
			if got := e.Decide(bb.q).Effect; got != bb.want {
				b.Fatalf("Decide: got %v, want %v", got, bb.want)
			}
			b.ReportAllocs()
			for b.Loop() {
				e.Decide(bb.q)
			}
		})
	}
}

func BenchmarkCompile10000(b *testing.B) {
	rules, groups := benchWorld(10000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(rules, groups); err != nil {
			b.Fatal(err)
		}
	}
}

// benchConditions are the conditions of benchWorldCondition, one per rule
// in turn: office hours, the caller's own records, and a header.
var benchConditions = []string{
	`now.getHours("Europe/Kyiv") >= 8 && now.getHours("Europe/Kyiv") < 20 && ` +
		`params.id == represented_party && headers["x-tenant"] == "kyiv"`,
	`now.getDayOfWeek("Europe/Kyiv") in [1, 2, 3, 4, 5]`,
	`params.id == represented_party`,
	`headers["x-tenant"] == "kyiv"`,
}

// benchWorldCondition is benchWorld(n) with a condition on every rule.
func benchWorldCondition(n int) ([]Rule, Groups) {
	rules, groups := benchWorld(n)
	for i := range rules {
		rules[i].Condition = benchConditions[i%len(benchConditions)]
	}
	return rules, groups
}

// benchConditionQuery returns, for rules from benchWorldCondition, a query
// that the rule near n/2 with purposes and the first condition allows: a
// Wednesday at 11:00 in Kyiv, for party 1000000042's own record.
func benchConditionQuery(b *testing.B, e *Engine, rules []Rule) Query {
	b.Helper()
	i := len(rules) / 2
	for i%20 == 7 || i%20 == 13 || i%2 != 0 || i%len(benchConditions) != 0 {
		i++
	}
	q := Query{
		Client:           rules[i].Clients[0],
		Service:          rules[i].Services[0],
		Method:           "GET",
		Path:             "/records/1000000042",
		Purpose:          "statistics",
		UserID:           "UA1234567890",
		RepresentedParty: "1000000042",
		Header: http.Header{
			"Accept": {"application/json"}, "Content-Type": {"application/json"},
			"X-Tenant": {"kyiv"}, "X-Request-Priority": {"normal"}, "Accept-Language": {"uk"},
		},
		Now:           time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC),
		PathTemplates: []string{"/records", "/records/{id}", "/records/{id}/history"},
	}
	if got, want := e.Decide(q), (Decision{Effect: Allow, RuleID: rules[i].ID}); got != want {
		b.Fatalf("Decide: got %+v, want %+v", got, want)
	}
	return q
}

func BenchmarkDecide10000Condition(b *testing.B) {
	rules, groups := benchWorldCondition(10000)
	e := mustCompile(b, rules, groups)
	q := benchConditionQuery(b, e, rules)
	b.ReportAllocs()
	for b.Loop() {
		e.Decide(q)
	}
}

// BenchmarkCondition measures one rule with each kind of condition alone.
func BenchmarkCondition(b *testing.B) {
	for _, bb := range []struct{ name, cond string }{
		{"office-hours", `now.getHours("Europe/Kyiv") >= 8 && now.getHours("Europe/Kyiv") < 20`},
		{"own-records", `params.id == represented_party`},
		{"header", `headers["x-tenant"] == "kyiv"`},
		{"purpose-and-user", `purpose == "statistics" && user_id.startsWith("UA")`},
		{"combined", benchConditions[0]},
	} {
		b.Run(bb.name, func(b *testing.B) {
			rules, groups := benchWorld(1)
			rules[0].Condition = bb.cond
			rules[0].Purposes = nil
			e := mustCompile(b, rules, groups)
			q := benchConditionQuery(b, e, rules)
			b.ReportAllocs()
			for b.Loop() {
				e.Decide(q)
			}
		})
	}
}

func BenchmarkCompile10000Condition(b *testing.B) {
	rules, groups := benchWorldCondition(10000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(rules, groups); err != nil {
			b.Fatal(err)
		}
	}
}
