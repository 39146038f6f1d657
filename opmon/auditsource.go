package opmon

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/govbus/govbus/audit"
)

// DefaultPending is how long an AuditSource takes an exchange whose answer
// is not in the message log for one still in flight, unless told
// otherwise: longer than any exchange lasts (the registry call's timeout,
// the listener's write timeout).
const DefaultPending = 5 * time.Minute

// The fault of an exchange whose answer was never recorded.
const (
	NoAnswerCode   = "Server.InternalError"
	NoAnswerString = "no answer recorded"
)

// AuditOptions configures an AuditSource.
type AuditOptions struct {
	// Pending is how long after its request record an exchange without a
	// response record counts as in flight and is left out. Older ones
	// were cut short (by a crash, or a failure to log the answer) and are
	// reported as failed with NoAnswerCode. Default DefaultPending.
	Pending time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// AuditSource is a Source over the message log's store (package audit):
// each exchange's request and response records, paired by node and
// request id, make one Record. The records are durable, and on PostgreSQL
// every node of a cluster serves the whole cluster's (Query.Node selects
// one node's).
//
// A Record's fields come from the request record (ID = RequestID,
// MessageID, Client, Service, Method, RuleID, Node, TraceID, RequestSize,
// and RequestInTs: when the request record was made, after the request
// passed authentication, policy and its body was read) and from the
// response record (ResponseOutTs: when it was made, just before the
// consumer was answered; Status, ResponseSize, Attempts, RequestOutTs and
// ResponseInTs from its SentAt and ReceivedAt; FaultCode from its error
// type; FaultString stays empty, the message log keeping no messages).
// Registry is the service id's subsystem part. Exchanges refused before
// the message log (unauthenticated, denied, over a limit) have no records
// and do not appear.
//
// Paging is exact, with the in-memory Store's semantics: pages follow
// RequestInTs (then node and sequence number); walking them by NextCursor
// returns exactly once every matching exchange whose answer was recorded
// (or that was older than Pending) when the walk started; one answered
// during the walk is returned when its request sorts after the cursor. An
// exchange in flight (see AuditOptions.Pending) is left out until its
// answer is recorded. Nothing leaves the log except by pruning, so
// Truncated is always false.
//
// An answer recorded more than Pending after its request, or with a time
// before its request's (the clock stepped back), is not found: the
// exchange is reported as cut short.
type AuditSource struct {
	store   audit.Store
	pending time.Duration
	now     func() time.Time
}

var _ Source = (*AuditSource)(nil)

// NewAuditSource returns a Source over store's records.
func NewAuditSource(store audit.Store, opts AuditOptions) *AuditSource {
	if opts.Pending <= 0 {
		opts.Pending = DefaultPending
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &AuditSource{store: store, pending: opts.Pending, now: opts.Now}
}

// Query implements Source. It reads the request records of one page (and
// more when exchanges in flight are left out), then their response
// records, with audit.Store.ByTime.
func (s *AuditSource) Query(ctx context.Context, q Query) (Page, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	tq := audit.TimeQuery{Node: q.Node, Kind: audit.KindRequest, Client: q.Client, Service: q.Service, Limit: limit + 1}
	if q.Cursor != "" {
		var err error
		if tq.After, err = decodeAuditCursor(q.Cursor); err != nil {
			return Page{}, err
		}
	}
	// Records are selected by RequestInTs, in milliseconds: those of
	// millisecond m are the request records of [m, m+1ms).
	if !q.From.IsZero() {
		tq.From = time.UnixMilli(ceilMillis(q.From))
	}
	if !q.To.IsZero() {
		tq.To = time.UnixMilli(ceilMillis(q.To))
	}
	if !tq.From.IsZero() && !tq.To.IsZero() && tq.To.Before(tq.From) {
		return Page{}, fmt.Errorf("%w: to is before from", ErrBadQuery)
	}

	horizon := s.now().Add(-s.pending)
	type found struct {
		rec Record
		key audit.Cursor
	}
	var out []found
	for len(out) <= limit {
		reqs, err := s.store.ByTime(ctx, tq)
		if err != nil {
			return Page{}, fmt.Errorf("reading operational monitoring records: %w", err)
		}
		answers, err := s.answers(ctx, reqs)
		if err != nil {
			return Page{}, fmt.Errorf("reading operational monitoring records: %w", err)
		}
		for i := range reqs {
			req := &reqs[i]
			resp, ok := answers[exchange{req.Node, req.RequestID}]
			if !ok && req.Time.After(horizon) {
				continue // in flight
			}
			var r *audit.Record
			if ok {
				r = &resp
			}
			out = append(out, found{fromAudit(req, r), req.Cursor()})
		}
		if len(reqs) < tq.Limit {
			break
		}
		tq.After = reqs[len(reqs)-1].Cursor()
	}

	page := Page{Records: make([]Record, min(len(out), limit))}
	for i := range page.Records {
		page.Records[i] = out[i].rec
	}
	if len(out) > limit {
		page.NextCursor = encodeAuditCursor(out[limit-1].key)
	}
	return page, nil
}

// exchange names an exchange: a node and govbus's request id.
type exchange struct{ node, requestID string }

// answers returns the response record of each exchange of reqs that has
// one recorded within Pending of its request. It asks ByTime, per node and
// up to MaxRequestIDs exchanges at a time, for the responses of those
// exchanges' ids from the first request on: first up to firstLook after
// the last, then, for the exchanges still unanswered, up to Pending after
// it. The store reads the records of that time from its (node, time)
// index and stops once every exchange has its answer, so only a batch
// with an exchange cut short (or longer than firstLook) reads Pending's
// worth.
func (s *AuditSource) answers(ctx context.Context, reqs []audit.Record) (map[exchange]audit.Record, error) {
	out := make(map[exchange]audit.Record, len(reqs))
	type batch struct {
		node     string
		ids      []string
		from, to time.Time
	}
	var batches []*batch
	open := map[string]*batch{}
	for _, r := range reqs { // in time order: from is each batch's earliest
		b := open[r.Node]
		if b == nil || len(b.ids) == audit.MaxRequestIDs {
			b = &batch{node: r.Node, from: r.Time}
			open[r.Node] = b
			batches = append(batches, b)
		}
		b.ids = append(b.ids, r.RequestID)
		b.to = r.Time.Add(s.pending)
	}
	for _, b := range batches {
		// Most answers come within seconds: look there first, and the
		// whole of Pending only for the exchanges still unanswered.
		ids, to := b.ids, b.to.Add(time.Microsecond)
		for _, upTo := range []time.Time{to.Add(min(firstLook, s.pending) - s.pending), to} {
			recs, err := s.store.ByTime(ctx, audit.TimeQuery{
				Node: b.node, Kind: audit.KindResponse, RequestIDs: ids,
				From: b.from, To: upTo, Limit: len(ids),
			})
			if err != nil {
				return nil, err
			}
			for _, r := range recs {
				k := exchange{r.Node, r.RequestID}
				if _, seen := out[k]; !seen {
					out[k] = r
				}
			}
			ids = slices.DeleteFunc(slices.Clone(ids), func(id string) bool {
				_, ok := out[exchange{b.node, id}]
				return ok
			})
			if len(ids) == 0 || s.pending <= firstLook {
				break
			}
		}
	}
	return out, nil
}

// firstLook is how long after its request answers looks for an exchange's
// answer before it looks as far as Pending.
const firstLook = 30 * time.Second

// fromAudit makes the Record of the exchange of request record req and
// response record resp (nil when there is none).
func fromAudit(req, resp *audit.Record) Record {
	r := Record{
		ID: req.RequestID, MessageID: req.MessageID, Client: req.Client, Service: req.Service,
		Registry: registryOf(req.Service), Method: req.Method, RuleID: req.RuleID,
		RequestInTs: Millis(req.Time), RequestSize: req.Size, Node: req.Node, TraceID: req.TraceID,
	}
	if resp == nil {
		r.FaultCode, r.FaultString = NoAnswerCode, NoAnswerString
		return r
	}
	r.RequestOutTs, r.ResponseInTs = Millis(resp.SentAt), Millis(resp.ReceivedAt)
	r.ResponseOutTs = Millis(resp.Time)
	r.ResponseSize, r.Status, r.Attempts = resp.Size, resp.Status, resp.Attempts
	r.FaultCode = resp.ErrorType
	r.Succeeded = resp.ErrorType == "" && resp.Status < 500
	if r.TraceID == "" {
		r.TraceID = resp.TraceID
	}
	return r
}

// registryOf returns the providing subsystem of a service id
// (INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE), or "" for anything else, such
// as the Data Tracker's "tracker".
func registryOf(service string) string {
	n := 0
	for i := 0; i < len(service); i++ {
		if service[i] == '/' {
			if n++; n == 4 {
				return service[:i]
			}
		}
	}
	return ""
}

// auditCursorTag opens an AuditSource's cursors, which are longer than a
// Store's: neither source takes the other's.
const auditCursorTag = 'a'

// encodeAuditCursor turns a request record's place into an opaque,
// URL-safe cursor: the tag, its time in microseconds, its Seq, its node.
func encodeAuditCursor(c audit.Cursor) string {
	b := make([]byte, 0, 17+len(c.Node))
	b = append(b, auditCursorTag)
	b = binary.BigEndian.AppendUint64(b, uint64(c.Time.UnixMicro()))
	b = binary.BigEndian.AppendUint64(b, uint64(c.Seq))
	b = append(b, c.Node...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeAuditCursor is the inverse of encodeAuditCursor.
func decodeAuditCursor(s string) (audit.Cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 18 || b[0] != auditCursorTag ||
		strings.ContainsFunc(string(b[17:]), func(r rune) bool { return r <= ' ' || r == 0xfffd }) {
		return audit.Cursor{}, fmt.Errorf("%w: cursor is not valid", ErrBadQuery)
	}
	return audit.Cursor{
		Time: time.UnixMicro(int64(binary.BigEndian.Uint64(b[1:9]))).UTC(),
		Seq:  int64(binary.BigEndian.Uint64(b[9:17])),
		Node: string(b[17:]),
	}, nil
}
