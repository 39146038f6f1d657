package policies

import (
	"reflect"
	"sync"
	"testing"
)

const (
	eservice = "UA/GOV/00000003/eservice"
	benefits = "UA/GOV/00000004/benefits"
	portal   = "UA/GOV/00000005/citizen-portal"
	persons  = "UA/GOV/00000001/civil-registry/persons"
	births   = "UA/GOV/00000001/civil-registry/births"
	civilAll = "UA/GOV/00000001/civil-registry/*"
	company  = "UA/GOV/00000002/business-registry/companies"
)

// qry is a query with the fields that rules without conditions read.
func qry(client, service, method, path, purpose string) Query {
	return Query{Client: client, Service: service, Method: method, Path: path, Purpose: purpose}
}

// mustCompile compiles rules and groups or fails the test.
func mustCompile(t testing.TB, rules []Rule, groups Groups) *Engine {
	t.Helper()
	e, err := Compile(rules, groups)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return e
}

func TestDecide(t *testing.T) {
	rules := []Rule{
		{ID: "eservice-persons", Clients: []string{eservice}, Services: []string{persons},
			Methods: []string{"GET"}, Paths: []string{"/persons/{id}"}, Purposes: []string{"service-delivery"}},
		{ID: "benefits-persons", Clients: []string{benefits}, Services: []string{persons},
			Methods: []string{"GET"}, Paths: []string{"/persons/*"}, Purposes: []string{"benefit-eligibility"}},
		{ID: "ministries-civil", Clients: []string{"group:ministries"}, Services: []string{civilAll},
			Methods: []string{"GET", "HEAD"}},
		{ID: "eservice-companies", Clients: []string{eservice}, Services: []string{company},
			Paths: []string{"/", "/companies/**"}},
		{ID: "portal-tracker", Clients: []string{portal}, Rights: []string{"tracker"}},
	}
	groups := Groups{"ministries": {"UA/GOV/00000010/finance", "UA/GOV/00000011/health"}}
	e := mustCompile(t, rules, groups)

	allow := func(id string) Decision { return Decision{Effect: Allow, RuleID: id} }
	deny := Decision{Effect: Deny, Reason: ReasonNoRule}
	tests := []struct {
		name string
		q    Query
		want Decision
	}{
		{"exact allow", qry(eservice, persons, "GET", "/persons/1000000042", "service-delivery"), allow("eservice-persons")},
		{"unknown client", qry("UA/GOV/99999999/nobody", persons, "GET", "/persons/1", "service-delivery"), deny},
		{"unknown service", qry(eservice, births, "GET", "/persons/1", "service-delivery"), deny},
		{"method mismatch", qry(eservice, persons, "POST", "/persons/1", "service-delivery"), deny},
		{"method is case-sensitive", qry(eservice, persons, "get", "/persons/1", "service-delivery"), deny},
		{"path mismatch", qry(eservice, persons, "GET", "/persons/1/x", "service-delivery"), deny},
		{"path mismatch beats purpose", qry(eservice, persons, "GET", "/persons", ""), deny},
		{"purpose missing", qry(eservice, persons, "GET", "/persons/1", ""),
			Decision{Effect: PurposeRequired, RuleID: "eservice-persons", Reason: ReasonPurposeMissing}},
		{"purpose wrong", qry(eservice, persons, "GET", "/persons/1", "benefit-eligibility"),
			Decision{Effect: PurposeRequired, RuleID: "eservice-persons", Reason: ReasonPurposeNotAllowed}},
		{"other client's purpose", qry(benefits, persons, "GET", "/persons/1", "benefit-eligibility"), allow("benefits-persons")},
		{"group member, wildcard", qry("UA/GOV/00000011/health", births, "HEAD", "/anything/at/all", ""), allow("ministries-civil")},
		{"group member, other method", qry("UA/GOV/00000010/finance", persons, "DELETE", "/persons/1", ""), deny},
		{"wildcard is per subsystem", qry("UA/GOV/00000010/finance", company, "GET", "/", ""), deny},
		{"wildcard needs a service code", qry("UA/GOV/00000010/finance", "UA/GOV/00000001/civil-registry", "GET", "/", ""), deny},
		{"group name is not a client", qry("group:ministries", births, "GET", "/", ""), deny},
		{"any method, root path", qry(eservice, company, "DELETE", "/", ""), allow("eservice-companies")},
		{"any method, empty path is root", qry(eservice, company, "PUT", "", ""), allow("eservice-companies")},
		{"second glob", qry(eservice, company, "GET", "/companies/10000001/owners", ""), allow("eservice-companies")},
		{"no glob matches", qry(eservice, company, "GET", "/other", ""), deny},
		{"rights grant no service", qry(portal, persons, "GET", "/persons/1", ""), deny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := e.Decide(tt.q); got != tt.want {
				t.Errorf("Decide(%+v): got %+v, want %+v", tt.q, got, tt.want)
			}
		})
	}
}

