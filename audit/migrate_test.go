package audit_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/govbus/govbus/audit"
	"github.com/govbus/govbus/audit/pgtest"
)

// v1Schema is the records table as the first version of the schema made
// it: without sent_at_us, received_at_us and attempts, and without the
// records_node_time index. BLOB is replaced
// for PostgreSQL.
const v1Schema = `
CREATE TABLE records (
	node TEXT NOT NULL, seq BIGINT NOT NULL, id TEXT NOT NULL, kind TEXT NOT NULL,
	time_us BIGINT NOT NULL, message_id TEXT NOT NULL, request_id TEXT NOT NULL,
	client TEXT NOT NULL, service TEXT NOT NULL, method TEXT NOT NULL,
	path_template TEXT NOT NULL, user_id TEXT NOT NULL, issue TEXT NOT NULL,
	purpose TEXT NOT NULL, rule_id TEXT NOT NULL, status BIGINT NOT NULL,
	error_type TEXT NOT NULL, size BIGINT NOT NULL, body_sha256 TEXT NOT NULL,
	body BLOB, subject_hash TEXT NOT NULL, disclose_after_us BIGINT,
	trace_id TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL,
	PRIMARY KEY (node, seq));
CREATE INDEX records_subject_time ON records (subject_hash, time_us);
CREATE TABLE heads (
	node TEXT NOT NULL, seq BIGINT NOT NULL, hash TEXT NOT NULL,
	time_us BIGINT NOT NULL, key_id TEXT NOT NULL, signature TEXT NOT NULL,
	PRIMARY KEY (node, seq));
CREATE TABLE anchors (
	node TEXT PRIMARY KEY, seq BIGINT NOT NULL, hash TEXT NOT NULL,
	time_us BIGINT NOT NULL, key_id TEXT NOT NULL, signature TEXT NOT NULL);
`

// v1Chain stores, with version 1's schema and hash, a chain of n records of
// node "ee-test" and a head over it; it returns the records.
func v1Chain(t *testing.T, exec func(q string, args ...any) error, signer *audit.Signer, n int) []audit.Record {
	t.Helper()
	var recs []audit.Record
	prev := ""
	for i := 1; i <= n; i++ {
		r := *request(i)
		r.ID, r.Node, r.Time = fmt.Sprint("v1-", i), "ee-test", testTime.Add(time.Duration(i)*time.Second)
		r.RequestID = fmt.Sprint("req-", (i+1)/2)
		if i%2 == 0 {
			r.Kind, r.Status = audit.KindResponse, 200
		}
		r.Seq, r.PrevHash = int64(i), prev
		r.Hash = encode(r, 1)
		prev = r.Hash
		err := exec(`INSERT INTO records (node, seq, id, kind, time_us, message_id, request_id,
			client, service, method, path_template, user_id, issue, purpose, rule_id,
			status, error_type, size, body_sha256, body, subject_hash, disclose_after_us,
			trace_id, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
			$11, $12, $13, $14, $15, $16, $17, $18, $19, NULL, $20, NULL, $21, $22, $23)`,
			r.Node, r.Seq, r.ID, string(r.Kind), r.Time.UnixMicro(), r.MessageID, r.RequestID,
			r.Client, r.Service, r.Method, r.PathTemplate, r.UserID, r.Issue, r.Purpose,
			r.RuleID, int64(r.Status), r.ErrorType, r.Size, r.BodySHA256, r.SubjectHash,
			r.TraceID, r.PrevHash, r.Hash)
		if err != nil {
			t.Fatalf("storing a version 1 record: %v", err)
		}
		recs = append(recs, r)
	}
	h := signer.Sign("ee-test", int64(n), prev, testTime)
	if err := exec(`INSERT INTO heads (node, seq, hash, time_us, key_id, signature) VALUES ($1, $2, $3, $4, $5, $6)`,
		h.Node, h.Seq, h.Hash, h.Time.UnixMicro(), h.KeyID, h.Signature); err != nil {
		t.Fatal(err)
	}
	return recs
}

