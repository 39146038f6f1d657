package audit

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSubjectToken(t *testing.T) {
	hexHash := strings.Repeat("0123456789abcdef", 4)
	for _, tt := range []struct{ in, want string }{
		{hexHash, "0123456789abcdef"},
		{"0123456789ABCDEF0000", "x"},                    // not lower-case hex: hashed
		{"short", "x"},                                   // too short: hashed
		{`"0123456789abcdef OR x"`, "x"},                 // FTS5 syntax stays out
		{"0123456789abcdef-not-hex", "0123456789abcdef"}, // only the token's part counts
	} {
		got := subjectToken(tt.in)
		if tt.want == "x" {
			if len(got) != 1+subjectTokenLen || got[0] != 'x' || !isLowerHex(got[1:]) {
				t.Errorf("subjectToken(%q) = %q, want x and %d hex digits", tt.in, got, subjectTokenLen)
			}
			continue
		}
		if got != tt.want {
			t.Errorf("subjectToken(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if subjectToken("a") == subjectToken("b") {
		t.Error("two hashed tokens are the same")
	}
}

// TestSQLiteSubjectIndex appends a chain over many batches and two nodes,
// with subjects that share a token and subjects that are not hex, and
// checks that BySubject returns exactly each subject's records, in order,
// within the time range; that pruning drops the index rows of what it
// removed; and that an index rebuilt from the records (as an upgrade builds
// it) answers the same.
func TestSQLiteSubjectIndex(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "messagelog.db")
	s, err := OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	base := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	// a and b share their token; c is not hex; d is a subject of one record.
	a := "5a5a5a5a5a5a5a5a" + strings.Repeat("1", 48)
	b := "5a5a5a5a5a5a5a5a" + strings.Repeat("2", 48)
	subjects := []string{a, b, "not hex at all", "", a}
	want := map[string][]int64{}
	for _, node := range []string{"node-a", "node-b"} {
		prev := ""
		var batch []Record
		for seq := int64(1); seq <= 300; seq++ {
			r := Record{ID: fmt.Sprint(node, seq), Kind: KindRequest, Node: node,
				Time: base.Add(time.Duration(seq) * time.Second), SubjectHash: subjects[seq%int64(len(subjects))]}
			if seq == 150 {
				r.SubjectHash = "d"
			}
			r.Link(seq, prev)
			prev = r.Hash
			batch = append(batch, r)
			if r.SubjectHash != "" && node == "node-a" { // the same on node-b
				want[r.SubjectHash] = append(want[r.SubjectHash], seq)
			}
			if len(batch) == int(seq%7)+1 { // batches of 1 to 7 records
				if err := s.Append(ctx, batch, nil); err != nil {
					t.Fatal(err)
				}
				batch = nil
			}
		}
		if err := s.Append(ctx, batch, nil); err != nil {
			t.Fatal(err)
		}
	}
	check := func(stage string, pruned int64) {
		t.Helper()
		for subject, seqs := range want {
			got, err := s.BySubject(ctx, subject, base, base.Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			var wantRecs []string
			// Time order, then node: each seq on node-a, then node-b.
			for _, seq := range seqs {
				for _, node := range []string{"node-a", "node-b"} {
					if node == "node-a" && seq <= pruned {
						continue
					}
					wantRecs = append(wantRecs, fmt.Sprint(node, seq))
				}
			}
			var gotRecs []string
			for _, r := range got {
				if r.SubjectHash != subject {
					t.Fatalf("%s: BySubject(%q) returned a record of %q", stage, subject, r.SubjectHash)
				}
				gotRecs = append(gotRecs, r.ID)
			}
			if strings.Join(gotRecs, " ") != strings.Join(wantRecs, " ") {
				t.Fatalf("%s: BySubject(%q) = %v, want %v", stage, subject, gotRecs, wantRecs)
			}
		}
		// A time range cuts the answer: a's records at 120 s and 124 s (seq
		// % 5 is 0 or 4), on both nodes, are in [120 s, 125 s).
		got, err := s.BySubject(ctx, a, base.Add(120*time.Second), base.Add(125*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range got {
			ids = append(ids, r.ID)
		}
		if w := "node-a120 node-b120 node-a124 node-b124"; strings.Join(ids, " ") != w {
			t.Fatalf("%s: BySubject of a in [120 s, 125 s) = %v, want %s", stage, ids, w)
		}
	}
	check("appended", 0)

	// Prune node-a up to 100: its index rows of batches wholly before go.
	last, _, err := s.Last(ctx, "node-a")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Prune(ctx, "node-a", 100, SignedHead{Node: "node-a", Seq: 100, Hash: last.Hash, Time: base}); err != nil {
		t.Fatal(err)
	}
	var stale int
	if err := s.writer.QueryRow(`SELECT count(*) FROM records_subjects WHERE doc_node = 'node-a' AND doc_last <= 100`).Scan(&stale); err != nil {
		t.Fatal(err)
	}
	if stale != 0 {
		t.Errorf("%d index rows of pruned batches left", stale)
	}
	check("pruned", 100)

	// The index as an upgrade builds it, from the records alone.
	if _, err := s.writer.Exec(`DROP TABLE records_subjects`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = OpenSQLite(path); err != nil {
		t.Fatal(err)
	}
	check("rebuilt", 100)
}

// TestSQLiteInsertRows checks the multi-row inserts against the schema:
// as many values per row as sqlRecordColumns names, and each size of batch
// (below, at and across the statement sizes) stored whole, in seq order.
func TestSQLiteInsertRows(t *testing.T) {
	r := Record{}
	if got, want := len(strings.Split(sqlRecordColumns, ",")), sqlRecordColumnCount; got != want {
		t.Fatalf("sqlRecordColumns names %d columns, sqlRecordColumnCount is %d", got, want)
	}
	if got := len(sqlRecordArgs(&r)); got != sqlRecordColumnCount {
		t.Fatalf("sqlRecordArgs gives %d values, want %d", got, sqlRecordColumnCount)
	}
	ctx := context.Background()
	s, err := OpenSQLite(filepath.Join(t.TempDir(), "messagelog.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	seq, prev := int64(0), ""
	for _, n := range []int{1, 3, 4, 5, 15, 16, 17, 21, 37} {
		var batch []Record
		for range n {
			seq++
			r := Record{ID: fmt.Sprint("r", seq), Kind: KindRequest, Node: "n", Time: time.Unix(seq, 0).UTC()}
			r.Link(seq, prev)
			prev = r.Hash
			batch = append(batch, r)
		}
		if err := s.Append(ctx, batch, nil); err != nil {
			t.Fatalf("appending %d records: %v", n, err)
		}
	}
	want := int64(1)
	if err := s.Scan(ctx, "n", 1, func(r Record) error {
		if r.Seq != want || r.ID != fmt.Sprint("r", want) {
			return fmt.Errorf("record %d read back as seq %d id %s", want, r.Seq, r.ID)
		}
		want++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want-1 != seq {
		t.Fatalf("read back %d records, want %d", want-1, seq)
	}
}
