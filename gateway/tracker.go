package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/go-kit/kit/endpoint"
)

// TrackerPath is the Data Tracker's path on the consumer port.
const TrackerPath = "/tracker/v1/accesses"

// RightTracker is the policy right that opens the Data Tracker.
const RightTracker = "tracker"

// trackerRoute is the tracker as a route: its data subject is the
// ?subject= it is asked about, so the message log records the look-up too.
var trackerRoute = &Route{ServiceKey: "tracker", Methods: []string{http.MethodGet}, Subject: &SubjectSpec{In: "query", Name: "subject"}}

// trackerEndpoint builds the Data Tracker's chain: authenticate → the
// tracker right → message log → serve. No purpose is needed.
func (c chain) trackerEndpoint() endpoint.Endpoint {
	return endpoint.Chain(c.authenticate, c.trackerRight, c.messageLog)(serveTracker)
}

// trackerRight lets only clients a rule grants the tracker right through.
func (c chain) trackerRight(next endpoint.Endpoint) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		req := request.(*Request)
		if req.Snapshot.Tracker == nil {
			return nil, Errorf(CodeUnknownService, "the Data Tracker is not enabled on this node")
		}
		if req.Method != http.MethodGet {
			return nil, &Error{Code: CodeMethodNotAllowed, Message: "the Data Tracker answers GET only", Allow: []string{http.MethodGet}}
		}
		ruleID, ok := req.Snapshot.Policy.HasRight(req.ClientKey, RightTracker)
		if !ok {
			return nil, Errorf(CodeAccessDenied, "no policy rule grants this client the tracker right")
		}
		s := SummaryFrom(ctx)
		s.Service, s.RuleID = "tracker", ruleID
		req.Route = trackerRoute
		req.Decision.RuleID = ruleID
		return next(ctx, req)
	}
}

// serveTracker answers GET /tracker/v1/accesses?subject=ID[&from=&to=].
func serveTracker(ctx context.Context, request any) (any, error) {
	req := request.(*Request)
	q, err := url.ParseQuery(req.Target.RawQuery)
	if err != nil {
		return nil, Wrap(CodeBadRequest, err, "malformed query")
	}
	subject := q.Get("subject")
	if subject == "" || len(subject) > 256 {
		return nil, Errorf(CodeBadRequest, "query parameter subject is required (at most 256 characters)")
	}
	from, to := time.Time{}, time.Now().Add(time.Minute)
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &from}, {"to", &to}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return nil, Errorf(CodeBadRequest, "query parameter %s must be an RFC 3339 time", p.name)
			}
			*p.dst = t
		}
	}
	accesses, err := req.Snapshot.Tracker.Accesses(ctx, subject, from, to)
	if err != nil {
		return nil, Wrap(CodeInternalError, err, "reading the accesses failed")
	}
	if accesses == nil {
		accesses = []Access{}
	}
	b, err := json.Marshal(struct {
		Accesses []Access `json:"accesses"`
	}{accesses})
	if err != nil {
		return nil, Wrap(CodeInternalError, err, "encoding the answer failed")
	}
	return &Response{Status: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"no-store"}}, Body: b}, nil
}
