package policies

import "slices"

// GroupPrefix marks a group reference in Rule.Clients: "group:NAME".
const GroupPrefix = "group:"

// Rule is one clause of a data-sharing agreement. A rule grants access to
// services, rights, or both.
type Rule struct {
	// ID names the rule in decisions and the message log; required and
	// unique.
	ID string
	// Clients are client subsystem ids, or "group:NAME" for every member of
	// a group; at least one is required.
	Clients []string
	// Services are service ids, or "INSTANCE/CLASS/CODE/SUBSYSTEM/*" for
	// every service of that subsystem.
	Services []string
	// Methods are upper-case HTTP methods. Empty, or containing "*", means
	// any method the service declares.
	Methods []string
	// Paths are path globs over the path after the service code, such as
	// "/persons/*", "/persons/**", "/persons/{id}" or "/" (syntax in the
	// package comment). Empty means any path.
	Paths []string
	// Purposes are the X-Road-Purpose values the rule allows. Empty means no
	// purpose is required.
	Purposes []string
	// Fields, when set, are the JSON paths of the answer the clients may
	// receive (data minimisation; enforced by the gateway's Minimiser).
	Fields []string
	// RatePerSecond and Burst limit the clients' calls under this rule
	// (token bucket); QuotaPerDay caps them per UTC day. Zero: no limit.
	// PerService applies them per client × service instead of per client.
	// Enforced by the gateway's Limiter.
	RatePerSecond float64
	Burst         int
	QuotaPerDay   int
	PerService    bool
	// Rights are rights granted to the clients that are not tied to a
	// service, such as "tracker". A rule may have only Clients and Rights
	// (and a Condition).
	Rights []string
	// Condition, when set, is a CEL expression of type bool over the
	// request that must hold for the rule to allow it or to grant its
	// rights, such as
	// `now.getHours("Europe/Kyiv") >= 9 && now.getHours("Europe/Kyiv") < 18`
	// or `params.id == represented_party`. The variables are listed in the
	// package comment. Compile type-checks it and refuses it when its
	// worst case costs more than MaxConditionCost; "" means no condition.
	Condition string
}

// Groups maps a group name (without the "group:" prefix) to the client ids
// of its members. Groups do not nest.
type Groups map[string][]string

// rule is the compiled form of a Rule that grants services.
type rule struct {
	id       string
	index    int        // position in the slice given to Compile
	methods  []string   // nil: any
	paths    []glob     // nil: any
	purposes []string   // nil: none required
	cond     *condition // nil: none
}

// allowsMethod reports whether the rule allows method.
func (r *rule) allowsMethod(method string) bool {
	if r.methods == nil {
		return true
	}
	for _, m := range r.methods {
		if m == method {
			return true
		}
	}
	return false
}

// allowsPath reports whether one of the rule's globs matches path.
func (r *rule) allowsPath(path string) bool {
	if r.paths == nil {
		return true
	}
	for i := range r.paths {
		if r.paths[i].match(path) {
			return true
		}
	}
	return false
}

// matchingGlob returns the first of the rule's globs that matches path, or
// nil when the rule has none.
func (r *rule) matchingGlob(path string) *glob {
	for i := range r.paths {
		if r.paths[i].match(path) {
			return &r.paths[i]
		}
	}
	return nil
}

// allowsPurpose reports whether the rule allows purpose.
func (r *rule) allowsPurpose(purpose string) bool {
	if r.purposes == nil {
		return true
	}
	for _, p := range r.purposes {
		if p == purpose {
			return true
		}
	}
	return false
}

// grant describes the rule as a Grant, with slices of its own.
func (r *rule) grant() Grant {
	g := Grant{
		RuleID:   r.id,
		Methods:  slices.Clone(r.methods),
		Purposes: slices.Clone(r.purposes),
	}
	if r.cond != nil {
		g.Condition = r.cond.src
	}
	if r.paths != nil {
		g.Paths = make([]string, len(r.paths))
		for i := range r.paths {
			g.Paths[i] = r.paths[i].src
		}
	}
	return g
}
