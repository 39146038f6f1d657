// Package policies decides whether a client subsystem may call a service:
// default deny, with rules taken from data-sharing agreements.
//
// A Rule names clients (directly or through groups), services (exactly or
// every service of a subsystem), and optionally the methods, path globs and
// purposes of use it allows, plus rights not tied to a service (such as
// "tracker"). Compile validates the rules, reports every problem at once,
// and indexes them by client and service, so that Decide costs the same with
// ten rules or ten thousand and does not allocate.
//
// Identifiers are the canonical strings of the gateway (client
// INSTANCE/CLASS/CODE/SUBSYSTEM, service INSTANCE/CLASS/CODE/SUBSYSTEM/CODE);
// this package compares them as opaque strings and only cuts a service id
// at its fourth "/" to find its subsystem.
//
// # Path globs
//
// Rule.Paths are globs over the path after the service code. A glob and a
// path are both split into segments after their leading "/": "/persons/1"
// has the segments "persons" and "1"; "/" has one empty segment;
// "/persons/" has "persons" and an empty last segment. A trailing slash is
// therefore significant: "/persons/" matches only "/persons/", and
// "/persons" matches only "/persons". An empty query path is treated as "/";
// a path not starting with "/" matches no glob. Glob segments:
//
//	literal   matches the same segment exactly (case-sensitive, byte for byte)
//	*         matches exactly one non-empty segment
//	{name}    same as *, so OpenAPI path templates such as /persons/{id} work
//	**        matches zero or more segments of any content
//
// So "/persons/*" matches "/persons/1000000042" but not "/persons",
// "/persons/" nor "/persons/1/x"; "/persons/**" matches "/persons",
// "/persons/" and everything below; "/**" matches every path; "/" matches
// only the root. In a glob an empty segment may only be the last one (the
// root "/" or a trailing slash), and "*", "{" and "}" may not appear inside
// a literal segment.
//
// The package maps nothing to HTTP statuses: the gateway turns Deny into
// Client.AccessDenied and PurposeRequired into Client.PurposeRequired.
package policies

// Effect is the outcome of a decision. The zero value is Deny.
type Effect uint8

const (
	// Deny means no rule allows the query (Client.AccessDenied).
	Deny Effect = iota
	// Allow means a rule allows the query.
	Allow
	// PurposeRequired means a rule would allow the query, but the query's
	// purpose is missing or not among that rule's purposes
	// (Client.PurposeRequired).
	PurposeRequired
)

// String returns "deny", "allow" or "purpose-required".
func (e Effect) String() string {
	switch e {
	case Allow:
		return "allow"
	case PurposeRequired:
		return "purpose-required"
	default:
		return "deny"
	}
}

// Reasons given with a Deny or PurposeRequired decision. They are constant
// and carry no request data, so they are safe to log.
const (
	// ReasonNoRule is the reason of a Deny.
	ReasonNoRule = "no rule allows"
	// ReasonPurposeMissing is the reason of a PurposeRequired when the query
	// has no purpose.
	ReasonPurposeMissing = "purpose missing"
	// ReasonPurposeNotAllowed is the reason of a PurposeRequired when the
	// query's purpose is not among the rule's purposes.
	ReasonPurposeNotAllowed = "purpose not allowed"
)

// Query is one request to decide on.
type Query struct {
	Client  string // calling subsystem, INSTANCE/CLASS/CODE/SUBSYSTEM
	Service string // INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICECODE
	Method  string // HTTP method, compared exactly (upper case)
	Path    string // path after the service code, starting with "/"; "" means "/"
	Purpose string // X-Road-Purpose; "" when absent
}

// Decision is the answer to a Query.
type Decision struct {
	Effect Effect
	// RuleID is the id of the allowing rule, or for PurposeRequired the id of
	// the rule that would allow but for the purpose; "" for Deny.
	RuleID string
	// Reason is one of the Reason constants for Deny and PurposeRequired,
	// and "" for Allow.
	Reason string
}

// Grant is what one rule lets a client call on a service.
type Grant struct {
	RuleID   string
	Methods  []string // nil: any method the service declares
	Paths    []string // path globs as written in the rule; nil: any path
	Purposes []string // nil: no purpose required
}

