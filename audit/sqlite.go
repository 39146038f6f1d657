package audit

// The message log's schema, shared by the SQLite store (this file) and the
// PostgreSQL store: table and column names, column order, types and keys are
// the same in both, so the conformance suite (audit/storetest) can tamper
// with either through plain SQL. Times are BIGINT microseconds since the Unix
// epoch (UTC), so both stores hold identical values and round-trip them
// exactly; a zero DiscloseAfter, SentAt or ReceivedAt is NULL. PostgreSQL
// spells BLOB as BYTEA and TEXT as TEXT; every other type is as written.
//
// The last four columns of records came later: sent_at_us, received_at_us
// and attempts with version 2 of the record hash, original_sha256 with
// version 3; opening a database made before them adds them, so they stay
// last, in this order, in every database.
//
//	records (
//	  node              TEXT   NOT NULL,
//	  seq               BIGINT NOT NULL,
//	  id                TEXT   NOT NULL,
//	  kind              TEXT   NOT NULL,
//	  time_us           BIGINT NOT NULL,
//	  message_id        TEXT   NOT NULL,
//	  request_id        TEXT   NOT NULL,
//	  client            TEXT   NOT NULL,
//	  service           TEXT   NOT NULL,
//	  method            TEXT   NOT NULL,
//	  path_template     TEXT   NOT NULL,
//	  user_id           TEXT   NOT NULL,
//	  issue             TEXT   NOT NULL,
//	  purpose           TEXT   NOT NULL,
//	  rule_id           TEXT   NOT NULL,
//	  status            BIGINT NOT NULL,
//	  error_type        TEXT   NOT NULL,
//	  size              BIGINT NOT NULL,
//	  body_sha256       TEXT   NOT NULL,
//	  body              BLOB,            -- NULL when no body is kept
//	  subject_hash      TEXT   NOT NULL, -- '' when no subject
//	  disclose_after_us BIGINT,          -- NULL when zero
//	  trace_id          TEXT   NOT NULL,
//	  prev_hash         TEXT   NOT NULL,
//	  hash              TEXT   NOT NULL,
//	  sent_at_us        BIGINT,          -- NULL when zero
//	  received_at_us    BIGINT,          -- NULL when zero
//	  attempts          BIGINT NOT NULL DEFAULT 0,
//	  original_sha256   TEXT   NOT NULL DEFAULT '', -- '' unless minimised
//	  PRIMARY KEY (node, seq))
//	INDEX records_subject_time ON records (subject_hash, time_us)
//	                           WHERE subject_hash <> ''   -- PostgreSQL only
//	INDEX records_node_time    ON records (node, time_us, seq)
//	records_subjects: SQLite only, BySubject's index (sqlite_subjects.go)
//	heads   (node TEXT NOT NULL, seq BIGINT NOT NULL, hash TEXT NOT NULL,
//	         time_us BIGINT NOT NULL, key_id TEXT NOT NULL,
//	         signature TEXT NOT NULL, PRIMARY KEY (node, seq))
//	anchors (node TEXT PRIMARY KEY, seq BIGINT NOT NULL, hash TEXT NOT NULL,
//	         time_us BIGINT NOT NULL, key_id TEXT NOT NULL,
//	         signature TEXT NOT NULL)
//
// Queries use $1-style placeholders, which both drivers accept.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// sqliteInsertRows returns the insert of n records with positional
// placeholders, which the SQLite driver binds without looking their names
// up.
func sqliteInsertRows(n int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", sqlRecordColumnCount), ", ") + ")"
	return `INSERT INTO records (` + sqlRecordColumns + `) VALUES ` +
		strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}

// sqliteInsertSizes are the row counts of the writer's prepared inserts,
// largest first: a batch is inserted 16 rows per statement while it can,
// then 4, then one. One statement of many rows costs SQLite and the driver
// less per row than a statement per row (BenchmarkSQLiteLayoutCost: about
// 15% of a record's cost), and 16 rows of 29 values stay far below
// SQLite's limit of bound values.
var sqliteInsertSizes = [...]int{16, 4, 1}

// sqliteWriter holds the statements the writer prepares once.
type sqliteWriter struct {
	inserts  [len(sqliteInsertSizes)]*sql.Stmt // sqliteInsertRows of each size
	subjects *sql.Stmt                         // sqliteInsertSubjects
}

// prepareSQLiteWriter prepares the writer's statements on db; the insert
// into records_subjects only when subjects is true (false only in
// benchmarks of layouts without it).
func prepareSQLiteWriter(db *sql.DB, subjects bool) (*sqliteWriter, error) {
	w := &sqliteWriter{}
	var err error
	for i, n := range sqliteInsertSizes {
		if w.inserts[i], err = db.Prepare(sqliteInsertRows(n)); err != nil {
			w.close()
			return nil, fmt.Errorf("preparing the record insert: %w", err)
		}
	}
	if !subjects {
		return w, nil
	}
	if w.subjects, err = db.Prepare(sqliteInsertSubjects); err != nil {
		w.close()
		return nil, fmt.Errorf("preparing the subject index insert: %w", err)
	}
	return w, nil
}

