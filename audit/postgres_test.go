package audit_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/govbus/govbus/audit"
	"github.com/govbus/govbus/audit/pgtest"
	"github.com/govbus/govbus/audit/storetest"
)

// openPostgres opens a store on a new database of the shared test server.
func openPostgres(t testing.TB, params ...string) (*audit.PostgresStore, string) {
	t.Helper()
	dsn := pgtest.Start(t)
	for _, p := range params {
		dsn += "&" + p
	}
	s, err := audit.OpenPostgres(context.Background(), dsn)
	if err != nil {
		t.Fatalf("OpenPostgres: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dsn
}

// TestMain stops the PostgreSQL server that pgtest.Start shares among this
// package's tests, once they have run.
func TestMain(m *testing.M) { pgtest.Main(m) }

// TestPostgresConformance runs the shared Store suite on PostgreSQL, with
// tampering through a pool of its own.
func TestPostgresConformance(t *testing.T) {
	dsn := pgtest.Start(t) // one database: the suite's tests use their own nodes
	pool, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	tamper := storetest.ExecFunc(func(ctx context.Context, query string, args ...any) error {
		_, err := pool.Exec(ctx, query, args...)
		return err
	})
	storetest.Run(t, func(t *testing.T) audit.Store {
		s, err := audit.OpenPostgres(context.Background(), dsn)
		if err != nil {
			t.Fatalf("OpenPostgres: %v", err)
		}
		return storetest.WithTamper(s, tamper)
	})
}

// pgRecord is a record of node at seq with every field set.
func pgRecord(node string, seq int64) audit.Record {
	return audit.Record{
		Seq:           seq,
		ID:            fmt.Sprintf("%s-%08d", node, seq),
		Kind:          audit.KindRequest,
		Time:          time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(seq) * time.Second),
		Node:          node,
		MessageID:     fmt.Sprintf("msg-%d", seq),
		RequestID:     fmt.Sprintf("req-%d", seq),
		Client:        "EE/GOV/70000001/consumer",
		Service:       "EE/GOV/70000002/registry/persons",
		Method:        "GET",
		PathTemplate:  "/persons/{id}",
		UserID:        "EE38001010000",
		Issue:         "case-17",
		Purpose:       "benefit-check",
		RuleID:        "rule-3",
		Status:        200,
		ErrorType:     "",
		Size:          512,
		BodySHA256:    strings.Repeat("ab", 32),
		SubjectHash:   strings.Repeat("cd", 32),
		TraceID:       strings.Repeat("0f", 16),
		PrevHash:      fmt.Sprintf("%064x", seq-1),
		Hash:          fmt.Sprintf("%064x", seq),
		DiscloseAfter: time.Time{},
		SentAt:        time.Date(2026, 3, 1, 11, 59, 59, 100000, time.UTC).Add(time.Duration(seq) * time.Second),
		ReceivedAt:    time.Date(2026, 3, 1, 11, 59, 59, 900000, time.UTC).Add(time.Duration(seq) * time.Second),
		Attempts:      1,
	}
}

func pgRecords(node string, from, n int64) []audit.Record {
	recs := make([]audit.Record, 0, n)
	for seq := from; seq < from+n; seq++ {
		recs = append(recs, pgRecord(node, seq))
	}
	return recs
}

func pgHead(node string, seq int64) audit.SignedHead {
	return audit.SignedHead{
		Node: node, Seq: seq, Hash: fmt.Sprintf("%064x", seq),
		Time:  time.Date(2026, 3, 1, 13, 0, 0, 0, time.UTC).Add(time.Duration(seq) * time.Second),
		KeyID: "node-key-1", Signature: "c2lnbmF0dXJl",
	}
}

// pgAll gathers all that walk (a store's Scan or Heads, named name) calls
// back with for node from from on, and fails the test on its error.
func pgAll[T any](t *testing.T, name string, walk func(context.Context, string, int64, func(T) error) error, node string, from int64) []T {
	t.Helper()
	var got []T
	if err := walk(context.Background(), node, from, func(v T) error {
		got = append(got, v)
		return nil
	}); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return got
}

func pgScanAll(t *testing.T, s audit.Store, node string, from int64) []audit.Record {
	t.Helper()
	return pgAll(t, "Scan", s.Scan, node, from)
}

func pgHeadsAll(t *testing.T, s audit.Store, node string, from int64) []audit.SignedHead {
	t.Helper()
	return pgAll(t, "Heads", s.Heads, node, from)
}

func TestPostgresRoundTripsEveryField(t *testing.T) {
	s, _ := openPostgres(t)
	ctx := context.Background()
	tz := time.FixedZone("EET", 2*3600)
	r := pgRecord("n1", 1)
	r.Time = time.Date(2026, 3, 1, 14, 0, 0, 123456789, tz) // ns and a zone
	r.Kind = audit.KindResponse
	r.Status, r.ErrorType = 502, "Server.ServiceFailed"
	r.Body = []byte{0, 1, 2, 0xff}
	r.DiscloseAfter = time.Date(2027, 1, 1, 0, 0, 0, 999, tz)
	r.SentAt = time.Date(2026, 3, 1, 13, 59, 59, 7654321, tz)
	r.ReceivedAt = time.Date(2026, 3, 1, 13, 59, 59, 8000001, tz)
	r.Attempts = 3
	empty := pgRecord("n1", 2)
	empty.Body = []byte{}
	empty.UserID, empty.SubjectHash, empty.TraceID, empty.Status = "", "", "", 0
	empty.SentAt, empty.ReceivedAt, empty.Attempts = time.Time{}, time.Time{}, 0
	h := pgHead("n1", 2)
	h.Time = time.Date(2026, 3, 1, 14, 0, 1, 5001, tz)
	if err := s.Append(ctx, []audit.Record{r, empty}, &h); err != nil {
		t.Fatal(err)
	}

	want := r
	want.Time = time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC)
	want.DiscloseAfter = time.Date(2026, 12, 31, 22, 0, 0, 0, time.UTC)
	want.SentAt = time.Date(2026, 3, 1, 11, 59, 59, 7654000, time.UTC)
	want.ReceivedAt = time.Date(2026, 3, 1, 11, 59, 59, 8000000, time.UTC)
	wantEmpty := empty
	wantEmpty.Body = nil
	got := pgScanAll(t, s, "n1", 1)
	if len(got) != 2 {
		t.Fatalf("Scan gave %d records, want 2", len(got))
	}
	if !reflect.DeepEqual(got[0], want) {
		t.Errorf("record 1:\n got %+v\nwant %+v", got[0], want)
	}
	if got[0].Time.Location() != time.UTC {
		t.Errorf("time location = %v, want UTC", got[0].Time.Location())
	}
	if !reflect.DeepEqual(got[1], wantEmpty) {
		t.Errorf("record 2:\n got %+v\nwant %+v", got[1], wantEmpty)
	}
	last, ok, err := s.Last(ctx, "n1")
	if err != nil || !ok || !reflect.DeepEqual(last, wantEmpty) {
		t.Errorf("Last = %+v, %v, %v; want record 2", last, ok, err)
	}
	wantHead := h
	wantHead.Time = time.Date(2026, 3, 1, 12, 0, 1, 5000, time.UTC)
	lh, ok, err := s.LastHead(ctx, "n1")
	if err != nil || !ok || !reflect.DeepEqual(lh, wantHead) {
		t.Errorf("LastHead = %+v, %v, %v; want %+v", lh, ok, err, wantHead)
	}
}

