package storetest

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/govbus/govbus/audit"
)

// byTimeOrder is ByTime's order: Time, then Node (bytewise), then Seq.
func byTimeOrder(a, b audit.Record) int {
	return cmp.Or(a.Time.Compare(b.Time), strings.Compare(a.Node, b.Node), cmp.Compare(a.Seq, b.Seq))
}

// after reports whether r sorts after c in ByTime's order.
func after(r audit.Record, c audit.Cursor) bool {
	return c.IsZero() || byTimeOrder(r, audit.Record{Time: c.Time, Node: c.Node, Seq: c.Seq}) > 0
}

// expectByTime is ByTime's answer to q over recs, computed by hand.
func expectByTime(recs []audit.Record, q audit.TimeQuery) []audit.Record {
	var out []audit.Record
	for _, r := range recs {
		if (q.Node == "" || r.Node == q.Node) && (q.Kind == "" || r.Kind == q.Kind) &&
			(q.From.IsZero() || !r.Time.Before(q.From)) && (q.To.IsZero() || r.Time.Before(q.To)) &&
			(q.Client == "" || r.Client == q.Client) && (q.Service == "" || r.Service == q.Service) &&
			(len(q.RequestIDs) == 0 || slices.Contains(q.RequestIDs, r.RequestID)) && after(r, q.After) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, byTimeOrder)
	return out[:min(len(out), q.Limit)]
}

// timeChains stores two nodes' records for the ByTime tests, every one
// with the fixture's own client (the store may hold other tests' records):
// node a's times go back and forth and repeat (as a clock stepped back and
// batches sharing a time), and node b's repeat a's, so records tie on time
// within and across nodes. It returns both chains' records and the client.
func (f *fixture) timeChains() (a, b []audit.Record, client string) {
	f.t.Helper()
	client = "EE/GOV/" + f.tag + "/client"
	edit := func(step int) func(i int, r *audit.Record) {
		return func(i int, r *audit.Record) {
			r.Time = baseTime.Add(time.Duration((i*step)%10) * time.Second)
			r.Client = client
		}
	}
	a = f.chainWith(f.nodeName("a"), 40, 7, 0, edit(7))
	b = f.chainWith(f.nodeName("b"), 20, 20, 0, edit(1))
	return a, b, client
}

// walkByTime pages through q, limit records a page, and returns what the
// pages held, checking that each page is ordered and continues after the
// last. between, when not nil, runs between pages.
func (f *fixture) walkByTime(q audit.TimeQuery, limit int, between func()) []audit.Record {
	f.t.Helper()
	q.Limit = limit
	var all []audit.Record
	for pages := 0; ; pages++ {
		if pages > 10000 {
			f.t.Fatal("the walk does not end")
		}
		page, err := f.store.ByTime(f.ctx, q)
		if err != nil {
			f.t.Fatalf("ByTime(%+v): %v", q, err)
		}
		if len(page) > limit {
			f.t.Fatalf("ByTime returned %d records, over the limit of %d", len(page), limit)
		}
		for i, r := range page {
			if !after(r, q.After) || i > 0 && byTimeOrder(page[i-1], r) >= 0 {
				f.t.Fatalf("page %d: record %s/%d (%s) out of order", pages, r.Node, r.Seq, r.Time.Format(time.RFC3339Nano))
			}
		}
		all = append(all, page...)
		if len(page) < limit {
			return all
		}
		q.After = page[len(page)-1].Cursor()
		if between != nil {
			between()
		}
	}
}

