package audit

import (
	"context"
	"fmt"
	"runtime"
	"time"
)

// maxYields bounds the yields of one gather: each lets every runnable
// goroutine run once, so a few reach the appenders of a busy node.
const maxYields = 4

// chainState is the chain head as the committer knows it.
type chainState struct {
	seq       int64     // last record's Seq (or the prune anchor's)
	hash      string    // its Hash
	signedSeq int64     // Seq of the latest signed head (or anchor)
	signedAt  time.Time // when a head was last signed (or the Log opened)
	stale     bool      // a transaction failed: re-read the store first
	lastBatch int       // records in the last commit
}

// run is the committer: the only goroutine that touches l.chain.
func (l *Log) run() {
	defer close(l.done)
	tick := time.NewTicker(max(l.opts.SignInterval/4, time.Millisecond))
	defer tick.Stop()
	batch := make([]*pending, 0, l.opts.MaxBatch)
	for {
		select {
		case p := <-l.reqs:
			batch = l.gather(append(batch[:0], p))
			l.commit(batch)
			clear(batch) // drop the answered records
		case <-tick.C:
			if l.chain.seq > l.chain.signedSeq &&
				l.opts.Now().Sub(l.chain.signedAt) >= l.opts.SignInterval {
				_ = l.signHead()
			}
		case <-l.closing:
			for {
				batch = l.gatherNow(batch[:0])
				if len(batch) == 0 {
					break
				}
				l.commit(batch)
			}
			l.closeErr = l.signHead()
			h := l.Head()
			l.opts.Logger.Info("message log closed", "node", l.opts.Node,
				"seq", h.Seq, "hash", h.Hash, "key_id", h.KeyID)
			return
		}
	}
}

// gatherNow adds the records already waiting, up to MaxBatch.
func (l *Log) gatherNow(batch []*pending) []*pending {
	for len(batch) < l.opts.MaxBatch {
		select {
		case p := <-l.reqs:
			batch = append(batch, p)
		default:
			return batch
		}
	}
	return batch
}

// gather completes a batch: the records already waiting; then, while
// yielding the processor lets other goroutines add more, those; and, under
// load (the last commit held more than one record), those arriving within
// MaxDelay until the batch is as large as the last one: the appenders just
// answered are the likeliest to append next.
//
// The yield matters when goroutines outnumber processors: an appender's
// send hands the processor straight to the waiting committer, which would
// otherwise commit that one record while the exchanges about to append wait
// their turn to run; a commit's cost is mostly per transaction (the fsync,
// the WAL frames), so batches that small multiply it. Where processors are
// idle, the yield returns at once.
func (l *Log) gather(batch []*pending) []*pending {
	batch = l.gatherNow(batch)
	for range maxYields {
		n := len(batch)
		runtime.Gosched()
		if batch = l.gatherNow(batch); len(batch) == n || len(batch) >= l.opts.MaxBatch {
			break
		}
	}
	target := min(l.chain.lastBatch, l.opts.MaxBatch)
	if l.opts.MaxDelay < 0 || target <= 1 || len(batch) >= target {
		return batch
	}
	timer := time.NewTimer(l.opts.MaxDelay)
	defer timer.Stop()
	for len(batch) < target {
		select {
		case p := <-l.reqs:
			batch = l.gatherNow(append(batch, p))
		case <-timer.C:
			return batch
		case <-l.closing:
			return batch
		}
	}
	return batch
}

