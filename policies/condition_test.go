package policies

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// kyiv is the zone of the office-hours tests.
var kyiv = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Kyiv")
	if err != nil {
		panic(err)
	}
	return loc
}()

// condRule is a rule letting eservice GET persons under cond.
func condRule(id, cond string) Rule {
	return Rule{ID: id, Clients: []string{eservice}, Services: []string{persons},
		Methods: []string{"GET"}, Condition: cond}
}

// condQuery is a GET of path on persons by eservice.
func condQuery(path string) Query {
	return Query{Client: eservice, Service: persons, Method: "GET", Path: path}
}

func allowed(id string) Decision { return Decision{Effect: Allow, RuleID: id} }
func unmet(id string) Decision {
	return Decision{Effect: Deny, RuleID: id, Reason: ReasonConditionNotMet}
}
func condErr(id string) Decision {
	return Decision{Effect: Deny, RuleID: id, Reason: ReasonConditionError}
}

// checkDecide fails unless e decides q as want.
func checkDecide(t *testing.T, e *Engine, name string, q Query, want Decision) {
	t.Helper()
	if got := e.Decide(q); got != want {
		t.Errorf("%s: Decide: got %+v, want %+v", name, got, want)
	}
}

func TestConditionOfficeHours(t *testing.T) {
	e := mustCompile(t, []Rule{condRule("office-hours",
		`now.getDayOfWeek("Europe/Kyiv") in [1, 2, 3, 4, 5] && `+
			`now.getHours("Europe/Kyiv") >= 9 && now.getHours("Europe/Kyiv") < 18`)}, nil)
	for _, tt := range []struct {
		name string
		now  time.Time
		want Decision
	}{
		{"Wednesday 09:00", time.Date(2026, 3, 4, 9, 0, 0, 0, kyiv), allowed("office-hours")},
		{"Wednesday 17:59", time.Date(2026, 3, 4, 17, 59, 59, 0, kyiv), allowed("office-hours")},
		{"Wednesday 08:59", time.Date(2026, 3, 4, 8, 59, 0, 0, kyiv), unmet("office-hours")},
		{"Wednesday 18:00", time.Date(2026, 3, 4, 18, 0, 0, 0, kyiv), unmet("office-hours")},
		{"Saturday 12:00", time.Date(2026, 3, 7, 12, 0, 0, 0, kyiv), unmet("office-hours")},
		// 07:30 UTC is 10:30 in Kyiv in summer (UTC+3), and 09:30 in winter.
		{"summer time, given in UTC", time.Date(2026, 7, 1, 7, 30, 0, 0, time.UTC), allowed("office-hours")},
		{"16:00 UTC is 19:00 in Kyiv in summer", time.Date(2026, 7, 1, 16, 0, 0, 0, time.UTC), unmet("office-hours")},
		{"16:00 UTC is 18:00 in Kyiv in winter", time.Date(2026, 1, 7, 16, 0, 0, 0, time.UTC), unmet("office-hours")},
		{"15:59 UTC is 17:59 in Kyiv in winter", time.Date(2026, 1, 7, 15, 59, 0, 0, time.UTC), allowed("office-hours")},
	} {
		q := condQuery("/persons/1")
		q.Now = tt.now
		checkDecide(t, e, tt.name, q, tt.want)
	}

	// A UTC offset works as well as a zone name.
	e = mustCompile(t, []Rule{condRule("offset", `now.getHours("+02:00") == 11 && now.getMinutes("-05:30") == 30`)}, nil)
	q := condQuery("/persons/1")
	q.Now = time.Date(2026, 1, 7, 9, 0, 0, 0, time.UTC)
	checkDecide(t, e, "offset", q, allowed("offset"))

	// Without Query.Now the condition sees the current time.
	e = mustCompile(t, []Rule{condRule("now", `now > timestamp("2020-01-01T00:00:00Z") && now < timestamp("2200-01-01T00:00:00Z")`)}, nil)
	checkDecide(t, e, "zero Now", condQuery("/persons/1"), allowed("now"))
}

