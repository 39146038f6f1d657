package opmon

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// walk follows NextCursor from the first page of q to the last, checking
// that keys never go backwards and that no record comes twice.
func walk(t *testing.T, s *Store, q Query, between func()) (seen map[string]int, truncated bool) {
	t.Helper()
	seen = map[string]int{}
	last := int64(-1 << 63)
	for pages := 0; ; pages++ {
		if pages > 100000 {
			t.Fatal("the walk does not end")
		}
		p := query(t, s, q)
		truncated = truncated || p.Truncated
		for _, r := range p.Records {
			if r.RequestInTs < last {
				t.Fatalf("page %d: %s at %d after %d", pages, r.ID, r.RequestInTs, last)
			}
			last = r.RequestInTs
			if seen[r.ID]++; seen[r.ID] > 1 {
				t.Fatalf("page %d: %s returned twice", pages, r.ID)
			}
		}
		if p.NextCursor == "" {
			return seen, truncated
		}
		q.Cursor = p.NextCursor
		if between != nil {
			between()
		}
	}
}

func TestWalkWhileAdding(t *testing.T) {
	const before, writers, perWriter = 5000, 4, 3000
	s := NewStore(before + writers*perWriter)
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range before {
		// Out of order, as exchanges of different lengths end.
		s.Add(rec(fmt.Sprint("old-", i), base+rnd.Int64N(10000)))
	}

	done := make(chan struct{})
	var wg sync.WaitGroup
	var added atomic.Int64
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(w), 7))
			for i := 0; i < perWriter; i++ {
				select {
				case <-done:
					return
				default:
				}
				// Some start inside the range already walked.
				s.Add(rec(fmt.Sprintf("new-%d-%d", w, i), base+rnd.Int64N(20000)))
				added.Add(1)
			}
		}()
	}
	seen, truncated := walk(t, s, Query{Limit: 37}, func() { time.Sleep(10 * time.Microsecond) })
	close(done)
	wg.Wait()

	if truncated {
		t.Error("a walk within the window was truncated")
	}
	for i := range before {
		if id := fmt.Sprint("old-", i); seen[id] != 1 {
			t.Fatalf("%s seen %d times", id, seen[id])
		}
	}
	t.Logf("walked %d records; %d added during the walk", len(seen), added.Load())
}

func TestWalkWithClientFilterWhileAdding(t *testing.T) {
	s := NewStore(4000)
	for i := range 1000 {
		r := rec(fmt.Sprint(i), base+int64(i%100))
		r.Client = fmt.Sprint("c", i%3)
		s.Add(r)
	}
	var n atomic.Int64
	seen, truncated := walk(t, s, Query{Client: "c1", Limit: 10}, func() {
		i := n.Add(1)
		s.Add(&Record{ID: fmt.Sprint("n", i), Client: "c1", RequestInTs: base + i%150})
	})
	for i := 1; i < 1000; i += 3 {
		if seen[fmt.Sprint(i)] != 1 {
			t.Fatalf("record %d seen %d times", i, seen[fmt.Sprint(i)])
		}
	}
	for id := range seen {
		if i, err := strconv.Atoi(id); err == nil && i%3 != 1 {
			t.Fatalf("record %s is not c1's", id)
		}
	}
	if truncated {
		t.Error("truncated")
	}
}

func TestWalkTruncated(t *testing.T) {
	s := NewStore(100)
	for i := range 100 {
		s.Add(rec(fmt.Sprint(i), base+int64(i)))
	}
	p := query(t, s, Query{Limit: 10})
	if p.Truncated || ids(p) != "0 1 2 3 4 5 6 7 8 9" {
		t.Fatalf("first page %q truncated %v", ids(p), p.Truncated)
	}
	for i := 100; i < 150; i++ { // drops 0–49
		s.Add(rec(fmt.Sprint(i), base+int64(i)))
	}
	p = query(t, s, Query{Limit: 10, Cursor: p.NextCursor})
	if !p.Truncated || ids(p) != "50 51 52 53 54 55 56 57 58 59" {
		t.Fatalf("after the drop: %q truncated %v", ids(p), p.Truncated)
	}
	p = query(t, s, Query{Limit: 10, Cursor: p.NextCursor})
	if p.Truncated || ids(p) != "60 61 62 63 64 65 66 67 68 69" {
		t.Fatalf("next page: %q truncated %v", ids(p), p.Truncated)
	}
	// The cursor is past the end of a range: nothing left to miss.
	p = query(t, s, Query{Limit: 10, Cursor: p.NextCursor, To: time.UnixMilli(base + 60)})
	if p.Truncated || len(p.Records) != 0 {
		t.Fatalf("past to: %q truncated %v", ids(p), p.Truncated)
	}
}

func BenchmarkStoreQuery(b *testing.B) {
	s := NewStore(DefaultSize)
	for i := range DefaultSize {
		r := rec(fmt.Sprint(i), base+int64(i))
		r.Client = fmt.Sprint("c", i%10)
		s.Add(r)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Query(ctx, Query{Client: "c3", Limit: DefaultLimit}); err != nil {
			b.Fatal(err)
		}
	}
}