// commit links the batch onto the chain and stores it, with a signed head
// when one is due, in one transaction. On failure every record of the
// batch gets the error and the chain head does not move.
func (l *Log) commit(batch []*pending) {
	live := batch[:0]
	for _, p := range batch {
		if err := p.ctx.Err(); err != nil {
			p.done <- result{err: fmt.Errorf("appending to the message log: %w", err)}
			continue
		}
		live = append(live, p)
	}
	if len(live) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), l.opts.CommitTimeout)
	defer cancel()
	if err := l.ensureFresh(ctx); err != nil {
		l.fail(live, err)
		return
	}
	now := normalizeTime(l.opts.Now())
	seq, hash := l.chain.seq, l.chain.hash
	recs := make([]Record, len(live))
	for i, p := range live {
		p.rec.Time = now
		seq++
		p.rec.Link(seq, hash)
		hash = p.rec.Hash
		recs[i] = p.rec
	}
	var head *SignedHead
	if seq-l.chain.signedSeq >= int64(l.opts.SignEvery) ||
		now.Sub(l.chain.signedAt) >= l.opts.SignInterval {
		h := l.opts.Signer.Sign(l.opts.Node, seq, hash, now)
		head = &h
	}
	if err := l.store.Append(ctx, recs, head); err != nil {
		l.fail(live, err)
		return
	}
	l.chain.seq, l.chain.hash, l.chain.lastBatch = seq, hash, len(live)
	if head != nil {
		l.signed(*head)
	}
	l.health.ok()
	for _, p := range live {
		p.done <- result{rec: p.rec}
	}
}

// fail answers the batch with err and marks the chain stale.
func (l *Log) fail(batch []*pending, err error) {
	err = fmt.Errorf("appending to the message log: %w", err)
	l.chain.stale = true
	l.health.failed(err)
	for _, p := range batch {
		p.done <- result{err: err}
	}
}

// signHead signs the current head, when records are unsigned, and stores
// it alone.
func (l *Log) signHead() error {
	ctx, cancel := context.WithTimeout(context.Background(), l.opts.CommitTimeout)
	defer cancel()
	err := l.ensureFresh(ctx)
	if err == nil && l.chain.seq > l.chain.signedSeq {
		h := l.opts.Signer.Sign(l.opts.Node, l.chain.seq, l.chain.hash, l.opts.Now())
		if err = l.store.Append(ctx, nil, &h); err == nil {
			l.signed(h)
		}
	}
	if err != nil {
		err = fmt.Errorf("signing the message log head: %w", err)
		l.chain.stale = true
		l.health.failed(err)
		return err
	}
	l.health.ok()
	return nil
}

// signed records h as the latest durable signed head.
func (l *Log) signed(h SignedHead) {
	l.chain.signedSeq, l.chain.signedAt = h.Seq, h.Time
	l.head.Store(&h)
	if l.opts.OnHead != nil {
		l.opts.OnHead(h)
	}
}

// ensureFresh re-reads the chain head after a failed transaction, which
// may have committed after all.
func (l *Log) ensureFresh(ctx context.Context) error {
	if !l.chain.stale {
		return nil
	}
	return l.resync(ctx)
}

// resync reads the chain head, latest signed head and anchor from the
// store.
func (l *Log) resync(ctx context.Context) error {
	node := l.opts.Node
	anchor, hasAnchor, err := l.store.Anchor(ctx, node)
	if err != nil {
		return fmt.Errorf("reading prune anchor: %w", err)
	}
	head, hasHead, err := l.store.LastHead(ctx, node)
	if err != nil {
		return fmt.Errorf("reading last signed head: %w", err)
	}
	last, hasLast, err := l.store.Last(ctx, node)
	if err != nil {
		return fmt.Errorf("reading last record: %w", err)
	}
	c := chainState{signedAt: l.chain.signedAt, lastBatch: l.chain.lastBatch}
	if hasAnchor && (!hasHead || anchor.Seq >= head.Seq) {
		head, hasHead = anchor, true
	}
	if hasHead {
		c.signedSeq = head.Seq
		l.head.Store(&head)
	}
	if hasAnchor {
		c.seq, c.hash = anchor.Seq, anchor.Hash
	}
	if hasLast && last.Seq > c.seq {
		c.seq, c.hash = last.Seq, last.Hash
	}
	l.chain = c
	return nil
}
