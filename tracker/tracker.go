// Package tracker is the citizen's Data Tracker: from the message log it
// answers who accessed a person's data, when and why — for every registry
// behind govbus, without each registry building it. The data subject is
// only ever stored and looked up as a keyed hash.
package tracker

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strconv"
	"time"

	"github.com/govbus/govbus/audit"
	"github.com/govbus/govbus/gateway"
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
	// Key is the subject HMAC key (message_log.subject_key).
	Key []byte
	// Members maps member ids (INSTANCE/CLASS/CODE) to names.
	Members map[string]string
	// Now is the clock deciding what covert access is disclosed yet.
	Now func() time.Time
}

var _ gateway.Tracker = (*Tracker)(nil)

// Accesses lists the accesses to subject in [from, to), oldest first:
// one per exchange, from its request record, with the outcome from its
// response record. Accesses still covert (disclose_after in the future)
// and the tracker's own look-ups are left out.
func (t *Tracker) Accesses(ctx context.Context, subject string, from, to time.Time) ([]gateway.Access, error) {
	recs, err := t.Store.BySubject(ctx, Hash(t.Key, subject), from, to)
	if err != nil {
		return nil, err
	}
	now := t.Now()
	outcome := map[string]string{}
	for _, r := range recs {
		if r.Kind == audit.KindResponse {
			outcome[r.Node+"/"+r.RequestID] = outcomeOf(r)
		}
	}
	var out []gateway.Access
	for _, r := range recs {
		if r.Kind != audit.KindRequest || r.Service == "tracker" || (!r.DiscloseAfter.IsZero() && r.DiscloseAfter.After(now)) {
			continue
		}
		a := gateway.Access{Time: r.Time, Service: r.Service, Purpose: r.Purpose, Issue: r.Issue, Outcome: outcome[r.Node+"/"+r.RequestID]}
		if c, err := gateway.ParseClientID(r.Client); err == nil {
			a.MemberID, a.Subsystem = c.Member(), c.Subsystem
			a.Member = t.Members[a.MemberID]
		}
		if a.Outcome == "" {
			a.Outcome = "unknown"
		}
		out = append(out, a)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
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