func TestDecideDefaultDeny(t *testing.T) {
	want := Decision{Effect: Deny, Reason: ReasonNoRule}
	q := qry(eservice, persons, "GET", "/persons/1", "service-delivery")
	for name, e := range map[string]*Engine{"empty": mustCompile(t, nil, nil), "nil": nil} {
		if got := e.Decide(q); got != want {
			t.Errorf("%s engine: got %+v, want %+v", name, got, want)
		}
		if got := e.Len(); got != 0 {
			t.Errorf("%s engine Len: got %d, want 0", name, got)
		}
	}
	var zero Decision
	if zero.Effect != Deny {
		t.Errorf("zero Effect: got %v, want %v", zero.Effect, Deny)
	}
}

func TestDecideRuleChoice(t *testing.T) {
	withPurpose := Rule{ID: "with-purpose", Clients: []string{eservice}, Services: []string{persons},
		Purposes: []string{"service-delivery"}}
	without := Rule{ID: "without-purpose", Clients: []string{eservice}, Services: []string{persons}}
	wildcard := Rule{ID: "wildcard", Clients: []string{eservice}, Services: []string{civilAll}}
	otherPurpose := Rule{ID: "other-purpose", Clients: []string{eservice}, Services: []string{persons},
		Purposes: []string{"statistics"}}
	q := Query{Client: eservice, Service: persons, Method: "GET", Path: "/persons/1"}
	tests := []struct {
		name  string
		rules []Rule
		q     Query
		want  Decision
	}{
		{"rule without purpose allows despite earlier purpose rule", []Rule{withPurpose, without}, q,
			Decision{Effect: Allow, RuleID: "without-purpose"}},
		{"rule without purpose allows despite later purpose rule", []Rule{without, withPurpose}, q,
			Decision{Effect: Allow, RuleID: "without-purpose"}},
		{"first of two allowing rules wins", []Rule{wildcard, without}, q,
			Decision{Effect: Allow, RuleID: "wildcard"}},
		{"first of two allowing rules wins, reversed", []Rule{without, wildcard}, q,
			Decision{Effect: Allow, RuleID: "without-purpose"}},
		{"purpose rule allows when the purpose is right", []Rule{withPurpose, otherPurpose}, withPurposeQuery(q, "statistics"),
			Decision{Effect: Allow, RuleID: "other-purpose"}},
		{"first would-allow rule is reported", []Rule{otherPurpose, withPurpose}, q,
			Decision{Effect: PurposeRequired, RuleID: "other-purpose", Reason: ReasonPurposeMissing}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustCompile(t, tt.rules, nil)
			for range 3 { // the same answer every time
				if got := e.Decide(tt.q); got != tt.want {
					t.Fatalf("Decide: got %+v, want %+v", got, tt.want)
				}
			}
		})
	}
}

// withPurposeQuery returns q with its purpose set.
func withPurposeQuery(q Query, purpose string) Query {
	q.Purpose = purpose
	return q
}

