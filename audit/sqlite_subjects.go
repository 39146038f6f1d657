package audit

// The SQLite store's index of data subjects.
//
// A B-tree index on the subject's keyed hash (PostgreSQL's
// records_subject_time) costs SQLite a page write per record: the keys are
// random, so every insert lands on a page of its own, and a commit of 48
// records rewrites some 48 pages of the index (BenchmarkSQLiteLayoutCost:
// about two thirds of a record's cost). The SQLite store keeps the index in
// an FTS5 table instead, one row per committed batch of a node: the batch's
// seq range and, as its text, the distinct subject tokens of its records.
// FTS5 writes each transaction's terms as one new sorted segment and merges
// segments in the background of later writes, so a batch costs a few
// sequential pages however large the log, and finding a subject reads the
// batches that hold it and then their records by primary key.
//
//	CREATE VIRTUAL TABLE records_subjects USING fts5(
//	    tokens, doc_node UNINDEXED, doc_first UNINDEXED, doc_last UNINDEXED,
//	    detail = none, columnsize = 0)
//
// The index only narrows the search: BySubject keeps the records whose own
// subject_hash is the one asked for, so a token shared by two subjects, or a
// row edited behind the store's back, never returns a wrong record.

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

const sqliteSubjectsSchema = `CREATE VIRTUAL TABLE records_subjects USING fts5(
	tokens, doc_node UNINDEXED, doc_first UNINDEXED, doc_last UNINDEXED,
	detail = none, columnsize = 0)`

const sqliteInsertSubjects = `INSERT INTO records_subjects (tokens, doc_node, doc_first, doc_last) VALUES (?, ?, ?, ?)`

// subjectTokenLen is how many hex digits of a subject hash make its token:
// 64 bits, enough that another subject rarely shares a batch's token and
// short enough to keep the index small.
const subjectTokenLen = 16