func testByTime(t *testing.T, f *fixture) {
	a, b, client := f.timeChains()
	all := append(slices.Clone(a), b...)
	na, nb := a[0].Node, b[0].Node

	check := func(name string, q audit.TimeQuery) {
		t.Helper()
		got, err := f.store.ByTime(f.ctx, q)
		if err != nil {
			t.Fatalf("%s: ByTime: %v", name, err)
		}
		want := expectByTime(all, q)
		if len(got) != len(want) {
			t.Fatalf("%s: %d records, want %d", name, len(got), len(want))
		}
		sameRecords(t, got, want)
	}
	check("one node", audit.TimeQuery{Node: na, Limit: 1000})
	check("one node, limited", audit.TimeQuery{Node: na, Limit: 9})
	check("every node", audit.TimeQuery{Client: client, Limit: 1000})
	check("requests", audit.TimeQuery{Node: na, Kind: audit.KindRequest, Limit: 1000})
	check("answers of every node", audit.TimeQuery{Kind: audit.KindResponse, Client: client, Limit: 1000})
	check("service", audit.TimeQuery{Node: nb, Service: a[0].Service, Limit: 1000})
	check("client of no record", audit.TimeQuery{Node: na, Client: "EE/GOV/none/client", Limit: 1000})
	from, to := baseTime.Add(3*time.Second), baseTime.Add(7*time.Second)
	check("[from, to)", audit.TimeQuery{Node: na, From: from, To: to, Limit: 1000})
	check("from, every node", audit.TimeQuery{Client: client, From: from, Limit: 1000})
	check("to, every node", audit.TimeQuery{Client: client, To: to, Limit: 1000})
	check("from a microsecond late", audit.TimeQuery{Node: na, From: from.Add(time.Microsecond), Limit: 1000})
	check("to a microsecond late", audit.TimeQuery{Node: na, To: to.Add(time.Microsecond), Limit: 1000})
	check("empty range", audit.TimeQuery{Node: na, From: to, To: from, Limit: 1000})
	check("from = to", audit.TimeQuery{Node: na, From: from, To: from, Limit: 1000})

	// Cursors anywhere: on a record of either node, between the nodes'
	// names, on a node with no records, before and after from.
	rnd := rand.New(rand.NewPCG(3, 4))
	for i := range 32 {
		r := all[rnd.IntN(len(all))]
		c := r.Cursor()
		switch i % 4 {
		case 1:
			c.Node = c.Node[:len(c.Node)-1] + "a~" // between a and b
			c.Seq = rnd.Int64N(50)
		case 2:
			c.Node = "~" // after every node
		case 3:
			c.Time = c.Time.Add(time.Duration(rnd.IntN(3)-1) * time.Microsecond)
		}
		for _, q := range []audit.TimeQuery{
			{Node: na, After: c, Limit: 1000},
			{Node: nb, After: c, Limit: 5},
			{Client: client, After: c, Limit: 1000},
			{Client: client, After: c, From: from, Limit: 1000},
			{Client: client, After: c, To: to, Kind: audit.KindRequest, Limit: 7},
		} {
			check(fmt.Sprintf("after %s/%d at %s, %+v", c.Node, c.Seq, c.Time.Format(time.RFC3339Nano), q), q)
		}
	}

	// Paging.
	for _, limit := range []int{1, 3, 4, 100} {
		sameRecords(t, f.walkByTime(audit.TimeQuery{Node: na}, limit, nil), expectByTime(all, audit.TimeQuery{Node: na, Limit: 1000}))
		sameRecords(t, f.walkByTime(audit.TimeQuery{Client: client}, limit, nil), expectByTime(all, audit.TimeQuery{Client: client, Limit: 1000}))
		q := audit.TimeQuery{Client: client, Kind: audit.KindResponse, From: from, To: to}
		want := expectByTime(all, audit.TimeQuery{Client: client, Kind: audit.KindResponse, From: from, To: to, Limit: 1000})
		sameRecords(t, f.walkByTime(q, limit, nil), want)
	}

	for _, limit := range []int{0, -1} {
		if _, err := f.store.ByTime(f.ctx, audit.TimeQuery{Node: na, Limit: limit}); err == nil {
			t.Errorf("ByTime with limit %d: no error", limit)
		}
	}
}

