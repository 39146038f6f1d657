package policies

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// grantIDs returns the rule ids of grants, in order.
func grantIDs(grants []Grant) []string {
	ids := make([]string, len(grants))
	for i, g := range grants {
		ids[i] = g.RuleID
	}
	return ids
}

func TestMayAllow(t *testing.T) {
	officeHours := `now.getHours("Europe/Kyiv") >= 9 && now.getHours("Europe/Kyiv") < 18`
	e := mustCompile(t, []Rule{
		{ID: "plain", Clients: []string{eservice}, Services: []string{persons}, Methods: []string{"GET"}},
		condRule("office-hours", officeHours),
		condRule("tenant", `headers["x-tenant"] == "kyiv"`),
		condRule("has-tenant", `"x-tenant" in headers`),
		condRule("own-records", `params.id == represented_party`),
		condRule("audit-purpose", `purpose == "audit"`),
		condRule("patch-only", `method == "PATCH"`),
		condRule("issue", `issue.startsWith("case-")`),
		condRule("officials", `user_id.startsWith("UA")`),
		condRule("party-and-params", `represented_party != "" && params.id == represented_party`),
		condRule("params-or-hours", `params.id == "1" || (`+officeHours+`)`),
		condRule("never", `false`),
		condRule("zone-from-header", `now.getHours(headers["x-zone"]) < 25`),
		// An operand of the && chain that fails on what is known fails
		// every call, whatever the unknown operands bring.
		condRule("tenant-and-params", `headers["x-tenant"] == "kyiv" && params.id == represented_party`),
		condRule("long-chain", `params.id != "" && method == "GET" && headers["x-tenant"] != "" && purpose != ""`),
		// Inside an ||, a failed lookup may be rescued by the call.
		condRule("tenant-or-params", `headers["x-tenant"] == "kyiv" || params.id == "1"`),
		// The rule names the service and its subsystem: listed once.
		{ID: "both", Clients: []string{eservice}, Services: []string{persons, civilAll}, Condition: officeHours},
	}, nil)

	inHours := time.Date(2026, 3, 4, 10, 0, 0, 0, kyiv)
	afterHours := time.Date(2026, 3, 4, 20, 0, 0, 0, kyiv)
	always := []string{"plain", "own-records", "audit-purpose", "patch-only", "issue", "tenant-or-params"}
	for _, tt := range []struct {
		name string
		q    Query
		want []string // besides always
	}{
		{"in office hours, nothing else known",
			Query{Now: inHours},
			[]string{"office-hours", "params-or-hours", "both"}},
		{"after hours",
			Query{Now: afterHours},
			[]string{"params-or-hours"}},
		{"with the tenant header, a user id and a party",
			Query{Now: afterHours, UserID: "UA123", RepresentedParty: "12345678",
				Header: http.Header{"X-Tenant": {"kyiv"}}},
			[]string{"tenant", "has-tenant", "officials", "party-and-params", "params-or-hours",
				"tenant-and-params", "long-chain"}},
		{"another tenant",
			Query{Now: afterHours, Header: http.Header{"X-Tenant": {"lviv"}}},
			[]string{"has-tenant", "params-or-hours", "long-chain"}},
		{"a zone header that loads",
			Query{Now: afterHours, Header: http.Header{"X-Zone": {"Europe/Kyiv"}}},
			[]string{"params-or-hours", "zone-from-header"}},
		{"a zone header that does not load",
			Query{Now: afterHours, Header: http.Header{"X-Zone": {"Mars/Olympus"}}},
			[]string{"params-or-hours"}},
		{"per-call fields of the query are ignored",
			Query{Now: afterHours, Method: "GET", Path: "/persons/2", Purpose: "other", Issue: "x",
				PathTemplates: []string{"/persons/{id}"}},
			[]string{"params-or-hours"}},
	} {
		q := tt.q
		q.Client, q.Service = eservice, persons
		got := grantIDs(e.MayAllow(q))
		var want []string
		for _, id := range grantIDs(e.Allows(eservice, persons)) {
			if slices.Contains(always, id) || slices.Contains(tt.want, id) {
				want = append(want, id)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: MayAllow = %v, want %v", tt.name, got, want)
		}
	}

	// The grants are those of Allows, conditions included.
	q := Query{Client: eservice, Service: persons, Now: inHours}
	for _, g := range e.MayAllow(q) {
		if g.RuleID == "office-hours" && (g.Condition != officeHours || !slices.Equal(g.Methods, []string{"GET"})) {
			t.Errorf("office-hours grant = %+v", g)
		}
	}
	if got := e.MayAllow(Query{Client: portal, Service: persons}); got != nil {
		t.Errorf("no rule names the pair: MayAllow = %v, want nil", got)
	}
	var none *Engine
	if got := none.MayAllow(q); got != nil {
		t.Errorf("nil engine: MayAllow = %v, want nil", got)
	}
}

func TestMayAllowConcurrent(t *testing.T) {
	e := mustCompile(t, []Rule{condRule("r", `headers["x-tenant"] == "kyiv" && params.id == represented_party`)}, nil)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 200 {
				q := Query{Client: eservice, Service: persons, Header: http.Header{"X-Tenant": {"kyiv"}}}
				want := 1
				if (i+w)%2 == 1 {
					q.Header = http.Header{"X-Tenant": {"lviv"}}
					want = 0
				}
				if got := len(e.MayAllow(q)); got != want {
					t.Errorf("MayAllow: %d grants, want %d", got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestCheckCondition(t *testing.T) {
	e := mustCompile(t, []Rule{
		{ID: "plain", Clients: []string{eservice}, Services: []string{persons}},
		{ID: "own", Clients: []string{eservice}, Services: []string{civilAll}, Condition: `params.id == represented_party`},
		condRule("tenant", `headers["x-tenant"] == "kyiv"`),
	}, nil)
	q := condQuery("/persons/42")
	q.PathTemplates = []string{"/persons/{id}"}
	q.RepresentedParty = "42"
	for _, tt := range []struct {
		rule    string
		q       Query
		holds   bool
		errPart string
	}{
		{"plain", q, true, ""},
		{"own", q, true, ""},
		{"own", func() Query { q := q; q.RepresentedParty = "43"; return q }(), false, ""},
		{"tenant", func() Query { q := q; q.Header = http.Header{"X-Tenant": {"kyiv"}}; return q }(), true, ""},
		{"tenant", q, false, "no such key"},
		{"missing", q, false, `no rule "missing"`},
	} {
		holds, err := e.CheckCondition(tt.q, tt.rule)
		if holds != tt.holds || (err == nil) != (tt.errPart == "") || err != nil && !strings.Contains(err.Error(), tt.errPart) {
			t.Errorf("CheckCondition(%s) = %v, %v; want %v, error containing %q", tt.rule, holds, err, tt.holds, tt.errPart)
		}
	}
}