func (w *sqliteWriter) close() error {
	var errs []error
	for _, st := range append(w.inserts[:], w.subjects) {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

// insert stores records and their subjects' index rows within tx. ctx
// bounds the transaction (database/sql rolls it back when ctx ends); the
// statements run without it, as the driver starts a goroutine to watch a
// cancellable context for every statement.
func (w *sqliteWriter) insert(ctx context.Context, tx *sql.Tx, records []Record) error {
	stmtCtx := context.WithoutCancel(ctx)
	rest := records
	var args []any
	for i, n := range sqliteInsertSizes {
		if len(rest) < n {
			continue
		}
		stmt := tx.StmtContext(ctx, w.inserts[i])
		for len(rest) >= n {
			args = args[:0]
			for j := range n {
				args = append(args, sqlRecordArgs(&rest[j])...)
			}
			if _, err := stmt.ExecContext(stmtCtx, args...); err != nil {
				return fmt.Errorf("inserting records %d-%d: %w", rest[0].Seq, rest[n-1].Seq, err)
			}
			rest = rest[n:]
		}
	}
	if w.subjects == nil { // only in benchmarks of layouts without the index
		return nil
	}
	return insertSubjects(stmtCtx, tx.StmtContext(ctx, w.subjects), records)
}

const sqliteSchema = `
CREATE TABLE IF NOT EXISTS records (
	node TEXT NOT NULL, seq BIGINT NOT NULL, id TEXT NOT NULL, kind TEXT NOT NULL,
	time_us BIGINT NOT NULL, message_id TEXT NOT NULL, request_id TEXT NOT NULL,
	client TEXT NOT NULL, service TEXT NOT NULL, method TEXT NOT NULL,
	path_template TEXT NOT NULL, user_id TEXT NOT NULL, issue TEXT NOT NULL,
	purpose TEXT NOT NULL, rule_id TEXT NOT NULL, status BIGINT NOT NULL,
	error_type TEXT NOT NULL, size BIGINT NOT NULL, body_sha256 TEXT NOT NULL,
	body BLOB, subject_hash TEXT NOT NULL, disclose_after_us BIGINT,
	trace_id TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL,
	sent_at_us BIGINT, received_at_us BIGINT, attempts BIGINT NOT NULL DEFAULT 0,
	original_sha256 TEXT NOT NULL DEFAULT '', PRIMARY KEY (node, seq));
CREATE TABLE IF NOT EXISTS heads (
	node TEXT NOT NULL, seq BIGINT NOT NULL, hash TEXT NOT NULL,
	time_us BIGINT NOT NULL, key_id TEXT NOT NULL, signature TEXT NOT NULL,
	PRIMARY KEY (node, seq));
CREATE TABLE IF NOT EXISTS anchors (
	node TEXT PRIMARY KEY, seq BIGINT NOT NULL, hash TEXT NOT NULL,
	time_us BIGINT NOT NULL, key_id TEXT NOT NULL, signature TEXT NOT NULL);
`

// SQLiteStore is the embedded Store: one SQLite file in WAL mode with
// synchronous=FULL, so an Append that returned is on disk. One connection
// writes (SQLite has one writer anyway); a small pool reads, so Scan, Verify
// and Export never wait for the writer.
//
// The writer checkpoints the WAL into the database file once it holds
// sqliteCheckpointPages pages (SQLite's default is 1000): a page written by
// many commits in between — the last pages of the tables and indexes and
// of records_subjects' newest segments — is copied and synced once.
type SQLiteStore struct {
	writer    *sql.DB
	stmts     *sqliteWriter // prepared once on the writer
	readers   *sql.DB
	closeOnce sync.Once
	closeErr  error
}

// sqliteCheckpointPages is the writer's wal_autocheckpoint: a WAL of up to
// about 40 MiB (4 KiB pages) between checkpoints. Close truncates it.
const sqliteCheckpointPages = 10000

var _ Store = (*SQLiteStore)(nil)

// OpenSQLite opens (creating it and its schema if missing) the SQLite
// message log at path. It fails when the file cannot be opened or created,
// or is not a message log database.
func OpenSQLite(path string) (*SQLiteStore, error) {
	const common = "?_pragma=busy_timeout(10000)&_pragma=synchronous(FULL)"
	writer, err := sql.Open("sqlite", path+common+"&_pragma=journal_mode(WAL)"+
		fmt.Sprintf("&_pragma=wal_autocheckpoint(%d)", sqliteCheckpointPages)+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("opening message log %s: %w", path, err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	if err := sqliteMigrate(writer); err != nil {
		writer.Close()
		return nil, fmt.Errorf("creating message log schema in %s: %w", path, err)
	}
	stmts, err := prepareSQLiteWriter(writer, true)
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("message log %s: %w", path, err)
	}
	readers, err := sql.Open("sqlite", path+common+"&_pragma=query_only(1)")
	if err != nil {
		stmts.close()
		writer.Close()
		return nil, fmt.Errorf("opening message log %s: %w", path, err)
	}
	readers.SetMaxOpenConns(4)
	return &SQLiteStore{writer: writer, stmts: stmts, readers: readers}, nil
}

// sqliteMigrate creates the schema where it is missing, in one IMMEDIATE
// transaction: the tables, the columns added since the first version
// (sqlAddedColumns) and the indexes, replacing an index made before its
// definition changed (sqlIndex.stale); a database made before
// records_subjects loses records_subject_time and has its records indexed
// in records_subjects.
func sqliteMigrate(db *sql.DB) (err error) {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if _, err := tx.Exec(sqliteSchema); err != nil {
		return err
	}
	for _, c := range sqlAddedColumns {
		var n int
		if err := tx.QueryRow(`SELECT count(*) FROM pragma_table_info('records') WHERE name = $1`, c.name).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			if _, err := tx.Exec(`ALTER TABLE records ADD COLUMN ` + c.name + ` ` + c.def); err != nil {
				return err
			}
		}
	}
	for _, ix := range sqlIndexes {
		if ix.name == sqlSubjectIndex {
			continue
		}
		var def string
		err := tx.QueryRow(`SELECT sql FROM sqlite_master WHERE type = 'index' AND name = $1`, ix.name).Scan(&def)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case ix.stale(def):
			if _, err := tx.Exec(`DROP INDEX ` + ix.name); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ix.create()); err != nil {
			return err
		}
	}
	var n int
	if err := tx.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'records_subjects'`).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		if _, err := tx.Exec(`DROP INDEX IF EXISTS ` + sqlSubjectIndex); err != nil {
			return err
		}
		if err := sqliteIndexSubjects(tx); err != nil {
			return fmt.Errorf("indexing the data subjects: %w", err)
		}
	}
	return tx.Commit()
}

// Append implements Store: one IMMEDIATE transaction for the batch and the
// head; it fails on a (node, seq) conflict, leaving nothing written.
func (s *SQLiteStore) Append(ctx context.Context, records []Record, head *SignedHead) (err error) {
	if len(records) == 0 && head == nil {
		return nil
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning message log transaction: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err := s.stmts.insert(ctx, tx, records); err != nil {
		return err
	}
	if head != nil {
		if _, err := tx.ExecContext(ctx, sqlInsertHead("heads"), sqlHeadArgs(head)...); err != nil {
			return fmt.Errorf("inserting signed head %d: %w", head.Seq, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing message log transaction: %w", err)
	}
	return nil
}

// Prune implements Store.
func (s *SQLiteStore) Prune(ctx context.Context, node string, upTo int64, anchor SignedHead) (err error) {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning prune transaction: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	for _, q := range []string{
		`DELETE FROM records WHERE node = $1 AND seq <= $2`,
		`DELETE FROM heads WHERE node = $1 AND seq <= $2`,
		`DELETE FROM records_subjects WHERE doc_node = $1 AND doc_last <= $2`,
	} {
		if _, err := tx.ExecContext(ctx, q, node, upTo); err != nil {
			return fmt.Errorf("pruning: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM anchors WHERE node = $1`, node); err != nil {
		return fmt.Errorf("replacing prune anchor: %w", err)
	}
	if _, err := tx.ExecContext(ctx, sqlInsertHead("anchors"), sqlHeadArgs(&anchor)...); err != nil {
		return fmt.Errorf("storing prune anchor: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing prune: %w", err)
	}
	return nil
}

// Ping implements Store: it takes the write lock (BEGIN IMMEDIATE) and
// rolls back, so it fails when the file is locked, read-only or gone.
func (s *SQLiteStore) Ping(ctx context.Context) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("pinging message log: %w", err)
	}
	var n int
	err = tx.QueryRowContext(ctx, `SELECT count(*) FROM anchors`).Scan(&n)
	return errors.Join(err, tx.Rollback())
}

// Close implements Store: it checkpoints the WAL into the database file
// (PRAGMA wal_checkpoint(TRUNCATE)), so a cleanly shut down log is one
// self-contained file, then closes the connections.
func (s *SQLiteStore) Close() error {
	s.closeOnce.Do(func() {
		_, err := s.writer.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
		if err != nil {
			err = fmt.Errorf("checkpointing message log: %w", err)
		}
		s.closeErr = errors.Join(err, s.stmts.close(), s.readers.Close(), s.writer.Close())
	})
	return s.closeErr
}
