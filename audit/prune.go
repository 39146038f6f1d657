package audit

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrUnverified is returned (wrapped, with the Report) by Prune when the
// chain does not verify: a damaged chain is evidence, never pruned.
var ErrUnverified = errors.New("message log does not verify")

// PruneResult tells what Prune removed.
type PruneResult struct {
	// Pruned is the number of records deleted; 0 when nothing qualified.
	Pruned int64
	// UpTo is the Seq of the last record deleted.
	UpTo int64
	// Anchor is the new prune anchor: a head at UpTo signed at prune time,
	// from which the rest of the chain verifies.
	Anchor SignedHead
}

// Prune deletes node's oldest records, but only those that are
//   - strictly before before (the walk stops at the first record whose
//     Time is not),
//   - exported: Seq ≤ exportedUpTo (the LastSeq of the caller's export),
//   - covered by a signed head: the deletion ends at the last stored
//     signed head at or before the cut, so what was deleted was attested,
//
// and only after the whole chain verified with signer's public key (else
// the error wraps ErrUnverified). It stores a head signed now over the last
// deleted record as the prune anchor. Which records to keep how long is the
// caller's business.
func Prune(ctx context.Context, store Store, node string, before time.Time, exportedUpTo int64, signer *Signer) (PruneResult, error) {
	rep, err := Verify(ctx, store, node, signer.Public(), nil)
	if err != nil {
		return PruneResult{}, fmt.Errorf("pruning node %s: %w", node, err)
	}
	if !rep.OK {
		return PruneResult{}, fmt.Errorf("pruning node %s: %w: %s", node, ErrUnverified, rep)
	}
	cut := rep.From - 1
	err = store.Scan(ctx, node, rep.From, func(r Record) error {
		if r.Seq > exportedUpTo || !r.Time.Before(before) {
			return errStop
		}
		cut = r.Seq
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return PruneResult{}, fmt.Errorf("pruning node %s: %w", node, err)
	}
	var last *SignedHead
	err = store.Heads(ctx, node, rep.From, func(h SignedHead) error {
		if h.Seq > cut {
			return errStop
		}
		last = &h
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return PruneResult{}, fmt.Errorf("pruning node %s: %w", node, err)
	}
	if last == nil {
		return PruneResult{}, nil
	}
	anchor := signer.Sign(node, last.Seq, last.Hash, time.Now())
	if err := store.Prune(ctx, node, last.Seq, anchor); err != nil {
		return PruneResult{}, fmt.Errorf("pruning node %s: %w", node, err)
	}
	return PruneResult{Pruned: last.Seq - rep.From + 1, UpTo: last.Seq, Anchor: anchor}, nil
}
