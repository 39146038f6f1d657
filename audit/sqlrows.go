package audit

// Conversions between Record/SignedHead and the rows of the shared schema
// (see the comment at the top of sqlite.go). Any database/sql store of that
// schema can use them.

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// sqlRecordColumns lists the records table's columns in schema order.
const sqlRecordColumns = `node, seq, id, kind, time_us, message_id, request_id, client,
	service, method, path_template, user_id, issue, purpose, rule_id, status,
	error_type, size, body_sha256, body, subject_hash, disclose_after_us,
	trace_id, prev_hash, hash, sent_at_us, received_at_us, attempts,
	original_sha256`

// sqlRecordColumnCount is how many columns sqlRecordColumns lists.
const sqlRecordColumnCount = 29

const sqlInsertRecord = `INSERT INTO records (` + sqlRecordColumns + `) VALUES ($1, $2,
	$3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
	$20, $21, $22, $23, $24, $25, $26, $27, $28, $29)`

// sqlAddedColumns are the records columns added after the first version of
// the schema, with their definitions: a store opening a database made
// before them adds them (ALTER TABLE ... ADD COLUMN, which puts them last,
// as the schema lists them). Their records keep zero values, which the
// version 1 record hash leaves out (see MatchesHash).
var sqlAddedColumns = []struct{ name, def string }{
	{"sent_at_us", "BIGINT"},
	{"received_at_us", "BIGINT"},
	{"attempts", "BIGINT NOT NULL DEFAULT 0"},
	{"original_sha256", "TEXT NOT NULL DEFAULT ''"},
}

// sqlIndex is one of the records table's secondary indexes.
type sqlIndex struct {
	name, on string
	// where, when not empty, makes the index partial: only the rows it
	// holds are indexed, and a query uses the index only when its WHERE
	// implies this one (SQLite and PostgreSQL alike).
	where string
}

// create returns the statement that creates the index where it is missing.
func (ix sqlIndex) create() string {
	q := `CREATE INDEX IF NOT EXISTS ` + ix.name + ` ON records (` + ix.on + `)`
	if ix.where != "" {
		q += ` WHERE ` + ix.where
	}
	return q
}

// stale reports whether an existing index of this name, whose definition
// (as the database prints it) is def, predates the current one: other
// columns, or a partial index made whole or the other way round. The
// stores drop a stale index and create it anew when they open.
func (ix sqlIndex) stale(def string) bool {
	cols := ""
	if i := strings.Index(def, "("); i >= 0 {
		if j := strings.Index(def[i:], ")"); j >= 0 {
			cols = def[i+1 : i+j]
		}
	}
	squeeze := func(s string) string { return strings.ReplaceAll(s, " ", "") }
	return squeeze(cols) != squeeze(ix.on) ||
		strings.Contains(strings.ToUpper(def), " WHERE ") != (ix.where != "")
}

// sqlSubjectIndex names BySubject's index, which only the PostgreSQL store
// keeps (the SQLite store's is records_subjects: sqlite_subjects.go).
const sqlSubjectIndex = "records_subject_time"

// sqlIndexes are the records table's secondary indexes: all of them in the
// PostgreSQL store, all but sqlSubjectIndex in the SQLite store.
var sqlIndexes = []sqlIndex{
	// BySubject's. Partial: the records of no subject (''), which services
	// that name no data subject make, are left out, and cost no insert into
	// an index whose keys, keyed hashes, are random (each insert writes a
	// page of its own). The index used to hold every record: a store
	// opening a database made then rebuilds it, once.
	{name: sqlSubjectIndex, on: "subject_hash, time_us", where: "subject_hash <> ''"},
	// ByTime's: its order, (time_us, seq) within a node. Its keys grow with
	// time, so inserts stay at its end (an index led by the random request
	// id halved the SQLite store's append rate). ByTime's other filters
	// (kind, request ids, client, service) are checked on the rows. The
	// index used to carry kind and request_id too: entries twice as large,
	// for operational monitoring's queries (a page of requests, the answers
	// to a page's exchanges) no faster. A store opening a database made then
	// rebuilds the index, once.
	{name: "records_node_time", on: "node, time_us, seq"},
}

