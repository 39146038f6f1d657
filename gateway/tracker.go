package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/go-kit/kit/endpoint"

	"github.com/govbus/govbus/policies"
)

// TrackerPath is the Data Tracker's path on the consumer port.
const TrackerPath = "/tracker/v1/accesses"

// RightTracker is the policy right that opens the Data Tracker.
const RightTracker = "tracker"

// TrackerService is the service name of the Data Tracker's look-ups in the
// message log, in operational monitoring and in its rate limit.
const TrackerService = "tracker"

// maxTrackerSubject is the longest subject the tracker is asked about.
const maxTrackerSubject = 256

// trackerRoute is the tracker as a route: its data subject is the
// ?subject= it is asked about, so the message log records the look-up too.
var trackerRoute = &Route{ServiceKey: TrackerService, Methods: []string{http.MethodGet}, Subject: &SubjectSpec{In: "query", Name: "subject"}}

// trackerEndpoint builds the Data Tracker's chain: authenticate → the
// tracker right (its rule's condition included) → the client's tracker
// rate → the query (X-Road-UserId and the parameters) → message log →
// serve. No purpose is needed.
func (c chain) trackerEndpoint() endpoint.Endpoint {
	return endpoint.Chain(c.authenticate, c.trackerRight, c.trackerLimit, c.trackerQuery, c.messageLog)(serveTracker)
}

// trackerRight lets only clients a rule grants the tracker right through,
// the rule's condition evaluated for this request.
func (c chain) trackerRight(next endpoint.Endpoint) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		req := request.(*Request)
		if req.Snapshot.Tracker == nil {
			return nil, Errorf(CodeUnknownService, "the Data Tracker is not enabled on this node")
		}
		if req.Method != http.MethodGet {
			return nil, &Error{Code: CodeMethodNotAllowed, Message: "the Data Tracker answers GET only", Allow: []string{http.MethodGet}}
		}
		s := SummaryFrom(ctx)
		s.Service = TrackerService
		_, sp := c.tracer.Start(ctx, "policy")
		d := req.Snapshot.Policy.HasRight(policies.Query{
			Client: req.ClientKey, Method: http.MethodGet, Path: TrackerPath, Purpose: req.Purpose,
			UserID: req.UserID, Issue: req.Issue, Header: req.Header, Now: req.Received,
			RepresentedParty: req.RepresentedParty, RepresentedPartyClass: req.RepresentedPartyClass,
		}, RightTracker)
		s.Decision = d.Effect.String()
		var err error
		if d.Effect != policies.Allow {
			err = Errorf(CodeAccessDenied, "no policy rule grants this client the tracker right")
		}
		endSpan(sp, err)
		if err != nil {
			return nil, err
		}
		s.RuleID = d.RuleID
		req.Route = trackerRoute
		req.Decision = d
		return next(ctx, req)
	}
}

// trackerLimit spends one of the client's Data Tracker calls: the tracker
// answers who read whose data, so it must not be an unthrottled oracle.
func (c chain) trackerLimit(next endpoint.Endpoint) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		req := request.(*Request)
		if l := req.Snapshot.TrackerLimiter; l != nil {
			if wait, ok := l.Allow(ctx, req.ClientKey, TrackerService, req.Decision.RuleID); !ok {
				return nil, &Error{Code: CodeRateLimited, Message: "this client's rate of Data Tracker calls is spent", RetryAfter: wait}
			}
		}
		return next(ctx, req)
	}
}

type trackerQueryKey struct{}

// trackerQuery reads the look-up before anything is logged: the official or
// citizen asking (X-Road-UserId, required, so the message log says who
// looked) and the query parameters, each at most once and none unknown.
func (c chain) trackerQuery(next endpoint.Endpoint) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		req := request.(*Request)
		if req.UserID == "" {
			return nil, Errorf(CodeBadRequest, "the Data Tracker needs X-Road-UserId: the official or citizen asking")
		}
		q, err := parseTrackerQuery(req.Target.RawQuery)
		if err != nil {
			return nil, err
		}
		return next(context.WithValue(ctx, trackerQueryKey{}, q), req)
	}
}

// parseTrackerQuery reads the Data Tracker's query string:
// subject=ID (required, at most 256 bytes), from= and to= (RFC 3339),
// limit= (a positive integer) and cursor= (as the last page gave it). A
// parameter given twice, an unknown or empty one, or a malformed query is
// a CodeBadRequest *Error: an ambiguous look-up is refused, never guessed.
func parseTrackerQuery(rawQuery string) (TrackerQuery, error) {
	var q TrackerQuery
	vals, err := url.ParseQuery(rawQuery)
	if err != nil {
		return q, Errorf(CodeBadRequest, "malformed query")
	}
	for name, vs := range vals {
		switch name {
		case "subject", "from", "to", "limit", "cursor":
		default:
			return q, Errorf(CodeBadRequest, "unknown query parameter %q (the Data Tracker takes subject, from, to, limit and cursor)", trimName(name))
		}
		if len(vs) != 1 {
			return q, Errorf(CodeBadRequest, "query parameter %s is given more than once", name)
		}
		if vs[0] == "" {
			return q, Errorf(CodeBadRequest, "query parameter %s is empty", name)
		}
	}
	q.Subject = vals.Get("subject")
	if q.Subject == "" || len(q.Subject) > maxTrackerSubject {
		return q, Errorf(CodeBadRequest, "query parameter subject is required (at most %d bytes)", maxTrackerSubject)
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		if v := vals.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return q, Errorf(CodeBadRequest, "query parameter %s must be an RFC 3339 time", p.name)
			}
			*p.dst = t
		}
	}
	if v := vals.Get("limit"); v != "" {
		n, err := strconv.ParseUint(v, 10, 31)
		if err != nil || n == 0 || v[0] == '+' {
			return q, Errorf(CodeBadRequest, "query parameter limit must be a positive integer")
		}
		q.Limit = int(n)
	}
	q.Cursor = vals.Get("cursor")
	return q, nil
}

// trimName shortens a parameter name quoted in a message.
func trimName(s string) string {
	if len(s) > 32 {
		return s[:32] + "..."
	}
	return s
}

// trackerAnswer is the Data Tracker's JSON answer.
type trackerAnswer struct {
	Accesses   []Access `json:"accesses"`
	NextCursor string   `json:"next_cursor,omitempty"`
}

// serveTracker answers GET /tracker/v1/accesses with one page of accesses.
func serveTracker(ctx context.Context, request any) (any, error) {
	req := request.(*Request)
	q, _ := ctx.Value(trackerQueryKey{}).(TrackerQuery)
	page, err := req.Snapshot.Tracker.Accesses(ctx, q)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, e
		}
		return nil, Wrap(CodeInternalError, err, "reading the accesses failed")
	}
	if page.Accesses == nil {
		page.Accesses = []Access{}
	}
	b, err := json.Marshal(trackerAnswer{Accesses: page.Accesses, NextCursor: page.NextCursor})
	if err != nil {
		return nil, Wrap(CodeInternalError, err, "encoding the answer failed")
	}
	return &Response{Status: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"no-store"}}, Body: b}, nil
}
