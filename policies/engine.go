// Package policies decides whether a client subsystem may call a service:
// default deny, with rules taken from data-sharing agreements.
//
// A Rule names clients (directly or through groups), services (exactly or
// every service of a subsystem), and optionally the methods, path globs,
// purposes of use and a condition (a CEL expression over the request) it
// allows, plus rights not tied to a service (such as "tracker"). Compile
// validates the rules, reports every problem at once, and indexes them by
// client and service, so that Decide costs the same with ten rules or ten
// thousand and, unless it evaluates a condition, does not allocate.
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
// # Conditions
//
// Rule.Condition is an optional CEL expression (https://cel.dev) of type
// bool, compiled and type-checked once by Compile. A rule allows a query
// only when its condition holds; the variables are taken from the Query:
//
//	method             string     HTTP method ("GET")
//	path               string     path after the service code, as received ("/" when empty)
//	params             map(string, string)
//	                              path parameters, percent-decoded: the "{name}" segments
//	                              of the first of Query.PathTemplates fitting the path,
//	                              overridden by those of the rule's matching glob
//	headers            map(string, string)
//	                              end-to-end request headers, names in lower case (lookups
//	                              ignore case); repeated headers joined with ", "
//	purpose            string     X-Road-Purpose ("" when absent)
//	user_id            string     X-Road-Userid ("" when absent)
//	issue              string     X-Road-Issue ("" when absent)
//	client             string     calling subsystem, INSTANCE/CLASS/CODE/SUBSYSTEM
//	service            string     INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICECODE
//	now                timestamp  when the request was received (Query.Now)
//	represented_party  string     code of the party the client acts for ("" when none)
//	represented_party_class
//	                   string     that party's member class ("" when none or not given)
//
// The standard CEL library, optional values (params.?id.orValue("")) and
// the string extensions (lowerAscii, split, ...) are available. The time
// zone of a timestamp accessor is an IANA name or a UTC offset; a literal
// one that does not exist is a compile error. Examples:
//
//	now.getDayOfWeek("Europe/Kyiv") in [1, 2, 3, 4, 5] &&
//	  now.getHours("Europe/Kyiv") >= 9 && now.getHours("Europe/Kyiv") < 18
//	params.id == represented_party
//	headers["x-tenant"] == "kyiv" && user_id.startsWith("UA")
//
// A condition that is false makes its rule not match, so a later rule may
// still allow; a condition whose evaluation fails (a missing map key, a
// time zone that does not load) denies the query outright with
// ReasonConditionError, because the rule might have allowed it with a
// narrower grant (fields, rate) than any later rule. Reading a missing
// parameter or header is such a failure (unless, as CEL's && and || do, a
// false or true operand decides the result anyway): test it first ("id"
// in params) or use an optional value. Decisions that evaluate no
// condition still do not allocate.
//
// A rule that grants rights may have a condition too, rights-only rules
// included: Engine.HasRight grants a right only when it holds, for the
// request asking for the right.
//
// Every condition has a cost limit, MaxConditionCost: Compile refuses one
// whose estimated worst case exceeds it, and an evaluation that spends it
// fails (and so denies).
//
// # Listings
//
// Engine.MayAllow answers a different question than Decide: not "is this
// call allowed" but "which rules may still allow a call by this caller".
// It evaluates each condition partially, knowing the caller (client,
// headers, user id, represented party, time) but not the call (method,
// path, params, purpose, issue); a rule whose condition is false or fails
// on what is known is left out, one that depends on the call stays.
//
// The package maps nothing to HTTP statuses: the gateway turns Deny into
// Client.AccessDenied and PurposeRequired into Client.PurposeRequired.
package policies

import (
	"fmt"
	"net/http"
	"time"
)

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
	// ReasonConditionNotMet is the reason of a Deny when a rule would allow
	// the query but for its condition, which is false.
	ReasonConditionNotMet = "condition not met"
	// ReasonConditionError is the reason of a Deny when evaluating a rule's
	// condition failed (fail closed).
	ReasonConditionError = "condition error"
)