func TestAllows(t *testing.T) {
	rules := []Rule{
		{ID: "wild", Clients: []string{eservice}, Services: []string{civilAll, persons}, Methods: []string{"*", "GET"}},
		{ID: "other", Clients: []string{benefits}, Services: []string{persons}},
		{ID: "exact", Clients: []string{eservice}, Services: []string{persons},
			Methods: []string{"GET", "HEAD", "GET"}, Paths: []string{"/persons/{id}"}, Purposes: []string{"service-delivery"}},
	}
	e := mustCompile(t, rules, nil)
	want := []Grant{
		{RuleID: "wild"},
		{RuleID: "exact", Methods: []string{"GET", "HEAD"}, Paths: []string{"/persons/{id}"}, Purposes: []string{"service-delivery"}},
	}
	got := e.Allows(eservice, persons)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Allows: got %+v, want %+v", got, want)
	}
	got[1].Methods[0] = "DELETE" // the caller's to keep: must not change the engine
	if again := e.Allows(eservice, persons); !reflect.DeepEqual(again, want) {
		t.Errorf("Allows after changing a result: got %+v, want %+v", again, want)
	}
	if got := e.Allows(eservice, company); got != nil {
		t.Errorf("Allows for an unrelated service: got %+v, want nil", got)
	}
	if got := e.Allows(eservice, births); !reflect.DeepEqual(got, want[:1]) {
		t.Errorf("Allows through the wildcard: got %+v, want %+v", got, want[:1])
	}
}

func TestCompileCopiesInput(t *testing.T) {
	rules := []Rule{{ID: "r", Clients: []string{eservice}, Services: []string{persons}, Methods: []string{"GET"}}}
	e := mustCompile(t, rules, nil)
	rules[0].Methods[0] = "DELETE"
	rules[0].Clients[0] = benefits
	q := Query{Client: eservice, Service: persons, Method: "GET", Path: "/"}
	if got, want := e.Decide(q), (Decision{Effect: Allow, RuleID: "r"}); got != want {
		t.Errorf("Decide after changing the input: got %+v, want %+v", got, want)
	}
}

func TestDecideConcurrent(t *testing.T) {
	e := mustCompile(t, []Rule{{ID: "r", Clients: []string{eservice}, Services: []string{civilAll}, Paths: []string{"/persons/**"}}}, nil)
	q := Query{Client: eservice, Service: persons, Method: "GET", Path: "/persons/1"}
	want := Decision{Effect: Allow, RuleID: "r"}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				if got := e.Decide(q); got != want {
					t.Errorf("Decide: got %+v, want %+v", got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestDecideDoesNotAllocate(t *testing.T) {
	e := mustCompile(t, []Rule{
		{ID: "purpose", Clients: []string{eservice}, Services: []string{persons},
			Methods: []string{"GET"}, Paths: []string{"/persons/{id}"}, Purposes: []string{"service-delivery"}},
		{ID: "wild", Clients: []string{eservice}, Services: []string{civilAll},
			Methods: []string{"GET"}, Paths: []string{"/persons/**/address"}},
	}, nil)
	queries := []Query{
		qry(eservice, persons, "GET", "/persons/1000000042", "service-delivery"), // allow, exact
		qry(eservice, persons, "GET", "/persons/1/2/address", ""),                // allow, wildcard
		qry(eservice, persons, "GET", "/persons/1", ""),                          // purpose required
		qry(eservice, persons, "POST", "/persons/1", "service-delivery"),         // deny, known pair
		qry(benefits, persons, "GET", "/persons/1", ""),                          // deny, unknown client
	}
	for _, q := range queries {
		allocs := testing.AllocsPerRun(100, func() { e.Decide(q) })
		if allocs != 0 {
			t.Errorf("allocations per Decide(%+v): got %v, want 0", q, allocs)
		}
	}
}

func TestEffectString(t *testing.T) {
	for e, want := range map[Effect]string{Deny: "deny", Allow: "allow", PurposeRequired: "purpose-required"} {
		if got := e.String(); got != want {
			t.Errorf("Effect(%d).String(): got %q, want %q", e, got, want)
		}
	}
}
