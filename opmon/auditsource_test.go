package opmon

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/govbus/govbus/audit"
)

// t0 is a UTC time at microsecond precision, not on a millisecond.
var t0 = time.Date(2031, 5, 6, 7, 8, 9, 123456000, time.UTC)

// clock is a settable clock, safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// keepOpen is a store that a Log's Close leaves open, for several Logs (as
// several nodes) on one store.
type keepOpen struct{ audit.Store }

func (keepOpen) Close() error { return nil }

// openStore opens the SQLite message log at path, closed when the test
// ends.
func openStore(t *testing.T, path string) *audit.SQLiteStore {
	t.Helper()
	s, err := audit.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var testKey = ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))

// openLog starts node's Log on store (left open by the Log's Close), with
// clock now (nil: the real one); it is closed when the test ends.
func openLog(t *testing.T, store audit.Store, node string, now func() time.Time) *audit.Log {
	t.Helper()
	l, err := audit.Open(context.Background(), keepOpen{store}, audit.Options{
		Node: node, Signer: audit.NewSigner(testKey), Now: now, MaxDelay: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close(context.Background()) })
	return l
}

// exch is an exchange to log: its request record, and its response record
// unless resp is nil. Kind, RequestID and the fields both records share
// are filled in by logRequest and logResponse.
type exch struct {
	req  audit.Record
	resp *audit.Record
}

func (e *exch) logRequest(t testing.TB, l *audit.Log) {
	t.Helper()
	r := e.req
	r.Kind = audit.KindRequest
	if err := l.Append(context.Background(), &r); err != nil {
		t.Error(err)
	}
}

func (e *exch) logResponse(t testing.TB, l *audit.Log) {
	t.Helper()
	r := *e.resp
	r.Kind, r.RequestID, r.MessageID = audit.KindResponse, e.req.RequestID, e.req.MessageID
	r.Client, r.Service, r.Method, r.RuleID, r.TraceID = e.req.Client, e.req.Service, e.req.Method, e.req.RuleID, e.req.TraceID
	if err := l.Append(context.Background(), &r); err != nil {
		t.Error(err)
	}
}

// simple returns exchange id's records: a GET answered 200.
func simple(id, client string) *exch {
	return &exch{
		req: audit.Record{RequestID: id, MessageID: "msg-" + id, Client: client,
			Service: "UA/GOV/00000001/civil-registry/persons", Method: "GET", RuleID: "r1", Size: 3},
		resp: &audit.Record{Status: 200, Size: 100, Attempts: 1},
	}
}

func querySource(t *testing.T, s Source, q Query) Page {
	t.Helper()
	p, err := s.Query(context.Background(), q)
	if err != nil {
		t.Fatalf("Query(%+v): %v", q, err)
	}
	if p.Truncated {
		t.Fatalf("Query(%+v): truncated", q)
	}
	return p
}

const persons = "UA/GOV/00000001/civil-registry/persons"

