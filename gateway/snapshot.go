package gateway

import (
	"context"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/govbus/govbus/policies"
)

// Authenticator proves that a credential belongs to the claimed client.
// It returns a CodeUnauthenticated *Error when it does not: no credential,
// an unknown one, or one registered for another client.
type Authenticator interface {
	Authenticate(client string, cred Credential) error
}

// Policy decides whether a client may make a call (default deny).
type Policy interface {
	Decide(q policies.Query) policies.Decision
	// MayAllow lists the rules that grant q's client q's service and whose
	// conditions may still hold, judged on what q knows of the caller (see
	// allowedEndpoints).
	MayAllow(q policies.Query) []policies.Grant
	// HasRight decides whether a rule grants q's client right, its
	// condition evaluated for q (policies.Engine.HasRight).
	HasRight(q policies.Query, right string) policies.Decision
}

// Member is an entry of the directory served by listClients.
type Member struct {
	// ID is INSTANCE/MEMBERCLASS/MEMBERCODE.
	ID   string
	Name string
	// Subsystems are the member's subsystem codes.
	Subsystems []string
	// Networks maps a subsystem code to the only source networks that
	// listClients names it to (an auth none client's); a subsystem absent
	// from it is named to anyone.
	Networks map[string][]netip.Prefix
}

// Snapshot is one immutable configuration of a running node: what an
// exchange needs to authenticate, route and decide. A reload builds a new
// Snapshot and swaps it in; exchanges keep the one they started with.
type Snapshot struct {
	// Version names the configuration (e.g. a hash of the file).
	Version       string
	Routes        map[string]*Route
	Subsystems    map[string][]*Route
	Members       []Member
	Authenticator Authenticator
	Policy        Policy
	// KnownClients holds every configured client id (metrics use it to
	// bound label values).
	KnownClients map[string]bool
	// MessageLog records exchanges; nil: no message log.
	MessageLog MessageLog
	// Tracker serves the Data Tracker; nil: it answers UnknownService.
	Tracker Tracker
	// TrackerLimiter limits each client's Data Tracker calls (its Allow
	// is given the service "tracker" and the granting rule); its state
	// outlives reloads. Nil: no limit.
	TrackerLimiter Limiter
	// Limiter enforces the agreements' rates and quotas; nil: none.
	Limiter Limiter
	// Minimiser removes the fields an agreement does not grant from
	// registry answers; nil: answers pass whole.
	Minimiser Minimiser
	// PublicURL is the base URL consumers reach this node at
	// (config.Config.ConsumerURL); getWsdl points soap:address there.
	// "" makes getWsdl answer Server.InternalError.
	PublicURL string
}

// Holder holds the current Snapshot; safe for concurrent use.
type Holder struct{ p atomic.Pointer[Snapshot] }

// NewHolder returns a Holder with s current.
func NewHolder(s *Snapshot) *Holder {
	h := &Holder{}
	h.p.Store(s)
	return h
}

// Load returns the current Snapshot.
func (h *Holder) Load() *Snapshot { return h.p.Load() }

// Store makes s current.
func (h *Holder) Store(s *Snapshot) { h.p.Store(s) }

// Limiter enforces rate limits and quotas (token bucket for rate, fixed
// window for the daily quota) per client and per client × service. Its
// state outlives configuration reloads.
type Limiter interface {
	// Allow takes one request of client on service, allowed by rule. When
	// the rate or quota is spent it returns ok=false and how long to wait.
	Allow(ctx context.Context, client, service, ruleID string) (retryAfter time.Duration, ok bool)
}

// Minimiser applies data minimisation: an agreement may list the fields of
// the answer a client may receive.
type Minimiser interface {
	// Minimise filters a registry's answer body for the allowing rule. It
	// returns applies=false when the rule limits no fields (the body passes
	// as is), the filtered body otherwise, and an error when the rule limits
	// fields but the answer cannot be filtered (not JSON): the consumer then
	// gets an error, never the unfiltered body.
	Minimise(ruleID string, body []byte, contentType string) (out []byte, applies bool, err error)
}
