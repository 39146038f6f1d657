package audit_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/govbus/govbus/audit"
)

// appendConcurrently appends workers×each records from workers goroutines
// and returns them as Append filled them in.
func appendConcurrently(t *testing.T, l *audit.Log, workers, each int) []*audit.Record {
	t.Helper()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		recs []*audit.Record
	)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				r := request(w*each + i)
				if err := l.Append(t.Context(), r); err != nil {
					t.Errorf("Append: %v", err)
					return
				}
				mu.Lock()
				recs = append(recs, r)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return recs
}

func TestLogConcurrentAppendsKeepAPerfectChain(t *testing.T) {
	store := newSQLite(t)
	signer := newTestSigner(t)
	l := openLog(t, store, audit.Options{Signer: signer, SignEvery: 100})
	const workers, each = 50, 20
	recs := appendConcurrently(t, l, workers, each)

	seen := make(map[int64]*audit.Record)
	for _, r := range recs {
		if r.Seq < 1 || r.Seq > workers*each || seen[r.Seq] != nil {
			t.Fatalf("Append gave seq %d (duplicate or out of 1..%d)", r.Seq, workers*each)
		}
		seen[r.Seq] = r
	}
	head := l.Head()
	rep := verify(t, store, signer.Public(), &head)
	// A batch holds at most one record per worker, so a head is signed at
	// most SignEvery+workers-1 records after the one before.
	if minHeads := workers * each / (100 + workers - 1); rep.Records != workers*each || rep.Heads < minHeads {
		t.Fatalf("Verify: %s; want %d records and at least %d heads", rep, workers*each, minHeads)
	}
	err := store.Scan(t.Context(), "ee-test", 1, func(r audit.Record) error {
		if got := seen[r.Seq]; got.ID != r.ID || got.Hash != r.Hash || got.PrevHash != r.PrevHash {
			t.Errorf("seq %d: Append reported %s/%s, the store holds %s/%s", r.Seq, got.ID, got.Hash, r.ID, r.Hash)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestLogGroupCommitBatches(t *testing.T) {
	for _, tc := range []struct {
		name     string
		maxDelay time.Duration
	}{{"default delay", 0}, {"no delay", -1}} {
		t.Run(tc.name, func(t *testing.T) {
			store := &countingStore{Store: newSQLite(t)}
			l := openLog(t, store, audit.Options{MaxDelay: tc.maxDelay, MaxBatch: 64})
			const workers, each = 50, 20
			appendConcurrently(t, l, workers, each)
			commits := store.commits()
			biggest := 0
			for _, c := range commits {
				biggest = max(biggest, c.records)
				if c.records > 64 {
					t.Fatalf("a commit held %d records, more than MaxBatch 64", c.records)
				}
			}
			t.Logf("%d records in %d transactions (largest %d)", workers*each, len(commits), biggest)
			if len(commits)*4 > workers*each {
				t.Fatalf("%d transactions for %d records: group commit is not batching", len(commits), workers*each)
			}
		})
	}
}

// TestLogGroupCommitBatchesOnOneProcessor runs appenders that work between
// appends (as exchanges do) on one processor, where the committer, woken by
// each append, would otherwise commit every record alone: batches must
// still gather the records of many appenders.
func TestLogGroupCommitBatchesOnOneProcessor(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	store := &countingStore{Store: newSQLite(t)}
	l := openLog(t, store, audit.Options{MaxDelay: -1}) // no waiting: yields only
	const workers, each = 64, 20
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			sum := sha256.Sum256([]byte{byte(w)})
			for i := range each {
				for range 200 { // some microseconds of an exchange's own work
					sum = sha256.Sum256(sum[:])
				}
				if err := l.Append(t.Context(), request(w*each+i)); err != nil {
					t.Errorf("Append: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	records := 0
	commits := store.commits()
	for _, c := range commits {
		records += c.records
	}
	perCommit := float64(records) / float64(len(commits))
	t.Logf("%d records in %d transactions: %.1f per transaction", records, len(commits), perCommit)
	// Here, with the committer's yields, 58 to 64 records per transaction;
	// without them, 27 to 44.
	if perCommit < workers*3/4 {
		t.Fatalf("%.1f records per transaction from %d appenders on one processor: group commit is not batching", perCommit, workers)
	}
}

func TestLogSignsEverySignEveryRecords(t *testing.T) {
	store := &countingStore{Store: newSQLite(t)}
	clk := newClock()
	l := openLog(t, store, audit.Options{SignEvery: 10, SignInterval: time.Hour, Now: clk.Now})
	for i := range 25 {
		if err := l.Append(t.Context(), request(i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := store.headSeqs(); len(got) != 2 || got[0] != 10 || got[1] != 20 {
		t.Fatalf("heads at %v, want [10 20]", got)
	}
	for _, c := range store.commits() {
		if c.head != nil && c.head.Seq != c.last {
			t.Fatalf("head at %d stored with records up to %d: want the batch's own head", c.head.Seq, c.last)
		}
	}
	if got := l.Head().Seq; got != 20 {
		t.Fatalf("Head() at %d, want 20", got)
	}
	if err := l.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := store.headSeqs(); len(got) != 3 || got[2] != 25 {
		t.Fatalf("heads after Close at %v, want the final one at 25", got)
	}
}

func TestLogSignsAfterSignInterval(t *testing.T) {
	store := &countingStore{Store: newSQLite(t)}
	clk := newClock()
	heads := make(chan audit.SignedHead, 10)
	l := openLog(t, store, audit.Options{SignInterval: 40 * time.Millisecond, Now: clk.Now,
		OnHead: func(h audit.SignedHead) { heads <- h }})
	for i := range 3 {
		if err := l.Append(t.Context(), request(i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := store.headSeqs(); len(got) != 0 {
		t.Fatalf("heads at %v before SignInterval passed, want none", got)
	}
	clk.Add(time.Minute)
	if err := l.Append(t.Context(), request(4)); err != nil {
		t.Fatal(err)
	}
	c := store.commits()
	if last := c[len(c)-1]; last.head == nil || last.head.Seq != 4 || last.records != 1 {
		t.Fatalf("the commit after SignInterval: %+v, want record 4 with its head", last)
	}
	if h := <-heads; h.Seq != 4 {
		t.Fatalf("OnHead got seq %d, want 4", h.Seq)
	}

	// Idle: records appended, nothing after; the committer's tick signs.
	if err := l.Append(t.Context(), request(5)); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Minute)
	select {
	case h := <-heads:
		if h.Seq != 5 {
			t.Fatalf("idle head at %d, want 5", h.Seq)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no head signed while idle after SignInterval")
	}
	c = store.commits()
	if last := c[len(c)-1]; last.records != 0 || last.head == nil {
		t.Fatalf("idle signing committed %+v, want a head-only transaction", last)
	}
}

func TestLogAppendFillsTheRecord(t *testing.T) {
	clk := newClock()
	store := newSQLite(t)
	l := openLog(t, store, audit.Options{Now: clk.Now})
	zone := time.FixedZone("EET", 2*3600)
	body := []byte("body")
	r := &audit.Record{Body: body, DiscloseAfter: testTime.In(zone).Add(1500 * time.Nanosecond),
		SentAt: testTime.In(zone).Add(-2500 * time.Nanosecond), ReceivedAt: testTime.In(zone).Add(-999 * time.Nanosecond),
		Attempts: 2}
	if err := l.Append(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	if len(r.ID) != 36 || r.Node != "ee-test" || !r.Time.Equal(testTime) || r.Seq != 1 ||
		r.PrevHash != "" || r.Hash != r.ComputeHash() {
		t.Fatalf("Append filled in %+v", r)
	}
	if want := testTime.Add(time.Microsecond); r.DiscloseAfter != want {
		t.Fatalf("DiscloseAfter %v, want %v (UTC, microseconds)", r.DiscloseAfter, want)
	}
	if want := testTime.Add(-3 * time.Microsecond); r.SentAt != want {
		t.Fatalf("SentAt %v, want %v (UTC, microseconds)", r.SentAt, want)
	}
	if want := testTime.Add(-time.Microsecond); r.ReceivedAt != want {
		t.Fatalf("ReceivedAt %v, want %v (UTC, microseconds)", r.ReceivedAt, want)
	}
	r2 := &audit.Record{ID: "mine"}
	if err := l.Append(t.Context(), r2); err != nil || r2.ID != "mine" || r2.PrevHash != r.Hash {
		t.Fatalf("second Append: %v, id %q, prev %q; want the caller's id, linked to %q", err, r2.ID, r2.PrevHash, r.Hash)
	}
	var stored []audit.Record
	_ = store.Scan(t.Context(), "ee-test", 1, func(r audit.Record) error {
		stored = append(stored, r)
		return nil
	})
	if len(stored) != 2 || string(stored[0].Body) != "body" || stored[0].Hash != r.Hash {
		t.Fatalf("stored %d records, first body %q; want 2, %q", len(stored), stored[0].Body, "body")
	}
	if s := stored[0]; s.SentAt != r.SentAt || s.ReceivedAt != r.ReceivedAt || s.Attempts != 2 || s.ComputeHash() != s.Hash {
		t.Fatalf("stored %+v; want the operational fields of %+v", s, r)
	}
}

func TestOpenRejectsBadOptions(t *testing.T) {
	signer := newTestSigner(t)
	for _, opts := range []audit.Options{
		{Signer: signer},
		{Node: "ee node", Signer: signer},
		{Node: "ee"},
		{Node: "ee", Signer: signer, SignEvery: -1},
	} {
		if _, err := audit.Open(t.Context(), newSQLite(t), opts); err == nil {
			t.Errorf("Open(%+v) succeeded", opts)
		}
	}
	if _, err := audit.Open(t.Context(), &flakyStore{Store: newSQLite(t)}, audit.Options{}); err == nil {
		t.Error("Open with zero options succeeded")
	}
	down := &flakyStore{Store: newSQLite(t)}
	down.down.Store(true)
	if _, err := audit.Open(t.Context(), down, audit.Options{Node: "ee", Signer: signer}); !errors.Is(err, errInjected) {
		t.Errorf("Open on a store that is down: %v, want the store's error", err)
	}
}

func TestLogAppendWithEndedContext(t *testing.T) {
	store := newSQLite(t)
	l := openLog(t, store, audit.Options{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	// Append may hand the record to an idle committer or see ctx end first
	// (select picks at random); either way the record is not written.
	for i := range 30 {
		if err := l.Append(ctx, request(i)); !errors.Is(err, context.Canceled) {
			t.Fatalf("Append with a canceled context: %v, want context.Canceled", err)
		}
		r := request(i) // committed after any record handed over before it
		if err := l.Append(t.Context(), r); err != nil {
			t.Fatal(err)
		}
		if r.Seq != int64(i+1) {
			t.Fatalf("record %d got seq %d: a record appended with a canceled context was written", i+1, r.Seq)
		}
		runtime.Gosched() // let the committer go idle again
	}
}

// gatedStore holds the first Append until gate closes.
type gatedStore struct {
	audit.Store
	entered, gate chan struct{}
	once          sync.Once
}

func (s *gatedStore) Append(ctx context.Context, recs []audit.Record, head *audit.SignedHead) error {
	s.once.Do(func() {
		close(s.entered)
		<-s.gate
	})
	return s.Store.Append(ctx, recs, head)
}

// TestLogAppendAbandonedMidCommit: the caller gives up while its record is
// being committed and reuses its buffer; the log still writes the record
// it hashed.
func TestLogAppendAbandonedMidCommit(t *testing.T) {
	inner := newSQLite(t)
	store := &gatedStore{Store: inner, entered: make(chan struct{}), gate: make(chan struct{})}
	signer := newTestSigner(t)
	l := openLog(t, store, audit.Options{Signer: signer})
	ctx, cancel := context.WithCancel(t.Context())
	r := &audit.Record{Body: []byte("original")}
	done := make(chan error)
	go func() { done <- l.Append(ctx, r) }()
	<-store.entered
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("abandoned Append: %v, want context.Canceled", err)
	}
	copy(r.Body, "REUSED!!")
	close(store.gate)
	if err := l.Append(t.Context(), request(2)); err != nil {
		t.Fatal(err)
	}
	verify(t, inner, signer.Public(), nil)
}