func TestConditionOwnRecords(t *testing.T) {
	e := mustCompile(t, []Rule{{ID: "own-records", Clients: []string{eservice}, Services: []string{persons},
		Paths: []string{"/persons/{id}", "/persons/{id}/**"}, Condition: `params.id == represented_party`}}, nil)
	for _, tt := range []struct {
		name, path, party string
		want              Decision
	}{
		{"own record", "/persons/1000000042", "1000000042", allowed("own-records")},
		{"below own record", "/persons/1000000042/children/7", "1000000042", allowed("own-records")},
		{"someone else's record", "/persons/1000000043", "1000000042", unmet("own-records")},
		{"no represented party", "/persons/1000000042", "", unmet("own-records")},
		{"percent-decoded", "/persons/AB%2F12", "AB/12", allowed("own-records")},
		{"raw text does not match", "/persons/AB%2F12", "AB%2F12", unmet("own-records")},
		// A value that does not decode is missing: reading it fails.
		{"bad escape", "/persons/%zz", "%zz", condErr("own-records")},
	} {
		q := condQuery(tt.path)
		q.RepresentedParty, q.RepresentedPartyClass = tt.party, "PERSON"
		checkDecide(t, e, tt.name, q, tt.want)
	}
}

func TestConditionParams(t *testing.T) {
	templates := []string{"/persons", "/persons/{id}", "/persons/{id}/children/{child}", "/companies/{code}"}
	rules := []Rule{
		// No glob of its own: the service's templates name the parameters.
		{ID: "templates", Clients: []string{eservice}, Services: []string{persons},
			Methods: []string{"GET"}, Condition: `params.?child.orValue("") == "7" && params.id == "42"`},
		// The rule's glob names them, overriding the templates.
		{ID: "glob", Clients: []string{eservice}, Services: []string{persons}, Methods: []string{"POST"},
			Paths:     []string{"/persons/{person}/children/*", "/a/{first}/**/{last}"},
			Condition: `"person" in params && (params.person == "42" || params.last == "z") && !("id" in params && params.id == "x")`},
		{ID: "missing", Clients: []string{eservice}, Services: []string{persons}, Methods: []string{"DELETE"},
			Condition: `has(params.child) || params.id == "42"`},
		{ID: "size", Clients: []string{eservice}, Services: []string{persons}, Methods: []string{"PUT"},
			Paths:     []string{"/persons/{person}/children/*"},
			Condition: `size(params) == 3 && params.all(k, k in ["id", "child", "person"]) && params == {"id": "42", "child": "7", "person": "42"}`},
	}
	e := mustCompile(t, rules, nil)
	for _, tt := range []struct {
		name, method, path string
		want               Decision
	}{
		{"template params", "GET", "/persons/42/children/7", allowed("templates")},
		{"other child", "GET", "/persons/42/children/8", unmet("templates")},
		{"no template fits: params is empty", "GET", "/persons/42/x", unmet("templates")},
		{"reading a missing parameter fails", "DELETE", "/persons/42/x", condErr("missing")},
		{"has() tests a parameter", "DELETE", "/persons/1/children/2", allowed("missing")},
		{"glob param", "POST", "/persons/42/children/7", allowed("glob")},
		{"glob without the parameter", "POST", "/a/1/b/c/z", unmet("glob")},
		{"iteration, size and equality", "PUT", "/persons/42/children/7", allowed("size")},
	} {
		q := condQuery(tt.path)
		q.Method = tt.method
		q.PathTemplates = templates
		checkDecide(t, e, tt.name, q, tt.want)
	}

	// Captures after "**" are read from the end of the path.
	e = mustCompile(t, []Rule{{ID: "ends", Clients: []string{eservice}, Services: []string{persons},
		Paths: []string{"/a/{first}/**/{last}"}, Condition: `params.first == "1" && params.last == "z"`}}, nil)
	checkDecide(t, e, "first and last", condQuery("/a/1/b/c/z"), allowed("ends"))
	checkDecide(t, e, "no middle", condQuery("/a/1/z"), allowed("ends"))
}