// pairingWorld logs, on node n1 with a fake clock, exchanges of every kind
// (see TestAuditSourcePairs) and returns the store and the clock.
func pairingWorld(t *testing.T) (audit.Store, *clock) {
	store := openStore(t, filepath.Join(t.TempDir(), "log.db"))
	clk := &clock{t: t0}
	l := openLog(t, store, "n1", clk.Now)
	at := func(d time.Duration) { clk.Set(t0.Add(d)) }
	ms := time.Millisecond
	a := &exch{
		req: audit.Record{RequestID: "a", MessageID: "msg-a", Client: "UA/GOV/00000003/eservice",
			Service: persons, Method: "GET", RuleID: "rule-a", Size: 10,
			TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", UserID: "EE38001085718", PathTemplate: "/persons/{id}"},
		resp: &audit.Record{Status: 200, Size: 321, SentAt: t0.Add(10 * ms), ReceivedAt: t0.Add(240 * ms), Attempts: 2},
	}
	b := &exch{
		req:  audit.Record{RequestID: "b", MessageID: "msg-b", Client: "UA/GOV/00000004/benefits", Service: persons, Method: "POST"},
		resp: &audit.Record{Status: 503, Size: 7, SentAt: t0.Add(2 * ms), ReceivedAt: t0.Add(30 * ms), Attempts: 3},
	}
	c := &exch{
		req:  audit.Record{RequestID: "c", MessageID: "msg-c", Client: "UA/GOV/00000003/eservice", Service: persons, Method: "GET"},
		resp: &audit.Record{Status: 504, ErrorType: "Server.RegistryTimeout"},
	}
	d := &exch{req: audit.Record{RequestID: "d", MessageID: "msg-d", Client: "UA/GOV/00000003/eservice", Service: persons, Method: "GET"}}
	f := &exch{
		req:  audit.Record{RequestID: "f", MessageID: "msg-f", Client: "UA/GOV/00000005/citizen-portal", Service: "tracker", Method: "GET", RuleID: "portal"},
		resp: &audit.Record{Status: 200, Size: 50},
	}
	e := &exch{req: audit.Record{RequestID: "e", MessageID: "msg-e", Client: "UA/GOV/00000003/eservice", Service: persons, Method: "GET"}}
	g := &exch{ // answered after two minutes: past answers' first look
		req:  audit.Record{RequestID: "g", MessageID: "msg-g", Client: "UA/GOV/00000004/benefits", Service: persons, Method: "GET"},
		resp: &audit.Record{Status: 200, Size: 1, SentAt: t0.Add(6 * ms), ReceivedAt: t0.Add(2 * time.Minute), Attempts: 1},
	}

	// Interleaved, as concurrent exchanges are.
	at(0)
	a.logRequest(t, l)
	at(1 * ms)
	b.logRequest(t, l)
	at(2 * ms)
	c.logRequest(t, l)
	at(3 * ms)
	d.logRequest(t, l) // never answered: the node crashed
	at(4 * ms)
	f.logRequest(t, l)
	at(5 * ms)
	g.logRequest(t, l)
	at(40 * ms)
	b.logResponse(t, l)
	at(60 * ms)
	f.logResponse(t, l)
	at(250 * ms)
	a.logResponse(t, l)
	at(5 * time.Second)
	c.logResponse(t, l)
	at(2*time.Minute + 1*ms)
	g.logResponse(t, l)
	at(9*time.Minute + 59*time.Second)
	e.logRequest(t, l) // in flight
	return store, clk
}

// TestAuditSourcePairs: each exchange's two records make one Record with
// the fields of both; an exchange cut short is reported failed once it is
// older than Pending, and left out before.
func TestAuditSourcePairs(t *testing.T) {
	store, _ := pairingWorld(t)
	now := &clock{t: t0.Add(10 * time.Minute)}
	src := NewAuditSource(store, AuditOptions{Now: now.Now})
	ms := func(d time.Duration) int64 { return t0.Add(d).UnixMilli() }
	m := time.Millisecond
	want := []Record{
		{ID: "a", MessageID: "msg-a", Client: "UA/GOV/00000003/eservice", Service: persons,
			Registry: "UA/GOV/00000001/civil-registry", Method: "GET", RuleID: "rule-a",
			RequestInTs: ms(0), RequestOutTs: ms(10 * m), ResponseInTs: ms(240 * m), ResponseOutTs: ms(250 * m),
			RequestSize: 10, ResponseSize: 321, Status: 200, Succeeded: true, Attempts: 2, Node: "n1",
			TraceID: "4bf92f3577b34da6a3ce929d0e0e4736"},
		{ID: "b", MessageID: "msg-b", Client: "UA/GOV/00000004/benefits", Service: persons,
			Registry: "UA/GOV/00000001/civil-registry", Method: "POST",
			RequestInTs: ms(1 * m), RequestOutTs: ms(2 * m), ResponseInTs: ms(30 * m), ResponseOutTs: ms(40 * m),
			ResponseSize: 7, Status: 503, Attempts: 3, Node: "n1"},
		{ID: "c", MessageID: "msg-c", Client: "UA/GOV/00000003/eservice", Service: persons,
			Registry: "UA/GOV/00000001/civil-registry", Method: "GET",
			RequestInTs: ms(2 * m), ResponseOutTs: ms(5 * time.Second), Status: 504,
			FaultCode: "Server.RegistryTimeout", Node: "n1"},
		{ID: "d", MessageID: "msg-d", Client: "UA/GOV/00000003/eservice", Service: persons,
			Registry: "UA/GOV/00000001/civil-registry", Method: "GET", RequestInTs: ms(3 * m),
			FaultCode: NoAnswerCode, FaultString: NoAnswerString, Node: "n1"},
		{ID: "f", MessageID: "msg-f", Client: "UA/GOV/00000005/citizen-portal", Service: "tracker",
			Method: "GET", RuleID: "portal", RequestInTs: ms(4 * m), ResponseOutTs: ms(60 * m),
			ResponseSize: 50, Status: 200, Succeeded: true, Node: "n1"},
		{ID: "g", MessageID: "msg-g", Client: "UA/GOV/00000004/benefits", Service: persons,
			Registry: "UA/GOV/00000001/civil-registry", Method: "GET", RequestInTs: ms(5 * m),
			RequestOutTs: ms(6 * m), ResponseInTs: ms(2 * time.Minute), ResponseOutTs: ms(2*time.Minute + 1*m),
			ResponseSize: 1, Status: 200, Succeeded: true, Attempts: 1, Node: "n1"},
	}
	p := querySource(t, src, Query{})
	if !reflect.DeepEqual(p.Records, want) || p.NextCursor != "" {
		t.Fatalf("records:\n%+v\nwant\n%+v\nnext %q", p.Records, want, p.NextCursor)
	}
	// Alone in their page, g's answer is beyond answers' first look.
	p = querySource(t, src, Query{Client: "UA/GOV/00000004/benefits"})
	if !reflect.DeepEqual(p.Records, []Record{want[1], want[5]}) {
		t.Fatalf("b and g:\n%+v\nwant\n%+v", p.Records, []Record{want[1], want[5]})
	}
	// Once e is older than Pending, it is reported too.
	now.Set(t0.Add(15 * time.Minute))
	p = querySource(t, src, Query{})
	if ids(p) != "a b c d f g e" || p.Records[6].FaultCode != NoAnswerCode || p.Records[6].Succeeded {
		t.Fatalf("after Pending: %q %+v", ids(p), p.Records)
	}
	// With a shorter Pending, it is reported at once.
	src = NewAuditSource(store, AuditOptions{Now: now.Now, Pending: time.Second})
	now.Set(t0.Add(9*time.Minute + 59*time.Second + 1001*time.Millisecond))
	if p = querySource(t, src, Query{}); ids(p) != "a b c d f g e" {
		t.Fatalf("with Pending 1s: %q", ids(p))
	}
	// Nothing personal leaves the log through opmon.
	b, _ := json.Marshal(p)
	for _, s := range []string{"EE38001085718", "/persons/{id}"} {
		if strings.Contains(string(b), s) {
			t.Errorf("a record holds %q: %s", s, b)
		}
	}
}

func TestAuditSourceFilters(t *testing.T) {
	store, _ := pairingWorld(t)
	// A second node's exchange, at the same time as a's.
	clk := &clock{t: t0}
	l2 := openLog(t, store, "n2", clk.Now)
	x := simple("x", "UA/GOV/00000003/eservice")
	x.logRequest(t, l2)
	x.logResponse(t, l2)
	now := &clock{t: t0.Add(10 * time.Minute)}
	src := NewAuditSource(store, AuditOptions{Now: now.Now})
	onMs := time.UnixMilli(t0.UnixMilli()) // t0's millisecond
	for _, c := range []struct {
		name string
		q    Query
		want string
	}{
		{"all", Query{}, "a x b c d f g"},
		{"client", Query{Client: "UA/GOV/00000003/eservice"}, "a x c d"},
		{"service", Query{Service: "tracker"}, "f"},
		{"client b", Query{Client: "UA/GOV/00000004/benefits"}, "b g"},
		{"node", Query{Node: "n2"}, "x"},
		{"node and client", Query{Node: "n1", Client: "UA/GOV/00000003/eservice"}, "a c d"},
		{"no such node", Query{Node: "n3"}, ""},
		{"from t0's millisecond", Query{From: onMs}, "a x b c d f g"},
		{"from t0, rounded up to the next millisecond", Query{From: t0}, "b c d f g"},
		{"to t0's next millisecond", Query{To: onMs.Add(time.Millisecond)}, "a x"},
		{"to t0, rounded up", Query{To: t0}, "a x"},
		{"from = to", Query{From: onMs, To: onMs}, ""},
		{"[1ms, 3ms)", Query{From: onMs.Add(time.Millisecond), To: onMs.Add(3 * time.Millisecond)}, "b c"},
		{"limit", Query{Limit: 2}, "a x"},
	} {
		if p := querySource(t, src, c.q); ids(p) != c.want {
			t.Errorf("%s: %q, want %q", c.name, ids(p), c.want)
		}
	}

	ctx := context.Background()
	mem := NewStore(10)
	mem.Add(rec("m", base))
	mem.Add(rec("n", base))
	memCursor := query(t, mem, Query{Limit: 1}).NextCursor
	ours := querySource(t, src, Query{Limit: 1}).NextCursor
	for _, q := range []Query{
		{Cursor: "not a cursor!"},
		{Cursor: "YQ"},
		{Cursor: memCursor},
		{From: t0.Add(time.Second), To: t0},
	} {
		if _, err := src.Query(ctx, q); !errors.Is(err, ErrBadQuery) {
			t.Errorf("Query(%+v): %v, want ErrBadQuery", q, err)
		}
	}
	if _, err := mem.Query(ctx, Query{Cursor: ours}); !errors.Is(err, ErrBadQuery) {
		t.Errorf("the in-memory store took the audit source's cursor: %v", err)
	}
}

// walkSource follows NextCursor from the first page of q to the last,
// checking that RequestInTs never goes back and no exchange comes twice.
func walkSource(t *testing.T, s Source, q Query, between func()) map[string]Record {
	t.Helper()
	seen := map[string]Record{}
	last := int64(-1 << 63)
	for pages := 0; ; pages++ {
		if pages > 100000 {
			t.Fatal("the walk does not end")
		}
		p := querySource(t, s, q)
		if len(p.Records) > max(q.Limit, 0) || p.NextCursor != "" && len(p.Records) != q.Limit {
			t.Fatalf("page %d: %d records, limit %d, next %q", pages, len(p.Records), q.Limit, p.NextCursor)
		}
		for _, r := range p.Records {
			if r.RequestInTs < last {
				t.Fatalf("page %d: %s at %d after %d", pages, r.ID, r.RequestInTs, last)
			}
			last = r.RequestInTs
			k := r.Node + "/" + r.ID
			if _, dup := seen[k]; dup {
				t.Fatalf("page %d: %s returned twice", pages, k)
			}
			seen[k] = r
		}
		if p.NextCursor == "" {
			return seen
		}
		q.Cursor = p.NextCursor
		if between != nil {
			between()
		}
	}
}

// TestAuditSourceWalkWhileLogging walks every node's records, and one
// node's, page by page while exchanges keep being logged on two nodes:
// every exchange that had ended when the walk started comes exactly once.
func TestAuditSourceWalkWhileLogging(t *testing.T) {
	store := openStore(t, filepath.Join(t.TempDir(), "log.db"))
	logs := []*audit.Log{openLog(t, store, "n1", nil), openLog(t, store, "n2", nil)}
	const writers, before = 6, 100
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range before {
				e := simple(fmt.Sprintf("old-%d-%d", w, i), fmt.Sprint("UA/GOV/", i%3, "/c"))
				l := logs[(w+i)%2]
				e.logRequest(t, l)
				e.logResponse(t, l)
			}
		})
	}
	wg.Wait()
	src := NewAuditSource(store, AuditOptions{})

	for n, q := range []Query{{Limit: 37}, {Limit: 10, Node: "n2"}, {Limit: 7, Client: "UA/GOV/1/c"}} {
		t.Run(fmt.Sprintf("limit=%d,node=%s,client=%s", q.Limit, q.Node, q.Client), func(t *testing.T) {
			done := make(chan struct{})
			var added atomic.Int64
			var wg sync.WaitGroup
			defer func() { // also when the walk fails
				close(done)
				wg.Wait()
			}()
			for w := range writers {
				wg.Go(func() {
					for i := 0; ; i++ {
						select {
						case <-done:
							return
						default:
						}
						e := simple(fmt.Sprintf("new-%d-%d-%d", n, w, i), fmt.Sprint("UA/GOV/", i%3, "/c"))
						l := logs[(w+i)%2]
						e.logRequest(t, l) // in flight for a while: left out meanwhile
						time.Sleep(time.Duration(i%3) * time.Millisecond)
						e.logResponse(t, l)
						added.Add(1)
					}
				})
			}
			seen := walkSource(t, src, q, func() { time.Sleep(200 * time.Microsecond) })

			want := 0
			for w := range writers {
				for i := range before {
					node, client := fmt.Sprint("n", (w+i)%2+1), fmt.Sprint("UA/GOV/", i%3, "/c")
					if q.Node != "" && node != q.Node || q.Client != "" && client != q.Client {
						continue
					}
					want++
					r, ok := seen[node+"/"+fmt.Sprintf("old-%d-%d", w, i)]
					if !ok {
						t.Fatalf("old-%d-%d of %s not returned", w, i, node)
					}
					if !r.Succeeded || r.Status != 200 || r.ResponseOutTs < r.RequestInTs || r.ResponseSize != 100 {
						t.Fatalf("record %+v", r)
					}
				}
			}
			for k, r := range seen {
				if q.Node != "" && r.Node != q.Node || q.Client != "" && r.Client != q.Client {
					t.Fatalf("%s does not match the query", k)
				}
				if r.FaultCode != "" {
					t.Fatalf("%s: an exchange in flight was returned: %+v", k, r)
				}
			}
			t.Logf("walked %d exchanges (%d logged before the walk, %d during it)", len(seen), want, added.Load())
		})
	}
}