// Engine is a compiled, indexed set of rules. It is immutable and safe for
// concurrent use. Build it with Compile; a nil *Engine has no rules and
// denies everything.
type Engine struct {
	clients map[string]*clientIndex
	rules   int
}

// clientIndex holds the rules that name one client.
type clientIndex struct {
	services   map[string][]*rule // by exact service id, in file order
	subsystems map[string][]*rule // by subsystem id (wildcard rules), in file order
	rights     map[string]string  // right -> id of the first rule granting it
}

// Len returns the number of rules in the engine.
func (e *Engine) Len() int {
	if e == nil {
		return 0
	}
	return e.rules
}

// Decide decides on q. The first rule in file order that allows q wins;
// failing that, the first rule that would allow q but for its purpose gives
// PurposeRequired; failing that, q is denied. Decide does not allocate.
func (e *Engine) Decide(q Query) Decision {
	exact, wild := e.candidates(q.Client, q.Service)
	var wouldAllow *rule
	for i, j := 0, 0; i < len(exact) || j < len(wild); {
		r := nextInOrder(exact, wild, &i, &j)
		if !r.allowsMethod(q.Method) || !r.allowsPath(q.Path) {
			continue
		}
		if r.allowsPurpose(q.Purpose) {
			return Decision{Effect: Allow, RuleID: r.id}
		}
		if wouldAllow == nil {
			wouldAllow = r
		}
	}
	if wouldAllow == nil {
		return Decision{Effect: Deny, Reason: ReasonNoRule}
	}
	reason := ReasonPurposeNotAllowed
	if q.Purpose == "" {
		reason = ReasonPurposeMissing
	}
	return Decision{Effect: PurposeRequired, RuleID: wouldAllow.id, Reason: reason}
}

// HasRight reports whether a rule grants right to client, and the id of the
// first such rule in file order.
func (e *Engine) HasRight(client, right string) (ruleID string, ok bool) {
	if e == nil {
		return "", false
	}
	ci := e.clients[client]
	if ci == nil {
		return "", false
	}
	ruleID, ok = ci.rights[right]
	return ruleID, ok
}

// Allows lists, in file order, what each rule naming client and service
// (exactly or through its subsystem) lets the client call. The result is the
// caller's to keep; it is nil when no rule names the pair.
func (e *Engine) Allows(client, service string) []Grant {
	exact, wild := e.candidates(client, service)
	if len(exact)+len(wild) == 0 {
		return nil
	}
	grants := make([]Grant, 0, len(exact)+len(wild))
	for i, j := 0, 0; i < len(exact) || j < len(wild); {
		r := nextInOrder(exact, wild, &i, &j)
		if n := len(grants); n > 0 && grants[n-1].RuleID == r.id {
			continue // the rule names both the service and its subsystem
		}
		grants = append(grants, r.grant())
	}
	return grants
}

// candidates returns the rules naming client with service exactly and with
// service's subsystem, each in file order.
func (e *Engine) candidates(client, service string) (exact, wild []*rule) {
	if e == nil {
		return nil, nil
	}
	ci := e.clients[client]
	if ci == nil {
		return nil, nil
	}
	exact = ci.services[service]
	if sub, ok := subsystemOf(service); ok && len(ci.subsystems) > 0 {
		wild = ci.subsystems[sub]
	}
	return exact, wild
}

// nextInOrder returns the next rule of a and b, two lists sorted by rule
// index, given that a[:*i] and b[:*j] are done, and advances *i or *j.
func nextInOrder(a, b []*rule, i, j *int) *rule {
	if *j == len(b) || (*i < len(a) && a[*i].index < b[*j].index) {
		*i++
		return a[*i-1]
	}
	*j++
	return b[*j-1]
}

// subsystemOf returns the subsystem part of a service id: everything before
// the fourth "/". It slices service and does not allocate.
func subsystemOf(service string) (string, bool) {
	n := 0
	for i := 0; i < len(service); i++ {
		if service[i] == '/' {
			if n++; n == 4 {
				return service[:i], true
			}
		}
	}
	return "", false
}
