package audit

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/govbus/govbus/audit/pgtest"
)

// The stores' queries read the indexes made for them: BySubject, in
// PostgreSQL, the partial records_subject_time, which a database uses only
// when the query's WHERE implies the index's; in SQLite, records_subjects
// and then the records by primary key.

func TestSQLiteBySubjectReadsItsIndex(t *testing.T) {
	s, err := OpenSQLite(filepath.Join(t.TempDir(), "messagelog.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := s.readers.Query(`EXPLAIN QUERY PLAN `+sqliteBySubject, `"5a5a5a5a5a5a5a5a"`, strings.Repeat("5a", 32), 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	p := strings.Join(plan, "; ")
	if !strings.Contains(p, "SCAN records_subjects VIRTUAL TABLE") ||
		!strings.Contains(p, "SEARCH records USING INDEX sqlite_autoindex_records_1 (node=? AND seq>? AND seq<?)") {
		t.Fatalf("BySubject's plan: %s; want it to read records_subjects, then records by primary key", p)
	}
}

func TestPostgresBySubjectReadsItsIndex(t *testing.T) {
	ctx := context.Background()
	s, err := OpenPostgres(ctx, pgtest.Start(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	// An empty table is read whole unless that is ruled out.
	if _, err := conn.Exec(ctx, `SET enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(ctx, `RESET enable_seqscan`)
	rows, err := conn.Query(ctx, `EXPLAIN `+sqlBySubject, strings.Repeat("5a", 32), int64(0), int64(1))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if p := strings.Join(plan, "\n"); !strings.Contains(p, "records_subject_time") {
		t.Fatalf("BySubject's plan:\n%s\nwant it to read records_subject_time", p)
	}
}
