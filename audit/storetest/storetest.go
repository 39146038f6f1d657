// Package storetest is the conformance suite every audit.Store passes: the
// SQLite store and the PostgreSQL store run the same tests, which exercise
// each Store method and, through the store's own SQL, tamper with the
// shared schema (see the comment at the top of audit/sqlite.go) to check
// that audit.Verify names the tampered record.
//
// A store's test calls Run with a function that opens a store; wrapping it
// with WithTamper enables the tamper tests:
//
//	storetest.Run(t, func(t *testing.T) audit.Store {
//		s := open(t)
//		return storetest.WithTamper(s, storetest.SQLDB(db))
//	})
package storetest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/govbus/govbus/audit"
)

// Tamper runs SQL against the store's database, behind the store's back,
// as an attacker with database access would. Queries use $1-style
// placeholders and the shared schema.
type Tamper interface {
	Exec(ctx context.Context, query string, args ...any) error
}

// ExecFunc adapts a function to Tamper (e.g. around a pgxpool.Pool).
type ExecFunc func(ctx context.Context, query string, args ...any) error

// Exec calls f.
func (f ExecFunc) Exec(ctx context.Context, query string, args ...any) error {
	return f(ctx, query, args...)
}

// SQLDB returns a Tamper that runs queries on db.
func SQLDB(db *sql.DB) Tamper {
	return ExecFunc(func(ctx context.Context, query string, args ...any) error {
		_, err := db.ExecContext(ctx, query, args...)
		return err
	})
}

// WithTamper returns s, which also offers tm to the suite.
func WithTamper(s audit.Store, tm Tamper) audit.Store {
	return tamperStore{Store: s, tamper: tm}
}

type tamperStore struct {
	audit.Store
	tamper Tamper
}

// Run runs the suite. open returns a new, open store for the test it is
// given; Run closes it when the test ends. Stores may share one database:
// every test uses its own node names and subject hashes. When the store
// comes from WithTamper, the tamper tests run; otherwise they are skipped.
func Run(t *testing.T, open func(t *testing.T) audit.Store) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, f *fixture)
	}{
		{"AppendScanRoundTrip", testRoundTrip},
		{"ScanPagesAndStops", testScanPages},
		{"AppendAtomic", testAppendAtomic},
		{"Last", testLast},
		{"HeadsAndLastHead", testHeads},
		{"BySubject", testBySubject},
		{"BySubjectFilters", testBySubjectFilters},
		{"BySubjectPages", testBySubjectPages},
		{"BySubjectLimits", testBySubjectLimits},
		{"ByTime", testByTime},
		{"ByTimeWhileAppending", testByTimeWhileAppending},
		{"ByTimeRequestIDs", testByTimeRequestIDs},
		{"PruneAndAnchor", testPrune},
		{"Ping", testPing},
		{"VerifyReadsHeadsAndRecordsAtOnce", testConcurrentStreams},
		{"LogOverStore", testLogOverStore},
		{"LogContinuesAfterFullPrune", testLogAfterPrune},
		{"Tamper", testTamper},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newFixture(t, open))
		})
	}
}

// fixture is one test's store, node and key.
type fixture struct {
	t      *testing.T
	ctx    context.Context
	store  audit.Store
	tamper Tamper // nil when the store offers none
	node   string
	signer *audit.Signer
	tag    string // unique per fixture, for names and subject hashes
}

func newFixture(t *testing.T, open func(t *testing.T) audit.Store) *fixture {
	t.Helper()
	s := open(t)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	f := &fixture{t: t, ctx: t.Context(), store: s, tag: randomHex(4)}
	if ts, ok := s.(tamperStore); ok {
		f.tamper = ts.tamper
	}
	f.node = f.nodeName("a")
	f.signer = newSigner(t)
	return f
}

// nodeName returns a node name unique to this fixture.
func (f *fixture) nodeName(suffix string) string {
	name := strings.NewReplacer("/", "-", " ", "_").Replace(f.t.Name())
	return fmt.Sprintf("st-%s-%s-%s", name, f.tag, suffix)
}

func newSigner(t *testing.T) *audit.Signer {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return audit.NewSigner(key)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// exec tampers, failing the test when the store offers no Tamper.
func (f *fixture) exec(query string, args ...any) {
	f.t.Helper()
	if err := f.tamper.Exec(f.ctx, query, args...); err != nil {
		f.t.Fatalf("tampering (%s): %v", query, err)
	}
}
