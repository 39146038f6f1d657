package audit

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SubjectQuery selects records for Store.BySubject: one page of a data
// subject's records, for the Data Tracker.
type SubjectQuery struct {
	// SubjectHash is the subject's keyed hash; "" matches nothing.
	SubjectHash string
	// From and To bound Time to [From, To); a zero bound is open.
	From, To time.Time
	// Kind, when set, selects records of that kind only.
	Kind Kind
	// ExceptService, when set, leaves out the records of that service
	// (the Data Tracker's own look-ups).
	ExceptService string
	// DisclosedAt, when not zero, leaves out the records still covert at
	// that time: those whose DiscloseAfter is after it.
	DisclosedAt time.Time
	// RequestIDs, when not empty, selects the records of those exchanges
	// only (at most MaxRequestIDs).
	RequestIDs []string
	// After, when not zero, selects only records that sort after it: the
	// Cursor of the last record of the previous page.
	After Cursor
	// Limit is the most records returned: from 1 to MaxSubjectLimit.
	Limit int
}

// MaxSubjectLimit is the largest SubjectQuery.Limit: one page of a
// subject's records is read whole.
const MaxSubjectLimit = 1000

var errBadSubjectLimit = fmt.Errorf("the limit must be from 1 to %d", MaxSubjectLimit)

// check returns what is wrong with q, and whether it matches nothing.
func (q *SubjectQuery) check() (none bool, err error) {
	switch {
	case q.Limit <= 0 || q.Limit > MaxSubjectLimit:
		return true, errBadSubjectLimit
	case len(q.RequestIDs) > MaxRequestIDs:
		return true, errTooManyIDs
	case q.SubjectHash == "":
		return true, nil
	case !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To):
		return true, nil
	}
	return false, nil
}

// sqlSubjectFilters writes BySubject's conditions after the subject's own
// test into b, as "AND ..." clauses whose arguments arg numbers, and then
// its order and limit: (time_us, node, seq), the order of Cursor. The
// cursor is also written as a lower bound on time_us alone, which an index
// on (subject_hash, time_us) can seek to.
func sqlSubjectFilters(b *strings.Builder, q *SubjectQuery, arg func(any) string) {
	if !q.From.IsZero() {
		b.WriteString(` AND time_us >= ` + arg(q.From.UnixMicro()))
	}
	if !q.To.IsZero() {
		b.WriteString(` AND time_us < ` + arg(q.To.UnixMicro()))
	}
	if q.Kind != "" {
		b.WriteString(` AND kind = ` + arg(string(q.Kind)))
	}
	if q.ExceptService != "" {
		b.WriteString(` AND service <> ` + arg(q.ExceptService))
	}
	if !q.DisclosedAt.IsZero() {
		b.WriteString(` AND (disclose_after_us IS NULL OR disclose_after_us <= ` + arg(q.DisclosedAt.UnixMicro()) + `)`)
	}
	sqlIn(b, "request_id", q.RequestIDs, arg)
	if c := q.After; !c.IsZero() {
		t := arg(c.Time.UnixMicro())
		b.WriteString(` AND time_us >= ` + t + ` AND (time_us, node, seq) > (` + t + `, ` + arg(c.Node) + `, ` + arg(c.Seq) + `)`)
	}
	b.WriteString(` ORDER BY time_us, node, seq LIMIT ` + arg(int64(q.Limit)))
}

// sqlArgs returns an arg function for sqlSubjectFilters numbering from
// len(*args)+1, and appending to *args.
func sqlArgs(args *[]any) func(any) string {
	return func(v any) string {
		*args = append(*args, v)
		return "$" + strconv.Itoa(len(*args))
	}
}

// sqlBySubject returns the PostgreSQL store's BySubject query for q, on the
// records_subject_time index. Its redundant test that subject_hash is not
// empty lets the database use that partial index, which it does only when
// the query's WHERE implies the index's (a parameter's value does not
// count).
func sqlBySubject(q *SubjectQuery) (string, []any) {
	var b strings.Builder
	args := []any{q.SubjectHash}
	b.WriteString(`SELECT ` + sqlRecordColumns + ` FROM records
	WHERE subject_hash = $1 AND subject_hash <> ''`)
	sqlSubjectFilters(&b, q, sqlArgs(&args))
	return b.String(), args
}

// sqliteBySubject returns the SQLite store's BySubject query for q: the
// batches whose tokens hold the subject's ($1, a quoted FTS5 string), then
// their records of that subject ($2) that match q, by primary key.
func sqliteBySubject(q *SubjectQuery) (string, []any) {
	var b strings.Builder
	args := []any{`"` + subjectToken(q.SubjectHash) + `"`, q.SubjectHash}
	b.WriteString(`SELECT ` + sqlRecordColumns + `
	FROM records_subjects JOIN records
		ON node = doc_node AND seq >= doc_first AND seq <= doc_last
	WHERE records_subjects MATCH $1 AND subject_hash = $2`)
	sqlSubjectFilters(&b, q, sqlArgs(&args))
	return b.String(), args
}
