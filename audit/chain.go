package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"time"
)

// The domains that open a record's canonical encoding, one per version of
// the encoding, so a record hash can never be confused with a hash of
// anything else govbus signs or stores, nor with another version's.
//
// hashVersion is the version that ComputeHash uses; the domain of version
// v is "govbus-record/v" followed by v in decimal.
const hashVersion = 3

// ComputeHash returns the record's hash: hex SHA-256 over its canonical
// encoding, which holds every field except Hash itself, PrevHash included,
// so each record commits to the whole chain before it.
//
// The encoding is unambiguous and reproducible by any verifier:
//
//	the string "govbus-record/v3", then each field in this order:
//	Seq, ID, Kind, Time, Node, MessageID, RequestID, Client, Service,
//	Method, PathTemplate, UserID, Issue, Purpose, RuleID, Status,
//	ErrorType, Size, BodySHA256, Body, SubjectHash, DiscloseAfter,
//	TraceID, SentAt, ReceivedAt, Attempts, OriginalSHA256, PrevHash
//
// where an integer is 8 bytes big-endian (two's complement), a string or
// byte slice is its length as 8 bytes big-endian followed by its bytes (so
// a nil Body and an empty one are the same), and a time is one byte (0 for
// the zero time, 1 otherwise) followed by its Unix time in microseconds as
// an integer (so time zones and sub-microsecond digits do not count).
//
// Version 2 ("govbus-record/v2") is the same without OriginalSHA256, and
// version 1 ("govbus-record/v1") is version 2 without SentAt, ReceivedAt
// and Attempts. Records are always hashed with version 3; Verify also
// accepts an older version's hash on a record whose fields that version
// leaves out are zero (see MatchesHash), so chains written before version 3
// still verify.
func (r *Record) ComputeHash() string { return r.computeHash(hashVersion) }

// MatchesHash reports whether Hash is the hash of r's fields: the version 3
// hash (ComputeHash), or the hash of an earlier version when every field
// that version leaves out is zero in r (no OriginalSHA256 for version 2;
// nor SentAt, ReceivedAt, Attempts for version 1). An older hash commits
// to every field of such a record just as well: the fields it leaves out
// are fixed at zero, and the domain names the version, so no record can
// pass for another of a different version.
func (r *Record) MatchesHash() bool {
	if r.ComputeHash() == r.Hash {
		return true
	}
	if r.OriginalSHA256 != "" {
		return false
	}
	if r.computeHash(2) == r.Hash {
		return true
	}
	return r.SentAt.IsZero() && r.ReceivedAt.IsZero() && r.Attempts == 0 &&
		r.computeHash(1) == r.Hash
}

// computeHash returns the hash of r's canonical encoding of version v (1,
// 2 or 3).
func (r *Record) computeHash(v int) string {
	var e canonical
	e.buf = make([]byte, 0, 512+len(r.Body))
	e.str("govbus-record/v" + strconv.Itoa(v))
	e.int(r.Seq)
	for _, s := range []string{r.ID, string(r.Kind)} {
		e.str(s)
	}
	e.time(r.Time)
	for _, s := range []string{r.Node, r.MessageID, r.RequestID, r.Client,
		r.Service, r.Method, r.PathTemplate, r.UserID, r.Issue, r.Purpose, r.RuleID} {
		e.str(s)
	}
	e.int(int64(r.Status))
	e.str(r.ErrorType)
	e.int(r.Size)
	e.str(r.BodySHA256)
	e.bytes(r.Body)
	e.str(r.SubjectHash)
	e.time(r.DiscloseAfter)
	e.str(r.TraceID)
	if v >= 2 {
		e.time(r.SentAt)
		e.time(r.ReceivedAt)
		e.int(int64(r.Attempts))
	}
	if v >= 3 {
		e.str(r.OriginalSHA256)
	}
	e.str(r.PrevHash)
	sum := sha256.Sum256(e.buf)
	return hex.EncodeToString(sum[:])
}

// canonical accumulates a record's canonical encoding.
type canonical struct{ buf []byte }

func (e *canonical) int(v int64) { e.buf = binary.BigEndian.AppendUint64(e.buf, uint64(v)) }

func (e *canonical) bytes(b []byte) {
	e.int(int64(len(b)))
	e.buf = append(e.buf, b...)
}

func (e *canonical) str(s string) {
	e.int(int64(len(s)))
	e.buf = append(e.buf, s...)
}

func (e *canonical) time(t time.Time) {
	if t.IsZero() {
		e.buf = append(e.buf, 0)
		e.int(0)
		return
	}
	e.buf = append(e.buf, 1)
	e.int(t.UnixMicro())
}

// Link sets r's place in a chain — Seq to seq and PrevHash to prevHash —
// and then its Hash. The Log links every record it appends; Link is
// exported for tools and tests that build chains by hand.
func (r *Record) Link(seq int64, prevHash string) {
	r.Seq = seq
	r.PrevHash = prevHash
	r.Hash = r.ComputeHash()
}

// normalizeTime returns t in UTC at microsecond precision, the form in
// which records keep times (and the only part of a time the hash covers).
func normalizeTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}
