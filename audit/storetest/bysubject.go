package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/govbus/govbus/audit"
)

// subjectChains stores two nodes' records of subject "s" for the paged
// BySubject tests (and a few of subject "other"): times tie within and
// across nodes, kinds alternate, every third record is a Data Tracker
// look-up (service "tracker"), and every fifth is covert until
// baseTime+1h. It returns every record stored.
func (f *fixture) subjectChains() []audit.Record {
	f.t.Helper()
	edit := func(i int, r *audit.Record) {
		r.Time = baseTime.Add(time.Duration(i/3) * time.Second)
		r.SubjectHash = f.subject("s")
		r.Kind = audit.KindRequest
		if i%2 == 0 {
			r.Kind = audit.KindResponse
		}
		r.DiscloseAfter = time.Time{}
		if i%3 == 0 {
			r.Service = "tracker"
		}
		if i%5 == 0 {
			r.DiscloseAfter = baseTime.Add(time.Hour)
		}
		if i%11 == 0 {
			r.SubjectHash = f.subject("other")
		}
	}
	a := f.chainWith(f.nodeName("a"), 45, 8, 0, edit)
	b := f.chainWith(f.nodeName("b"), 30, 30, 0, edit)
	return append(a, b...)
}

// expectBySubject is BySubject's answer to q over recs, computed by hand.
func expectBySubject(recs []audit.Record, q audit.SubjectQuery) []audit.Record {
	var out []audit.Record
	for _, r := range recs {
		if q.SubjectHash != "" && r.SubjectHash == q.SubjectHash && (q.Kind == "" || r.Kind == q.Kind) &&
			(q.From.IsZero() || !r.Time.Before(q.From)) && (q.To.IsZero() || r.Time.Before(q.To)) &&
			(q.ExceptService == "" || r.Service != q.ExceptService) &&
			(q.DisclosedAt.IsZero() || r.DiscloseAfter.IsZero() || !r.DiscloseAfter.After(q.DisclosedAt)) &&
			(len(q.RequestIDs) == 0 || slices.Contains(q.RequestIDs, r.RequestID)) && after(r, q.After) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, byTimeOrder)
	return out[:min(len(out), q.Limit)]
}

// testBySubjectFilters checks each of SubjectQuery's filters, alone and
// together, against the answer computed by hand.
func testBySubjectFilters(t *testing.T, f *fixture) {
	all := f.subjectChains()
	s := f.subject("s")
	ids := []string{"req-4", "req-5", "req-9", "req-33", "req-none"}
	for _, tc := range []struct {
		name string
		q    audit.SubjectQuery
	}{
		{"all", audit.SubjectQuery{SubjectHash: s, Limit: 1000}},
		{"limited", audit.SubjectQuery{SubjectHash: s, Limit: 7}},
		{"requests", audit.SubjectQuery{SubjectHash: s, Kind: audit.KindRequest, Limit: 1000}},
		{"answers", audit.SubjectQuery{SubjectHash: s, Kind: audit.KindResponse, Limit: 1000}},
		{"not the tracker", audit.SubjectQuery{SubjectHash: s, ExceptService: "tracker", Limit: 1000}},
		{"disclosed before", audit.SubjectQuery{SubjectHash: s, DisclosedAt: baseTime, Limit: 1000}},
		{"disclosed after", audit.SubjectQuery{SubjectHash: s, DisclosedAt: baseTime.Add(2 * time.Hour), Limit: 1000}},
		{"request ids", audit.SubjectQuery{SubjectHash: s, RequestIDs: ids, Limit: 1000}},
		{"[from, to)", audit.SubjectQuery{SubjectHash: s, From: baseTime.Add(3 * time.Second), To: baseTime.Add(9 * time.Second), Limit: 1000}},
		{"from", audit.SubjectQuery{SubjectHash: s, From: baseTime.Add(5 * time.Second), Limit: 1000}},
		{"to", audit.SubjectQuery{SubjectHash: s, To: baseTime.Add(5 * time.Second), Limit: 1000}},
		{"after", audit.SubjectQuery{SubjectHash: s, After: all[10].Cursor(), Limit: 1000}},
		{"the tracker's query", audit.SubjectQuery{SubjectHash: s, Kind: audit.KindRequest, ExceptService: "tracker",
			DisclosedAt: baseTime, From: baseTime.Add(time.Second), After: all[50].Cursor(), Limit: 4}},
		{"other subject", audit.SubjectQuery{SubjectHash: f.subject("other"), Limit: 1000}},
		{"empty subject", audit.SubjectQuery{Limit: 1000}},
	} {
		got, err := f.store.BySubject(f.ctx, tc.q)
		if err != nil {
			t.Fatalf("%s: BySubject: %v", tc.name, err)
		}
		want := expectBySubject(all, tc.q)
		if len(got) != len(want) {
			t.Fatalf("%s: %d records, want %d", tc.name, len(got), len(want))
		}
		sameRecords(t, got, want)
	}
}

// testBySubjectPages walks a subject's records a few at a time, the
// cursor set to each page's last record: every record once, in order, no
// page over its limit, and the walk ends with a short page.
func testBySubjectPages(t *testing.T, f *fixture) {
	all := f.subjectChains()
	for _, limit := range []int{1, 3, 8} {
		q := audit.SubjectQuery{SubjectHash: f.subject("s"), Kind: audit.KindRequest, ExceptService: "tracker", Limit: limit}
		want := expectBySubject(all, audit.SubjectQuery{SubjectHash: q.SubjectHash, Kind: q.Kind, ExceptService: q.ExceptService, Limit: 1000})
		var got []audit.Record
		for pages := 0; ; pages++ {
			if pages > len(all) {
				t.Fatal("the walk does not end")
			}
			page, err := f.store.BySubject(f.ctx, q)
			if err != nil {
				t.Fatalf("BySubject(%+v): %v", q, err)
			}
			if len(page) > limit {
				t.Fatalf("limit %d: a page of %d records", limit, len(page))
			}
			got = append(got, page...)
			if len(page) < limit {
				break
			}
			q.After = page[len(page)-1].Cursor()
		}
		if len(got) != len(want) {
			t.Fatalf("limit %d: the walk returned %d records, want %d", limit, len(got), len(want))
		}
		sameRecords(t, got, want)
	}
}

// testBySubjectLimits: a limit out of range or too many request ids is an
// error, never an unbounded read.
func testBySubjectLimits(t *testing.T, f *fixture) {
	f.subjectChains()
	many := make([]string, audit.MaxRequestIDs+1)
	for i := range many {
		many[i] = fmt.Sprint("req-", i)
	}
	for _, q := range []audit.SubjectQuery{
		{SubjectHash: f.subject("s")},
		{SubjectHash: f.subject("s"), Limit: -1},
		{SubjectHash: f.subject("s"), Limit: audit.MaxSubjectLimit + 1},
		{SubjectHash: f.subject("s"), Limit: 10, RequestIDs: many},
	} {
		if got, err := f.store.BySubject(f.ctx, q); err == nil {
			t.Errorf("BySubject(limit %d, %d request ids): %d records, no error; want an error", q.Limit, len(q.RequestIDs), len(got))
		}
	}
}
