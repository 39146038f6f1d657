package policies

import (
	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/types"
)

// MaxConditionCost bounds what one evaluation of a condition may cost, in
// CEL's cost units (about one per value visited or compared; a string
// operation costs a tenth of a unit per byte). Compile refuses a condition
// whose worst case, as CEL estimates it from the sizes costModel assumes,
// is over it; and every evaluation stops with an error once it has spent
// it (the call is then denied, ReasonConditionError), so a request beyond
// those sizes cannot make a condition run long either. An office-hours or
// header test costs under 100; a comprehension over headers a few hundred;
// two comprehensions over headers nested in one another several million.
const MaxConditionCost = 100_000

// The sizes the cost estimate assumes: at most conditionMaxEntries headers
// or params, and strings of at most conditionMaxString bytes (a request
// target is at most 8 KiB). A request may exceed them; the limit at
// evaluation still holds.
const (
	conditionMaxEntries = 64
	conditionMaxString  = 8 << 10
)

// costModel gives CEL's cost estimate the sizes of the condition's
// variables, which it cannot know from their types: without them every map
// and string would be taken as of unbounded size and every comprehension
// as of unbounded cost.
type costModel struct{}

var _ cost.Estimator = costModel{}

// EstimateSize implements cost.Estimator: headers and params hold at most
// conditionMaxEntries entries, and a string (a variable, a key or a value)
// at most conditionMaxString bytes.
func (costModel) EstimateSize(n cost.AstNode) *cost.SizeEstimate {
	if p := n.Path(); len(p) == 1 && (p[0] == varHeaders || p[0] == varParams) {
		return &cost.SizeEstimate{Min: 0, Max: conditionMaxEntries}
	}
	if t := n.Type(); t != nil && t.Kind() == types.StringKind {
		return &cost.SizeEstimate{Min: 0, Max: conditionMaxString}
	}
	return nil
}

// EstimateCallCost implements cost.Estimator: every function costs what
// CEL's own model says.
func (costModel) EstimateCallCost(string, string, *cost.AstNode, []cost.AstNode) *cost.CallEstimate {
	return nil
}
