package node_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/govbus/govbus/audit"
	"github.com/govbus/govbus/node"
	"github.com/govbus/govbus/opmon"
	"github.com/govbus/govbus/tracker"
)

// failingLog is a message log whose store can fail on demand.
type failingLog struct {
	mu      sync.Mutex
	fail    bool
	records []*audit.Record
}

func (f *failingLog) Append(_ context.Context, r *audit.Record) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return errors.New("disk full")
	}
	f.records = append(f.records, r)
	return nil
}

func TestMessageLogRecordsBothSides(t *testing.T) {
	ml := &failingLog{}
	w := newWorldWith(t, nil, node.Options{AuditLog: ml})
	h := eservice()
	h.Set("X-Road-Id", "msg-42")
	h.Set("X-Road-UserId", "EE38001085718")
	h.Set("X-Road-Issue", "case-9")
	resp, body := w.call(t, "GET", personsSvc+"/persons/1000000042", h, "")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d %s", resp.StatusCode, body)
	}
	if len(ml.records) != 2 {
		t.Fatalf("records = %d, want 2 (request, response)", len(ml.records))
	}
	req, res := ml.records[0], ml.records[1]
	wantSubject := tracker.Hash([]byte("test-subject-key-0123456789"), "1000000042")
	if req.Kind != audit.KindRequest || req.MessageID != "msg-42" || req.Client != "UA/GOV/00000003/eservice" ||
		req.PathTemplate != "/persons/{id}" || req.UserID != "EE38001085718" || req.Issue != "case-9" ||
		req.Purpose != "service-delivery" || req.RuleID != "eservice-persons" || req.SubjectHash != wantSubject {
		t.Errorf("request record = %+v", req)
	}
	if res.Kind != audit.KindResponse || res.Status != 200 || res.Size != int64(len(body)) || res.SubjectHash != wantSubject || len(res.Body) != 0 {
		t.Errorf("response record = %+v", res)
	}
	if res.Attempts != 1 || res.SentAt.IsZero() || res.ReceivedAt.Before(res.SentAt) {
		t.Errorf("response record's registry call: sent %v, received %v, %d attempts", res.SentAt, res.ReceivedAt, res.Attempts)
	}
	if !req.SentAt.IsZero() || !req.ReceivedAt.IsZero() || req.Attempts != 0 {
		t.Errorf("request record with the registry call's fields: %+v", req)
	}
	for _, r := range ml.records {
		if b, _ := json.Marshal(r); strings.Contains(string(b), "1000000042") {
			t.Errorf("a record holds the subject in clear: %s", b)
		}
	}
}

// TestMessageLogFailsClosed: when the log cannot be written, nothing is
// forwarded and the consumer gets Server.LoggingFailed; it recovers.
func TestMessageLogFailsClosed(t *testing.T) {
	ml := &failingLog{fail: true}
	w := newWorldWith(t, nil, node.Options{AuditLog: ml})
	before := w.civil.Requests()
	resp, body := w.call(t, "GET", personsSvc+"/persons/1000000042", eservice(), "")
	if resp.StatusCode != 503 || resp.Header.Get("X-Road-Error") != "Server.LoggingFailed" {
		t.Fatalf("got %d %s, want 503 Server.LoggingFailed", resp.StatusCode, body)
	}
	checkErrorBody(t, resp, body, "Server.LoggingFailed")
	if got := w.civil.Requests(); got != before {
		t.Errorf("the registry was called although the request could not be logged")
	}
	ml.mu.Lock()
	ml.fail = false
	ml.mu.Unlock()
	if resp, _ := w.call(t, "GET", personsSvc+"/persons/1000000042", eservice(), ""); resp.StatusCode != 200 {
		t.Errorf("after recovery: status %d", resp.StatusCode)
	}
}