func TestConditionHeaders(t *testing.T) {
	e := mustCompile(t, []Rule{
		condRule("tenant", `headers["x-tenant"] == "kyiv" && headers["X-TENANT"] == "kyiv" && "x-tenant" in headers`),
		{ID: "joined", Clients: []string{eservice}, Services: []string{persons}, Methods: []string{"POST"},
			Condition: `headers["accept-language"] == "uk, en" && headers.exists(k, k == "accept-language") && size(headers) == 2`},
		{ID: "optional", Clients: []string{eservice}, Services: []string{persons}, Methods: []string{"PUT"},
			Condition: `headers[?"x-tenant"].orValue("none") == "none"`},
	}, nil)
	h := http.Header{"X-Tenant": {"kyiv"}, "Accept-Language": {"uk", "en"}}
	q := condQuery("/persons/1")
	q.Header = h
	checkDecide(t, e, "tenant header", q, allowed("tenant"))
	q.Header = http.Header{"X-Tenant": {"lviv"}}
	checkDecide(t, e, "other tenant", q, unmet("tenant"))
	q.Header = nil
	checkDecide(t, e, "no headers: false absorbs the failed lookup", q, unmet("tenant"))
	failing := mustCompile(t, []Rule{condRule("lookup", `headers["x-tenant"] == "kyiv"`)}, nil)
	checkDecide(t, failing, "no headers: the lookup fails", q, condErr("lookup"))

	q.Method, q.Header = "POST", h
	checkDecide(t, e, "repeated header joined, names in lower case", q, allowed("joined"))
	q.Method, q.Header = "PUT", nil
	checkDecide(t, e, "optional lookup", q, allowed("optional"))
}

func TestConditionVariables(t *testing.T) {
	e := mustCompile(t, []Rule{{ID: "all", Clients: []string{eservice}, Services: []string{civilAll},
		Condition: `method == "PATCH" && path == "/persons/1" && purpose == "audit" && user_id == "UA123" && ` +
			`issue == "case-7" && client == "` + eservice + `" && service == "` + persons + `" && ` +
			`represented_party == "12345678" && represented_party_class == "COM" && ` +
			`user_id.lowerAscii().startsWith("ua")`}}, nil)
	q := Query{Client: eservice, Service: persons, Method: "PATCH", Path: "/persons/1", Purpose: "audit",
		UserID: "UA123", Issue: "case-7", RepresentedParty: "12345678", RepresentedPartyClass: "COM"}
	checkDecide(t, e, "every variable", q, allowed("all"))
	q.Issue = "case-8"
	checkDecide(t, e, "one variable differs", q, unmet("all"))

	e = mustCompile(t, []Rule{{ID: "root", Clients: []string{eservice}, Services: []string{persons}, Condition: `path == "/"`}}, nil)
	checkDecide(t, e, "empty path is /", condQuery(""), allowed("root"))
}