// Query is one request to decide on. The fields after Purpose are read
// only by rule conditions, and only those that a condition uses.
type Query struct {
	Client  string // calling subsystem, INSTANCE/CLASS/CODE/SUBSYSTEM
	Service string // INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICECODE
	Method  string // HTTP method, compared exactly (upper case)
	Path    string // path after the service code, starting with "/"; "" means "/"
	Purpose string // X-Road-Purpose; "" when absent

	UserID string // X-Road-Userid; "" when absent
	Issue  string // X-Road-Issue; "" when absent
	// RepresentedParty is the code of the party the client acts for, and
	// RepresentedPartyClass its member class; "" when none or not given.
	RepresentedParty, RepresentedPartyClass string
	// Header holds the request's end-to-end headers (canonical names).
	Header http.Header
	// Now is when the request was received; zero means the time of the
	// first condition evaluated.
	Now time.Time
	// PathTemplates are the service's path templates ("/persons/{id}"),
	// the source of the params variable.
	PathTemplates []string
}

// Decision is the answer to a Query.
type Decision struct {
	Effect Effect
	// RuleID is the id of the allowing rule; for PurposeRequired the id of
	// the rule that would allow but for the purpose; for a Deny because of a
	// condition the id of the rule whose condition was false or failed;
	// otherwise "".
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
	// Condition is the rule's CEL condition; "" for none.
	Condition string
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
	rights     map[string][]*rule // by right, the rules granting it, in file order
}

// Len returns the number of rules in the engine.
func (e *Engine) Len() int {
	if e == nil {
		return 0
	}
	return e.rules
}

// Decide decides on q. The first rule in file order that allows q wins
// (its method, path, purpose and condition all match); failing that, the
// first rule that would allow q but for its purpose gives PurposeRequired;
// failing that, q is denied, with ReasonConditionNotMet when a rule would
// allow q but for its false condition. A condition that fails to evaluate
// on a rule whose purpose matches denies q at once (ReasonConditionError).
// Decide allocates only when it evaluates a condition.
func (e *Engine) Decide(q Query) Decision {
	exact, wild := e.candidates(q.Client, q.Service)
	var wouldAllow, unmet, failed *rule
	var ev *evaluation // taken on the first condition evaluated
	for i, j := 0, 0; i < len(exact) || j < len(wild); {
		r := nextInOrder(exact, wild, &i, &j)
		if !r.allowsMethod(q.Method) || !r.allowsPath(q.Path) {
			continue
		}
		purposeOK := r.allowsPurpose(q.Purpose)
		if r.cond != nil {
			if !purposeOK && wouldAllow != nil {
				continue // it can change nothing
			}
			if ev == nil {
				ev = newEvaluation(&q)
			}
			ev.rule = r
			holds, err := r.cond.eval(ev)
			switch {
			case err != nil && purposeOK:
				ev.release()
				return Decision{Effect: Deny, RuleID: r.id, Reason: ReasonConditionError}
			case err != nil:
				if failed == nil {
					failed = r
				}
				continue
			case !holds:
				if unmet == nil {
					unmet = r
				}
				continue
			}
		}
		if purposeOK {
			if ev != nil {
				ev.release()
			}
			return Decision{Effect: Allow, RuleID: r.id}
		}
		if wouldAllow == nil {
			wouldAllow = r
		}
	}
	if ev != nil {
		ev.release()
	}
	switch {
	case wouldAllow != nil:
		reason := ReasonPurposeNotAllowed
		if q.Purpose == "" {
			reason = ReasonPurposeMissing
		}
		return Decision{Effect: PurposeRequired, RuleID: wouldAllow.id, Reason: reason}
	case failed != nil:
		return Decision{Effect: Deny, RuleID: failed.id, Reason: ReasonConditionError}
	case unmet != nil:
		return Decision{Effect: Deny, RuleID: unmet.id, Reason: ReasonConditionNotMet}
	}
	return Decision{Effect: Deny, Reason: ReasonNoRule}
}

