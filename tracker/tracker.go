// Package tracker is the citizen's Data Tracker: from the message log it
// answers who accessed a person's data, when and why — for every registry
// behind govbus, without each registry building it. The data subject is
// only ever stored and looked up as a keyed hash.
//
// The tracker answers in pages (Tracker.Accesses), each read from the store
// with a bounded query, and continues a walk from an opaque cursor that it
// authenticates, so a cursor it did not give for the same subject and time
// range is refused. Throttle limits each client's calls: the tracker tells
// who read whose data, and must not be an unthrottled oracle.
package tracker

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/govbus/govbus/audit"
	"github.com/govbus/govbus/gateway"
	"github.com/govbus/govbus/ratelimit"
)

// Page sizes and the default rate of the Data Tracker.
const (
	// DefaultLimit is a page's size when the caller names none (or the
	// maximum, when that is smaller).
	DefaultLimit = 50
	// DefaultMaxLimit is the largest page a caller may ask for, unless
	// configured otherwise (tracker.max_limit).
	DefaultMaxLimit = 100
	// MaxLimit is the most tracker.max_limit may be: a page and the answers
	// of its exchanges are each read in one query.
	MaxLimit = 500
	// DefaultRate and DefaultBurst are each client's token bucket of
	// tracker calls unless configured otherwise (tracker.rate).
	DefaultRate  = 5.0
	DefaultBurst = 10
)

// Hash returns the keyed hash under which a data subject is stored:
// hex(HMAC-SHA256(key, subject)).
func Hash(key []byte, subject string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(subject))
	return hex.EncodeToString(m.Sum(nil))
}

// Tracker reads accesses from the message log's store.
type Tracker struct {
	Store audit.Store
	// Key is the subject HMAC key (message_log.subject_key); it also keys
	// the cursors.
	Key []byte
	// Members maps member ids (INSTANCE/CLASS/CODE) to names.
	Members map[string]string
	// Now is the clock deciding what covert access is disclosed yet.
	Now func() time.Time
	// MaxLimit is the largest page a caller may ask for; zero means
	// DefaultMaxLimit. It is cut to MaxLimit.
	MaxLimit int
}

var _ gateway.Tracker = (*Tracker)(nil)

// maxLimit is the tracker's largest page.
func (t *Tracker) maxLimit() int {
	if t.MaxLimit <= 0 {
		return DefaultMaxLimit
	}
	return min(t.MaxLimit, MaxLimit)
}

// Accesses lists one page of the accesses to q.Subject in [q.From, q.To),
// oldest first (then by node and record): one per exchange, from its
// request record, with the outcome from its response record. Accesses
// still covert (disclose_after in the future) and the tracker's own
// look-ups are left out. It reads the store twice, each read bounded by
// the page's size: the page's request records (one more, to learn whether
// more follow), then the answers of those exchanges. NextCursor is set when
// more accesses follow. A limit over the maximum, or a cursor this tracker
// did not give for this subject, from and to, is a CodeBadRequest error.
func (t *Tracker) Accesses(ctx context.Context, q gateway.TrackerQuery) (gateway.AccessPage, error) {
	var page gateway.AccessPage
	limit := q.Limit
	switch maxLimit := t.maxLimit(); {
	case limit < 0 || limit > maxLimit:
		return page, gateway.Errorf(gateway.CodeBadRequest, "query parameter limit must be from 1 to %d", maxLimit)
	case limit == 0:
		limit = min(DefaultLimit, maxLimit)
	}
	subject := Hash(t.Key, q.Subject)
	sq := audit.SubjectQuery{
		SubjectHash: subject, From: q.From, To: q.To,
		Kind: audit.KindRequest, ExceptService: gateway.TrackerService, DisclosedAt: t.Now(),
		Limit: limit + 1,
	}
	if q.Cursor != "" {
		after, ok := t.cursors().decode(q.Cursor, subject, q.From, q.To)
		if !ok {
			return page, gateway.Errorf(gateway.CodeBadRequest, "query parameter cursor is not one this Data Tracker gave for this subject and time range")
		}
		sq.After = after
	}
	reqs, err := t.Store.BySubject(ctx, sq)
	if err != nil {
		return page, err
	}
	if len(reqs) > limit {
		reqs = reqs[:limit]
		page.NextCursor = t.cursors().encode(reqs[len(reqs)-1].Cursor(), subject, q.From, q.To)
	}
	outcome, err := t.outcomes(ctx, subject, reqs)
	if err != nil {
		return page, err
	}
	page.Accesses = make([]gateway.Access, 0, len(reqs))
	for _, r := range reqs {
		a := gateway.Access{Time: r.Time, Service: r.Service, Purpose: r.Purpose, Issue: r.Issue, Outcome: outcome[exchange{r.Node, r.RequestID}]}
		if c, err := gateway.ParseClientID(r.Client); err == nil {
			a.MemberID, a.Subsystem = c.Member(), c.Subsystem
			a.Member = t.Members[a.MemberID]
		}
		if a.Outcome == "" {
			a.Outcome = "unknown"
		}
		page.Accesses = append(page.Accesses, a)
	}
	return page, nil
}

// exchange names one exchange: its node and request id.
type exchange struct{ node, requestID string }

// outcomes reads the answers of the exchanges of reqs (request records of
// subject, in time order) in one bounded query and names each outcome.
func (t *Tracker) outcomes(ctx context.Context, subject string, reqs []audit.Record) (map[exchange]string, error) {
	out := make(map[exchange]string, len(reqs))
	if len(reqs) == 0 {
		return out, nil
	}
	ids := make([]string, 0, len(reqs))
	seen := make(map[string]bool, len(reqs))
	for _, r := range reqs {
		if !seen[r.RequestID] {
			seen[r.RequestID] = true
			ids = append(ids, r.RequestID)
		}
	}
	// An answer is made after its request: none is before the first.
	// Request ids are unique per node; a few nodes may share one.
	resps, err := t.Store.BySubject(ctx, audit.SubjectQuery{
		SubjectHash: subject, From: reqs[0].Time, Kind: audit.KindResponse, RequestIDs: ids,
		Limit: min(2*len(ids), audit.MaxSubjectLimit),
	})
	if err != nil {
		return nil, err
	}
	for _, r := range resps {
		out[exchange{r.Node, r.RequestID}] = outcomeOf(r)
	}
	return out, nil
}

// outcomeOf names a response record's outcome.
func outcomeOf(r audit.Record) string {
	switch {
	case r.ErrorType != "":
		return r.ErrorType
	case r.Status > 0 && r.Status < 400:
		return "ok"
	}
	return strconv.Itoa(r.Status)
}

// Throttle limits each client's Data Tracker calls with a token bucket of
// Burst calls refilled at Rate a second. It implements gateway.Limiter
// (the service and rule it is given do not matter: the bucket is the
// client's). Its buckets live in State: pass the same State to the
// Throttle of every configuration so that a reload refills none.
type Throttle struct {
	State *ratelimit.State
	Rate  float64
	Burst int
}

var _ gateway.Limiter = (*Throttle)(nil)

// Allow takes one call of client from its bucket, or returns ok=false and
// how long until the bucket holds a call again.
func (t *Throttle) Allow(_ context.Context, client, _, _ string) (time.Duration, bool) {
	return t.State.Take(ratelimit.Key{Rule: gateway.TrackerService, Client: client}, t.Rate, t.Burst, t.State.Now())
}