// checkMigrated checks a store opened on a version 1 database: the old
// records read back with zero operational fields and no original digest
// and verify, ByTime works, and a Log continues the chain with version 3
// records.
func checkMigrated(t *testing.T, store audit.Store, signer *audit.Signer, old []audit.Record) {
	t.Helper()
	ctx := context.Background()
	got := pgScanAll(t, store, "ee-test", 1)
	if !reflect.DeepEqual(got, old) {
		t.Fatalf("version 1 records read back as\n%+v\nwant\n%+v", got, old)
	}
	verify(t, store, signer.Public(), nil)
	l, err := audit.Open(ctx, store, audit.Options{Node: "ee-test", Signer: signer})
	if err != nil {
		t.Fatal(err)
	}
	r := &audit.Record{Kind: audit.KindResponse, RequestID: "req-new", SentAt: time.Now(), ReceivedAt: time.Now(), Attempts: 2,
		OriginalSHA256: strings.Repeat("ab", 32)}
	if err := l.Append(ctx, r); err != nil {
		t.Fatal(err)
	}
	defer l.Close(ctx) // and the store
	rep := verify(t, store, signer.Public(), nil)
	if rep.Records != int64(len(old))+1 {
		t.Fatalf("verified %d records, want %d", rep.Records, len(old)+1)
	}
	recs, err := store.ByTime(ctx, audit.TimeQuery{Node: "ee-test", Kind: audit.KindResponse, Limit: 100})
	if err != nil || len(recs) != len(old)/2+1 || recs[0].RequestID != "req-new" || recs[0].Attempts != 2 || recs[0].OriginalSHA256 != strings.Repeat("ab", 32) { // now is before testTime
		t.Fatalf("ByTime after the upgrade: %d records, %v", len(recs), err)
	}
	if recs, err := store.ByTime(ctx, audit.TimeQuery{Node: "ee-test", RequestIDs: []string{"req-1"}, Limit: 10}); err != nil || len(recs) != 2 {
		t.Fatalf("ByTime of an exchange after the upgrade: %d records, %v", len(recs), err)
	}
}

func TestSQLiteUpgradesAVersion1Database(t *testing.T) {
	path := filepath.Join(t.TempDir(), "messagelog.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exec := func(q string, args ...any) error { _, err := db.Exec(q, args...); return err }
	if err := exec(v1Schema); err != nil {
		t.Fatal(err)
	}
	signer := newTestSigner(t)
	old := v1Chain(t, exec, signer, 6)

	for range 2 { // the second open finds nothing to do
		s, err := audit.OpenSQLite(path)
		if err != nil {
			t.Fatalf("OpenSQLite on a version 1 database: %v", err)
		}
		s.Close()
	}
	fresh := filepath.Join(t.TempDir(), "fresh.db")
	s, err := audit.OpenSQLite(fresh)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	layout := func(path string) string {
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var out []string
		rows, err := db.Query(`SELECT name, type, "notnull", coalesce(dflt_value, '') FROM pragma_table_info('records') ORDER BY cid`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var name, typ, def string
			var notNull int
			if err := rows.Scan(&name, &typ, &notNull, &def); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprint(name, " ", typ, " ", notNull, " ", def))
		}
		idx, err := db.Query(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records' AND sql IS NOT NULL ORDER BY name`)
		if err != nil {
			t.Fatal(err)
		}
		defer idx.Close()
		for idx.Next() {
			var name, def string
			if err := idx.Scan(&name, &def); err != nil {
				t.Fatal(err)
			}
			out = append(out, "index "+name+": "+def)
		}
		return strings.Join(out, "\n")
	}
	if got, want := layout(path), layout(fresh); got != want {
		t.Fatalf("upgraded records table:\n%s\nwant, as a new one:\n%s", got, want)
	}

	s, err = audit.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkMigrated(t, s, signer, old)
}

func TestPostgresUpgradesAVersion1Database(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Start(t)
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	exec := func(q string, args ...any) error { _, err := pool.Exec(ctx, q, args...); return err }
	for _, stmt := range strings.Split(strings.ReplaceAll(v1Schema, "BLOB", "BYTEA"), ";") {
		if strings.TrimSpace(stmt) != "" {
			if err := exec(stmt); err != nil {
				t.Fatal(err)
			}
		}
	}
	signer := newTestSigner(t)
	old := v1Chain(t, exec, signer, 6)
	for range 2 {
		s, err := audit.OpenPostgres(ctx, dsn)
		if err != nil {
			t.Fatalf("OpenPostgres on a version 1 database: %v", err)
		}
		s.Close()
	}
	rows, err := pool.Query(ctx, `SELECT column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '')
		FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'records'
		ORDER BY ordinal_position DESC LIMIT 5`)
	if err != nil {
		t.Fatal(err)
	}
	cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"original_sha256 text NO ''::text", "attempts bigint NO 0", "received_at_us bigint YES ", "sent_at_us bigint YES ", "hash text NO "}
	if !reflect.DeepEqual(cols, want) {
		t.Fatalf("last columns of the upgraded table: %q, want %q", cols, want)
	}
	rows, err = pool.Query(ctx, `SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'records' ORDER BY indexname`)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"records_node_time", "records_pkey", "records_subject_time"}; !reflect.DeepEqual(idx, want) {
		t.Fatalf("indexes of the upgraded table: %q, want %q", idx, want)
	}
	checkPostgresIndexes(t, pool)
	s, err := audit.OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkMigrated(t, s, signer, old)
}

