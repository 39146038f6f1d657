package tracker

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/govbus/govbus/audit"
	"github.com/govbus/govbus/gateway"
	"github.com/govbus/govbus/ratelimit"
)

var (
	testKey = []byte("tracker-test-subject-key")
	t0      = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
)

const (
	eservice = "UA/GOV/00000003/eservice"
	portal   = "UA/GOV/00000005/citizen-portal"
	persons  = "UA/GOV/00000001/civil-registry/persons"
)

// countingStore counts what BySubject is asked and returns.
type countingStore struct {
	audit.Store
	calls    int
	maxLimit int
	returned int
}

func (s *countingStore) BySubject(ctx context.Context, q audit.SubjectQuery) ([]audit.Record, error) {
	s.calls++
	s.maxLimit = max(s.maxLimit, q.Limit)
	recs, err := s.Store.BySubject(ctx, q)
	s.returned += len(recs)
	return recs, err
}

// logWith stores, for subject 1000000042, n reads by eservice (each a
// request and its answer, a second apart), one Data Tracker look-up after
// each read, one covert read (disclosed at t0+48h) and one read of another
// person, and returns a tracker over the store.
func logWith(t *testing.T, n int) (*Tracker, *countingStore) {
	t.Helper()
	st, err := audit.OpenSQLite(filepath.Join(t.TempDir(), "log.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	var recs []audit.Record
	prev := ""
	add := func(kind audit.Kind, at time.Time, reqID, client, service, subject string, status int, covert bool) {
		r := audit.Record{ID: fmt.Sprint("rec-", len(recs)), Kind: kind, Time: at, Node: "govbus", RequestID: reqID,
			MessageID: "m-" + reqID, Client: client, Service: service, Method: "GET", Purpose: "service-delivery",
			Status: status, BodySHA256: strings.Repeat("0", 64), SubjectHash: Hash(testKey, subject)}
		if covert {
			r.DiscloseAfter = t0.Add(48 * time.Hour)
		}
		r.Link(int64(len(recs)+1), prev)
		prev = r.Hash
		recs = append(recs, r)
	}
	exchange := func(at time.Time, id, client, service, subject string, covert bool) {
		add(audit.KindRequest, at, id, client, service, subject, 0, covert)
		add(audit.KindResponse, at.Add(time.Millisecond), id, client, service, subject, 200, covert)
	}
	for i := range n {
		at := t0.Add(time.Duration(i) * time.Second)
		exchange(at, fmt.Sprint("read-", i), eservice, persons, "1000000042", false)
		exchange(at.Add(500*time.Millisecond), fmt.Sprint("look-", i), portal, gateway.TrackerService, "1000000042", false)
	}
	exchange(t0.Add(-time.Minute), "covert", eservice, persons, "1000000042", true)
	exchange(t0.Add(-time.Minute), "other", eservice, persons, "1000000043", false)
	if err := st.Append(context.Background(), recs, nil); err != nil {
		t.Fatal(err)
	}
	cs := &countingStore{Store: st}
	return &Tracker{Store: cs, Key: testKey, Now: func() time.Time { return t0.Add(time.Hour) },
		Members: map[string]string{"UA/GOV/00000003": "Ministry of Digital Transformation"}}, cs
}

// walk pages through subject's accesses, limit a page, and returns them
// and the number of pages.
func walk(t *testing.T, tr *Tracker, q gateway.TrackerQuery) ([]gateway.Access, int) {
	t.Helper()
	var all []gateway.Access
	for pages := 1; ; pages++ {
		if pages > 1000 {
			t.Fatal("the walk does not end")
		}
		page, err := tr.Accesses(context.Background(), q)
		if err != nil {
			t.Fatalf("Accesses(%+v): %v", q, err)
		}
		if q.Limit > 0 && len(page.Accesses) > q.Limit {
			t.Fatalf("a page of %d accesses, over the limit of %d", len(page.Accesses), q.Limit)
		}
		all = append(all, page.Accesses...)
		if page.NextCursor == "" {
			return all, pages
		}
		q.Cursor = page.NextCursor
	}
}

func TestAccessesPages(t *testing.T) {
	tr, _ := logWith(t, 5)
	got, pages := walk(t, tr, gateway.TrackerQuery{Subject: "1000000042", Limit: 2})
	if len(got) != 5 || pages != 3 {
		t.Fatalf("walked %d accesses in %d pages, want 5 in 3", len(got), pages)
	}
	for i, a := range got {
		want := gateway.Access{Time: t0.Add(time.Duration(i) * time.Second), Member: "Ministry of Digital Transformation",
			MemberID: "UA/GOV/00000003", Subsystem: "eservice", Service: persons, Purpose: "service-delivery", Outcome: "ok"}
		if a != want {
			t.Errorf("access %d: got %+v, want %+v", i, a, want)
		}
	}
	// A full last page says nothing follows.
	if got, pages := walk(t, tr, gateway.TrackerQuery{Subject: "1000000042", Limit: 5}); len(got) != 5 || pages != 1 {
		t.Errorf("limit 5: %d accesses in %d pages, want 5 in 1", len(got), pages)
	}
	// The covert read shows once disclosed.
	tr.Now = func() time.Time { return t0.Add(49 * time.Hour) }
	if got, _ := walk(t, tr, gateway.TrackerQuery{Subject: "1000000042", Limit: 4}); len(got) != 6 || !got[0].Time.Equal(t0.Add(-time.Minute)) {
		t.Errorf("after disclosure: %d accesses (first %v), want 6, the covert one first", len(got), got[0].Time)
	}
	// A time range.
	q := gateway.TrackerQuery{Subject: "1000000042", From: t0.Add(time.Second), To: t0.Add(4 * time.Second), Limit: 1}
	if got, pages := walk(t, tr, q); len(got) != 3 || pages != 3 {
		t.Errorf("[1 s, 4 s): %d accesses in %d pages, want 3 in 3", len(got), pages)
	}
}

// TestAccessesReadsBounded: a page costs two bounded reads however many
// records the subject has; the old tracker read every one.
func TestAccessesReadsBounded(t *testing.T) {
	tr, cs := logWith(t, 300)
	page, err := tr.Accesses(context.Background(), gateway.TrackerQuery{Subject: "1000000042"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Accesses) != DefaultLimit || page.NextCursor == "" {
		t.Fatalf("default page: %d accesses, next %q; want %d and a cursor", len(page.Accesses), page.NextCursor, DefaultLimit)
	}
	if cs.calls != 2 || cs.maxLimit > 2*DefaultLimit || cs.returned > 2*DefaultLimit+1 {
		t.Errorf("one page read %d records in %d queries (largest limit %d); want 2 queries of at most %d records",
			cs.returned, cs.calls, cs.maxLimit, 2*DefaultLimit+1)
	}
}

func TestAccessesLimit(t *testing.T) {
	tr, _ := logWith(t, 3)
	for _, limit := range []int{DefaultMaxLimit + 1, -1} {
		_, err := tr.Accesses(context.Background(), gateway.TrackerQuery{Subject: "1000000042", Limit: limit})
		if gateway.CodeOf(err) != gateway.CodeBadRequest {
			t.Errorf("limit %d: got %v, want Client.BadRequest", limit, err)
		}
	}
	tr.MaxLimit = 2
	if _, err := tr.Accesses(context.Background(), gateway.TrackerQuery{Subject: "1000000042", Limit: 3}); gateway.CodeOf(err) != gateway.CodeBadRequest {
		t.Errorf("limit 3 over max_limit 2: got %v, want Client.BadRequest", err)
	}
	page, err := tr.Accesses(context.Background(), gateway.TrackerQuery{Subject: "1000000042"})
	if err != nil || len(page.Accesses) != 2 || page.NextCursor == "" {
		t.Errorf("default page under max_limit 2: %d accesses, next %q, %v; want 2 and a cursor", len(page.Accesses), page.NextCursor, err)
	}
}

// TestAccessesCursorRefused: a cursor edited, cut, made up, or given for
// another subject or time range is Client.BadRequest.
func TestAccessesCursorRefused(t *testing.T) {
	tr, _ := logWith(t, 5)
	q := gateway.TrackerQuery{Subject: "1000000042", Limit: 2}
	page, err := tr.Accesses(context.Background(), q)
	if err != nil || page.NextCursor == "" {
		t.Fatalf("first page: %+v, %v", page, err)
	}
	c := page.NextCursor
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	forged := (&Tracker{Key: []byte("another key")}).cursors().encode(audit.Cursor{Time: t0, Node: "govbus", Seq: 1}, Hash(testKey, "1000000042"), time.Time{}, time.Time{})
	for name, tc := range map[string]gateway.TrackerQuery{
		"first byte edited":   {Subject: q.Subject, Limit: 2, Cursor: flip(c, 0)},
		"a middle byte":       {Subject: q.Subject, Limit: 2, Cursor: flip(c, len(c)/2)},
		"last byte edited":    {Subject: q.Subject, Limit: 2, Cursor: flip(c, len(c)-1)},
		"cut":                 {Subject: q.Subject, Limit: 2, Cursor: c[:len(c)-3]},
		"not base64":          {Subject: q.Subject, Limit: 2, Cursor: "!!!!"},
		"padded":              {Subject: q.Subject, Limit: 2, Cursor: c + "="},
		"too long":            {Subject: q.Subject, Limit: 2, Cursor: strings.Repeat("A", 600)},
		"another key's":       {Subject: q.Subject, Limit: 2, Cursor: forged},
		"another subject":     {Subject: "1000000043", Limit: 2, Cursor: c},
		"another from":        {Subject: q.Subject, Limit: 2, Cursor: c, From: t0},
		"another to":          {Subject: q.Subject, Limit: 2, Cursor: c, To: t0.Add(time.Hour)},
		"a made-up short one": {Subject: q.Subject, Limit: 2, Cursor: "AQ"},
	} {
		if _, err := tr.Accesses(context.Background(), tc); gateway.CodeOf(err) != gateway.CodeBadRequest {
			t.Errorf("%s: got %v, want Client.BadRequest", name, err)
		}
	}
	// The same cursor with another limit continues the walk.
	if page, err := tr.Accesses(context.Background(), gateway.TrackerQuery{Subject: q.Subject, Limit: 10, Cursor: c}); err != nil || len(page.Accesses) != 3 {
		t.Errorf("cursor with limit 10: %d accesses, %v; want the 3 left", len(page.Accesses), err)
	}
}

func TestAccessesStoreFailure(t *testing.T) {
	tr := &Tracker{Store: failingStore{}, Key: testKey, Now: time.Now}
	if _, err := tr.Accesses(context.Background(), gateway.TrackerQuery{Subject: "1"}); err == nil || gateway.CodeOf(err) == gateway.CodeBadRequest {
		t.Errorf("store failure: got %v, want an uncoded error", err)
	}
}

type failingStore struct{ audit.Store }

func (failingStore) BySubject(context.Context, audit.SubjectQuery) ([]audit.Record, error) {
	return nil, errors.New("disk on fire")
}

// TestThrottle: each client has its own bucket; a spent one says how long
// to wait, and refills with time.
func TestThrottle(t *testing.T) {
	now := t0
	st := ratelimit.NewState(func() time.Time { return now })
	th := &Throttle{State: st, Rate: 5, Burst: 10}
	for i := range 10 {
		if _, ok := th.Allow(context.Background(), portal, gateway.TrackerService, "portal-tracker"); !ok {
			t.Fatalf("call %d refused within the burst", i+1)
		}
	}
	wait, ok := th.Allow(context.Background(), portal, gateway.TrackerService, "portal-tracker")
	if ok || wait != 200*time.Millisecond {
		t.Fatalf("11th call: ok %v, wait %v; want refused, 200ms", ok, wait)
	}
	if _, ok := th.Allow(context.Background(), eservice, gateway.TrackerService, "x"); !ok {
		t.Error("another client's first call refused")
	}
	now = now.Add(200 * time.Millisecond)
	if _, ok := th.Allow(context.Background(), portal, gateway.TrackerService, "portal-tracker"); !ok {
		t.Error("refused after the bucket refilled one call")
	}
	// A Throttle of the next configuration over the same State keeps the
	// bucket spent.
	next := &Throttle{State: st, Rate: 5, Burst: 10}
	if _, ok := next.Allow(context.Background(), portal, gateway.TrackerService, "portal-tracker"); ok {
		t.Error("a new Throttle over the same State refilled the bucket")
	}
}
