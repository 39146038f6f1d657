// Package opmon keeps govbus's operational monitoring data: one Record per
// exchange, in the spirit of X-Road's operational monitoring, with the
// timestamps of the four hops (request in, request out, response in,
// response out), sizes, outcome and identifiers, and no personal data (no
// user ids, paths, queries or bodies).
//
// Store holds the most recent records in memory, in a bounded window;
// AuditSource makes the records from the message log's store instead, so
// they are durable and, on PostgreSQL, shared by a cluster. A Source
// answers paged, time-ordered queries over such records; Handler serves a
// Source as GET /admin/opmon on the admin listener.
//
// Times in a Record are Unix milliseconds (UTC) as int64, as in X-Road;
// a timestamp of an event that never happened is 0 and left out of the
// JSON.
package opmon

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Window and page sizes.
const (
	// DefaultSize is the number of records a Store keeps when NewStore is
	// given no size.
	DefaultSize = 10000
	// DefaultLimit is the page size of a Query that names none.
	DefaultLimit = 100
	// MaxLimit is the largest page a Query returns.
	MaxLimit = 1000
)

// Record is the operational monitoring data of one exchange. Timestamps
// are Unix milliseconds; RequestOutTs and ResponseInTs are 0 (and left out
// of the JSON) when the request never reached the registry or no answer
// came back.
type Record struct {
	// ID is govbus's own id of the exchange (X-Road-Request-Id).
	ID string `json:"id"`
	// MessageID is the consumer's X-Road-Id.
	MessageID string `json:"message_id"`
	// Client is the calling subsystem's id.
	Client string `json:"client"`
	// Service is the called service's id.
	Service string `json:"service"`
	// Registry is the providing subsystem's id.
	Registry string `json:"registry"`
	// Method is the HTTP method.
	Method string `json:"method"`
	// RuleID is the policy rule that allowed the exchange.
	RuleID string `json:"rule_id"`
	// RequestInTs is when govbus read the consumer's request. Queries
	// select and order records by it.
	RequestInTs int64 `json:"request_in_ts"`
	// RequestOutTs is when the request was sent to the registry.
	RequestOutTs int64 `json:"request_out_ts,omitempty"`
	// ResponseInTs is when the registry's answer arrived.
	ResponseInTs int64 `json:"response_in_ts,omitempty"`
	// ResponseOutTs is when govbus finished answering the consumer.
	ResponseOutTs int64 `json:"response_out_ts"`
	// RequestSize is the number of request body bytes read.
	RequestSize int64 `json:"request_size"`
	// ResponseSize is the number of response body bytes sent.
	ResponseSize int64 `json:"response_size"`
	// Status is the HTTP status sent to the consumer.
	Status int `json:"status"`
	// Succeeded is true when the registry answered with a status below 500
	// and govbus raised no error of its own.
	Succeeded bool `json:"succeeded"`
	// FaultCode is govbus's error type (such as Server.RegistryTimeout);
	// empty on success.
	FaultCode string `json:"fault_code"`
	// FaultString is the error's safe message; empty on success.
	FaultString string `json:"fault_string"`
	// Attempts is the number of attempts made toward the registry.
	Attempts int `json:"attempts"`
	// Node is the name of the govbus node that carried the exchange.
	Node string `json:"node"`
	// TraceID is the exchange's trace id.
	TraceID string `json:"trace_id"`
}

// Millis returns t as Unix milliseconds, or 0 for the zero time, so that
// an event that never happened stays out of a Record's JSON.
func Millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// Query selects records with From ≤ RequestInTs < To, in RequestInTs
// order. A zero From or To leaves that end open; times are compared at
// millisecond precision.
type Query struct {
	From, To time.Time
	// Client, Service and Node, when set, select only records with
	// exactly that client id, service id or node name.
	Client  string
	Service string
	Node    string
	// Cursor is the NextCursor of the previous page of the same query;
	// empty for the first page.
	Cursor string
	// Limit is the page size: DefaultLimit when 0 or less, at most
	// MaxLimit.
	Limit int
}

// Page is one page of a Query's answer.
type Page struct {
	// Records are in RequestInTs order; never nil.
	Records []Record `json:"records"`
	// NextCursor fetches the next page; empty when no more records matched
	// when the page was made.
	NextCursor string `json:"next_cursor"`
	// Truncated reports that the window no longer reaches back to where
	// this page's part of the range starts (from, or the cursor): records
	// there have been dropped and will not be returned. Whether they would
	// have matched client, service or to is not known, so it errs on the
	// side of true.
	Truncated bool `json:"truncated"`
}

// Source answers queries over operational monitoring records. Errors that
// wrap ErrBadQuery are the caller's fault (such as a cursor the source did
// not issue); others are the source's.
type Source interface {
	Query(ctx context.Context, q Query) (Page, error)
}

// ErrBadQuery is wrapped by the errors a Source returns for queries it
// cannot answer as asked.
var ErrBadQuery = errors.New("bad query")

// key orders records: by RequestInTs, then by the sequence number the
// store gave them, so that no two records share a key.
type key struct {
	ts  int64
	seq uint64
}

func (a key) less(b key) bool {
	return a.ts < b.ts || a.ts == b.ts && a.seq < b.seq
}

// encode turns k into an opaque, URL-safe cursor.
func (k key) encode() string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(k.ts))
	binary.BigEndian.PutUint64(b[8:], k.seq)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// decodeCursor is the inverse of key.encode.
func decodeCursor(s string) (key, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 16 {
		return key{}, fmt.Errorf("%w: cursor is not valid", ErrBadQuery)
	}
	return key{ts: int64(binary.BigEndian.Uint64(b[:8])), seq: binary.BigEndian.Uint64(b[8:])}, nil
}

// ceilMillis returns the smallest Unix millisecond instant at or after t.
func ceilMillis(t time.Time) int64 {
	ms := t.UnixMilli()
	if t.After(time.UnixMilli(ms)) {
		ms++
	}
	return ms
}
