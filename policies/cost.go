package policies

import (
	"strings"

	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/types"
)

// MaxConditionCost bounds what one evaluation of a condition may cost, in
// CEL's cost units (about one per value visited or compared; a string
// operation costs a tenth of a unit per byte). Compile refuses a condition
// whose worst case, as CEL estimates it from the sizes costModel assumes,
// is over it; and an evaluation of a query beyond those sizes
// (withinEstimate) counts its cost and stops with an error once it has
// spent the limit (the call is then denied, ReasonConditionError), so no
// request can make a condition run long. Queries within them are
// evaluated without counting: their cost is at most the estimate. An office-hours or
// header test costs under 100; a comprehension over headers a few hundred;
// two comprehensions over headers nested in one another several million.
const MaxConditionCost = 100_000

// The sizes the cost estimate assumes: at most conditionMaxEntries headers
// or params; strings of at most conditionMaxString bytes (a request target
// is at most 8 KiB), except the variables taken from X-Road headers and
// identifiers (method, purpose, user_id, issue, client, service,
// represented_party, represented_party_class), of at most
// conditionMaxShort (the gateway refuses longer X-Road headers). A request
// may exceed them; the limit at evaluation still holds.
const (
	conditionMaxEntries = 64
	conditionMaxString  = 8 << 10
	conditionMaxShort   = 1 << 10
)

// shortVariables are the variables of at most conditionMaxShort bytes.
var shortVariables = map[string]bool{varMethod: true, varPurpose: true, varUserID: true, varIssue: true,
	varClient: true, varService: true, varRepresentedParty: true, varRepresentedPartyClass: true}

// costModel gives CEL's cost estimate the sizes of the condition's
// variables, which it cannot know from their types: without them every map
// and string would be taken as of unbounded size and every comprehension
// as of unbounded cost.
type costModel struct{}

var _ cost.Estimator = costModel{}

// EstimateSize implements cost.Estimator: headers and params hold at most
// conditionMaxEntries entries, the short variables at most
// conditionMaxShort bytes, and any other string (a variable, a key or a
// value) at most conditionMaxString bytes.
func (costModel) EstimateSize(n cost.AstNode) *cost.SizeEstimate {
	if p := n.Path(); len(p) == 1 && (p[0] == varHeaders || p[0] == varParams) {
		return &cost.SizeEstimate{Min: 0, Max: conditionMaxEntries}
	} else if len(p) == 1 && shortVariables[p[0]] {
		return &cost.SizeEstimate{Min: 0, Max: conditionMaxShort}
	}
	if t := n.Type(); t != nil && t.Kind() == types.StringKind {
		return &cost.SizeEstimate{Min: 0, Max: conditionMaxString}
	}
	return nil
}

// withinEstimate reports whether q is within the sizes costModel assumes:
// at most conditionMaxEntries headers, and every string a condition can
// read at most its size: conditionMaxShort bytes for the short variables,
// conditionMaxString for the rest (a header's name, its values joined, the
// path and so the params). It does not allocate.
func withinEstimate(q *Query) bool {
	// params has at most an entry per segment of the path.
	if len(q.Header) > conditionMaxEntries || strings.Count(q.Path, "/") > conditionMaxEntries {
		return false
	}
	if len(q.Path) > conditionMaxString {
		return false
	}
	for _, s := range [...]string{q.Method, q.Purpose, q.UserID, q.Issue, q.Client, q.Service,
		q.RepresentedParty, q.RepresentedPartyClass} {
		if len(s) > conditionMaxShort {
			return false
		}
	}
	for name, vals := range q.Header {
		n := 2 * len(vals) // the ", " joining them
		for _, v := range vals {
			n += len(v)
		}
		if len(name) > conditionMaxString || n > conditionMaxString+2 {
			return false
		}
	}
	return true
}

// EstimateCallCost implements cost.Estimator: every function costs what
// CEL's own model says.
func (costModel) EstimateCallCost(string, string, *cost.AstNode, []cost.AstNode) *cost.CallEstimate {
	return nil
}