// subjectToken returns the FTS5 term of a subject hash: its first 16 hex
// digits (a keyed hash is lower-case hex), or, for any other string, "x"
// and the first 16 hex digits of its SHA-256, so every term is a plain
// ASCII word to the tokenizer.
func subjectToken(subjectHash string) string {
	if len(subjectHash) >= subjectTokenLen && isLowerHex(subjectHash[:subjectTokenLen]) {
		return subjectHash[:subjectTokenLen]
	}
	sum := sha256.Sum256([]byte(subjectHash))
	return "x" + hex.EncodeToString(sum[:subjectTokenLen/2])
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// subjectDoc is one row of records_subjects in the making.
type subjectDoc struct {
	node        string
	first, last int64
	tokens      []string
}

// subjectDocSpan is the most seqs one records_subjects row covers: finding
// a subject reads every record of each row that lists its token, so a
// row of a large batch is cut into several. BenchmarkBySubjectSQLite
// (200,000 records) took 248 µs with rows of up to 500 records, 104 µs
// with 64 and 84 µs with 16; appends cost the same with 16 as with 64
// (BenchmarkSQLiteLayoutCost). The B-tree index read in 48 µs.
const subjectDocSpan = 16

// subjectDocs returns the records_subjects rows of records (in Seq order
// within each node): for each node among those with a subject, rows
// covering its seqs in records, each at most subjectDocSpan of them.
func subjectDocs(records []Record) []subjectDoc {
	var docs []subjectDoc
	for i := range records {
		r := &records[i]
		if r.SubjectHash == "" {
			continue
		}
		j := lastDocOf(docs, r.Node)
		if j < 0 || r.Seq-docs[j].first >= subjectDocSpan {
			docs = append(docs, subjectDoc{node: r.Node, first: r.Seq, last: r.Seq})
			j = len(docs) - 1
		}
		d := &docs[j]
		d.first, d.last = min(d.first, r.Seq), max(d.last, r.Seq)
		d.tokens = append(d.tokens, subjectToken(r.SubjectHash))
	}
	for i := range docs {
		slices.Sort(docs[i].tokens)
		docs[i].tokens = slices.Compact(docs[i].tokens)
	}
	return docs
}

// lastDocOf returns the index of node's last row in docs, -1 if none.
func lastDocOf(docs []subjectDoc, node string) int {
	for j := len(docs) - 1; j >= 0; j-- {
		if docs[j].node == node {
			return j
		}
	}
	return -1
}

// insertSubjects stores the records_subjects rows of records.
func insertSubjects(ctx context.Context, stmt *sql.Stmt, records []Record) error {
	for _, d := range subjectDocs(records) {
		if _, err := stmt.ExecContext(ctx, strings.Join(d.tokens, " "), d.node, d.first, d.last); err != nil {
			return fmt.Errorf("indexing the subjects of records %d-%d: %w", d.first, d.last, err)
		}
	}
	return nil
}

// sqliteIndexSubjects creates records_subjects in a database made before
// it and indexes the records already there, in batches of a node's
// consecutive records, within tx (the schema's migration).
func sqliteIndexSubjects(tx *sql.Tx) error {
	if _, err := tx.Exec(sqliteSubjectsSchema); err != nil {
		return err
	}
	insert, err := tx.Prepare(sqliteInsertSubjects)
	if err != nil {
		return err
	}
	defer insert.Close()
	rows, err := tx.Query(`SELECT node, seq, subject_hash FROM records WHERE subject_hash <> '' ORDER BY node, seq`)
	if err != nil {
		return err
	}
	defer rows.Close()
	const perDoc = 1000
	var batch []Record
	flush := func() error {
		err := insertSubjects(context.Background(), insert, batch)
		batch = batch[:0]
		return err
	}
	for rows.Next() {
		var r Record
		if err := rows.Scan(&r.Node, &r.Seq, &r.SubjectHash); err != nil {
			return err
		}
		if len(batch) == perDoc || len(batch) > 0 && batch[0].Node != r.Node {
			if err := flush(); err != nil {
				return err
			}
		}
		batch = append(batch, r)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return flush()
}

// BySubject implements Store, on records_subjects: one query, whose
// LIMIT bounds what it returns.
func (s *SQLiteStore) BySubject(ctx context.Context, q SubjectQuery) ([]Record, error) {
	if none, err := q.check(); none {
		if err != nil {
			return nil, fmt.Errorf("reading records by subject: %w", err)
		}
		return nil, nil
	}
	query, args := sqliteBySubject(&q)
	rs, err := sqliteQueryAll(ctx, s.readers, sqlScanRecord, query, args...)
	if err != nil {
		return nil, fmt.Errorf("reading records by subject: %w", err)
	}
	// Batches of one node never overlap, but a database edited by hand
	// may hold rows that do: each record once (such a page may then hold
	// fewer than q.Limit records).
	return slices.CompactFunc(rs, func(a, b Record) bool { return a.Node == b.Node && a.Seq == b.Seq }), nil
}

// CheckSubjects implements subjectIndexChecker: it walks node's records of
// a subject from Seq from, in Seq order, beside the index rows of node in
// the order of their first Seq, and returns the first record that no row
// covering its Seq lists the token of. Each read streams; the rows held at
// a time are those covering the current Seq.
func (s *SQLiteStore) CheckSubjects(ctx context.Context, node string, from int64) (Record, bool, error) {
	docs, err := s.readers.QueryContext(ctx, `SELECT doc_first, doc_last, tokens FROM records_subjects
		WHERE doc_node = $1 AND doc_last >= $2 ORDER BY doc_first`, node, from)
	if err != nil {
		return Record{}, false, err
	}
	defer docs.Close()
	recs, err := s.readers.QueryContext(ctx, `SELECT seq, id, subject_hash FROM records
		WHERE node = $1 AND seq >= $2 AND subject_hash <> '' ORDER BY seq`, node, from)
	if err != nil {
		return Record{}, false, err
	}
	defer recs.Close()
	type doc struct {
		first, last int64
		tokens      []string // sorted
	}
	var (
		window  []doc // rows read whose range may still cover a record
		pending *doc  // the next row, read but starting after the record
		done    bool  // every row read
	)
	for recs.Next() {
		var r Record
		if err := recs.Scan(&r.Seq, &r.ID, &r.SubjectHash); err != nil {
			return Record{}, false, err
		}
		window = slices.DeleteFunc(window, func(d doc) bool { return d.last < r.Seq })
		for !done {
			if pending == nil {
				if !docs.Next() {
					done = true
					break
				}
				var d doc
				var tokens string
				if err := docs.Scan(&d.first, &d.last, &tokens); err != nil {
					return Record{}, false, err
				}
				d.tokens = strings.Fields(tokens)
				slices.Sort(d.tokens)
				pending = &d
			}
			if pending.first > r.Seq {
				break
			}
			if pending.last >= r.Seq {
				window = append(window, *pending)
			}
			pending = nil
		}
		token := subjectToken(r.SubjectHash)
		if !slices.ContainsFunc(window, func(d doc) bool {
			_, found := slices.BinarySearch(d.tokens, token)
			return found
		}) {
			return r, false, nil
		}
	}
	if err := recs.Err(); err != nil {
		return Record{}, false, err
	}
	return Record{}, true, docs.Err()
}

var _ subjectIndexChecker = (*SQLiteStore)(nil)

// RebuildSubjectIndex builds records_subjects anew from the records, in
// one transaction: the repair when Verify reports ProblemSubjectIndex. It
// holds the write lock meanwhile, so a running node's appends wait.
func (s *SQLiteStore) RebuildSubjectIndex(ctx context.Context) (err error) {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("rebuilding the data subject index: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if _, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS records_subjects`); err != nil {
		return fmt.Errorf("rebuilding the data subject index: %w", err)
	}
	if err := sqliteIndexSubjects(tx); err != nil {
		return fmt.Errorf("rebuilding the data subject index: %w", err)
	}
	return tx.Commit()
}
