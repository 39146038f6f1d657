package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/govbus/govbus/audit"
)

func testPrune(t *testing.T, f *fixture) {
	if _, ok, err := f.store.Anchor(f.ctx, f.node); err != nil || ok {
		t.Fatalf("Anchor before any prune: ok %v, err %v; want false, nil", ok, err)
	}
	recs := f.chain(f.node, 20, 5, 10)
	other := f.chain(f.nodeName("b"), 20, 5, 10)
	a10 := f.signer.Sign(f.node, 10, recs[9].Hash, time.Now())
	if err := f.store.Prune(f.ctx, f.node, 10, a10); err != nil {
		t.Fatalf("Prune(10): %v", err)
	}
	sameRecords(t, f.records(f.node), recs[10:])
	sameRecords(t, f.records(f.nodeName("b")), other)
	if hs := f.heads(f.node, 0); len(hs) != 1 || hs[0].Seq != 20 {
		t.Fatalf("heads after Prune(10): %+v, want only 20's", hs)
	}
	if got, ok, err := f.store.Anchor(f.ctx, f.node); err != nil || !ok || got != a10 {
		t.Fatalf("Anchor: %+v, %v, %v; want %+v", got, ok, err, a10)
	}
	rep := f.verify(nil)
	wantOK(t, rep)
	if rep.From != 11 || rep.To != 20 {
		t.Fatalf("Verify after Prune(10) checked %d..%d, want 11..20", rep.From, rep.To)
	}

	a20 := f.signer.Sign(f.node, 20, recs[19].Hash, time.Now())
	if err := f.store.Prune(f.ctx, f.node, 20, a20); err != nil {
		t.Fatalf("Prune(20): %v", err)
	}
	if _, ok, err := f.store.Last(f.ctx, f.node); err != nil || ok {
		t.Fatalf("Last after pruning everything: ok %v, err %v; want false, nil", ok, err)
	}
	if got, _, _ := f.store.Anchor(f.ctx, f.node); got != a20 {
		t.Fatalf("Anchor after the second prune: %+v, want %+v", got, a20)
	}
	wantOK(t, f.verify(&a20))
}

// testConcurrentStreams checks that Verify, which reads a node's heads and
// records at once, works on a chain longer than any sensible page.
func testConcurrentStreams(t *testing.T, f *fixture) {
	f.chain(f.node, 1200, 10, 10)
	ctx, cancel := context.WithTimeout(f.ctx, 30*time.Second)
	defer cancel()
	rep, err := audit.Verify(ctx, f.store, f.node, f.signer.Public(), nil)
	if err != nil {
		t.Fatalf("Verify: %v (can the store serve Heads while a Scan is open?)", err)
	}
	wantOK(t, rep)
	if rep.Records != 1200 || rep.Heads != 120 {
		t.Fatalf("Verify checked %d records and %d heads, want 1200 and 120", rep.Records, rep.Heads)
	}
}

// testLogOverStore runs a Log on the store: concurrent appends make one
// sound chain, and the published head anchors it.
func testLogOverStore(t *testing.T, f *fixture) {
	l, err := audit.Open(f.ctx, f.store, audit.Options{Node: f.node, Signer: f.signer, SignEvery: 16})
	if err != nil {
		t.Fatal(err)
	}
	const workers, each = 20, 15
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				r := f.record(f.node, w*each+i)
				if err := l.Append(f.ctx, &r); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Append: %v", err)
	}
	head := l.Head()
	rep := f.verify(&head)
	wantOK(t, rep)
	if rep.Records != workers*each || head.Seq == 0 {
		t.Fatalf("Verify: %d records, head at %d; want %d records and a head", rep.Records, head.Seq, workers*each)
	}
	if err := l.Close(f.ctx); err != nil {
		t.Fatalf("Log.Close: %v", err)
	}
}

// testLogAfterPrune opens a Log on a chain pruned to nothing: it continues
// from the anchor.
func testLogAfterPrune(t *testing.T, f *fixture) {
	recs := f.chain(f.node, 10, 5, 5)
	anchor := f.signer.Sign(f.node, 10, recs[9].Hash, time.Now())
	if err := f.store.Prune(f.ctx, f.node, 10, anchor); err != nil {
		t.Fatal(err)
	}
	l, err := audit.Open(f.ctx, f.store, audit.Options{Node: f.node, Signer: f.signer})
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Head(); got != anchor {
		t.Fatalf("Head after Open: %+v, want the anchor %+v", got, anchor)
	}
	r := f.record(f.node, 11)
	if err := l.Append(f.ctx, &r); err != nil {
		t.Fatal(err)
	}
	if r.Seq != 11 || r.PrevHash != anchor.Hash {
		t.Fatalf("appended seq %d after %s, want 11 after the anchor's %s", r.Seq, r.PrevHash, anchor.Hash)
	}
	wantOK(t, f.verify(nil))
	if err := l.Close(f.ctx); err != nil {
		t.Fatal(err)
	}
}
