package audit_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/govbus/govbus/audit"
)

// testTime is a UTC time at microsecond precision.
var testTime = time.Date(2031, 5, 6, 7, 8, 9, 123456000, time.UTC)

// clock is a fake clock, safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: testTime} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// commitCall is one Append a countingStore saw succeed.
type commitCall struct {
	records int
	last    int64 // Seq of the last record, 0 for a head-only commit
	head    *audit.SignedHead
}

// countingStore records the transactions that reach the store.
type countingStore struct {
	audit.Store
	mu    sync.Mutex
	calls []commitCall
}

func (s *countingStore) Append(ctx context.Context, recs []audit.Record, head *audit.SignedHead) error {
	if err := s.Store.Append(ctx, recs, head); err != nil {
		return err
	}
	c := commitCall{records: len(recs), head: head}
	if len(recs) > 0 {
		c.last = recs[len(recs)-1].Seq
	}
	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.mu.Unlock()
	return nil
}

func (s *countingStore) commits() []commitCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]commitCall(nil), s.calls...)
}

// headSeqs returns the Seqs of the heads committed.
func (s *countingStore) headSeqs() []int64 {
	var out []int64
	for _, c := range s.commits() {
		if c.head != nil {
			out = append(out, c.head.Seq)
		}
	}
	return out
}

var errInjected = errors.New("injected store failure")

// flakyStore fails on demand: down makes every call fail, as a store that
// is unreachable; lostReply makes Append commit and then report failure,
// as a connection lost before the commit's reply.
type flakyStore struct {
	audit.Store
	down, lostReply atomic.Bool
}

func (s *flakyStore) Append(ctx context.Context, recs []audit.Record, head *audit.SignedHead) error {
	if s.down.Load() {
		return errInjected
	}
	if s.lostReply.Load() {
		return errors.Join(s.Store.Append(ctx, recs, head), errInjected)
	}
	return s.Store.Append(ctx, recs, head)
}

func (s *flakyStore) Last(ctx context.Context, node string) (audit.Record, bool, error) {
	if s.down.Load() {
		return audit.Record{}, false, errInjected
	}
	return s.Store.Last(ctx, node)
}

func (s *flakyStore) Ping(ctx context.Context) error {
	if s.down.Load() {
		return errInjected
	}
	return s.Store.Ping(ctx)
}

// newSQLite returns a SQLite store in a new file, closed when the test
// ends (closing twice is harmless).
func newSQLite(t testing.TB) *audit.SQLiteStore {
	t.Helper()
	s, err := audit.OpenSQLite(t.TempDir() + "/messagelog.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openLog opens a Log for node "ee-test" on store, closed when the test
// ends.
func openLog(t testing.TB, store audit.Store, opts audit.Options) *audit.Log {
	t.Helper()
	if opts.Node == "" {
		opts.Node = "ee-test"
	}
	if opts.Signer == nil {
		opts.Signer = newTestSigner(t)
	}
	l, err := audit.Open(context.Background(), store, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close(context.Background()) })
	return l
}

// verify verifies node "ee-test" and fails the test unless it is sound.
func verify(t testing.TB, store audit.Store, pub []byte, anchor *audit.SignedHead) audit.Report {
	t.Helper()
	rep, err := audit.Verify(context.Background(), store, "ee-test", pub, anchor)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !rep.OK {
		t.Fatalf("Verify: %s", rep)
	}
	return rep
}

// request returns a sample request record.
func request(i int) *audit.Record {
	return &audit.Record{Kind: audit.KindRequest, Client: "EE/GOV/70000001/client",
		Service: "EE/GOV/80000001/registry/persons/v1", Method: "GET",
		PathTemplate: "/persons/{id}", Size: int64(i)}
}
