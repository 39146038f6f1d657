package gateway_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/govbus/govbus/authn"
	"github.com/govbus/govbus/gateway"
	"github.com/govbus/govbus/policies"
	"github.com/govbus/govbus/ratelimit"
	"github.com/govbus/govbus/tracker"
)

const (
	portalClient = "UA/GOV/00000005/citizen-portal"
	portalKey    = "portal-key"
)

// fakeTracker records the queries it is asked and answers page.
type fakeTracker struct {
	queries []gateway.TrackerQuery
	page    gateway.AccessPage
	err     error
}

func (f *fakeTracker) Accesses(_ context.Context, q gateway.TrackerQuery) (gateway.AccessPage, error) {
	f.queries = append(f.queries, q)
	return f.page, f.err
}

// trackerLog keeps what the message log was given.
type trackerLog struct{ requests, responses []gateway.Request }

func (l *trackerLog) LogRequest(_ context.Context, req *gateway.Request) error {
	l.requests = append(l.requests, *req)
	return nil
}

func (l *trackerLog) LogResponse(_ context.Context, req *gateway.Request, _ *gateway.Response, _ error) error {
	l.responses = append(l.responses, *req)
	return nil
}

// trackerWorld is a node serving only the Data Tracker to portalClient
// under rules, with a fake tracker, a recording log and a throttle on a
// fake clock.
type trackerWorld struct {
	h   http.Handler
	tr  *fakeTracker
	log *trackerLog
	now *time.Time
}

func newTrackerWorld(t *testing.T, rules []policies.Rule, rate float64, burst int) *trackerWorld {
	t.Helper()
	auth, err := authn.New([]authn.Client{{ID: portalClient, KeyHashes: []string{authn.HashKey(portalKey)}}})
	if err != nil {
		t.Fatal(err)
	}
	engine, err := policies.Compile(rules, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	w := &trackerWorld{tr: &fakeTracker{}, log: &trackerLog{}, now: &now}
	snap := &gateway.Snapshot{Routes: map[string]*gateway.Route{}, Subsystems: map[string][]*gateway.Route{},
		Authenticator: auth, Policy: engine, Tracker: w.tr, MessageLog: w.log}
	if rate > 0 {
		snap.TrackerLimiter = &tracker.Throttle{State: ratelimit.NewState(func() time.Time { return *w.now }), Rate: rate, Burst: burst}
	}
	w.h = gateway.NewHandler(gateway.Options{Holder: gateway.NewHolder(snap), Now: func() time.Time { return *w.now }})
	return w
}

var portalTracker = []policies.Rule{{ID: "portal-tracker", Clients: []string{portalClient}, Rights: []string{"tracker"}}}

// call asks the tracker with query as the portal, with extra headers
// ("Name: value").
func (w *trackerWorld) call(t *testing.T, query string, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("GET", "/tracker/v1/accesses"+query, nil)
	req.Header.Set("X-Road-Client", portalClient)
	req.Header.Set("Authorization", "Bearer "+portalKey)
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ": ")
		req.Header.Add(name, value)
	}
	rec := httptest.NewRecorder()
	w.h.ServeHTTP(rec, req)
	return rec
}

func checkStatus(t *testing.T, name string, rec *httptest.ResponseRecorder, status int, code gateway.Code) {
	t.Helper()
	if rec.Code != status || rec.Header().Get("X-Road-Error") != string(code) {
		t.Errorf("%s: got %d %q (%s), want %d %q", name, rec.Code, rec.Header().Get("X-Road-Error"), rec.Body, status, code)
	}
}

const official = "X-Road-UserId: EE38001085718"

// TestTrackerRightObeysCondition: the attack replayed — the portal's rule
// grants the tracker right only from the Kyiv office; without the header
// the right is not granted.
func TestTrackerRightObeysCondition(t *testing.T) {
	for _, cond := range []string{`headers["x-office"] == "kyiv"`, `"x-office" in headers && headers["x-office"] == "kyiv"`} {
		w := newTrackerWorld(t, []policies.Rule{{ID: "portal-tracker", Clients: []string{portalClient}, Rights: []string{"tracker"},
			Condition: cond}}, 0, 0)
		checkStatus(t, cond+", without the header", w.call(t, "?subject=1000000042", official), 403, gateway.CodeAccessDenied)
		checkStatus(t, cond+", another office", w.call(t, "?subject=1000000042", official, "X-Office: lviv"), 403, gateway.CodeAccessDenied)
		if len(w.tr.queries) != 0 || len(w.log.requests) != 0 {
			t.Errorf("%s: denied calls reached the tracker (%d) or the log (%d)", cond, len(w.tr.queries), len(w.log.requests))
		}
		checkStatus(t, cond+", with the header", w.call(t, "?subject=1000000042", official, "X-Office: kyiv"), 200, "")
	}
	w := newTrackerWorld(t, []policies.Rule{{ID: "portal-tracker", Clients: []string{portalClient}, Rights: []string{"tracker"},
		Condition: `user_id.startsWith("EE")`}}, 0, 0)
	checkStatus(t, "user id condition", w.call(t, "?subject=1", official), 200, "")
	checkStatus(t, "user id condition, another user", w.call(t, "?subject=1", "X-Road-UserId: UA123"), 403, gateway.CodeAccessDenied)
}