// sqlHeadColumns lists the heads and anchors tables' columns.
const sqlHeadColumns = `node, seq, hash, time_us, key_id, signature`

func sqlInsertHead(table string) string {
	return `INSERT INTO ` + table + ` (` + sqlHeadColumns + `) VALUES ($1, $2, $3, $4, $5, $6)`
}

// sqlRecordArgs returns r's column values in sqlRecordColumns order.
func sqlRecordArgs(r *Record) []any {
	var body any
	if r.Body != nil {
		body = r.Body
	}
	return []any{r.Node, r.Seq, r.ID, string(r.Kind), r.Time.UnixMicro(),
		r.MessageID, r.RequestID, r.Client, r.Service, r.Method, r.PathTemplate,
		r.UserID, r.Issue, r.Purpose, r.RuleID, int64(r.Status), r.ErrorType,
		r.Size, r.BodySHA256, body, r.SubjectHash, sqlNullTime(r.DiscloseAfter),
		r.TraceID, r.PrevHash, r.Hash, sqlNullTime(r.SentAt),
		sqlNullTime(r.ReceivedAt), int64(r.Attempts), r.OriginalSHA256}
}

// sqlNullTime is t in microseconds, or NULL for the zero time.
func sqlNullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// sqlHeadArgs returns h's column values in sqlHeadColumns order.
func sqlHeadArgs(h *SignedHead) []any {
	return []any{h.Node, h.Seq, h.Hash, h.Time.UnixMicro(), h.KeyID, h.Signature}
}

// sqlRow is *sql.Row or *sql.Rows.
type sqlRow interface{ Scan(dest ...any) error }

// sqlScanRecord reads one row of sqlRecordColumns.
func sqlScanRecord(row sqlRow) (Record, error) {
	var (
		r              Record
		kind           string
		timeUS, status int64
		attempts       int64
		disclose       sql.NullInt64
		sent, received sql.NullInt64
		body           []byte
	)
	err := row.Scan(&r.Node, &r.Seq, &r.ID, &kind, &timeUS, &r.MessageID,
		&r.RequestID, &r.Client, &r.Service, &r.Method, &r.PathTemplate,
		&r.UserID, &r.Issue, &r.Purpose, &r.RuleID, &status, &r.ErrorType,
		&r.Size, &r.BodySHA256, &body, &r.SubjectHash, &disclose, &r.TraceID,
		&r.PrevHash, &r.Hash, &sent, &received, &attempts, &r.OriginalSHA256)
	if err != nil {
		return Record{}, fmt.Errorf("reading record: %w", err)
	}
	r.Kind = Kind(kind)
	r.Time = timeFromMicros(timeUS)
	r.Status, r.Attempts = int(status), int(attempts)
	if len(body) > 0 {
		r.Body = body
	}
	r.DiscloseAfter = nullTime(disclose)
	r.SentAt, r.ReceivedAt = nullTime(sent), nullTime(received)
	return r, nil
}

// nullTime is the inverse of sqlNullTime.
func nullTime(us sql.NullInt64) time.Time {
	if !us.Valid {
		return time.Time{}
	}
	return timeFromMicros(us.Int64)
}

// sqlScanHead reads one row of sqlHeadColumns.
func sqlScanHead(row sqlRow) (SignedHead, error) {
	var (
		h      SignedHead
		timeUS int64
	)
	if err := row.Scan(&h.Node, &h.Seq, &h.Hash, &timeUS, &h.KeyID, &h.Signature); err != nil {
		return SignedHead{}, fmt.Errorf("reading signed head: %w", err)
	}
	h.Time = timeFromMicros(timeUS)
	return h, nil
}

// timeFromMicros is the inverse of time.Time.UnixMicro, in UTC.
func timeFromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// ByTime's queries, shared by both stores.

// ByTime's answers to queries it does not take.
var (
	errBadLimit   = errors.New("the limit must be positive")
	errTooManyIDs = fmt.Errorf("more than %d request ids", MaxRequestIDs)
)

