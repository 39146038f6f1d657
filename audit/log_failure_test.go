package audit_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/govbus/govbus/audit"
)

// health counts the log's health transitions.
type health struct{ failures, recoveries atomic.Int32 }

func (h *health) options(o audit.Options) audit.Options {
	o.OnFailure = func(error) { h.failures.Add(1) }
	o.OnRecover = func() { h.recoveries.Add(1) }
	return o
}

func (h *health) want(t *testing.T, failures, recoveries int32) {
	t.Helper()
	if f, r := h.failures.Load(), h.recoveries.Load(); f != failures || r != recoveries {
		t.Fatalf("OnFailure called %d times, OnRecover %d; want %d and %d", f, r, failures, recoveries)
	}
}

func TestLogFailingStoreLosesNothingAndRecovers(t *testing.T) {
	inner := newSQLite(t)
	store := &flakyStore{Store: inner}
	signer := newTestSigner(t)
	var h health
	l := openLog(t, store, h.options(audit.Options{Signer: signer, SignEvery: 2}))
	for i := range 3 {
		if err := l.Append(t.Context(), request(i)); err != nil {
			t.Fatal(err)
		}
	}
	store.down.Store(true)
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			r := request(i)
			if err := l.Append(t.Context(), r); !errors.Is(err, errInjected) {
				t.Errorf("Append while the store is down: %v, want the store's error", err)
			}
			if r.Seq != 0 || r.Hash != "" {
				t.Errorf("a failed Append left seq %d, hash %q on the record", r.Seq, r.Hash)
			}
		})
	}
	wg.Wait()
	if err := l.Healthy(); !errors.Is(err, errInjected) {
		t.Fatalf("Healthy while failing: %v, want the store's error", err)
	}
	h.want(t, 1, 0)
	if err := l.Probe(t.Context()); !errors.Is(err, errInjected) {
		t.Fatalf("Probe while down: %v", err)
	}
	if last, _, _ := inner.Last(t.Context(), "ee-test"); last.Seq != 3 {
		t.Fatalf("the store's last record is %d after the failures, want 3", last.Seq)
	}

	store.down.Store(false)
	if err := l.Healthy(); err == nil {
		t.Fatal("Healthy turned nil before anything succeeded")
	}
	if err := l.Probe(t.Context()); err != nil || l.Healthy() != nil {
		t.Fatalf("Probe after recovery: %v, Healthy %v; want nil, nil", err, l.Healthy())
	}
	h.want(t, 1, 1)
	r := request(99)
	if err := l.Append(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	if r.Seq != 4 {
		t.Fatalf("first record after recovery at seq %d, want 4", r.Seq)
	}
	verify(t, inner, signer.Public(), nil)
}

func TestLogRecoversByAppending(t *testing.T) {
	store := &flakyStore{Store: newSQLite(t)}
	var h health
	l := openLog(t, store, h.options(audit.Options{}))
	store.down.Store(true)
	if err := l.Append(t.Context(), request(1)); err == nil {
		t.Fatal("Append succeeded on a store that is down")
	}
	store.down.Store(false)
	if err := l.Append(t.Context(), request(2)); err != nil || l.Healthy() != nil {
		t.Fatalf("Append after recovery: %v, Healthy %v", err, l.Healthy())
	}
	h.want(t, 1, 1)
}

// TestLogCommitWithLostReply: the store committed but reported failure.
// The caller saw an error, the record is there, and the chain continues
// after it.
func TestLogCommitWithLostReply(t *testing.T) {
	inner := newSQLite(t)
	store := &flakyStore{Store: inner}
	signer := newTestSigner(t)
	l := openLog(t, store, audit.Options{Signer: signer})
	if err := l.Append(t.Context(), request(1)); err != nil {
		t.Fatal(err)
	}
	store.lostReply.Store(true)
	if err := l.Append(t.Context(), request(2)); !errors.Is(err, errInjected) {
		t.Fatalf("Append with a lost reply: %v, want the store's error", err)
	}
	store.lostReply.Store(false)
	r := request(3)
	if err := l.Append(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	if r.Seq != 3 {
		t.Fatalf("record after the lost reply at seq %d, want 3 (after the committed 2)", r.Seq)
	}
	verify(t, inner, signer.Public(), nil)
}

func TestLogContinuesAfterRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "messagelog.db")
	signer := newTestSigner(t)
	open := func() (*audit.SQLiteStore, *audit.Log) {
		s, err := audit.OpenSQLite(path)
		if err != nil {
			t.Fatal(err)
		}
		l, err := audit.Open(t.Context(), s, audit.Options{Node: "ee-test", Signer: signer, SignEvery: 4})
		if err != nil {
			t.Fatal(err)
		}
		return s, l
	}
	_, l1 := open()
	var last audit.Record
	for i := range 10 {
		r := request(i)
		if err := l1.Append(t.Context(), r); err != nil {
			t.Fatal(err)
		}
		last = *r
	}
	if err := l1.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	final := l1.Head()
	if final.Seq != 10 || final.Hash != last.Hash {
		t.Fatalf("final head %d/%s, want 10/%s", final.Seq, final.Hash, last.Hash)
	}

	s2, l2 := open()
	if got := l2.Head(); got != final {
		t.Fatalf("Head after restart %+v, want the final head %+v", got, final)
	}
	r := request(11)
	if err := l2.Append(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	if r.Seq != 11 || r.PrevHash != last.Hash {
		t.Fatalf("after restart: seq %d prev %s, want 11 after %s", r.Seq, r.PrevHash, last.Hash)
	}
	rep := verify(t, s2, signer.Public(), &final)
	if rep.Records != 11 {
		t.Fatalf("Verify after restart: %s", rep)
	}
	if err := l2.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestLogCloseCommitsQueuedAppends(t *testing.T) {
	store := &countingStore{Store: newSQLite(t)}
	l := openLog(t, store, audit.Options{})
	var (
		wg       sync.WaitGroup
		appended atomic.Int64
	)
	for i := range 40 {
		wg.Go(func() {
			err := l.Append(context.Background(), request(i))
			switch {
			case err == nil:
				appended.Add(1)
			case !errors.Is(err, audit.ErrClosed):
				t.Errorf("Append during Close: %v, want nil or ErrClosed", err)
			}
		})
	}
	if err := l.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	head := l.Head()
	if head.Seq != appended.Load() {
		t.Fatalf("final head at %d, but %d appends succeeded", head.Seq, appended.Load())
	}
	if err := l.Append(t.Context(), request(0)); !errors.Is(err, audit.ErrClosed) {
		t.Fatalf("Append after Close: %v, want ErrClosed", err)
	}
	if err := l.Close(t.Context()); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
