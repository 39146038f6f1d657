package policies

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Problem is one thing wrong with the rules or groups given to Compile,
// located precisely enough for configuration validation to print a YAML
// path.
type Problem struct {
	// Rule is the index of the rule in the slice given to Compile, or -1
	// for a problem in Groups.
	Rule int
	// Group is the group's name, for a problem in Groups.
	Group string
	// Field is the Rule field at fault in lower case ("id", "clients",
	// "services", "methods", "paths", "purposes", "rights", "condition"),
	// or "" for the rule as a whole and for a problem in Groups.
	Field string
	// Item is the index within Field of the value at fault, or -1 when the
	// problem is about the field or rule as a whole.
	Item int
	// Msg says what is wrong, without the location.
	Msg string
}

// Path returns the location of the problem relative to the rule list or the
// groups map, such as "rules[3].paths[1]" or "groups.ministries[0]".
func (p Problem) Path() string {
	var b strings.Builder
	if p.Rule < 0 {
		b.WriteString("groups.")
		b.WriteString(p.Group)
	} else {
		b.WriteString("rules[")
		b.WriteString(strconv.Itoa(p.Rule))
		b.WriteString("]")
		if p.Field != "" {
			b.WriteString(".")
			b.WriteString(p.Field)
		}
	}
	if p.Item >= 0 {
		b.WriteString("[")
		b.WriteString(strconv.Itoa(p.Item))
		b.WriteString("]")
	}
	return b.String()
}

// Error returns the path and the message, e.g.
// `rules[3].paths[1]: path glob "persons/*" must start with "/"`.
func (p Problem) Error() string { return p.Path() + ": " + p.Msg }

// Problems is every Problem found by Compile, in the order of the input
// (groups first, by name, then rules). Compile returns it as its error; get
// it back with errors.As.
type Problems []Problem

// Error joins the problems with "; ".
func (ps Problems) Error() string {
	msgs := make([]string, len(ps))
	for i, p := range ps {
		msgs[i] = p.Error()
	}
	return strings.Join(msgs, "; ")
}

// problemList collects the problems of one rule.
type problemList struct {
	rule int
	list Problems
}

// add records a problem with rule field field, item item (-1 for none).
func (pl *problemList) add(field string, item int, format string, args ...any) {
	pl.list = append(pl.list, Problem{Rule: pl.rule, Field: field, Item: item, Msg: fmt.Sprintf(format, args...)})
}

// validMethod reports whether m is an upper-case HTTP method token
// (RFC 9110 tchar, without lower-case letters).
func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for i := 0; i < len(m); i++ {
		c := m[i]
		switch {
		case 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// splitWildcard returns the subsystem of a wildcard service entry
// "INSTANCE/CLASS/CODE/SUBSYSTEM/*", whether s is a wildcard entry at all,
// and whether the subsystem has four non-empty parts.
func splitWildcard(s string) (subsystem string, isWildcard, ok bool) {
	sub, found := strings.CutSuffix(s, "/*")
	if !found {
		return "", false, false
	}
	parts := strings.Split(sub, "/")
	if len(parts) != 4 || slices.Contains(parts, "") {
		return "", true, false
	}
	return sub, true, true
}