func TestConditionRuleOrder(t *testing.T) {
	never := condRule("never", `method == "NONE"`)
	failing := condRule("failing", `headers["x-missing"] == "x"`)
	plain := Rule{ID: "plain", Clients: []string{eservice}, Services: []string{persons}}
	withPurpose := Rule{ID: "with-purpose", Clients: []string{eservice}, Services: []string{persons},
		Purposes: []string{"statistics"}, Condition: `true`}
	falsePurpose := Rule{ID: "false-purpose", Clients: []string{eservice}, Services: []string{persons},
		Purposes: []string{"statistics"}, Condition: `false`}
	failingPurpose := Rule{ID: "failing-purpose", Clients: []string{eservice}, Services: []string{persons},
		Purposes: []string{"statistics"}, Condition: `headers["x-missing"] == "x"`}
	q := condQuery("/persons/1")
	for _, tt := range []struct {
		name  string
		rules []Rule
		want  Decision
	}{
		{"false condition falls through to the next rule", []Rule{never, plain}, allowed("plain")},
		{"false condition alone", []Rule{never}, unmet("never")},
		{"first false condition is reported", []Rule{never, condRule("never-2", `false`)}, unmet("never")},
		{"failing condition denies at once", []Rule{failing, plain}, condErr("failing")},
		{"an earlier rule allows before the failing one", []Rule{plain, failing}, allowed("plain")},
		{"purpose required beats a false condition", []Rule{never, withPurpose}, Decision{Effect: PurposeRequired, RuleID: "with-purpose", Reason: ReasonPurposeMissing}},
		{"a false condition is no purpose requirement", []Rule{falsePurpose}, unmet("false-purpose")},
		{"a failing condition with the wrong purpose does not block a later rule", []Rule{failingPurpose, plain}, allowed("plain")},
		{"a failing condition with the wrong purpose", []Rule{failingPurpose}, condErr("failing-purpose")},
		{"failing beats false", []Rule{never, failingPurpose}, condErr("failing-purpose")},
		{"a rule that does not match is not evaluated", []Rule{{ID: "post", Clients: []string{eservice},
			Services: []string{persons}, Methods: []string{"POST"}, Condition: `headers["x-missing"] == "x"`}}, Decision{Effect: Deny, Reason: ReasonNoRule}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := mustCompile(t, tt.rules, nil)
			checkDecide(t, e, tt.name, q, tt.want)
		})
	}
}

func TestConditionCompileProblems(t *testing.T) {
	rules := []Rule{
		condRule("ok", `method == "GET"`),
		condRule("not-bool", `path`),
		condRule("type", `now.getHours() == "9"`),
		condRule("undeclared", `tenant == "kyiv"`),
		condRule("syntax", `method ==`),
		condRule("zone", `now.getHours("Mars/Olympus") < 18`),
		condRule("blank", "  "),
		{ID: "rights-only", Clients: []string{eservice}, Rights: []string{"tracker"}, Condition: `path`},
		condRule("regex", `path.matches("[")`),
	}
	_, err := Compile(rules, nil)
	var probs Problems
	if !errors.As(err, &probs) {
		t.Fatalf("Compile: got %v, want Problems", err)
	}
	want := []struct{ path, msg string }{
		{"rules[1].condition", "must be a bool expression, not string"},
		{"rules[2].condition", "column 16: found no matching overload for '_==_' applied to '(int, string)'"},
		{"rules[3].condition", "column 1: undeclared reference to 'tenant'"},
		{"rules[4].condition", "column 10: Syntax error"},
		{"rules[5].condition", `column 14: unknown time zone Mars/Olympus`},
		{"rules[6].condition", "blank condition"},
		{"rules[7].condition", "must be a bool expression, not string"},
		{"rules[8].condition", "column 14: invalid matches argument"},
	}
	if len(probs) != len(want) {
		t.Fatalf("problems: got %d\n%v\nwant %d", len(probs), strings.ReplaceAll(probs.Error(), "; rules", "\nrules"), len(want))
	}
	for i, w := range want {
		p := probs[i]
		if p.Path() != w.path || p.Field != "condition" || !strings.Contains(p.Msg, w.msg) {
			t.Errorf("problem %d: got %s (field %q), want %s: ...%s...", i, p.Error(), p.Field, w.path, w.msg)
		}
	}
}

func TestConditionSharedAndGranted(t *testing.T) {
	const cond = `method == "GET"`
	e := mustCompile(t, []Rule{condRule("a", cond), condRule("b", cond)}, nil)
	rs := e.clients[eservice].services[persons]
	if len(rs) != 2 || rs[0].cond == nil || rs[0].cond != rs[1].cond {
		t.Errorf("identical conditions: got %+v, want one shared program", rs)
	}
	g := e.Allows(eservice, persons)
	if len(g) != 2 || g[0].Condition != cond {
		t.Errorf("Allows: got %+v, want the condition in each grant", g)
	}
}