// staleIndexes recreate the records table's indexes as the stores made them
// before records_subject_time became partial and records_node_time lost
// kind and request_id.
var staleIndexes = []string{
	`DROP INDEX records_subject_time`,
	`CREATE INDEX records_subject_time ON records (subject_hash, time_us)`,
	`DROP INDEX records_node_time`,
	`CREATE INDEX records_node_time ON records (node, time_us, seq, kind, request_id)`,
}

// subjectChain stores, through store, records 1..n of node "ee-test", the
// even ones of subject, the odd ones of none, and returns them.
func subjectChain(t *testing.T, store audit.Store, subject string, n int) []audit.Record {
	t.Helper()
	var recs []audit.Record
	prev := ""
	for i := 1; i <= n; i++ {
		r := *request(i)
		r.ID, r.Node, r.Time = fmt.Sprint("s-", i), "ee-test", testTime.Add(time.Duration(i)*time.Second)
		r.RequestID = fmt.Sprint("req-", (i+1)/2)
		if i%2 == 0 {
			r.Kind, r.Status, r.SubjectHash = audit.KindResponse, 200, subject
		}
		r.Link(int64(i), prev)
		prev = r.Hash
		recs = append(recs, r)
	}
	if err := store.Append(context.Background(), recs, nil); err != nil {
		t.Fatal(err)
	}
	return recs
}

// checkQueries checks that store finds the records of subjectChain by
// subject and by time.
func checkQueries(t *testing.T, store audit.Store, subject string, recs []audit.Record) {
	t.Helper()
	ctx := context.Background()
	var answers []audit.Record
	for _, r := range recs {
		if r.Kind == audit.KindResponse {
			answers = append(answers, r)
		}
	}
	for _, q := range []struct {
		name string
		read func() ([]audit.Record, error)
		want []audit.Record
	}{
		{"BySubject", func() ([]audit.Record, error) {
			return store.BySubject(ctx, audit.SubjectQuery{SubjectHash: subject, From: testTime, To: testTime.Add(time.Hour), Limit: 100})
		}, answers},
		{"ByTime", func() ([]audit.Record, error) {
			return store.ByTime(ctx, audit.TimeQuery{Node: "ee-test", Limit: 100})
		}, recs},
		{"ByTime of answers", func() ([]audit.Record, error) {
			return store.ByTime(ctx, audit.TimeQuery{Node: "ee-test", Kind: audit.KindResponse, Limit: 100})
		}, answers},
		{"ByTime of exchanges", func() ([]audit.Record, error) {
			return store.ByTime(ctx, audit.TimeQuery{Node: "ee-test", RequestIDs: []string{"req-2", "req-4"}, Limit: 100})
		}, []audit.Record{recs[2], recs[3], recs[6], recs[7]}},
	} {
		got, err := q.read()
		if err != nil {
			t.Fatalf("%s: %v", q.name, err)
		}
		if len(got) != len(q.want) {
			t.Fatalf("%s: %d records, want %d", q.name, len(got), len(q.want))
		}
		for i := range got {
			if got[i].Hash != q.want[i].Hash {
				t.Fatalf("%s: record %d is seq %d, want %d", q.name, i, got[i].Seq, q.want[i].Seq)
			}
		}
	}
}

