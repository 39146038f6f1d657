// Package audit is govbus's message log (DESIGN.md §6): two records per
// exchange — the request, durable before it is forwarded, and the response,
// durable before the consumer sees it — in one hash chain per node, signed
// in batches with Ed25519, in an embedded SQLite file or in PostgreSQL.
// A citizen's Data Tracker reads the same records.
//
// A node opens a Store (OpenSQLite, or OpenPostgres for clusters), loads
// its key (LoadSigner; GenerateKey makes one) and starts a Log with Open.
// The pipeline calls Log.Append for each record and answers
// Server.LoggingFailed when it returns an error; Log.Head is the signed
// head to publish; Log.Healthy and Log.Probe drive readiness; Log.Close
// flushes and signs on shutdown. Offline, Verify checks a chain (against a
// published head, to catch a cut tail), Export writes it as JSON lines and
// Prune removes what was verified, exported and signed.
package audit

import (
	"context"
	"time"
)

// Kind tells a request record from a response record.
type Kind string

// Record kinds.
const (
	KindRequest  Kind = "request"
	KindResponse Kind = "response"
)

// Record is one message log entry. It holds identifiers, digests and
// sizes; the only personal datum, the data subject, is kept as a keyed
// hash. Bodies are kept only where a service's configuration says so.
type Record struct {
	// Seq is the record's position in the node's chain, from 1; set by
	// the log when the record is appended.
	Seq int64 `json:"seq"`
	// ID is the record's own id (UUID).
	ID   string `json:"id"`
	Kind Kind   `json:"kind"`
	// Time is when the record was made (UTC, microsecond precision).
	Time time.Time `json:"time"`
	Node string    `json:"node"`
	// MessageID is the exchange's X-Road-Id; RequestID govbus's own id.
	MessageID string `json:"message_id"`
	RequestID string `json:"request_id"`
	Client    string `json:"client"`
	Service   string `json:"service"`
	Method    string `json:"method"`
	// PathTemplate is the path with ids replaced ("/persons/{id}").
	PathTemplate string `json:"path_template"`
	UserID       string `json:"user_id,omitempty"`
	Issue        string `json:"issue,omitempty"`
	Purpose      string `json:"purpose,omitempty"`
	RuleID       string `json:"rule_id,omitempty"`
	// Status and ErrorType describe the answer (response records).
	Status    int    `json:"status,omitempty"`
	ErrorType string `json:"error_type,omitempty"`
	// SentAt is when the request was first sent to the registry and
	// ReceivedAt when the registry's answer arrived; Attempts counts the
	// attempts made toward it (response records; zero when the registry
	// was never called or gave no answer). Times are kept in UTC at
	// microsecond precision.
	SentAt     time.Time `json:"sent_at,omitzero"`
	ReceivedAt time.Time `json:"received_at,omitzero"`
	Attempts   int       `json:"attempts,omitempty"`
	// Size is the body size; BodySHA256 its hex digest; Body the body
	// itself where the service keeps bodies.
	Size       int64  `json:"size"`
	BodySHA256 string `json:"body_sha256"`
	Body       []byte `json:"body,omitempty"`
	// OriginalSHA256 is the hex digest of the registry's answer as it
	// came, on a response record whose body data minimisation filtered
	// (BodySHA256 is then the digest of what the consumer received); ""
	// when the consumer got the answer as it came.
	OriginalSHA256 string `json:"original_sha256,omitempty"`
	// SubjectHash is HMAC-SHA256(key, subject) in hex; "" when the service
	// names no subject.
	SubjectHash string `json:"subject_hash,omitempty"`
	// DiscloseAfter hides the record from the Data Tracker until then
	// (covert access); zero: disclosed at once.
	DiscloseAfter time.Time `json:"disclose_after,omitzero"`
	TraceID       string    `json:"trace_id,omitempty"`
	// PrevHash is the previous record's Hash ("" for the first); Hash is
	// SHA-256 over the record's canonical encoding including PrevHash.
	PrevHash string `json:"prev_hash"`
	Hash     string `json:"hash"`
}

// TimeQuery selects records for Store.ByTime. Zero fields select all.
type TimeQuery struct {
	// Node selects one node's records; "" selects every node's.
	Node string
	// Kind, when set, selects records of that kind only.
	Kind Kind
	// From and To bound Time to [From, To); a zero bound is open.
	From, To time.Time
	// Client and Service, when set, must equal the record's.
	Client, Service string
	// RequestIDs, when not empty, selects the records of those exchanges
	// only (at most MaxRequestIDs).
	RequestIDs []string
	// After, when not zero, selects only records that sort after it: the
	// Cursor of the last record of the previous page.
	After Cursor
	// Limit is the most records returned; it must be positive.
	Limit int
}

