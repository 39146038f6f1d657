package storetest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/govbus/govbus/audit"
)

func testRoundTrip(t *testing.T, f *fixture) {
	want := f.chain(f.node, 12, 4, 4)
	got := f.records(f.node)
	sameRecords(t, got, want)
	for i, r := range got {
		if r.ComputeHash() != r.Hash {
			t.Fatalf("record %d: stored fields no longer hash to its Hash", i+1)
		}
	}
	heads := f.heads(f.node, 0)
	if len(heads) != 3 {
		t.Fatalf("got %d heads, want 3 (at 4, 8, 12)", len(heads))
	}
	wantHead := f.signer.Sign(f.node, 12, want[11].Hash, want[11].Time)
	if !reflect.DeepEqual(heads[2], wantHead) {
		t.Fatalf("head:\ngot  %+v\nwant %+v", heads[2], wantHead)
	}
	if !audit.VerifyHead(f.signer.Public(), heads[2]) {
		t.Fatal("stored head no longer verifies")
	}
}

func testScanPages(t *testing.T, f *fixture) {
	want := f.chain(f.node, 700, 100, 100)
	other := f.nodeName("b")
	f.chain(other, 3, 3, 0)
	sameRecords(t, f.records(f.node), want)
	var got []audit.Record
	if err := f.store.Scan(f.ctx, f.node, 300, func(r audit.Record) error {
		got = append(got, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	sameRecords(t, got, want[299:])

	stop := errors.New("stop here")
	calls := 0
	err := f.store.Scan(f.ctx, f.node, 1, func(r audit.Record) error {
		calls++
		if r.Seq == 260 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 260 {
		t.Fatalf("Scan stopping at 260: err %v after %d calls; want %v after 260", err, calls, stop)
	}
	err = f.store.Heads(f.ctx, f.node, 0, func(h audit.SignedHead) error { return stop })
	if !errors.Is(err, stop) {
		t.Fatalf("Heads stopping: err %v, want %v", err, stop)
	}
	if got := f.heads(f.node, 301); len(got) != 4 || got[0].Seq != 400 {
		t.Fatalf("Heads from 301: %d heads, first %+v; want 4 from 400", len(got), got)
	}
}

func testAppendAtomic(t *testing.T, f *fixture) {
	f.chain(f.node, 5, 5, 5)
	r6, r7, dup := f.record(f.node, 6), f.record(f.node, 7), f.record(f.node, 3)
	r6.Link(6, "x")
	r7.Link(7, r6.Hash)
	dup.Link(3, "y")
	h7 := f.signer.Sign(f.node, 7, r7.Hash, r7.Time)
	h5 := f.signer.Sign(f.node, 5, "z", r7.Time)
	for _, tc := range []struct {
		name string
		recs []audit.Record
		head *audit.SignedHead
	}{
		{"record conflict", []audit.Record{r6, r7, dup}, &h7},
		{"conflict within the batch", []audit.Record{r6, r7, r7}, nil},
		{"head conflict", []audit.Record{r6, r7}, &h5},
		{"head-only conflict", nil, &h5},
	} {
		if err := f.store.Append(f.ctx, tc.recs, tc.head); err == nil {
			t.Fatalf("%s: Append succeeded, want a conflict error", tc.name)
		}
		if got := f.records(f.node); len(got) != 5 {
			t.Fatalf("%s: %d records after the failed Append, want 5", tc.name, len(got))
		}
		if got := f.heads(f.node, 0); len(got) != 1 || got[0].Hash == "z" {
			t.Fatalf("%s: heads after the failed Append: %+v, want the one at 5", tc.name, got)
		}
	}
	if err := f.store.Append(f.ctx, []audit.Record{r6, r7}, &h7); err != nil {
		t.Fatalf("Append after the failures: %v", err)
	}
	if got := f.heads(f.node, 0); len(got) != 2 || got[1] != h7 {
		t.Fatalf("heads: %+v, want 5 and 7", got)
	}
}

func testLast(t *testing.T, f *fixture) {
	if _, ok, err := f.store.Last(f.ctx, f.node); err != nil || ok {
		t.Fatalf("Last of an empty chain: ok %v, err %v; want false, nil", ok, err)
	}
	want := f.chain(f.node, 9, 4, 0)
	f.chain(f.nodeName("b"), 20, 10, 0)
	got, ok, err := f.store.Last(f.ctx, f.node)
	if err != nil || !ok {
		t.Fatalf("Last: ok %v, err %v", ok, err)
	}
	sameRecords(t, []audit.Record{got}, want[8:])
}

func testHeads(t *testing.T, f *fixture) {
	if _, ok, err := f.store.LastHead(f.ctx, f.node); err != nil || ok {
		t.Fatalf("LastHead with no heads: ok %v, err %v; want false, nil", ok, err)
	}
	recs := f.chain(f.node, 8, 1, 3) // heads at 3 and 6
	h8 := f.signer.Sign(f.node, 8, recs[7].Hash, time.Now())
	if err := f.store.Append(f.ctx, nil, &h8); err != nil {
		t.Fatalf("head-only Append: %v", err)
	}
	seqs := func(hs []audit.SignedHead) (out []int64) {
		for _, h := range hs {
			out = append(out, h.Seq)
		}
		return out
	}
	for from, want := range map[int64][]int64{0: {3, 6, 8}, 4: {6, 8}, 6: {6, 8}, 9: nil} {
		if got := seqs(f.heads(f.node, from)); !reflect.DeepEqual(got, want) {
			t.Errorf("Heads from %d: %v, want %v", from, got, want)
		}
	}
	last, ok, err := f.store.LastHead(f.ctx, f.node)
	if err != nil || !ok || last != h8 {
		t.Fatalf("LastHead: %+v, %v, %v; want %+v", last, ok, err, h8)
	}
	if _, ok, _ := f.store.LastHead(f.ctx, f.nodeName("b")); ok {
		t.Fatal("LastHead of another node: found one")
	}
}

func testBySubject(t *testing.T, f *fixture) {
	a := f.chain(f.node, 10, 10, 0) // even seqs carry subject "x"
	b := f.chain(f.nodeName("b"), 10, 10, 0)
	from, to := a[3].Time, a[7].Time // records 4..7: 4 and 6 of each node
	got, err := f.store.BySubject(f.ctx, audit.SubjectQuery{SubjectHash: f.subject("x"), From: from, To: to, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	want := []audit.Record{a[3], b[3], a[5], b[5]}
	if a[3].Time.Equal(b[3].Time) && b[3].Node < a[3].Node {
		want = []audit.Record{b[3], a[3], b[5], a[5]}
	}
	sameRecords(t, got, want)
	for _, q := range []struct {
		name     string
		subject  string
		from, to time.Time
	}{
		{"empty subject", "", from, to},
		{"other subject", f.subject("y"), from, to},
		{"empty range", f.subject("x"), to, from},
	} {
		if got, err := f.store.BySubject(f.ctx, audit.SubjectQuery{SubjectHash: q.subject, From: q.from, To: q.to, Limit: 100}); err != nil || len(got) != 0 {
			t.Errorf("BySubject, %s: %d records, err %v; want none", q.name, len(got), err)
		}
	}
}

func testPing(t *testing.T, f *fixture) {
	if err := f.store.Ping(f.ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}
