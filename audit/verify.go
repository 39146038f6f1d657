package audit

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"iter"
)

// Problem names what Verify found wrong with a chain.
type Problem string

// The problems Verify reports, each with the tampering it reveals.
const (
	// ProblemEdited: the record's stored Hash is not the hash of its
	// fields: the record was edited (or moved) without rehashing.
	ProblemEdited Problem = "hash mismatch (edited)"
	// ProblemDeleted: Seq jumps: the records before this one are missing.
	ProblemDeleted Problem = "sequence gap (deleted)"
	// ProblemLinkage: the record's PrevHash is not the previous record's
	// Hash: a record was inserted, records were reordered, or the previous
	// record was edited and rehashed.
	ProblemLinkage Problem = "prev_hash mismatch (inserted or reordered)"
	// ProblemHeadSignature: a stored signed head (or the prune anchor) is
	// not signed by the key: it was forged.
	ProblemHeadSignature Problem = "head signature invalid"
	// ProblemHeadMismatch: a validly signed head names a different hash
	// than the record now at its Seq: the chain was rewritten from there
	// on (or before, and relinked).
	ProblemHeadMismatch Problem = "signed head does not match the record (rewritten)"
	// ProblemCutTail: the chain ends before a head known to exist (a
	// stored head, or the anchored head given to Verify).
	ProblemCutTail Problem = "cut tail"
	// ProblemSubjectIndex: the chain is intact, but the store's index of
	// data subjects does not lead to this record: the Data Tracker would
	// not show it. Only stores whose index is an ordinary table, which a
	// write behind the store's back can change (SQLite's records_subjects),
	// are checked for it.
	ProblemSubjectIndex Problem = "missing from the data subject index (hidden from the Data Tracker)"
)

// subjectIndexChecker is a Store whose index of data subjects Verify
// checks against the records.
type subjectIndexChecker interface {
	// CheckSubjects returns the first of node's records of Seq ≥ from
	// that has a subject the index does not lead to, ok=false when there
	// is one.
	CheckSubjects(ctx context.Context, node string, from int64) (bad Record, ok bool, err error)
}

// Report is the outcome of Verify. When OK is false, Seq, RecordID,
// Problem and Detail describe the first problem in Seq order.
type Report struct {
	OK      bool   `json:"ok"`
	Node    string `json:"node"`
	From    int64  `json:"from"`    // first Seq checked (1, or the prune anchor's + 1)
	To      int64  `json:"to"`      // last Seq checked; From-1 when the chain is empty
	Records int64  `json:"records"` // records checked
	Heads   int    `json:"heads"`   // signed heads checked (the prune anchor included)

	Seq      int64   `json:"seq,omitempty"`       // the first bad record's Seq (for a cut tail: the first missing)
	RecordID string  `json:"record_id,omitempty"` // its ID, when it exists
	Problem  Problem `json:"problem,omitempty"`
	Detail   string  `json:"detail,omitempty"`
}

// String renders the report as one line for the CLI and logs.
func (r Report) String() string {
	if r.OK {
		return fmt.Sprintf("node %s: OK: %d records (seq %d..%d), %d signed heads",
			r.Node, r.Records, r.From, r.To, r.Heads)
	}
	if r.Problem == ProblemCutTail {
		return fmt.Sprintf("node %s: %s (%s)", r.Node, r.Detail, r.Problem)
	}
	id := ""
	if r.RecordID != "" {
		id = " (record " + r.RecordID + ")"
	}
	return fmt.Sprintf("node %s: seq %d%s: %s: %s", r.Node, r.Seq, id, r.Problem, r.Detail)
}

// ErrAnchorInvalid is returned (wrapped) by Verify when the anchored head
// it was given is not validly signed by pub for node.
var ErrAnchorInvalid = errors.New("anchored head is not validly signed for this node")

// Verify walks node's chain in store and reports the first problem: a
// record whose hash does not match its fields, a gap in Seq, a broken
// PrevHash link, a stored signed head with a bad signature or naming a
// different hash than its record, or (given anchor, a head published
// earlier, e.g. from /admin/status) a chain that ends before anchor.Seq or
// holds another hash there. The walk starts after the prune anchor, whose
// signature is checked too.
//
// Without an anchor, removing the tail together with its signed heads goes
// unnoticed: publish heads and verify against them.
//
// When the chain is intact and the store keeps its index of data subjects
// apart from the records (the SQLite store), Verify also checks that the
// index leads to every record that has a subject, so that no access can be
// hidden from the Data Tracker by editing the index alone.
//
// A chain problem is reported in Report (OK false), not as an error; the
// error is the store's, or wraps ErrAnchorInvalid for a bad anchor.
func Verify(ctx context.Context, store Store, node string, pub ed25519.PublicKey, anchor *SignedHead) (Report, error) {
	if anchor != nil && (anchor.Node != node || !VerifyHead(pub, *anchor)) {
		return Report{}, fmt.Errorf("verifying node %s against head at seq %d (key %s): %w",
			node, anchor.Seq, anchor.KeyID, ErrAnchorInvalid)
	}
	v := &verifier{pub: pub, anchor: anchor, rep: Report{Node: node, From: 1}}
	start, found, err := store.Anchor(ctx, node)
	if err != nil {
		return Report{}, fmt.Errorf("verifying: reading prune anchor: %w", err)
	}
	if found {
		v.rep.Heads++
		if !VerifyHead(pub, start) || start.Node != node {
			return v.rep.fail(start.Seq, "", ProblemHeadSignature, "the prune anchor is not signed by key "+KeyID(pub)), nil
		}
		v.rep.From, v.prev = start.Seq+1, start.Hash
		if anchor != nil && anchor.Seq == start.Seq && anchor.Hash != start.Hash {
			return v.rep.fail(start.Seq, "", ProblemHeadMismatch, "the prune anchor differs from the anchored head"), nil
		}
	}
	v.rep.To = v.rep.From - 1
	heads := func(yield func(SignedHead) bool) {
		err := store.Heads(ctx, node, v.rep.From, func(h SignedHead) error {
			if !yield(h) {
				return errStop
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStop) {
			v.headsErr = err
		}
	}
	next, stop := iter.Pull(heads)
	defer stop()
	v.nextHead = next
	v.advance() // opens the heads' read before the records', see Store.Heads
	err = store.Scan(ctx, node, v.rep.From, v.check)
	if errors.Is(err, errFound) {
		return v.rep, nil
	}
	if err != nil {
		return Report{}, fmt.Errorf("verifying: %w", err)
	}
	stop() // the heads' read has ended: headsErr is final
	if v.headsErr != nil {
		return Report{}, fmt.Errorf("verifying: reading signed heads: %w", v.headsErr)
	}
	rep := v.finish()
	if c, ok := store.(subjectIndexChecker); ok && rep.OK {
		bad, ok, err := c.CheckSubjects(ctx, node, rep.From)
		if err != nil {
			return Report{}, fmt.Errorf("verifying the data subject index: %w", err)
		}
		if !ok {
			return rep.fail(bad.Seq, bad.ID, ProblemSubjectIndex,
				"its data subject is not in the index (govbus audit reindex rebuilds it from the records)"), nil
		}
	}
	return rep, nil
}

var (
	errStop  = errors.New("stop")
	errFound = errors.New("problem found")
)

func (r *Report) fail(seq int64, id string, p Problem, detail string) Report {
	r.OK, r.Seq, r.RecordID, r.Problem, r.Detail = false, seq, id, p, detail
	return *r
}