// MaxRequestIDs is the most request ids a TimeQuery may name.
const MaxRequestIDs = 1000

// Cursor is a record's place in Store.ByTime's order: by Time, then Node
// (bytewise), then Seq. The zero Cursor sorts before every record.
type Cursor struct {
	Time time.Time
	Node string
	Seq  int64
}

// IsZero reports whether c is the zero Cursor.
func (c Cursor) IsZero() bool { return c.Time.IsZero() && c.Node == "" && c.Seq == 0 }

// Cursor returns r's place in Store.ByTime's order.
func (r *Record) Cursor() Cursor { return Cursor{Time: r.Time, Node: r.Node, Seq: r.Seq} }

// SignedHead is a signature over the chain head: the Ed25519 signature of
// "govbus-chain-head/v1 NODE SEQ HASH" by the node's key.
type SignedHead struct {
	Node      string    `json:"node"`
	Seq       int64     `json:"seq"`
	Hash      string    `json:"hash"`
	Time      time.Time `json:"time"`
	KeyID     string    `json:"key_id"`
	Signature string    `json:"signature"` // base64
}

// Store keeps records and signed heads durably. Implementations: SQLite
// (embedded, sqlite.go) and PostgreSQL (clusters); both use the schema
// published at the top of sqlite.go, and both pass the conformance suite in
// audit/storetest. Every method is safe for concurrent use.
//
// A Store does not check the chain (the Log builds it, Verify checks it); it
// only keeps what it is given, atomically, and reads it back exactly: every
// field round-trips, times to the microsecond (returned in UTC).
type Store interface {
	// Append stores records (already chained, Seq set) and, when head is
	// not nil, a signed head, in one durable transaction: when it returns
	// nil, all of them survive a crash; when it returns an error, none was
	// stored (unless the error hides a commit that did happen, which the
	// Log handles by re-reading Last). records may be empty when head is
	// not nil. A record or head whose (node, seq) is already stored is a
	// conflict: the whole transaction fails.
	Append(ctx context.Context, records []Record, head *SignedHead) error
	// Last returns the chain's last record of node, or ok=false when node
	// has no records (none yet, or all pruned: see Anchor).
	Last(ctx context.Context, node string) (Record, bool, error)
	// Scan calls fn with node's records of Seq ≥ from in Seq order,
	// stopping at the first error fn returns and returning that error.
	// Scan and Heads must be usable at the same time (Verify merges the two
	// streams): read in bounded pages, closing each before calling fn, or
	// serve them from separate connections. fn must not call the Store.
	Scan(ctx context.Context, node string, from int64, fn func(Record) error) error
	// Heads calls fn with node's signed heads of Seq ≥ from in Seq order,
	// stopping at the first error fn returns and returning that error.
	Heads(ctx context.Context, node string, from int64, fn func(SignedHead) error) error
	// LastHead returns node's signed head of the highest Seq, or ok=false
	// when there is none.
	LastHead(ctx context.Context, node string) (SignedHead, bool, error)
	// BySubject returns up to q.Limit of the records of every node whose
	// SubjectHash is q.SubjectHash, that match q and sort after q.After, in
	// (Time, Node, Seq) order, reading the subject's index: a page costs
	// about its own size, however many records the subject has. Paging
	// with After set to the last record's Cursor returns each matching
	// record once. An empty SubjectHash matches nothing. It fails when
	// q.Limit is not from 1 to MaxSubjectLimit or q names more than
	// MaxRequestIDs request ids.
	BySubject(ctx context.Context, q SubjectQuery) ([]Record, error)
	// ByTime returns up to q.Limit of the records that match q and sort
	// after q.After, in (Time, Node, Seq) order (for one node: Time, then
	// Seq), reading the (node, time_us, seq) index: over every node, one
	// read per node. Paging with After set to the last record's Cursor is
	// exact: a walk returns every matching record stored when it started
	// exactly once (unless pruned meanwhile); a record stored during the
	// walk is returned when it sorts after the walk's cursor. It fails when
	// q.Limit is not positive or q names more than MaxRequestIDs request
	// ids.
	ByTime(ctx context.Context, q TimeQuery) ([]Record, error)
	// Prune deletes, in one transaction, node's records and signed heads
	// with Seq ≤ upTo, and stores anchor (a signed head at upTo, from which
	// the rest of the chain still verifies) in place of any earlier anchor.
	Prune(ctx context.Context, node string, upTo int64, anchor SignedHead) error
	// Anchor returns node's prune anchor, ok=false when nothing was pruned.
	Anchor(ctx context.Context, node string) (SignedHead, bool, error)
	// Ping checks that the store can be written.
	Ping(ctx context.Context) error
	// Close releases the store; a second call returns nil.
	Close() error
}
