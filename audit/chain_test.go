package audit_test

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/govbus/govbus/audit"
)

// fullRecord returns a record with every field set.
func fullRecord() audit.Record {
	return audit.Record{
		Seq: 7, ID: "id", Kind: audit.KindResponse, Time: testTime, Node: "node",
		MessageID: "msg", RequestID: "req", Client: "client", Service: "service",
		Method: "GET", PathTemplate: "/p/{id}", UserID: "user", Issue: "issue",
		Purpose: "purpose", RuleID: "rule", Status: 200, ErrorType: "err",
		Size: 3, BodySHA256: "sha", Body: []byte{0, 1, 2}, SubjectHash: "subject",
		DiscloseAfter: testTime.Add(time.Hour), TraceID: "trace", PrevHash: "prev",
		SentAt: testTime.Add(-time.Second), ReceivedAt: testTime.Add(-time.Millisecond), Attempts: 2,
		OriginalSHA256: "original",
	}
}

// v2Record is fullRecord without the field version 3 of the encoding
// added.
func v2Record() audit.Record {
	r := fullRecord()
	r.OriginalSHA256 = ""
	return r
}

// v1Record is fullRecord without the fields version 2 of the encoding
// added.
func v1Record() audit.Record {
	r := v2Record()
	r.SentAt, r.ReceivedAt, r.Attempts = time.Time{}, time.Time{}, 0
	return r
}

func TestComputeHashCoversEveryFieldButHash(t *testing.T) {
	base := fullRecord()
	want := base.ComputeHash()
	typ := reflect.TypeFor[audit.Record]()
	for i := range typ.NumField() {
		field := typ.Field(i)
		r := fullRecord()
		v := reflect.ValueOf(&r).Elem().Field(i)
		switch x := v.Addr().Interface().(type) {
		case *time.Time:
			*x = x.Add(time.Microsecond)
		case *[]byte:
			*x = append(*x, 3)
		default:
			switch v.Kind() {
			case reflect.String:
				v.SetString(v.String() + "x")
			case reflect.Int, reflect.Int64:
				v.SetInt(v.Int() + 1)
			default:
				t.Fatalf("field %s: kind %s not covered by this test", field.Name, v.Kind())
			}
		}
		changed := r.ComputeHash() != want
		if field.Name == "Hash" {
			if changed {
				t.Errorf("changing Hash changed the hash")
			}
			continue
		}
		if !changed {
			t.Errorf("changing %s left the hash unchanged", field.Name)
		}
	}
}

func TestComputeHashIsCanonical(t *testing.T) {
	r := fullRecord()
	want := r.ComputeHash()
	zone := time.FixedZone("UTC+3", 3*3600)
	r.Time = r.Time.In(zone).Add(999 * time.Nanosecond) // same microsecond
	r.DiscloseAfter = r.DiscloseAfter.In(zone)
	r.SentAt = r.SentAt.In(zone).Add(1)
	r.ReceivedAt = r.ReceivedAt.In(zone)
	if got := r.ComputeHash(); got != want {
		t.Errorf("time zone and sub-microsecond digits changed the hash")
	}

	a, b := audit.Record{Client: "ab", Service: "c"}, audit.Record{Client: "a", Service: "bc"}
	if a.ComputeHash() == b.ComputeHash() {
		t.Error(`Client "ab" + Service "c" hashes like "a" + "bc"`)
	}
	empty, nilBody := audit.Record{Body: []byte{}}, audit.Record{}
	if empty.ComputeHash() != nilBody.ComputeHash() {
		t.Error("an empty body hashes unlike a nil one")
	}
	for _, epoch := range []audit.Record{{DiscloseAfter: time.Unix(0, 0)}, {SentAt: time.Unix(0, 0)}, {ReceivedAt: time.Unix(0, 0)}} {
		if epoch.ComputeHash() == nilBody.ComputeHash() {
			t.Errorf("a time at the Unix epoch hashes like the zero time: %+v", epoch)
		}
	}
	sent, received := audit.Record{SentAt: testTime}, audit.Record{ReceivedAt: testTime}
	if sent.ComputeHash() == received.ComputeHash() {
		t.Error("SentAt hashes like ReceivedAt")
	}
}