func TestDecideWithoutConditionDoesNotAllocate(t *testing.T) {
	e := mustCompile(t, []Rule{
		{ID: "plain", Clients: []string{eservice}, Services: []string{persons}, Methods: []string{"GET"}},
		condRule("cond", `method == "GET"`),
		{ID: "cond-post", Clients: []string{benefits}, Services: []string{persons}, Methods: []string{"POST"}, Condition: `true`},
	}, nil)
	for _, q := range []Query{
		qry(eservice, persons, "GET", "/persons/1", ""), // allowed before the conditional rule
		qry(benefits, persons, "GET", "/persons/1", ""), // the conditional rule's method differs
		qry(eservice, births, "GET", "/persons/1", ""),  // unknown pair
		qry(portal, persons, "GET", "/persons/1", "x"),  // unknown client
	} {
		if n := testing.AllocsPerRun(100, func() { e.Decide(q) }); n != 0 {
			t.Errorf("allocations per Decide(%+v): got %v, want 0", q, n)
		}
	}
}

func TestConditionConcurrent(t *testing.T) {
	e := mustCompile(t, []Rule{{ID: "r", Clients: []string{eservice}, Services: []string{persons},
		Paths: []string{"/persons/{id}"}, Condition: `params.id == represented_party && headers["x-tenant"] == "kyiv" && now.getHours("Europe/Kyiv") < 18`}}, nil)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 500 {
				q := condQuery("/persons/" + string(rune('a'+w)))
				q.Header = http.Header{"X-Tenant": {"kyiv"}}
				q.Now = time.Date(2026, 3, 4, 10, 0, 0, 0, kyiv)
				q.RepresentedParty = string(rune('a' + w))
				want := allowed("r")
				if i%2 == 1 {
					q.RepresentedParty = "other"
					want = unmet("r")
				}
				if got := e.Decide(q); got != want {
					t.Errorf("Decide: got %+v, want %+v", got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestGlobCaptures(t *testing.T) {
	for _, tt := range []struct {
		glob, path string
		want       map[string]string
	}{
		{"/persons/{id}", "/persons/42", map[string]string{"id": "42"}},
		{"/persons/*", "/persons/42", map[string]string{}},
		{"/{a}/{b}/x", "/1/2/x", map[string]string{"a": "1", "b": "2"}},
		{"/{a}/**/{z}", "/1/z", map[string]string{"a": "1", "z": "z"}},
		{"/{a}/**/{z}/end", "/1/2/3/9/end", map[string]string{"a": "1", "z": "9"}},
		{"/{a}/**/{mid}/**/{z}", "/1/2/3/4", map[string]string{"a": "1", "z": "4"}}, // {mid} is not fixed
		{"/x/{id}", "/x/a%20b", map[string]string{"id": "a b"}},
		{"/x/{id}", "/x/a%zzb", map[string]string{}},
	} {
		g, err := compileGlob(tt.glob)
		if err != nil {
			t.Fatal(err)
		}
		if !g.match(tt.path) {
			t.Fatalf("%s does not match %s", tt.glob, tt.path)
		}
		got := map[string]string{}
		g.eachCapture(tt.path, func(n, v string) { got[n] = v })
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("captures of %s in %s: got %v, want %v", tt.glob, tt.path, got, tt.want)
		}
	}
}

func TestTemplateParams(t *testing.T) {
	templates := []string{"/persons", "/persons/{id}", "/persons/{id}/children/{child}", "/{any}/x"}
	for _, tt := range []struct {
		path string
		want map[string]string
	}{
		{"/persons", map[string]string{}},
		{"/persons/42", map[string]string{"id": "42"}},
		{"/persons/42/children/7", map[string]string{"id": "42", "child": "7"}},
		{"/persons/", map[string]string{}}, // an empty segment fits no {name}
		{"/persons/42/children", map[string]string{}},
		{"/persons/x", map[string]string{"id": "x"}}, // the first template that fits
		{"/a/x", map[string]string{"any": "a"}},
		{"", map[string]string{}},
	} {
		got := map[string]string{}
		if tmpl, ok := fittingTemplate(templates, tt.path); ok {
			eachTemplateParam(tmpl, tt.path, func(n, v string) { got[n] = v })
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("params of %q: got %v, want %v", tt.path, got, tt.want)
		}
	}
}
