package audit

// Conversions between Record/SignedHead and the rows of the shared schema
// (see the comment at the top of sqlite.go). Any database/sql store of that
// schema can use them.

import (
	"database/sql"
	"fmt"
	"time"
)

// sqlRecordColumns lists the records table's columns in schema order.
const sqlRecordColumns = `node, seq, id, kind, time_us, message_id, request_id, client,
	service, method, path_template, user_id, issue, purpose, rule_id, status,
	error_type, size, body_sha256, body, subject_hash, disclose_after_us,
	trace_id, prev_hash, hash`

const sqlInsertRecord = `INSERT INTO records (` + sqlRecordColumns + `) VALUES ($1, $2,
	$3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
	$20, $21, $22, $23, $24, $25)`

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
	var disclose any
	if !r.DiscloseAfter.IsZero() {
		disclose = r.DiscloseAfter.UnixMicro()
	}
	return []any{r.Node, r.Seq, r.ID, string(r.Kind), r.Time.UnixMicro(),
		r.MessageID, r.RequestID, r.Client, r.Service, r.Method, r.PathTemplate,
		r.UserID, r.Issue, r.Purpose, r.RuleID, int64(r.Status), r.ErrorType,
		r.Size, r.BodySHA256, body, r.SubjectHash, disclose, r.TraceID,
		r.PrevHash, r.Hash}
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
		disclose       sql.NullInt64
		body           []byte
	)
	err := row.Scan(&r.Node, &r.Seq, &r.ID, &kind, &timeUS, &r.MessageID,
		&r.RequestID, &r.Client, &r.Service, &r.Method, &r.PathTemplate,
		&r.UserID, &r.Issue, &r.Purpose, &r.RuleID, &status, &r.ErrorType,
		&r.Size, &r.BodySHA256, &body, &r.SubjectHash, &disclose, &r.TraceID,
		&r.PrevHash, &r.Hash)
	if err != nil {
		return Record{}, fmt.Errorf("reading record: %w", err)
	}
	r.Kind = Kind(kind)
	r.Time = timeFromMicros(timeUS)
	r.Status = int(status)
	if len(body) > 0 {
		r.Body = body
	}
	if disclose.Valid {
		r.DiscloseAfter = timeFromMicros(disclose.Int64)
	}
	return r, nil
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
