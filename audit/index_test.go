package audit

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	q, args := sqliteBySubject(trackerPageQuery())
	rows, err := s.readers.Query(`EXPLAIN QUERY PLAN `+q, args...)
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
	q, args := sqlBySubject(trackerPageQuery())
	rows, err := conn.Query(ctx, `EXPLAIN `+q, args...)
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

// trackerPageQuery is the Data Tracker's query of a page after the first:
// every filter and the cursor set.
func trackerPageQuery() *SubjectQuery {
	at := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	return &SubjectQuery{SubjectHash: strings.Repeat("5a", 32), From: at.Add(-time.Hour), To: at.Add(time.Hour),
		Kind: KindRequest, ExceptService: "tracker", DisclosedAt: at,
		After: Cursor{Time: at, Node: "govbus", Seq: 7}, Limit: 51}
}
