package opmon

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// Store keeps the most recent records in memory: a ring buffer of a fixed
// number of records, safe for concurrent use. Add takes one mutex and
// copies the record into a preallocated slot, so it allocates nothing.
// Query scans the window under the same mutex.
//
// Records are added as exchanges end but queried in RequestInTs order, so
// the ring's oldest slot is not always the earliest record. To keep
// paging exact, the window queries see is cut at the greatest (RequestInTs,
// arrival) key ever dropped: records that sort at or before it are hidden
// with it, and a record added that late is not kept. In practice this hides
// only long exchanges at the very start of the window. A page reports
// Truncated when the part of the range it covers reaches below the cut.
//
// A nil *Store keeps nothing and answers every query with an empty page.
type Store struct {
	mu   sync.Mutex
	buf  []entry // grows to cap(buf), then is written round in ring order
	next int     // the slot to overwrite next, once buf is full
	seq  uint64  // the sequence number given to the latest record
	// cut is the greatest key dropped so far, when dropped is set; only
	// records with greater keys are visible.
	cut     key
	dropped bool
}

type entry struct {
	seq uint64
	rec Record
}

// NewStore returns a Store that keeps the last size records, or
// DefaultSize when size is 0 or less. The memory for them is reserved at
// once and filled as records arrive.
func NewStore(size int) *Store {
	if size <= 0 {
		size = DefaultSize
	}
	return &Store{buf: make([]entry, 0, size)}
}

// Add records a copy of *r, dropping the oldest record when the window is
// full. The caller may reuse r afterwards.
func (s *Store) Add(r *Record) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.seq++
	if s.dropped && r.RequestInTs < s.cut.ts {
		// It would sort before records already dropped: too old to keep.
		s.mu.Unlock()
		return
	}
	if len(s.buf) < cap(s.buf) {
		s.buf = append(s.buf, entry{seq: s.seq, rec: *r})
		s.mu.Unlock()
		return
	}
	e := &s.buf[s.next]
	if k := (key{e.rec.RequestInTs, e.seq}); !s.dropped || s.cut.less(k) {
		s.cut, s.dropped = k, true
	}
	e.seq, e.rec = s.seq, *r
	if s.next++; s.next == len(s.buf) {
		s.next = 0
	}
	s.mu.Unlock()
}

// Query returns one page of the records that match q, in RequestInTs
// order (records with equal times in the order they were added). Walking
// the pages by NextCursor returns every matching record that was in the
// window when the walk started exactly once, unless a page says Truncated;
// records added during the walk are returned when they sort after the
// cursor. The context is not used: the window is in memory.
func (s *Store) Query(_ context.Context, q Query) (Page, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	var after key
	hasAfter := q.Cursor != ""
	if hasAfter {
		var err error
		if after, err = decodeCursor(q.Cursor); err != nil {
			return Page{}, err
		}
	}
	hasFrom, hasTo := !q.From.IsZero(), !q.To.IsZero()
	var fromMs, toMs int64
	if hasFrom {
		fromMs = ceilMillis(q.From)
	}
	if hasTo {
		toMs = ceilMillis(q.To)
	}
	if hasFrom && hasTo && toMs < fromMs {
		return Page{}, fmt.Errorf("%w: to is before from", ErrBadQuery)
	}
	page := Page{Records: []Record{}}
	if s == nil {
		return page, nil
	}

	best := make(maxHeap, 0, limit+1)
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.buf {
		e := &s.buf[i]
		k := key{e.rec.RequestInTs, e.seq}
		if s.dropped && !s.cut.less(k) ||
			hasAfter && !after.less(k) ||
			hasFrom && k.ts < fromMs ||
			hasTo && k.ts >= toMs ||
			q.Client != "" && e.rec.Client != q.Client ||
			q.Service != "" && e.rec.Service != q.Service ||
			q.Node != "" && e.rec.Node != q.Node {
			continue
		}
		best.offer(cand{k: k, slot: i}, limit+1)
	}
	// Records in the range past the cursor were dropped when the cut lies
	// above where the range starts and the range is not empty.
	empty := hasTo && (hasFrom && fromMs >= toMs || hasAfter && after.ts >= toMs)
	page.Truncated = s.dropped && !empty &&
		(!hasAfter || after.less(s.cut)) && (!hasFrom || s.cut.ts >= fromMs)

	slices.SortFunc(best, func(a, b cand) int {
		switch {
		case a.k.less(b.k):
			return -1
		case b.k.less(a.k):
			return 1
		}
		return 0
	})
	n := min(len(best), limit)
	page.Records = make([]Record, n)
	for i := range n {
		page.Records[i] = s.buf[best[i].slot].rec
	}
	if len(best) > limit {
		page.NextCursor = best[limit-1].k.encode()
	}
	return page, nil
}

// cand is a record chosen for a page, by key and ring slot.
type cand struct {
	k    key
	slot int
}

// maxHeap keeps the smallest keys offered, with the greatest at the top.
type maxHeap []cand

// offer adds c when the heap holds fewer than n candidates, or replaces the
// greatest when c sorts before it.
func (h *maxHeap) offer(c cand, n int) {
	a := *h
	if len(a) < n {
		a = append(a, c)
		for i := len(a) - 1; i > 0; {
			p := (i - 1) / 2
			if !a[p].k.less(a[i].k) {
				break
			}
			a[p], a[i] = a[i], a[p]
			i = p
		}
		*h = a
		return
	}
	if !c.k.less(a[0].k) {
		return
	}
	a[0] = c
	for i := 0; ; {
		l, big := 2*i+1, i
		if l < len(a) && a[big].k.less(a[l].k) {
			big = l
		}
		if r := l + 1; r < len(a) && a[big].k.less(a[r].k) {
			big = r
		}
		if big == i {
			return
		}
		a[i], a[big] = a[big], a[i]
		i = big
	}
}