// sqliteIndexDefs returns the definitions of the records table's indexes
// in the SQLite database at path, by name.
func sqliteIndexDefs(t *testing.T, path string) map[string]string {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records' AND sql IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	defs := map[string]string{}
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			t.Fatal(err)
		}
		defs[name] = def
	}
	return defs
}

// wantSQLiteIndexes are the records table's indexes as SQLite prints them
// (the subjects' index is the table records_subjects).
var wantSQLiteIndexes = map[string]string{
	"records_node_time": `CREATE INDEX records_node_time ON records (node, time_us, seq)`,
}

// TestSQLiteRebuildsStaleIndexes opens a database whose indexes are as the
// store made them before (a whole B-tree subject index and no
// records_subjects, a wider time index): the B-tree goes, the others are
// made anew, and the queries find the records they held.
func TestSQLiteRebuildsStaleIndexes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "messagelog.db")
	s, err := audit.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	subject := strings.Repeat("5a", 32)
	recs := subjectChain(t, s, subject, 10)
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range append([]string{`DROP TABLE records_subjects`,
		`CREATE INDEX records_subject_time ON records (subject_hash, time_us) WHERE subject_hash <> ''`}, staleIndexes...) {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	if defs := sqliteIndexDefs(t, path); reflect.DeepEqual(defs, wantSQLiteIndexes) {
		t.Fatal("the indexes to rebuild are already current")
	}

	for range 2 { // the second open finds nothing to do
		s, err = audit.OpenSQLite(path)
		if err != nil {
			t.Fatalf("OpenSQLite on a database with stale indexes: %v", err)
		}
		checkQueries(t, s, subject, recs)
		s.Close()
		if defs := sqliteIndexDefs(t, path); !reflect.DeepEqual(defs, wantSQLiteIndexes) {
			t.Fatalf("indexes after opening: %q\nwant %q", defs, wantSQLiteIndexes)
		}
	}
}

// checkPostgresIndexes checks the records table's secondary indexes.
func checkPostgresIndexes(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT indexname, indexdef FROM pg_indexes
		WHERE schemaname = current_schema() AND tablename = 'records' AND indexname <> 'records_pkey'`)
	if err != nil {
		t.Fatal(err)
	}
	defs := map[string]string{}
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			t.Fatal(err)
		}
		defs[name] = def[strings.Index(def, "USING"):]
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"records_subject_time": `USING btree (subject_hash, time_us) WHERE (subject_hash <> ''::text)`,
		"records_node_time":    `USING btree (node, time_us, seq)`,
	}
	if !reflect.DeepEqual(defs, want) {
		t.Fatalf("indexes: %q\nwant %q", defs, want)
	}
}

// TestPostgresRebuildsStaleIndexes is TestSQLiteRebuildsStaleIndexes on
// PostgreSQL.
func TestPostgresRebuildsStaleIndexes(t *testing.T) {
	ctx := context.Background()
	s, dsn := openPostgres(t)
	subject := strings.Repeat("5a", 32)
	recs := subjectChain(t, s, subject, 10)
	s.Close()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	for _, q := range staleIndexes {
		if _, err := pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		s, err := audit.OpenPostgres(ctx, dsn)
		if err != nil {
			t.Fatalf("OpenPostgres on a database with stale indexes: %v", err)
		}
		checkQueries(t, s, subject, recs)
		s.Close()
		checkPostgresIndexes(t, pool)
	}
}
