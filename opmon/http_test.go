package opmon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func get(t *testing.T, h http.Handler, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
	return rec
}

func TestHandlerJSONShape(t *testing.T) {
	s := NewStore(10)
	s.Add(&Record{ID: "req-1", MessageID: "msg-1", Client: "UA/GOV/00000003/eservice",
		Service: "UA/GOV/00000001/civil-registry/persons", Registry: "UA/GOV/00000001/civil-registry",
		Method: "GET", RuleID: "r1", RequestInTs: base, RequestOutTs: base + 1, ResponseInTs: base + 9,
		ResponseOutTs: base + 10, RequestSize: 0, ResponseSize: 321, Status: 200, Succeeded: true,
		Attempts: 1, Node: "n1", TraceID: "4bf92f3577b34da6a3ce929d0e0e4736"})
	s.Add(&Record{ID: "req-2", RequestInTs: base + 20, ResponseOutTs: base + 30, Status: 504,
		FaultCode: "Server.RegistryTimeout", FaultString: "the registry did not answer in time"})

	rec := get(t, Handler(s), "/admin/opmon")
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("%d %s: %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	var page struct {
		Records    []map[string]any `json:"records"`
		NextCursor *string          `json:"next_cursor"`
		Truncated  *bool            `json:"truncated"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
		t.Fatalf("%v: %s", err, rec.Body)
	}
	if len(page.Records) != 2 || page.NextCursor == nil || *page.NextCursor != "" || page.Truncated == nil || *page.Truncated {
		t.Fatalf("page = %s", rec.Body)
	}
	all := []string{"attempts", "client", "fault_code", "fault_string", "id", "message_id", "method", "node",
		"registry", "request_in_ts", "request_out_ts", "request_size", "response_in_ts", "response_out_ts",
		"response_size", "rule_id", "service", "status", "succeeded", "trace_id"}
	if got := slices.Sorted(maps.Keys(page.Records[0])); !slices.Equal(got, all) {
		t.Errorf("fields = %v\nwant     %v", got, all)
	}
	noHops := slices.DeleteFunc(slices.Clone(all), func(k string) bool { return k == "request_out_ts" || k == "response_in_ts" })
	if got := slices.Sorted(maps.Keys(page.Records[1])); !slices.Equal(got, noHops) {
		t.Errorf("fields without the registry hops = %v", got)
	}
	if r := page.Records[0]; r["request_in_ts"] != float64(base) || r["response_size"] != float64(321) || r["succeeded"] != true {
		t.Errorf("record = %v", r)
	}
	if r := page.Records[1]; r["fault_code"] != "Server.RegistryTimeout" || r["status"] != float64(504) || r["succeeded"] != false {
		t.Errorf("failed record = %v", r)
	}
}

func TestHandlerEmpty(t *testing.T) {
	rec := get(t, Handler(NewStore(1)), "/admin/opmon")
	if got := strings.TrimSpace(rec.Body.String()); rec.Code != 200 || got != `{"records":[],"next_cursor":"","truncated":false}` {
		t.Errorf("%d %s", rec.Code, got)
	}
}

func TestHandlerParameters(t *testing.T) {
	s := NewStore(100)
	for i := range 20 {
		r := rec(fmt.Sprint(i), base+int64(i)*1000)
		r.Client = fmt.Sprint("UA/GOV/", i%2, "/c")
		r.Node = fmt.Sprint("node-", i%4)
		s.Add(r)
	}
	h := Handler(s)
	rfc := func(i int64) string { return time.UnixMilli(base + i*1000).UTC().Format(time.RFC3339Nano) }
	offset := url.QueryEscape(time.UnixMilli(base + 3000).In(time.FixedZone("", 3*3600)).Format(time.RFC3339))
	for _, c := range []struct{ query, want string }{
		{"from=" + fmt.Sprint(base+2000) + "&to=" + fmt.Sprint(base+5000), "2 3 4"},
		{"from=" + rfc(17), "17 18 19"},
		{"from=" + offset + "&to=" + rfc(5), "3 4"},
		{"client=UA/GOV/1/c&to=" + rfc(6), "1 3 5"},
		{"client=UA%2FGOV%2F0%2Fc&service=UA/GOV/2/r/s&from=" + rfc(14), "14 16 18"},
		{"service=nope", ""},
		{"node=node-3&from=" + rfc(10), "11 15 19"},
		{"node=node-3&client=UA/GOV/0/c", ""},
		{"limit=3&client=&from=" + rfc(10), "10 11 12"},
	} {
		rec := get(t, h, "/admin/opmon?"+c.query)
		var p Page
		if err := json.Unmarshal(rec.Body.Bytes(), &p); rec.Code != 200 || err != nil {
			t.Fatalf("%s: %d %s", c.query, rec.Code, rec.Body)
		}
		if got := ids(p); got != c.want {
			t.Errorf("%s: %q, want %q", c.query, got, c.want)
		}
	}

	// Walk the window three at a time.
	var got []string
	for cursor, pages := "", 0; pages == 0 || cursor != ""; pages++ {
		var p Page
		rec := get(t, h, "/admin/opmon?limit=3&cursor="+url.QueryEscape(cursor))
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || rec.Code != 200 || pages > 7 {
			t.Fatalf("page %d: %d %s", pages, rec.Code, rec.Body)
		}
		got = append(got, strings.Fields(ids(p))...)
		cursor = p.NextCursor
	}
	if len(got) != 20 || got[0] != "0" || got[19] != "19" {
		t.Errorf("walk = %v", got)
	}
}

func TestHandlerBadParameters(t *testing.T) {
	h := Handler(NewStore(10))
	for _, q := range []string{
		"from=yesterday",
		"to=2024-13-01T00:00:00Z",
		"from=2024-01-01T00:00:00+02:00", // '+' not encoded: a space
		"from=2024-01-01",
		"from=-5",
		"to=99999999999999999999",
		"from=2024-01-02T00:00:00Z&to=2024-01-01T00:00:00Z",
		"limit=0",
		"limit=1001",
		"limit=ten",
		"limit=-1",
		"cursor=%21%21",
		"cursor=AAAA",
		"client=a&client=b",
		"frm=1",
		"user=x",
		"from=%zz",
	} {
		rec := get(t, h, "/admin/opmon?"+q)
		var body map[string]string
		if err := json.Unmarshal(rec.Body.Bytes(), &body); rec.Code != 400 || err != nil || body["error"] == "" || len(body) != 1 {
			t.Errorf("%s: %d %s", q, rec.Code, rec.Body)
		}
	}
}

type failingSource struct{}

func (failingSource) Query(context.Context, Query) (Page, error) {
	return Page{}, errors.New("disk on fire at /var/secret")
}

func TestHandlerFailures(t *testing.T) {
	rec := get(t, Handler(failingSource{}), "/admin/opmon")
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "secret") || !strings.Contains(rec.Body.String(), `"error"`) {
		t.Errorf("failing source: %d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	Handler(NewStore(1)).ServeHTTP(rec, httptest.NewRequest("POST", "/admin/opmon", nil))
	if rec.Code != 405 || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d %s", rec.Code, rec.Body)
	}
}