// TestAuditSourceSurvivesRestart: the records, and a cursor, outlive the
// node; an exchange the restart cut short is reported once Pending passed.
func TestAuditSourceSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.db")
	store := openStore(t, path)
	l, err := audit.Open(context.Background(), store, audit.Options{Node: "n1", Signer: audit.NewSigner(testKey)})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		e := simple(fmt.Sprint("r", i), "UA/GOV/00000003/eservice")
		e.logRequest(t, l)
		e.logResponse(t, l)
	}
	cut := simple("cut", "UA/GOV/00000003/eservice")
	cut.logRequest(t, l) // the node stops before answering

	h := Handler(NewAuditSource(store, AuditOptions{}))
	first := getPage(t, h, "limit=2")
	all := getPage(t, h, "")
	if ids(first) != "r0 r1" || ids(all) != "r0 r1 r2 r3 r4" {
		t.Fatalf("before the restart: %q, %q", ids(first), ids(all))
	}
	if err := l.Close(context.Background()); err != nil { // closes the store
		t.Fatal(err)
	}

	store = openStore(t, path)
	later := &clock{t: time.Now().Add(DefaultPending + time.Second)}
	h = Handler(NewAuditSource(store, AuditOptions{Now: later.Now}))
	again := getPage(t, h, "")
	if ids(again) != "r0 r1 r2 r3 r4 cut" || !reflect.DeepEqual(again.Records[:5], all.Records) {
		t.Fatalf("after the restart:\n%+v\nwant\n%+v and cut", again.Records, all.Records)
	}
	if c := again.Records[5]; c.Succeeded || c.FaultCode != NoAnswerCode || c.ResponseOutTs != 0 {
		t.Fatalf("the exchange cut short: %+v", c)
	}
	next := getPage(t, h, "limit=3&cursor="+url.QueryEscape(first.NextCursor))
	if ids(next) != "r2 r3 r4" || next.NextCursor == "" {
		t.Fatalf("the page after a cursor from before the restart: %q, next %q", ids(next), next.NextCursor)
	}
	if last := getPage(t, h, "cursor="+url.QueryEscape(next.NextCursor)); ids(last) != "cut" || last.NextCursor != "" {
		t.Fatalf("last page: %q, next %q", ids(last), last.NextCursor)
	}
}

// getPage GETs /admin/opmon?query from h and decodes the page.
func getPage(t *testing.T, h http.Handler, query string) Page {
	t.Helper()
	rec := get(t, h, "/admin/opmon?"+query)
	var p Page
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || rec.Code != 200 {
		t.Fatalf("GET /admin/opmon?%s: %d %s", query, rec.Code, rec.Body)
	}
	if p.Truncated {
		t.Fatalf("GET /admin/opmon?%s: truncated", query)
	}
	return p
}
