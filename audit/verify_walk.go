package audit

import (
	"crypto/ed25519"
	"fmt"
)

// verifier walks one chain for Verify: records in Seq order, merged with
// the stored signed heads.
type verifier struct {
	pub    ed25519.PublicKey
	anchor *SignedHead // the caller's anchored head, or nil
	rep    Report

	prev     string // the last record's Hash: the next PrevHash
	prevPrev string // the Hash before it
	prevID   string

	nextHead func() (SignedHead, bool)
	head     SignedHead // the next stored head not yet matched
	hasHead  bool
	headsErr error
}

func (v *verifier) advance() { v.head, v.hasHead = v.nextHead() }

// check verifies r, the next record; it returns errFound, with v.rep
// filled in, at the first problem.
func (v *verifier) check(r Record) error {
	if !v.checkRecord(r) {
		return errFound
	}
	for v.hasHead && v.head.Seq < r.Seq {
		v.advance() // only heads below the walk's start; none in a sound chain
	}
	if v.hasHead && v.head.Seq == r.Seq {
		v.rep.Heads++
		h := v.head
		if h.Node != v.rep.Node || !VerifyHead(v.pub, h) {
			v.rep.fail(r.Seq, r.ID, ProblemHeadSignature, fmt.Sprintf(
				"the head at seq %d (key %s) is not signed by key %s", h.Seq, h.KeyID, KeyID(v.pub)))
			return errFound
		}
		if h.Hash != r.Hash {
			v.rep.fail(r.Seq, r.ID, ProblemHeadMismatch, fmt.Sprintf(
				"the head signed at %s names hash %s; the record's is %s", h.Time.Format(timeLayout), h.Hash, r.Hash))
			return errFound
		}
		v.advance()
	}
	if a := v.anchor; a != nil && a.Seq == r.Seq && a.Hash != r.Hash {
		v.rep.fail(r.Seq, r.ID, ProblemHeadMismatch, fmt.Sprintf(
			"the anchored head names hash %s; the record's is %s", a.Hash, r.Hash))
		return errFound
	}
	v.prevPrev, v.prev, v.prevID = v.prev, r.Hash, r.ID
	v.rep.To = r.Seq
	v.rep.Records++
	return nil
}

// checkRecord checks r's place and hash. At a problem it fills in v.rep
// and returns false; it names the previous record instead of r when that
// one was evidently inserted.
func (v *verifier) checkRecord(r Record) bool {
	want := v.rep.To + 1
	bad := func(seq int64, id string, p Problem, format string, args ...any) bool {
		v.rep.fail(seq, id, p, fmt.Sprintf(format, args...))
		return false
	}
	switch {
	case r.Seq > want+1:
		return bad(r.Seq, r.ID, ProblemDeleted, "records %d..%d are missing", want, r.Seq-1)
	case r.Seq == want+1:
		return bad(r.Seq, r.ID, ProblemDeleted, "record %d is missing", want)
	case r.Seq < want:
		return bad(r.Seq, r.ID, ProblemLinkage, "seq %d again after seq %d", r.Seq, v.rep.To)
	}
	if !r.MatchesHash() {
		return bad(r.Seq, r.ID, ProblemEdited, "stored hash %s; the fields hash to %s", r.Hash, r.ComputeHash())
	}
	switch {
	case r.PrevHash == v.prev:
		return true
	case v.rep.Records > 0 && r.PrevHash == v.prevPrev:
		// r links past its predecessor, which sits where no record was.
		return bad(r.Seq-1, v.prevID, ProblemLinkage,
			"record %d was inserted: record %d links to record %d", r.Seq-1, r.Seq, r.Seq-2)
	default:
		return bad(r.Seq, r.ID, ProblemLinkage, "prev_hash %s is not record %d's hash %s "+
			"(that record was edited and rehashed, a record was inserted before this one, "+
			"or records were reordered)", r.PrevHash, want-1, v.prev)
	}
}

// finish ends a walk with no problem in the records: it remains to see
// that the chain reaches every head known to exist.
func (v *verifier) finish() Report {
	if v.hasHead && v.head.Seq > v.rep.To {
		return v.rep.fail(v.rep.To+1, "", ProblemCutTail, fmt.Sprintf(
			"chain ends at seq %d, before the signed head at %d", v.rep.To, v.head.Seq))
	}
	if v.anchor != nil && v.anchor.Seq > v.rep.To {
		return v.rep.fail(v.rep.To+1, "", ProblemCutTail, fmt.Sprintf(
			"chain ends at seq %d, before the anchored head at %d", v.rep.To, v.anchor.Seq))
	}
	v.rep.OK = true
	return v.rep
}

const timeLayout = "2006-01-02T15:04:05.000000Z07:00"
