package opmon

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// base is a fixed Unix millisecond time for records in tests.
const base int64 = 1_700_000_000_000

func rec(id string, ts int64) *Record {
	return &Record{ID: id, Client: "UA/GOV/1/c", Service: "UA/GOV/2/r/s", RequestInTs: ts, ResponseOutTs: ts + 5}
}

func query(t *testing.T, s *Store, q Query) Page {
	t.Helper()
	p, err := s.Query(context.Background(), q)
	if err != nil {
		t.Fatalf("Query(%+v): %v", q, err)
	}
	return p
}

func ids(p Page) string {
	var b strings.Builder
	for i, r := range p.Records {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(r.ID)
	}
	return b.String()
}

func TestWrapAround(t *testing.T) {
	s := NewStore(5)
	for i := 1; i <= 12; i++ {
		s.Add(rec(fmt.Sprint(i), base+int64(i)))
	}
	p := query(t, s, Query{})
	if got := ids(p); got != "8 9 10 11 12" || p.NextCursor != "" || !p.Truncated {
		t.Errorf("whole window = %q next %q truncated %v; want 8..12, no cursor, truncated", got, p.NextCursor, p.Truncated)
	}
	p = query(t, s, Query{From: time.UnixMilli(base + 8)})
	if got := ids(p); got != "8 9 10 11 12" || p.Truncated {
		t.Errorf("from the oldest kept = %q truncated %v", got, p.Truncated)
	}
	p = query(t, s, Query{From: time.UnixMilli(base + 7)})
	if !p.Truncated {
		t.Errorf("from a dropped record: not truncated")
	}
	if NewStore(0) == nil || cap(NewStore(0).buf) != DefaultSize {
		t.Errorf("default size is not %d", DefaultSize)
	}
}

func TestTimeOrder(t *testing.T) {
	s := NewStore(10)
	// Added as exchanges end: a long one last, two with the same start.
	s.Add(rec("b", base+20))
	s.Add(rec("c1", base+30))
	s.Add(rec("c2", base+30))
	s.Add(rec("a", base+10))
	if got := ids(query(t, s, Query{})); got != "a b c1 c2" {
		t.Errorf("order = %q, want a b c1 c2", got)
	}
}

func TestTimeFilter(t *testing.T) {
	s := NewStore(10)
	for i := range 5 {
		s.Add(rec(fmt.Sprint(i), base+int64(i)*1000))
	}
	at := func(i int64) time.Time { return time.UnixMilli(base + i*1000) }
	cases := []struct {
		q    Query
		want string
	}{
		{Query{From: at(1), To: at(3)}, "1 2"},
		{Query{From: at(3)}, "3 4"},
		{Query{To: at(1)}, "0"},
		{Query{From: at(2), To: at(2)}, ""},
		{Query{From: at(1).Add(time.Nanosecond)}, "2 3 4"},                 // after the millisecond of 1
		{Query{To: at(1).Add(time.Nanosecond)}, "0 1"},                     // 1 is before to
		{Query{From: at(1).Add(-time.Nanosecond), To: at(2)}, "1"},         // sub-millisecond from
		{Query{From: at(1).In(time.FixedZone("x", 7200)), To: at(2)}, "1"}, // zones do not matter
	}
	for _, c := range cases {
		if got := ids(query(t, s, c.q)); got != c.want {
			t.Errorf("%v–%v: %q, want %q", c.q.From, c.q.To, got, c.want)
		}
	}
}

func TestClientServiceFilter(t *testing.T) {
	s := NewStore(10)
	for i, cs := range [][2]string{{"c1", "s1"}, {"c2", "s1"}, {"c1", "s2"}, {"c2", "s2"}, {"c1", "s1"}} {
		s.Add(&Record{ID: fmt.Sprint(i), Client: cs[0], Service: cs[1], RequestInTs: base + int64(i)})
	}
	for _, c := range []struct {
		q    Query
		want string
	}{
		{Query{Client: "c1"}, "0 2 4"},
		{Query{Service: "s2"}, "2 3"},
		{Query{Client: "c2", Service: "s1"}, "1"},
		{Query{Client: "c"}, ""},
	} {
		if got := ids(query(t, s, c.q)); got != c.want {
			t.Errorf("%+v: %q, want %q", c.q, got, c.want)
		}
	}
}