// TestTrackerRateLimited: beyond the client's burst, 429 with Retry-After,
// and the tracker is not asked; the bucket refills with time.
func TestTrackerRateLimited(t *testing.T) {
	w := newTrackerWorld(t, portalTracker, 5, 10)
	for i := range 10 {
		checkStatus(t, "within the burst", w.call(t, "?subject=1000000042", official), 200, "")
		_ = i
	}
	rec := w.call(t, "?subject=1000000042", official)
	checkStatus(t, "beyond the burst", rec, 429, gateway.CodeRateLimited)
	if got := rec.Header().Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After: got %q, want 1", got)
	}
	if len(w.tr.queries) != 10 {
		t.Errorf("the tracker was asked %d times, want 10", len(w.tr.queries))
	}
	*w.now = w.now.Add(200 * time.Millisecond)
	checkStatus(t, "after a refill", w.call(t, "?subject=1000000042", official), 200, "")
}

// TestTrackerNeedsUserID: without X-Road-UserId the look-up is refused
// before anything is logged or read.
func TestTrackerNeedsUserID(t *testing.T) {
	w := newTrackerWorld(t, portalTracker, 0, 0)
	checkStatus(t, "no user id", w.call(t, "?subject=1000000042"), 400, gateway.CodeBadRequest)
	if len(w.tr.queries) != 0 || len(w.log.requests) != 0 {
		t.Errorf("the call reached the tracker (%d) or the log (%d)", len(w.tr.queries), len(w.log.requests))
	}
}

// TestTrackerQuery: the parameters are read exactly; anything ambiguous
// or unknown is refused before it is logged.
func TestTrackerQuery(t *testing.T) {
	w := newTrackerWorld(t, portalTracker, 0, 0)
	for _, q := range []string{
		"", "?subject=", "?subject=a&subject=b", "?subject=a&subject=a", "?subject=a&limit=2&limit=3",
		"?subject=a&cursor=x&cursor=y", "?subject=a&from=2026-01-01T00:00:00Z&from=2026-01-02T00:00:00Z",
		"?subject=a&page=2", "?subject=a&Subject=b", "?subject=a;limit=2", "?subject=a&limit=0", "?subject=a&limit=-1",
		"?subject=a&limit=abc", "?subject=a&limit=%2B5", "?subject=a&limit=", "?subject=a&from=yesterday",
		"?subject=%zz", "?subject=" + strings.Repeat("1", 257), "?subject=a&limit=99999999999",
	} {
		checkStatus(t, q, w.call(t, q, official), 400, gateway.CodeBadRequest)
	}
	if len(w.tr.queries) != 0 || len(w.log.requests) != 0 {
		t.Errorf("refused calls reached the tracker (%d) or the log (%d)", len(w.tr.queries), len(w.log.requests))
	}
	checkStatus(t, "all parameters", w.call(t, "?subject=1000000042&limit=2&cursor=abc_-&from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00%2B02:00", official), 200, "")
	want := gateway.TrackerQuery{Subject: "1000000042", Limit: 2, Cursor: "abc_-",
		From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 1, 31, 22, 0, 0, 0, time.UTC)}
	if len(w.tr.queries) != 1 || w.tr.queries[0].Subject != want.Subject || w.tr.queries[0].Limit != want.Limit ||
		w.tr.queries[0].Cursor != want.Cursor || !w.tr.queries[0].From.Equal(want.From) || !w.tr.queries[0].To.Equal(want.To) {
		t.Errorf("tracker asked %+v, want %+v", w.tr.queries, want)
	}
}

// TestTrackerLogged: the look-up is in the message log, with the user id
// and the subject asked about.
func TestTrackerLogged(t *testing.T) {
	w := newTrackerWorld(t, portalTracker, 0, 0)
	checkStatus(t, "look-up", w.call(t, "?subject=1000000042", official, "X-Road-Issue: case-9"), 200, "")
	if len(w.log.requests) != 1 || len(w.log.responses) != 1 {
		t.Fatalf("logged %d requests and %d responses, want 1 and 1", len(w.log.requests), len(w.log.responses))
	}
	r := w.log.requests[0]
	if r.UserID != "EE38001085718" || r.Issue != "case-9" || r.ClientKey != portalClient || r.Route.ServiceKey != gateway.TrackerService ||
		r.Subject != "1000000042" || r.Decision.RuleID != "portal-tracker" {
		t.Errorf("request record from user %q issue %q client %q service %q subject %q rule %q",
			r.UserID, r.Issue, r.ClientKey, r.Route.ServiceKey, r.Subject, r.Decision.RuleID)
	}
}

// TestTrackerAnswer: the answer keeps its shape, with next_cursor when more
// follow; the tracker's own refusals keep their code.
func TestTrackerAnswer(t *testing.T) {
	w := newTrackerWorld(t, portalTracker, 0, 0)
	rec := w.call(t, "?subject=1", official)
	if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != `{"accesses":[]}` {
		t.Errorf("empty answer: %d %s", rec.Code, rec.Body)
	}
	w.tr.page = gateway.AccessPage{Accesses: []gateway.Access{{Service: "s", Outcome: "ok"}}, NextCursor: "next"}
	rec = w.call(t, "?subject=1", official)
	var got struct {
		Accesses   []gateway.Access `json:"accesses"`
		NextCursor string           `json:"next_cursor"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || len(got.Accesses) != 1 || got.NextCursor != "next" {
		t.Errorf("page with a cursor: %s (%v)", rec.Body, err)
	}
	w.tr.err = gateway.Errorf(gateway.CodeBadRequest, "bad cursor")
	checkStatus(t, "tracker's refusal", w.call(t, "?subject=1&cursor=x", official), 400, gateway.CodeBadRequest)
}