// testByTimeWhileAppending walks one node's records, and every node's,
// while another node appends: every record stored before the walk comes
// exactly once, in order.
func testByTimeWhileAppending(t *testing.T, f *fixture) {
	client := "EE/GOV/" + f.tag + "/client"
	before := f.chainWith(f.nodeName("a"), 300, 50, 0, func(i int, r *audit.Record) {
		r.Time = baseTime.Add(time.Duration(i%100) * time.Second)
		r.Client = client
	})
	for _, q := range []audit.TimeQuery{{Node: before[0].Node}, {Client: client}} {
		name := map[bool]string{true: "OneNode", false: "EveryNode"}[q.Node != ""]
		t.Run(name, func(t *testing.T) {
			sub := *f
			sub.t = t
			f := &sub
			done := make(chan struct{})
			var wg sync.WaitGroup
			var appendErr error
			wg.Go(func() {
				node := f.nodeName("w")
				prev := ""
				for i := 1; i <= 400; i++ {
					select {
					case <-done:
						return
					default:
					}
					r := f.record(node, i)
					// Some sort before the walk's cursor, some after.
					r.Time = baseTime.Add(time.Duration((i*37)%100)*time.Second + time.Millisecond)
					r.Client = client
					r.Link(int64(i), prev)
					prev = r.Hash
					if err := f.store.Append(f.ctx, []audit.Record{r}, nil); err != nil {
						appendErr = err
						return
					}
				}
			})
			got := f.walkByTime(q, 16, func() { time.Sleep(100 * time.Microsecond) })
			close(done)
			wg.Wait()
			if appendErr != nil {
				t.Fatalf("Append: %v", appendErr)
			}
			seen := map[string]int{}
			for _, r := range got {
				if seen[r.ID]++; seen[r.ID] > 1 {
					t.Fatalf("record %s returned twice", r.ID)
				}
			}
			for _, r := range before {
				if seen[r.ID] != 1 {
					t.Fatalf("record %s, stored before the walk, returned %d times", r.ID, seen[r.ID])
				}
			}
			t.Logf("walked %d records, %d stored during the walk", len(got), len(got)-len(before))
		})
	}
}

func testByTimeRequestIDs(t *testing.T, f *fixture) {
	// Records 2k-1 and 2k are the request and answer of exchange k; node
	// b's exchanges have node a's ids.
	reqID := func(k int) string { return fmt.Sprintf("%s-req-%d", f.tag, k) }
	pairs := func(i int, r *audit.Record) { r.RequestID = reqID((i + 1) / 2) }
	a := f.chainWith(f.node, 1100, 100, 0, pairs)
	b := f.chainWith(f.nodeName("b"), 10, 10, 0, pairs)
	all := append(slices.Clone(a), b...)
	some := []string{reqID(3), reqID(1), "no-such-request", reqID(3)}
	var max []string // as many as a query may name, out of order
	for k := audit.MaxRequestIDs; k >= 1; k-- {
		max = append(max, reqID(k))
	}
	for _, c := range []struct {
		name string
		q    audit.TimeQuery
	}{
		{"some", audit.TimeQuery{Node: f.node, RequestIDs: some, Limit: 100}},
		{"answers", audit.TimeQuery{Node: f.node, RequestIDs: some, Kind: audit.KindResponse, Limit: 100}},
		{"every node", audit.TimeQuery{RequestIDs: []string{reqID(2), reqID(5)}, Limit: 100}},
		{"every node, from and to", audit.TimeQuery{RequestIDs: []string{reqID(2), reqID(5)}, From: a[3].Time, To: a[9].Time, Limit: 100}},
		{"limited", audit.TimeQuery{Node: f.node, RequestIDs: some, Limit: 3}},
		{"after", audit.TimeQuery{Node: f.node, RequestIDs: some, After: a[1].Cursor(), Limit: 100}},
		{"the most", audit.TimeQuery{Node: f.node, RequestIDs: max, Kind: audit.KindResponse, Limit: 2000}},
		{"unknown", audit.TimeQuery{Node: f.node, RequestIDs: []string{"x", "y"}, Limit: 100}},
		{"other node", audit.TimeQuery{Node: f.nodeName("none"), RequestIDs: some, Limit: 100}},
	} {
		got, err := f.store.ByTime(f.ctx, c.q)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		want := expectByTime(all, c.q)
		if len(got) != len(want) {
			t.Fatalf("%s: %d records, want %d", c.name, len(got), len(want))
		}
		sameRecords(t, got, want)
	}
	if _, err := f.store.ByTime(f.ctx, audit.TimeQuery{Node: f.node, RequestIDs: append(max, "one more"), Limit: 10}); err == nil {
		t.Errorf("ByTime with %d request ids: no error", audit.MaxRequestIDs+1)
	}
}