// sqlNodes lists the nodes that have records, in order, by walking the
// primary key from one node to the next (one index probe per node, however
// many records each has).
const sqlNodes = `WITH RECURSIVE nodes (node) AS (
		SELECT min(node) FROM records
		UNION ALL
		SELECT (SELECT min(node) FROM records WHERE records.node > nodes.node)
		FROM nodes WHERE nodes.node IS NOT NULL)
	SELECT node FROM nodes WHERE node IS NOT NULL`

// sqlByTime returns the query, with its arguments, that reads up to limit
// of node's records matching q, in (time_us, seq) order, on the
// records_node_time index. q.After is turned into node's terms: on node
// itself it is (time, seq); a node sorting before q.After.Node continues
// after its time, one sorting after it at its time.
func sqlByTime(q *TimeQuery, node string, limit int) (string, []any) {
	var b strings.Builder
	args := []any{node}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	b.WriteString(`SELECT ` + sqlRecordColumns + ` FROM records WHERE node = $1`)
	lo, hasLo := int64(0), !q.From.IsZero()
	if hasLo {
		lo = q.From.UnixMicro()
	}
	if c := q.After; !c.IsZero() {
		at := c.Time.UnixMicro()
		seq := c.Seq
		switch {
		case node < c.Node:
			seq = math.MaxInt64
		case node > c.Node:
			seq = math.MinInt64
		}
		if !hasLo || at >= lo {
			lo, hasLo = at, true
			if seq != math.MinInt64 {
				p := arg(at)
				b.WriteString(` AND (time_us > ` + p + ` OR seq > ` + arg(seq) + `)`)
			}
		}
	}
	if hasLo {
		b.WriteString(` AND time_us >= ` + arg(lo))
	}
	if !q.To.IsZero() {
		b.WriteString(` AND time_us < ` + arg(q.To.UnixMicro()))
	}
	for _, f := range []struct{ col, v string }{{"kind", string(q.Kind)}, {"client", q.Client}, {"service", q.Service}} {
		if f.v != "" {
			b.WriteString(` AND ` + f.col + ` = ` + arg(f.v))
		}
	}
	sqlIn(&b, "request_id", q.RequestIDs, arg)
	b.WriteString(` ORDER BY time_us, seq LIMIT ` + arg(int64(limit)))
	return b.String(), args
}

// byTime answers Store.ByTime with the store's query function: one query
// for one node; for every node, one per node (listed with sqlNodes), whose
// ordered answers are merged.
func byTime(ctx context.Context, q TimeQuery, query func(ctx context.Context, sql string, args ...any) ([]Record, error), nodes func(ctx context.Context) ([]string, error)) ([]Record, error) {
	if q.Limit <= 0 {
		return nil, errBadLimit
	}
	if len(q.RequestIDs) > MaxRequestIDs {
		return nil, errTooManyIDs
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return nil, nil
	}
	if q.Node != "" {
		sql, args := sqlByTime(&q, q.Node, q.Limit)
		return query(ctx, sql, args...)
	}
	names, err := nodes(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing nodes: %w", err)
	}
	var all []Record
	for _, node := range names {
		sql, args := sqlByTime(&q, node, q.Limit)
		recs, err := query(ctx, sql, args...)
		if err != nil {
			return nil, err
		}
		all = append(all, recs...)
	}
	slices.SortFunc(all, func(a, b Record) int {
		return cmp.Or(a.Time.Compare(b.Time), strings.Compare(a.Node, b.Node), cmp.Compare(a.Seq, b.Seq))
	})
	return all[:min(len(all), q.Limit)], nil
}

// sqlIn writes " AND col IN (...)" with one argument per value into b;
// nothing when vals is empty.
func sqlIn(b *strings.Builder, col string, vals []string, arg func(any) string) {
	if len(vals) == 0 {
		return
	}
	b.WriteString(` AND ` + col + ` IN (`)
	for i, v := range vals {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(arg(v))
	}
	b.WriteString(`)`)
}
