package storetest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/govbus/govbus/audit"
)

// baseTime is the first sample record's time: UTC, microsecond precision.
var baseTime = time.Date(2031, 5, 6, 7, 8, 9, 123456000, time.UTC)

// subject returns a subject hash unique to this fixture.
func (f *fixture) subject(name string) string {
	sum := sha256.Sum256([]byte(f.tag + "/" + name))
	return hex.EncodeToString(sum[:])
}

// record returns node's i-th sample record, not linked. Every field is
// set on some records and zero on others; bodies hold NUL and non-UTF-8
// bytes.
func (f *fixture) record(node string, i int) audit.Record {
	sum := sha256.Sum256(fmt.Appendf(nil, "body %d", i))
	r := audit.Record{
		ID:           fmt.Sprintf("%s-%04d", node, i),
		Kind:         audit.KindRequest,
		Time:         baseTime.Add(time.Duration(i) * time.Second),
		Node:         node,
		MessageID:    fmt.Sprintf("msg-%d", i/2),
		RequestID:    fmt.Sprintf("req-%d", i),
		Client:       fmt.Sprintf("EE/GOV/7000%d/client", i%3),
		Service:      fmt.Sprintf("EE/GOV/80000/registry/persons/v%d", i%2),
		Method:       "GET",
		PathTemplate: "/persons/{id}",
		UserID:       "EE38001085718",
		Issue:        "case 42 — ü",
		Purpose:      "benefit",
		RuleID:       "rule-7",
		Size:         int64(100 + i),
		BodySHA256:   hex.EncodeToString(sum[:]),
		TraceID:      fmt.Sprintf("%032x", i),
	}
	if i%2 == 0 {
		r.Kind, r.Status, r.ErrorType = audit.KindResponse, 404, "Client.NotFound"
		r.SubjectHash = f.subject("x")
		if i%6 != 0 { // every third answer: the registry was never called
			r.SentAt = r.Time.Add(-900*time.Millisecond + time.Duration(i)*time.Microsecond)
			r.ReceivedAt = r.Time.Add(-100 * time.Millisecond)
			r.Attempts = 1 + i%3
		}
	}
	if i%4 == 2 { // every other answer: minimised, so its digest is not the original's
		o := sha256.Sum256(fmt.Appendf(nil, "original body %d", i))
		r.OriginalSHA256 = hex.EncodeToString(o[:])
	}
	if i%4 == 0 {
		r.Body = []byte{0, 1, 'b', 0xff, 0xfe, byte(i)}
	}
	if i%5 == 0 {
		r.DiscloseAfter = baseTime.Add(time.Duration(i) * time.Hour)
	}
	return r
}

// chain appends records 1..n of node, batch per transaction, with a head
// signed over each batch that ends on a multiple of signEvery (0: no
// heads). It returns the records as appended.
func (f *fixture) chain(node string, n, batch, signEvery int) []audit.Record {
	f.t.Helper()
	return f.chainWith(node, n, batch, signEvery, nil)
}

// chainWith is chain with each sample record changed by edit (when not
// nil) before it is linked.
func (f *fixture) chainWith(node string, n, batch, signEvery int, edit func(i int, r *audit.Record)) []audit.Record {
	f.t.Helper()
	var all []audit.Record
	prev := ""
	for start := 1; start <= n; start += batch {
		var recs []audit.Record
		for i := start; i < start+batch && i <= n; i++ {
			r := f.record(node, i)
			if edit != nil {
				edit(i, &r)
			}
			r.Link(int64(i), prev)
			prev = r.Hash
			recs = append(recs, r)
		}
		var head *audit.SignedHead
		if last := recs[len(recs)-1]; signEvery > 0 && last.Seq%int64(signEvery) == 0 {
			h := f.signer.Sign(node, last.Seq, last.Hash, last.Time)
			head = &h
		}
		if err := f.store.Append(f.ctx, recs, head); err != nil {
			f.t.Fatalf("Append(%d..%d): %v", recs[0].Seq, recs[len(recs)-1].Seq, err)
		}
		all = append(all, recs...)
	}
	return all
}

// records returns node's records from the store.
func (f *fixture) records(node string) []audit.Record {
	f.t.Helper()
	var out []audit.Record
	if err := f.store.Scan(f.ctx, node, 0, func(r audit.Record) error {
		out = append(out, r)
		return nil
	}); err != nil {
		f.t.Fatalf("Scan: %v", err)
	}
	return out
}

// heads returns node's signed heads from the store.
func (f *fixture) heads(node string, from int64) []audit.SignedHead {
	f.t.Helper()
	var out []audit.SignedHead
	if err := f.store.Heads(f.ctx, node, from, func(h audit.SignedHead) error {
		out = append(out, h)
		return nil
	}); err != nil {
		f.t.Fatalf("Heads: %v", err)
	}
	return out
}

// verify runs audit.Verify on f.node with f.signer's key.
func (f *fixture) verify(anchor *audit.SignedHead) audit.Report {
	f.t.Helper()
	return f.verifyNode(f.node, anchor)
}

// verifyNode runs audit.Verify on node with f.signer's key.
func (f *fixture) verifyNode(node string, anchor *audit.SignedHead) audit.Report {
	f.t.Helper()
	rep, err := audit.Verify(f.ctx, f.store, node, f.signer.Public(), anchor)
	if err != nil {
		f.t.Fatalf("Verify: %v", err)
	}
	return rep
}

// wantOK fails the test unless rep is OK.
func wantOK(t *testing.T, rep audit.Report) {
	t.Helper()
	if !rep.OK {
		t.Fatalf("Verify: %s; want OK", rep)
	}
}

// wantProblem fails the test unless rep names problem at seq, record id.
func wantProblem(t *testing.T, rep audit.Report, seq int64, id string, problem audit.Problem) {
	t.Helper()
	if rep.OK || rep.Seq != seq || rep.RecordID != id || rep.Problem != problem {
		t.Fatalf("Verify: %s\nwant: seq %d (record %q): %s", rep, seq, id, problem)
	}
	t.Logf("Verify: %s", rep)
}

// normalize puts r in the form a store returns: times in UTC, an empty
// body nil.
func normalize(r audit.Record) audit.Record {
	r.Time = r.Time.UTC()
	for _, t := range []*time.Time{&r.DiscloseAfter, &r.SentAt, &r.ReceivedAt} {
		if !t.IsZero() {
			*t = t.UTC()
		}
	}
	if len(r.Body) == 0 {
		r.Body = nil
	}
	return r
}

// sameRecords fails the test unless got and want hold the same records.
func sameRecords(t *testing.T, got, want []audit.Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i := range got {
		if g, w := normalize(got[i]), normalize(want[i]); !reflect.DeepEqual(g, w) {
			t.Fatalf("record %d:\ngot  %+v\nwant %+v", i, g, w)
		}
	}
}