// encode rebuilds the documented encoding of version v by hand and
// returns its hash.
func encode(r audit.Record, v int) string {
	var b []byte
	num := func(v int64) { b = binary.BigEndian.AppendUint64(b, uint64(v)) }
	str := func(s string) { num(int64(len(s))); b = append(b, s...) }
	tm := func(t time.Time) {
		if t.IsZero() {
			b = append(b, 0)
			num(0)
			return
		}
		b = append(b, 1)
		num(t.UnixMicro())
	}
	str(fmt.Sprintf("govbus-record/v%d", v))
	num(r.Seq)
	str(r.ID)
	str(string(r.Kind))
	tm(r.Time)
	for _, s := range []string{r.Node, r.MessageID, r.RequestID, r.Client, r.Service,
		r.Method, r.PathTemplate, r.UserID, r.Issue, r.Purpose, r.RuleID} {
		str(s)
	}
	num(int64(r.Status))
	str(r.ErrorType)
	num(r.Size)
	str(r.BodySHA256)
	str(string(r.Body))
	str(r.SubjectHash)
	tm(r.DiscloseAfter)
	str(r.TraceID)
	if v >= 2 {
		tm(r.SentAt)
		tm(r.ReceivedAt)
		num(int64(r.Attempts))
	}
	if v >= 3 {
		str(r.OriginalSHA256)
	}
	str(r.PrevHash)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestComputeHashEncoding rebuilds the documented encoding by hand, so the
// format cannot drift unnoticed: verifiers outside govbus depend on it.
func TestComputeHashEncoding(t *testing.T) {
	for _, r := range []audit.Record{fullRecord(), v2Record(), v1Record(), {}} {
		if got, want := r.ComputeHash(), encode(r, 3); got != want {
			t.Fatalf("ComputeHash() = %s, want %s", got, want)
		}
	}
	const golden = "b09584d19070c7ef0ee372fee8a8ddae7dff462e795952925801aa192fb8fcfe"
	r := fullRecord()
	if got := r.ComputeHash(); got != golden {
		t.Fatalf("ComputeHash() = %s, want the golden %s (change it only with a new format version)", got, golden)
	}
}

// TestMatchesHashAcceptsOlderVersions checks that records hashed with an
// earlier version of the encoding still verify, and only while the fields
// that later versions added are zero: a record with such a field set must
// not pass under an older hash.
func TestMatchesHashAcceptsOlderVersions(t *testing.T) {
	for _, tt := range []struct {
		version int
		record  audit.Record
		// golden is the version's hash of record, from before the next
		// version existed.
		golden string
		// edits must each break the match; later is a record with a field
		// a later version added, which the old hash must not match.
		edits map[string]func(*audit.Record)
		later audit.Record
	}{
		{1, v1Record(), "cda17c6c9b2f876f854317495ca328c71ec10a6916c3f44530678b7a6f08b9bf",
			map[string]func(*audit.Record){
				"SentAt":     func(r *audit.Record) { r.SentAt = testTime },
				"ReceivedAt": func(r *audit.Record) { r.ReceivedAt = testTime },
				"Attempts":   func(r *audit.Record) { r.Attempts = 1 },
				"Client":     func(r *audit.Record) { r.Client += "x" },
			}, v2Record()},
		{2, v2Record(), "5321c0ea8ca55b9dc586ee525fdb5380f40b8f58d48812117bb1f1e157be6ff5",
			map[string]func(*audit.Record){
				"OriginalSHA256": func(r *audit.Record) { r.OriginalSHA256 = "original" },
				"Attempts":       func(r *audit.Record) { r.Attempts++ },
				"Status":         func(r *audit.Record) { r.Status++ },
			}, fullRecord()},
	} {
		r := tt.record
		if got := encode(r, tt.version); got != tt.golden {
			t.Fatalf("version %d encoding: %s, want the golden %s", tt.version, got, tt.golden)
		}
		r.Hash = tt.golden
		if !r.MatchesHash() {
			t.Fatalf("a version %d hash does not match its record", tt.version)
		}
		if r.ComputeHash() == tt.golden {
			t.Fatalf("ComputeHash still hashes with version %d", tt.version)
		}
		for name, edit := range tt.edits {
			e := r
			edit(&e)
			if e.MatchesHash() {
				t.Errorf("a version %d hash matches its record with %s changed", tt.version, name)
			}
		}
		later := tt.later
		if later.Hash = later.ComputeHash(); !later.MatchesHash() {
			t.Errorf("the current hash does not match a record with version %d's added fields", tt.version+1)
		}
		if later.Hash = encode(later, tt.version); later.MatchesHash() {
			t.Errorf("a version %d hash matches a record with fields a later version added", tt.version)
		}
	}
}

func TestLinkChainsRecords(t *testing.T) {
	var prev string
	for seq := int64(1); seq <= 3; seq++ {
		r := fullRecord()
		r.Link(seq, prev)
		if r.Seq != seq || r.PrevHash != prev || r.Hash != r.ComputeHash() || len(r.Hash) != 64 {
			t.Fatalf("Link(%d, %q) gave seq %d prev %q hash %q", seq, prev, r.Seq, r.PrevHash, r.Hash)
		}
		prev = r.Hash
	}
}
