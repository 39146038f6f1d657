// Package minimise applies data minimisation: a policy rule may list the
// fields of a registry's JSON answer that its clients may receive, and
// everything else is removed before the answer leaves govbus.
//
// A field path is a dot-separated list of member names; "[]" after a name
// means each element of that array:
//
//	id                 the member "id"
//	address            all of "address", whatever it holds
//	address.city       only "city" inside the object "address"
//	children[].id      only "id" inside each object of the array "children"
//
// The paths of a rule are compiled into a tree once (Compile, New); an
// answer is filtered in a single pass over its bytes that also validates
// it, and the result is compact JSON with the kept members in their
// original order. Filtering fails closed: when a rule limits fields and the
// answer is not JSON (by its content type or its bytes), or is larger than
// MaxBodyBytes, the Minimiser returns an error and no body at all.
package minimise

import (
	"errors"
	"fmt"
	"strings"

	"github.com/govbus/govbus/policies"
)

// MaxBodyBytes is the largest answer that is filtered; a larger one is
// refused.
const MaxBodyBytes = 10 << 20

// Errors of answers that cannot be filtered (besides *SyntaxError, which
// wraps ErrInvalidJSON).
var (
	ErrNotJSON  = errors.New("the answer's content type is not JSON")
	ErrTooLarge = fmt.Errorf("the answer is larger than %d bytes", MaxBodyBytes)
)

// Minimiser filters registry answers by the field lists of policy rules.
// It implements gateway.Minimiser and is safe for concurrent use.
type Minimiser struct {
	filters map[string]*Filter // by rule id; only rules with fields
}

// New compiles the field lists of rules. Rules without fields limit
// nothing: their answers pass as they are.
func New(rules []policies.Rule) (*Minimiser, error) {
	m := &Minimiser{filters: map[string]*Filter{}}
	for _, r := range rules {
		if len(r.Fields) == 0 {
			continue
		}
		if _, dup := m.filters[r.ID]; dup {
			return nil, fmt.Errorf("rule %s: more than one rule with this id lists fields", r.ID)
		}
		f, err := Compile(r.Fields)
		if err != nil {
			return nil, fmt.Errorf("rule %s: fields[%d]: %w", r.ID, indexOf(err), err)
		}
		m.filters[r.ID] = f
	}
	return m, nil
}

func indexOf(err error) int {
	var pe *PathError
	if errors.As(err, &pe) {
		return pe.Index
	}
	return 0
}

// Limits reports whether the rule ruleID lists fields.
func (m *Minimiser) Limits(ruleID string) bool {
	return m.filters[ruleID] != nil
}

// Rules returns how many rules list fields.
func (m *Minimiser) Rules() int { return len(m.filters) }

// Minimise filters body, the answer to an exchange that rule ruleID
// allowed, whose Content-Type is contentType. When the rule lists no
// fields it returns applies=false and body untouched. Otherwise it returns
// the filtered body (never sharing memory with body), or an error when the
// answer cannot be filtered: not a JSON content type (application/json or
// a +json type), not JSON, or over MaxBodyBytes. An empty body without a
// Content-Type (204 No Content, 304 Not Modified) stays empty; an empty body
// that claims to be JSON is not JSON.
func (m *Minimiser) Minimise(ruleID string, body []byte, contentType string) (out []byte, applies bool, err error) {
	f := m.filters[ruleID]
	if f == nil {
		return body, false, nil
	}
	if len(body) == 0 && contentType == "" {
		return []byte{}, true, nil // no content at all (204, 304): nothing to remove
	}
	if len(body) > MaxBodyBytes {
		return nil, true, ErrTooLarge
	}
	if !IsJSON(contentType) {
		return nil, true, fmt.Errorf("%w: %q", ErrNotJSON, contentType)
	}
	out, err = f.Apply(body)
	if err != nil {
		return nil, true, err
	}
	return out, true, nil
}

// IsJSON reports whether a Content-Type value names JSON: application/json
// or application/*+json, with no charset other than UTF-8 (RFC 8259).
func IsJSON(contentType string) bool {
	mt, params, _ := strings.Cut(contentType, ";")
	mt = strings.TrimSpace(mt)
	typ, sub, ok := strings.Cut(mt, "/")
	if !ok || !strings.EqualFold(typ, "application") {
		return false
	}
	if !strings.EqualFold(sub, "json") && (len(sub) <= len("+json") || !strings.EqualFold(sub[len(sub)-len("+json"):], "+json")) {
		return false
	}
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		name, value, _ := strings.Cut(p, "=")
		if !strings.EqualFold(strings.TrimSpace(name), "charset") {
			continue
		}
		value = strings.Trim(strings.TrimSpace(value), `"`)
		if !strings.EqualFold(value, "utf-8") && !strings.EqualFold(value, "utf8") {
			return false
		}
	}
	return true
}