func TestLimits(t *testing.T) {
	s := NewStore(1500)
	for i := range 1500 {
		s.Add(rec(fmt.Sprint(i), base+int64(i)))
	}
	for _, c := range []struct{ limit, want int }{{0, DefaultLimit}, {-1, DefaultLimit}, {7, 7}, {5000, MaxLimit}} {
		p := query(t, s, Query{Limit: c.limit})
		if len(p.Records) != c.want || p.NextCursor == "" {
			t.Errorf("limit %d: %d records, next %q; want %d and a cursor", c.limit, len(p.Records), p.NextCursor, c.want)
		}
	}
	p := query(t, s, Query{Limit: 1500, From: time.UnixMilli(base + 500)})
	if len(p.Records) != 1000 || p.NextCursor != "" || p.Records[0].ID != "500" {
		t.Errorf("exactly the rest: %d records, next %q", len(p.Records), p.NextCursor)
	}
}

func TestBadQuery(t *testing.T) {
	s := NewStore(10)
	for _, q := range []Query{
		{Cursor: "not a cursor"},
		{Cursor: "AAAA"},
		{From: time.UnixMilli(base + 1), To: time.UnixMilli(base)},
	} {
		if _, err := s.Query(context.Background(), q); !errors.Is(err, ErrBadQuery) {
			t.Errorf("%+v: err %v, want ErrBadQuery", q, err)
		}
	}
}

func TestCutHidesLongExchanges(t *testing.T) {
	s := NewStore(3)
	s.Add(rec("10", base+10))
	s.Add(rec("50", base+50))
	s.Add(rec("20", base+20))
	s.Add(rec("30", base+30)) // drops 10
	if got := ids(query(t, s, Query{})); got != "20 30 50" {
		t.Fatalf("window = %q", got)
	}
	s.Add(rec("40", base+40)) // drops 50: 20, 30 and 40 sort before it
	s.Add(rec("5", base+5))   // older than the cut: not kept
	s.Add(rec("60", base+60)) // drops 20
	p := query(t, s, Query{})
	if got := ids(p); got != "60" || !p.Truncated {
		t.Errorf("window = %q truncated %v, want 60 and truncated", got, p.Truncated)
	}
	if p := query(t, s, Query{From: time.UnixMilli(base + 51)}); ids(p) != "60" || p.Truncated {
		t.Errorf("above the cut = %q truncated %v", ids(p), p.Truncated)
	}
	if p := query(t, s, Query{From: time.UnixMilli(base), To: time.UnixMilli(base + 50)}); len(p.Records) != 0 || !p.Truncated {
		t.Errorf("below the cut = %q truncated %v", ids(p), p.Truncated)
	}
}

func TestTooOldIsNotKept(t *testing.T) {
	s := NewStore(2)
	for _, ts := range []int64{10, 20, 30, 5} { // 10 is dropped, then 5 is older than it
		s.Add(rec(fmt.Sprint(ts), base+ts))
	}
	if p := query(t, s, Query{From: time.UnixMilli(base + 11)}); ids(p) != "20 30" || p.Truncated {
		t.Errorf("window = %q truncated %v, want 20 30 untouched", ids(p), p.Truncated)
	}
}

func TestNilStore(t *testing.T) {
	var s *Store
	s.Add(rec("1", base))
	p := query(t, s, Query{})
	if p.Records == nil || len(p.Records) != 0 || p.Truncated {
		t.Errorf("nil store page = %+v", p)
	}
}

func TestAddCopies(t *testing.T) {
	s := NewStore(2)
	r := rec("1", base)
	s.Add(r)
	r.ID = "changed"
	if got := ids(query(t, s, Query{})); got != "1" {
		t.Errorf("stored %q after the caller reused its record", got)
	}
}

func BenchmarkStoreAdd(b *testing.B) {
	s := NewStore(DefaultSize)
	r := Record{ID: "0190b6d2-6c1f-7a4e-9d1e-3f2a1b0c9d8e", MessageID: "c3f1e2a4-5b6c-4d7e-8f90-a1b2c3d4e5f6",
		Client: "UA/GOV/00000003/eservice", Service: "UA/GOV/00000001/civil-registry/persons",
		Registry: "UA/GOV/00000001/civil-registry", Method: "GET", RuleID: "eservice-persons",
		Status: 200, Succeeded: true, Attempts: 1, Node: "node-1", TraceID: "4bf92f3577b34da6a3ce929d0e0e4736"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.RequestInTs = base + int64(i)
		s.Add(&r)
	}
}

func BenchmarkStoreAddParallel(b *testing.B) {
	s := NewStore(DefaultSize)
	var clock atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		r := *rec("x", base)
		for pb.Next() {
			r.RequestInTs = base + clock.Add(1)
			s.Add(&r)
		}
	})
}
