package policies

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestCostEstimateBoundsEvaluation: on a query as large as withinEstimate
// admits, each condition costs no more than Compile's estimate of it, so
// evaluating such queries without counting the cost is safe; one header
// more and the query is no longer within the estimate.
func TestCostEstimateBoundsEvaluation(t *testing.T) {
	value := strings.Repeat("v", conditionMaxString-2)
	h := http.Header{}
	for i := range conditionMaxEntries {
		name := "X-" + strings.Repeat(string(rune('a'+i%26)), 1+i/26)
		h[name] = []string{value}
	}
	path := "/persons/" + strings.Repeat("9", conditionMaxString-len("/persons/"))
	q := Query{Client: eservice, Service: persons, Method: "GET", Path: path, Header: h,
		UserID: strings.Repeat("u", conditionMaxShort), Purpose: strings.Repeat("p", conditionMaxShort), Now: time.Date(2026, 3, 4, 10, 0, 0, 0, kyiv),
		PathTemplates: []string{"/persons/{id}"}}
	if !withinEstimate(&q) {
		t.Fatal("the largest query the estimate admits is not within it")
	}
	env, err := conditionEnv()
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{
		`headers.exists(k, k.startsWith("x-") && headers[k].contains("never"))`,
		`headers.all(k, headers[k].size() > 10)`,
		`headers.exists(k, headers[k].startsWith("v") || headers[k].endsWith(purpose))`,
		`path.matches("^/persons/[0-9]+$") && params.id.size() > 0`,
		`"x-a" in headers && headers["x-a"].lowerAscii().contains(user_id)`,
		`now.getHours("Europe/Kyiv") >= 9 && now.getHours("Europe/Kyiv") < 18`,
	} {
		c, err := make(conditionCache).compile(src)
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		checked, _ := env.Compile(src)
		est, err := env.EstimateCost(checked, costModel{})
		if err != nil {
			t.Fatal(err)
		}
		ev := newEvaluation(&q)
		ev.rule = &rule{cond: c}
		_, det, err := c.limited.Eval(ev)
		ev.release()
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		if got := *det.ActualCost(); got > est.Max {
			t.Errorf("%s: cost %d, over its estimate %d", src, got, est.Max)
		}
	}
	q.UserID += "u"
	if withinEstimate(&q) {
		t.Error("a query with a user id longer than the estimate assumes is within it")
	}
	q.UserID = ""
	h["X-One-More"] = []string{"v"}
	if withinEstimate(&q) {
		t.Error("a query with one header more than the estimate assumes is within it")
	}
	delete(h, "X-One-More")
	h["X-A"] = []string{value, "vvv"}
	if withinEstimate(&q) {
		t.Error("a header whose joined values are longer than the estimate assumes is within it")
	}
}