// HasRight decides whether a rule grants right (such as "tracker") to
// q.Client for the request q: the first rule in file order that grants the
// right and whose condition holds (or that has none) allows, with its id.
// A condition reads q as for a call (the gateway gives, for the Data
// Tracker, method "GET", the tracker's path, no service, and the caller's
// headers, user id and time). A false condition grants nothing, so a later
// rule may still grant the right; a condition that fails to evaluate denies
// at once (ReasonConditionError), as in Decide. Failing every rule, the
// answer is Deny with ReasonConditionNotMet (and the rule's id) when a
// rule would grant the right but for its false condition, else
// ReasonNoRule. HasRight allocates only when it evaluates a condition.
func (e *Engine) HasRight(q Query, right string) Decision {
	if e == nil {
		return Decision{Effect: Deny, Reason: ReasonNoRule}
	}
	ci := e.clients[q.Client]
	if ci == nil {
		return Decision{Effect: Deny, Reason: ReasonNoRule}
	}
	var unmet *rule
	var ev *evaluation
	d := Decision{Effect: Deny, Reason: ReasonNoRule}
	for _, r := range ci.rights[right] {
		if r.cond == nil {
			d = Decision{Effect: Allow, RuleID: r.id}
			break
		}
		if ev == nil {
			ev = newEvaluation(&q)
		}
		ev.rule = r
		holds, err := r.cond.eval(ev)
		if err != nil {
			d = Decision{Effect: Deny, RuleID: r.id, Reason: ReasonConditionError}
			break
		}
		if holds {
			d = Decision{Effect: Allow, RuleID: r.id}
			break
		}
		if unmet == nil {
			unmet = r
		}
	}
	if ev != nil {
		ev.release()
	}
	if d.Effect == Deny && d.Reason == ReasonNoRule && unmet != nil {
		d = Decision{Effect: Deny, RuleID: unmet.id, Reason: ReasonConditionNotMet}
	}
	return d
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

// MayAllow lists, like Allows, what each rule naming q.Client and
// q.Service lets the client call, but judges each rule's condition ahead of
// any call and leaves out the rules whose condition cannot hold for this
// caller now. It is meant for listings such as the allowedMethods
// metaservice, asked before the calls are made.
//
// Of q, only what describes the caller is taken as known: Client, Service,
// Header, UserID, RepresentedParty and RepresentedPartyClass, and Now (zero
// means the current time). What belongs to the future call — method, path,
// params, purpose and issue — is unknown, whatever q holds. A condition is
// evaluated partially (CEL's partial evaluation) over the known variables:
//
//   - true, or depending on an unknown variable: the rule is listed, since
//     some call may be allowed (params.id == represented_party, a method
//     test, a purpose test);
//   - false, an error, or not a bool: the rule is left out, since no call
//     made now by this caller can pass it (outside office hours, a header
//     the caller did not send, a user id of the wrong kind). So is a rule
//     whose condition is a chain of && with one operand failing on what
//     is known, though CEL reports the whole as unknown: that operand
//     fails every call (headers["x-tenant"] == "kyiv" && params.id ==
//     represented_party, asked without the header).
//
// MayAllow does not check methods, paths or purposes (the caller may still
// choose them) and does not model rule order, so a listed rule is a rule
// that may allow, not a promise: Decide alone decides each call.
func (e *Engine) MayAllow(q Query) []Grant {
	exact, wild := e.candidates(q.Client, q.Service)
	if len(exact)+len(wild) == 0 {
		return nil
	}
	grants := make([]Grant, 0, len(exact)+len(wild))
	var ev *evaluation
	last := -1
	for i, j := 0, 0; i < len(exact) || j < len(wild); {
		r := nextInOrder(exact, wild, &i, &j)
		if r.index == last {
			continue // the rule names both the service and its subsystem
		}
		last = r.index
		if r.cond != nil {
			if ev == nil {
				ev = newEvaluation(&q)
			}
			ev.rule = r
			if !r.cond.mayHold(ev) {
				continue
			}
		}
		grants = append(grants, r.grant())
	}
	if ev != nil {
		ev.release()
	}
	return grants
}

// CheckCondition evaluates the condition of the rule ruleID, one of those
// naming q.Client and q.Service, for q, with the same variables Decide
// gives it (params from the rule's matching glob and q.PathTemplates). A
// rule without a condition holds. It fails when no rule of that id names
// the pair, or when the condition cannot be evaluated; that error is the
// one that makes Decide deny with ReasonConditionError. It is meant for
// explaining a decision, not for making one.
func (e *Engine) CheckCondition(q Query, ruleID string) (bool, error) {
	exact, wild := e.candidates(q.Client, q.Service)
	for i, j := 0, 0; i < len(exact) || j < len(wild); {
		r := nextInOrder(exact, wild, &i, &j)
		if r.id != ruleID {
			continue
		}
		if r.cond == nil {
			return true, nil
		}
		ev := newEvaluation(&q)
		ev.rule = r
		holds, err := r.cond.eval(ev)
		ev.release()
		return holds, err
	}
	return false, fmt.Errorf("no rule %q names client %s and service %s", ruleID, q.Client, q.Service)
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