// TestDataTracker: two clients, two purposes, one covert; the citizen sees
// exactly the disclosed access; a client without the right is refused.
func TestDataTracker(t *testing.T) {
	ctx := context.Background()
	store, err := audit.OpenSQLite(filepath.Join(t.TempDir(), "log.db"))
	if err != nil {
		t.Fatal(err)
	}
	signer := audit.NewSigner(mustKey(t))
	log, err := audit.Open(ctx, store, audit.Options{Node: "test", Signer: signer})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = log.Close(ctx) })
	w := newWorldWith(t, nil, node.Options{AuditLog: log, AuditStore: store})

	for _, c := range []struct {
		hdr  map[string]string
		path string
	}{
		{map[string]string{"X-Road-Client": "UA/GOV/00000003/eservice", "Authorization": "Bearer " + eserviceKey, "X-Road-Purpose": "service-delivery"}, "/persons/1000000042"},
		{map[string]string{"X-Road-Client": "UA/GOV/00000004/benefits", "Authorization": "Bearer " + benefitsKey, "X-Road-Purpose": "benefit-eligibility"}, "/persons/1000000042"},
		{map[string]string{"X-Road-Client": "UA/GOV/00000003/eservice", "Authorization": "Bearer " + eserviceKey, "X-Road-Purpose": "service-delivery"}, "/persons/1000000043"},
	} {
		h := as(c.hdr["X-Road-Client"], c.hdr["Authorization"][len("Bearer "):], c.hdr["X-Road-Purpose"])
		if resp, body := w.call(t, "GET", personsSvc+c.path, h, ""); resp.StatusCode != 200 {
			t.Fatalf("status %d %s", resp.StatusCode, body)
		}
	}
	official := as("UA/GOV/00000005/citizen-portal", portalKey, "")
	official.Set("X-Road-UserId", "EE38001085718")
	resp, body := w.call(t, "GET", "/tracker/v1/accesses?subject=1000000042", official, "")
	if resp.StatusCode != 200 {
		t.Fatalf("tracker status %d %s", resp.StatusCode, body)
	}
	var got struct {
		Accesses []struct {
			Time      time.Time `json:"time"`
			MemberID  string    `json:"member_id"`
			Subsystem string    `json:"subsystem"`
			Service   string    `json:"service"`
			Purpose   string    `json:"purpose"`
			Outcome   string    `json:"outcome"`
		} `json:"accesses"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Accesses) != 1 {
		t.Fatalf("accesses = %+v, want exactly the disclosed one", got.Accesses)
	}
	a := got.Accesses[0]
	if a.MemberID != "UA/GOV/00000003" || a.Subsystem != "eservice" || a.Purpose != "service-delivery" ||
		a.Service != "UA/GOV/00000001/civil-registry/persons" || a.Outcome != "ok" || a.Time.IsZero() {
		t.Errorf("access = %+v", a)
	}
	resp, _ = w.call(t, "GET", "/tracker/v1/accesses?subject=1000000042", as("UA/GOV/00000003/eservice", eserviceKey, ""), "")
	if resp.StatusCode != 403 || resp.Header.Get("X-Road-Error") != "Client.AccessDenied" {
		t.Errorf("tracker for a client without the right: %d %s", resp.StatusCode, resp.Header.Get("X-Road-Error"))
	}
	resp, _ = w.call(t, "GET", "/tracker/v1/accesses", official, "")
	if resp.StatusCode != 400 {
		t.Errorf("tracker without subject: %d, want 400", resp.StatusCode)
	}
	// The look-up itself is in the log, under the subject's hash.
	recs, err := store.BySubject(ctx, audit.SubjectQuery{SubjectHash: tracker.Hash([]byte("test-subject-key-0123456789"), "1000000042"), Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range recs {
		found = found || r.Service == "tracker" && r.Client == "UA/GOV/00000005/citizen-portal" && r.UserID == "EE38001085718"
	}
	if !found {
		t.Errorf("the tracker look-up was not logged")
	}
}

func mustKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestOperationalMonitoringFromTheMessageLog: with the message log on, the
// operational monitoring records come from its store — the same exchanges,
// with the same hops, as the in-memory records — and outlive the node.
func TestOperationalMonitoringFromTheMessageLog(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "log.db")
	store, err := audit.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	log, err := audit.Open(ctx, store, audit.Options{Node: "test", Signer: audit.NewSigner(mustKey(t))})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close(ctx)
	w := newWorldWith(t, nil, node.Options{AuditLog: log, AuditStore: store})
	h := eservice()
	h.Set("X-Road-Id", "opmon-ok")
	if resp, body := w.call(t, "GET", personsSvc+"/persons/1000000042", h, ""); resp.StatusCode != 200 {
		t.Fatalf("status %d %s", resp.StatusCode, body)
	}
	h.Set("X-Road-Id", "opmon-down")
	if resp, _ := w.call(t, "GET", "/r1/UA/GOV/00000007/down/things/x", h, ""); resp.StatusCode < 500 {
		t.Fatalf("down registry: status %d", resp.StatusCode)
	}
	denied := as("UA/GOV/00000005/citizen-portal", portalKey, "")
	denied.Set("X-Road-Id", "opmon-denied")
	if resp, _ := w.call(t, "GET", personsSvc+"/persons/1000000042", denied, ""); resp.StatusCode != 403 {
		t.Fatalf("status %d", resp.StatusCode)
	}

	src := opmon.NewAuditSource(store, opmon.AuditOptions{})
	page, err := src.Query(ctx, opmon.Query{})
	if err != nil {
		t.Fatal(err)
	}
	// The refusal never reached the message log: only the in-memory
	// records hold it.
	if len(page.Records) != 2 {
		t.Fatalf("records = %+v, want the two logged exchanges", page.Records)
	}
	mem, err := w.records.Query(ctx, opmon.Query{})
	if err != nil || len(mem.Records) != 3 {
		t.Fatalf("in-memory records = %+v, %v", mem.Records, err)
	}
	ok, down := page.Records[0], page.Records[1]
	same := mem.Records[0]
	if ok.ID != same.ID || ok.MessageID != "opmon-ok" || ok.Client != same.Client || ok.Service != same.Service ||
		ok.Registry != same.Registry || ok.Method != "GET" || ok.RuleID != same.RuleID || ok.Node != "test" ||
		ok.Status != 200 || !ok.Succeeded || ok.Attempts != same.Attempts || ok.ResponseSize != same.ResponseSize ||
		ok.RequestOutTs != same.RequestOutTs || ok.ResponseInTs != same.ResponseInTs || ok.FaultCode != "" {
		t.Errorf("record from the message log:\n%+v\nin memory:\n%+v", ok, same)
	}
	if !(same.RequestInTs <= ok.RequestInTs && ok.RequestInTs <= ok.RequestOutTs && ok.RequestOutTs <= ok.ResponseInTs &&
		ok.ResponseInTs <= ok.ResponseOutTs && ok.ResponseOutTs <= same.ResponseOutTs) || ok.RequestOutTs == 0 {
		t.Errorf("hops out of order: %+v (in memory %+v)", ok, same)
	}
	if down.MessageID != "opmon-down" || down.Succeeded || down.FaultCode != mem.Records[1].FaultCode ||
		down.Status != mem.Records[1].Status || down.Registry != "UA/GOV/00000007/down" {
		t.Errorf("failed exchange from the message log:\n%+v\nin memory:\n%+v", down, mem.Records[1])
	}

	// A restart: the records are still there.
	if err := log.Close(ctx); err != nil {
		t.Fatal(err)
	}
	store, err = audit.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	again, err := opmon.NewAuditSource(store, opmon.AuditOptions{}).Query(ctx, opmon.Query{})
	if err != nil || !reflect.DeepEqual(again, page) {
		t.Fatalf("after reopening the log: %+v, %v\nwant %+v", again, err, page)
	}
}