func TestPostgresEmptyChain(t *testing.T) {
	s, _ := openPostgres(t)
	ctx := context.Background()
	if _, ok, err := s.Last(ctx, "n1"); ok || err != nil {
		t.Errorf("Last on an empty chain: ok=%v err=%v", ok, err)
	}
	if _, ok, err := s.LastHead(ctx, "n1"); ok || err != nil {
		t.Errorf("LastHead on an empty chain: ok=%v err=%v", ok, err)
	}
	if _, ok, err := s.Anchor(ctx, "n1"); ok || err != nil {
		t.Errorf("Anchor on an empty chain: ok=%v err=%v", ok, err)
	}
	if got := pgScanAll(t, s, "n1", 1); len(got) != 0 {
		t.Errorf("Scan gave %d records", len(got))
	}
	if err := s.Append(ctx, nil, nil); err != nil {
		t.Errorf("empty Append: %v", err)
	}
}

func TestPostgresAppendIsAllOrNothing(t *testing.T) {
	s, _ := openPostgres(t)
	ctx := context.Background()
	if err := s.Append(ctx, pgRecords("n1", 1, 3), ptr(pgHead("n1", 3))); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		records []audit.Record
		head    *audit.SignedHead
	}{
		{"record conflicts in the middle", pgRecords("n1", 2, 3), nil}, // 2 exists... 4 not
		{"records conflict with each other", append(pgRecords("n1", 4, 2), pgRecord("n1", 4)), nil},
		{"head conflicts", pgRecords("n1", 4, 2), ptr(pgHead("n1", 3))},
		{"only a head, conflicting", nil, ptr(pgHead("n1", 3))},
	}
	for _, tt := range tests {
		if err := s.Append(ctx, tt.records, tt.head); err == nil {
			t.Errorf("%s: Append succeeded", tt.name)
		}
	}
	if got := pgScanAll(t, s, "n1", 1); len(got) != 3 {
		t.Errorf("after failed appends Scan gave %d records, want 3", len(got))
	}
	if got := pgHeadsAll(t, s, "n1", 0); len(got) != 1 {
		t.Errorf("after failed appends Heads gave %d heads, want 1", len(got))
	}
	// The store stays usable after the failed transactions.
	if err := s.Append(ctx, pgRecords("n1", 4, 2), ptr(pgHead("n1", 5))); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(ctx, nil, ptr(pgHead("n1", 6))); err != nil {
		t.Errorf("a head alone: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestPostgresKeepsNodesApart(t *testing.T) {
	s, _ := openPostgres(t)
	ctx := context.Background()
	if err := s.Append(ctx, pgRecords("a", 1, 3), ptr(pgHead("a", 3))); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(ctx, pgRecords("b", 1, 5), ptr(pgHead("b", 5))); err != nil {
		t.Fatal(err)
	}
	if last, _, _ := s.Last(ctx, "a"); last.Seq != 3 || last.Node != "a" {
		t.Errorf("Last(a) = %s/%d, want a/3", last.Node, last.Seq)
	}
	if got := pgScanAll(t, s, "b", 4); len(got) != 2 || got[0].Seq != 4 || got[1].Seq != 5 {
		t.Errorf("Scan(b, 4) gave %d records", len(got))
	}
	if got := pgHeadsAll(t, s, "a", 0); len(got) != 1 || got[0].Node != "a" {
		t.Errorf("Heads(a) = %+v", got)
	}
	if err := s.Prune(ctx, "a", 2, pgHead("a", 2)); err != nil {
		t.Fatal(err)
	}
	if got := pgScanAll(t, s, "b", 1); len(got) != 5 {
		t.Errorf("pruning a removed b's records: %d left", len(got))
	}
	if _, ok, _ := s.Anchor(ctx, "b"); ok {
		t.Error("pruning a anchored b")
	}
}

func TestPostgresBySubject(t *testing.T) {
	s, _ := openPostgres(t)
	ctx := context.Background()
	subject := strings.Repeat("5a", 32)
	base := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	var a, b []audit.Record
	for i := range 4 {
		r := pgRecord("a", int64(i+1))
		r.Time = base.Add(time.Duration(2*i) * time.Minute) // 0, 2, 4, 6
		r.SubjectHash = subject
		a = append(a, r)
		r = pgRecord("b", int64(i+1))
		r.Time = base.Add(time.Duration(2*i+1) * time.Minute) // 1, 3, 5, 7
		if i == 2 {
			r.SubjectHash = "" // no subject
		}
		if i != 2 {
			r.SubjectHash = subject
		}
		b = append(b, r)
	}
	a[3].SubjectHash = strings.Repeat("00", 32) // someone else
	for _, batch := range [][]audit.Record{a, b} {
		if err := s.Append(ctx, batch, nil); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.BySubject(ctx, audit.SubjectQuery{SubjectHash: subject, From: base.Add(time.Minute), To: base.Add(7 * time.Minute), Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range got {
		ids = append(ids, fmt.Sprintf("%s%d", r.Node, r.Seq))
	}
	// [1m, 7m): b1 (1m), a2 (2m), b2 (3m), a3 (4m); b3 has no subject, a4 is
	// someone else's, b4 (7m) is past the window.
	if want := "b1 a2 b2 a3"; strings.Join(ids, " ") != want {
		t.Errorf("BySubject = %s, want %s", strings.Join(ids, " "), want)
	}
	if got, err := s.BySubject(ctx, audit.SubjectQuery{From: base, To: base.Add(time.Hour), Limit: 100}); err != nil || len(got) != 0 {
		t.Errorf("BySubject(\"\") = %d records, %v; want none", len(got), err)
	}
}

func TestPostgresScanAndHeadsPageAndStop(t *testing.T) {
	// One connection: Scan and Heads must interleave on it, as Verify does.
	s, _ := openPostgres(t, "pool_max_conns=1")
	ctx := context.Background()
	const n = 2500
	for from := int64(1); from <= n; from += 500 {
		if err := s.Append(ctx, pgRecords("n1", from, 500), ptr(pgHead("n1", from+499))); err != nil {
			t.Fatal(err)
		}
	}
	heads := make(chan audit.SignedHead)
	headsDone := make(chan error, 1)
	go func() {
		headsDone <- s.Heads(ctx, "n1", 0, func(h audit.SignedHead) error {
			heads <- h
			return nil
		})
		close(heads)
	}()
	next, merged := int64(1), 0
	err := s.Scan(ctx, "n1", 1, func(r audit.Record) error {
		if r.Seq != next {
			return fmt.Errorf("seq %d, want %d", r.Seq, next)
		}
		next++
		if r.Seq%500 == 0 {
			h, ok := <-heads
			if !ok || h.Seq != r.Seq {
				return fmt.Errorf("at record %d: head %d, %v", r.Seq, h.Seq, ok)
			}
			merged++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := <-heads; ok {
		t.Error("more heads than expected")
	}
	if err := <-headsDone; err != nil {
		t.Fatal(err)
	}
	if next != n+1 || merged != 5 {
		t.Errorf("scanned up to %d with %d heads, want %d with 5", next-1, merged, n)
	}

	stop := errors.New("stop")
	calls := 0
	err = s.Scan(ctx, "n1", 1200, func(r audit.Record) error {
		calls++
		if r.Seq == 1210 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 11 {
		t.Errorf("Scan stopping at 1210: err=%v after %d calls; want stop after 11", err, calls)
	}
	if err := s.Heads(ctx, "n1", 1001, func(audit.SignedHead) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("Heads stopping: err=%v, want stop", err)
	}
}

func TestPostgresPrune(t *testing.T) {
	s, _ := openPostgres(t)
	ctx := context.Background()
	if err := s.Append(ctx, pgRecords("n1", 1, 5), ptr(pgHead("n1", 2))); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(ctx, pgRecords("n1", 6, 5), ptr(pgHead("n1", 10))); err != nil {
		t.Fatal(err)
	}
	if err := s.Prune(ctx, "n1", 4, pgHead("n1", 4)); err != nil {
		t.Fatal(err)
	}
	if got := pgScanAll(t, s, "n1", 0); len(got) != 6 || got[0].Seq != 5 {
		t.Errorf("after pruning to 4, Scan gave %d records from %d", len(got), got[0].Seq)
	}
	if got := pgHeadsAll(t, s, "n1", 0); len(got) != 1 || got[0].Seq != 10 {
		t.Errorf("after pruning to 4, Heads = %+v, want the head at 10", got)
	}
	a, ok, err := s.Anchor(ctx, "n1")
	if err != nil || !ok || !reflect.DeepEqual(a, pgHead("n1", 4)) {
		t.Errorf("Anchor = %+v, %v, %v", a, ok, err)
	}
	if err := s.Prune(ctx, "n1", 7, pgHead("n1", 7)); err != nil {
		t.Fatal(err)
	}
	if a, _, _ := s.Anchor(ctx, "n1"); a.Seq != 7 {
		t.Errorf("anchor after the second prune at %d, want 7", a.Seq)
	}
	for _, tt := range []struct {
		name   string
		upTo   int64
		anchor audit.SignedHead
	}{
		{"backwards", 5, pgHead("n1", 5)},
		{"anchor at another seq", 8, pgHead("n1", 9)},
		{"anchor of another node", 8, pgHead("n2", 8)},
	} {
		if err := s.Prune(ctx, "n1", tt.upTo, tt.anchor); err == nil {
			t.Errorf("Prune %s succeeded", tt.name)
		}
	}
	if got := pgScanAll(t, s, "n1", 0); len(got) != 3 || got[0].Seq != 8 {
		t.Errorf("after refused prunes, Scan gave %d records", len(got))
	}
	if a, _, _ := s.Anchor(ctx, "n1"); a.Seq != 7 {
		t.Errorf("a refused prune moved the anchor to %d", a.Seq)
	}
	// All records pruned: the chain is empty, the anchor says where it was.
	if err := s.Prune(ctx, "n1", 10, pgHead("n1", 10)); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Last(ctx, "n1"); ok || err != nil {
		t.Errorf("Last after pruning everything: ok=%v err=%v", ok, err)
	}
}

func TestPostgresOpenConcurrentlyAndReopen(t *testing.T) {
	dsn := pgtest.Start(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			s, err := audit.OpenPostgres(ctx, dsn)
			if err == nil {
				err = s.Ping(ctx)
				s.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent OpenPostgres: %v", err)
		}
	}
	s, err := audit.OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Append(ctx, pgRecords("n1", 1, 2), nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	s, err = audit.OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if last, ok, err := s.Last(ctx, "n1"); err != nil || !ok || last.Seq != 2 {
		t.Errorf("after reopening, Last = %d, %v, %v; want 2", last.Seq, ok, err)
	}
}

func TestPostgresOpenFailsFast(t *testing.T) {
	for _, dsn := range []string{
		"postgres://postgres@127.0.0.1:1/none?sslmode=disable", // nothing listens
		"::not a dsn::",
	} {
		start := time.Now()
		s, err := audit.OpenPostgres(context.Background(), dsn)
		if err == nil {
			s.Close()
			t.Errorf("OpenPostgres(%q) succeeded", dsn)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("OpenPostgres(%q) took %v", dsn, d)
		}
	}
}

func TestPostgresPingNeedsAWritableDatabase(t *testing.T) {
	s, dsn := openPostgres(t)
	ctx := context.Background()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	// The database turns read-only (as a standby is) under the live store.
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range []string{
		`DO $$BEGIN EXECUTE format('ALTER DATABASE %I SET default_transaction_read_only = on', current_database()); END$$`,
		`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid()`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	// The first calls may meet the terminated connections; then the pool
	// reconnects, read-only.
	var err1 error
	for range 5 {
		if err1 = s.Ping(ctx); err1 == nil {
			t.Fatal("Ping succeeded on a read-only database")
		}
	}
	var pgErr *pgconn.PgError
	if !errors.As(err1, &pgErr) || pgErr.Code != "25006" {
		t.Errorf("Ping: %v, want read_only_sql_transaction (25006)", err1)
	}
	if err := s.Append(ctx, pgRecords("n1", 1, 1), nil); !errors.As(err, &pgErr) || pgErr.Code != "25006" {
		t.Errorf("Append: %v, want read_only_sql_transaction (25006)", err)
	}
	if ro, err := audit.OpenPostgres(ctx, dsn); err == nil {
		ro.Close()
		t.Error("OpenPostgres succeeded on a read-only database")
	}
}

// openOwnServer starts a PostgreSQL server of the test's own, which it may
// stop or freeze, and opens a store on it that holds n1's records 1 to 10.
func openOwnServer(t *testing.T) (*pgtest.Server, *audit.PostgresStore) {
	t.Helper()
	srv := pgtest.StartServer(t)
	ctx := context.Background()
	s, err := audit.OpenPostgres(ctx, srv.DSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Append(ctx, pgRecords("n1", 1, 10), nil); err != nil {
		t.Fatal(err)
	}
	return srv, s
}

// failsWithin runs op, named name, with the server state ("down", "hung"):
// it must fail, within limit. It logs how fast it failed.
func failsWithin(t *testing.T, state, name string, limit time.Duration, op func() error) {
	t.Helper()
	start := time.Now()
	err := op()
	d := time.Since(start)
	if err == nil {
		t.Errorf("%s succeeded with the server %s", name, state)
	}
	if d > limit {
		t.Errorf("%s took %v to fail, want < %v", name, d, limit)
	}
	t.Logf("server %s: %s failed in %v: %v", state, name, d.Round(time.Millisecond), err)
}

// TestPostgresFailsClosed stops the server under a live store: Append and
// Ping fail, quickly; once it is back, the same store works again.
func TestPostgresFailsClosed(t *testing.T) {
	srv, s := openOwnServer(t)
	ctx := context.Background()

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	for i, op := range []func() error{
		func() error { return s.Append(ctx, pgRecords("n1", 11, 10), nil) },
		func() error { return s.Ping(ctx) },
		func() error { return s.Append(ctx, pgRecords("n1", 11, 10), nil) },
		func() error { _, _, err := s.Last(ctx, "n1"); return err },
		func() error { return s.Ping(ctx) },
	} {
		failsWithin(t, "down", fmt.Sprintf("operation %d", i), 3*time.Second, op)
	}

	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping after restart: %v", err)
	}
	if err := s.Append(ctx, pgRecords("n1", 11, 10), nil); err != nil {
		t.Errorf("Append after restart: %v", err)
	}
	if got := pgScanAll(t, s, "n1", 1); len(got) != 20 {
		t.Errorf("after restart Scan gave %d records, want 20", len(got))
	}
}

// TestPostgresFailsClosedWhenServerHangs suspends the server: connections
// stay open but nothing answers. Append and Ping fail within their time
// limits (5 s and 2 s) instead of hanging; once it resumes they succeed.
func TestPostgresFailsClosedWhenServerHangs(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the store's time limits")
	}
	srv, s := openOwnServer(t)
	ctx := context.Background()

	if err := srv.Freeze(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		op    func() error
		limit time.Duration
	}{
		{"Append", func() error { return s.Append(ctx, pgRecords("n1", 11, 10), nil) }, 6 * time.Second},
		{"Ping", func() error { return s.Ping(ctx) }, 3 * time.Second},
	} {
		failsWithin(t, "hung", tt.name, tt.limit, tt.op)
	}

	if err := srv.Thaw(); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(ctx, pgRecords("n1", 11, 10), nil); err != nil {
		t.Errorf("Append after thaw: %v", err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping after thaw: %v", err)
	}
}

// BenchmarkAppendPostgres appends durable batches of 64 records from 64
// goroutines, each its own node's chain, as a cluster's group commits do.
func BenchmarkAppendPostgres(b *testing.B) {
	const batch, writers = 64, 64
	s, _ := openPostgres(b, fmt.Sprintf("pool_max_conns=%d", writers))
	ctx := context.Background()
	var nodes atomic.Int64
	b.SetParallelism((writers + 1) / 2) // × GOMAXPROCS goroutines
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		node := fmt.Sprintf("node-%d", nodes.Add(1))
		seq := int64(1)
		for pb.Next() {
			recs := pgRecords(node, seq, batch)
			seq += batch
			if err := s.Append(ctx, recs, nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
	elapsed := time.Since(start)
	b.ReportMetric(float64(b.N*batch)/elapsed.Seconds(), "records/s")
	b.ReportMetric(float64(nodes.Load()), "writers")
}
