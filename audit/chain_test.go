package audit_test

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
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
	}
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
	epoch := audit.Record{DiscloseAfter: time.Unix(0, 0)}
	if epoch.ComputeHash() == nilBody.ComputeHash() {
		t.Error("DiscloseAfter at the Unix epoch hashes like the zero time")
	}
}

// TestComputeHashEncoding rebuilds the documented encoding by hand, so the
// format cannot drift unnoticed: verifiers outside govbus depend on it.
func TestComputeHashEncoding(t *testing.T) {
	r := fullRecord()
	var b []byte
	num := func(v int64) { b = binary.BigEndian.AppendUint64(b, uint64(v)) }
	str := func(s string) { num(int64(len(s))); b = append(b, s...) }
	tm := func(t time.Time) { b = append(b, 1); num(t.UnixMicro()) }
	str("govbus-record/v1")
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
	str(r.PrevHash)
	sum := sha256.Sum256(b)
	if got, want := r.ComputeHash(), hex.EncodeToString(sum[:]); got != want {
		t.Fatalf("ComputeHash() = %s, want %s", got, want)
	}
	const golden = "cda17c6c9b2f876f854317495ca328c71ec10a6916c3f44530678b7a6f08b9bf"
	if got := r.ComputeHash(); got != golden {
		t.Fatalf("ComputeHash() = %s, want the golden %s (change it only with a new format version)", got, golden)
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
