package audit_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/govbus/govbus/audit"
	"github.com/govbus/govbus/audit/storetest"
)

// openSQLite opens a store in a new file, with a second connection to the
// same file for tampering, as an attacker with file access would.
func openSQLite(t *testing.T) (*audit.SQLiteStore, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "messagelog.db")
	s, err := audit.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	return s, path
}

func TestSQLiteStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) audit.Store {
		s, path := openSQLite(t)
		db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return storetest.WithTamper(s, storetest.SQLDB(db))
	})
}

func TestSQLiteCloseCheckpointsWAL(t *testing.T) {
	s, path := openSQLite(t)
	ctx := t.Context()
	r := audit.Record{ID: "r1", Node: "n", Time: testTime}
	r.Link(1, "")
	if err := s.Append(ctx, []audit.Record{r}, nil); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() == 0 {
		t.Fatalf("before Close: WAL %v, %v; want a non-empty WAL (is WAL mode on?)", fi, err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() != 0 {
		t.Fatalf("after Close: WAL holds %d bytes, want it checkpointed", fi.Size())
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	s2, err := audit.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if got, ok, err := s2.Last(ctx, "n"); err != nil || !ok || got.Hash != r.Hash {
		t.Fatalf("after reopening: Last %+v, %v, %v; want record 1", got, ok, err)
	}
}

func TestSQLitePragmas(t *testing.T) {
	s, path := openSQLite(t)
	defer s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mode string
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode %q, %v; want wal", mode, err)
	}
}
