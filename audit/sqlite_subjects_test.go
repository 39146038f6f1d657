package audit

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"path/filepath"
	"slices"
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
			got, err := s.BySubject(ctx, SubjectQuery{SubjectHash: subject, From: base, To: base.Add(time.Hour), Limit: MaxSubjectLimit})
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
		got, err := s.BySubject(ctx, SubjectQuery{SubjectHash: a, From: base.Add(120 * time.Second), To: base.Add(125 * time.Second), Limit: MaxSubjectLimit})
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

// TestVerifyChecksTheSubjectIndex edits records_subjects behind the
// store's back, as someone hiding an access from the Data Tracker would:
// Verify names the first record the index no longer leads to, and an index
// rebuilt from the records passes again.
func TestVerifyChecksTheSubjectIndex(t *testing.T) {
	ctx := context.Background()
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, edit string
		seq        int64 // the first record hidden, 0: none
	}{
		{"row deleted", `DELETE FROM records_subjects WHERE doc_first = 20`, 20},
		{"token changed", `UPDATE records_subjects SET tokens = 'ffffffffffffffff' WHERE doc_first = 40`, 40},
		{"range narrowed", `UPDATE records_subjects SET doc_last = 49 WHERE doc_first = 50`, 50},
		{"node changed", `UPDATE records_subjects SET doc_node = 'm' WHERE doc_first >= 58`, 58},
		{"a row that leads nowhere", `INSERT INTO records_subjects (tokens, doc_node, doc_first, doc_last)
			VALUES ('0123456789abcdef', 'n', 1, 60)`, 0},
	} {
		path := filepath.Join(t.TempDir(), "messagelog.db")
		s, err := OpenSQLite(path)
		if err != nil {
			t.Fatal(err)
		}
		prev := ""
		for seq := int64(1); seq <= 60; seq++ { // one row of the index per record
			r := Record{ID: fmt.Sprint("r", seq), Kind: KindRequest, Node: "n", Time: time.Unix(seq, 0).UTC()}
			if seq%3 != 0 { // records 3, 6, 9... have no subject
				r.SubjectHash = fmt.Sprintf("%016x", seq%7+1) + strings.Repeat("0", 48)
			}
			r.Link(seq, prev)
			prev = r.Hash
			if err := s.Append(ctx, []Record{r}, nil); err != nil {
				t.Fatal(err)
			}
		}
		if rep, err := Verify(ctx, s, "n", pub, nil); err != nil || !rep.OK {
			t.Fatalf("%s: before the edit: %v, %v", tt.name, rep, err)
		}
		if _, err := s.writer.Exec(tt.edit); err != nil {
			t.Fatal(err)
		}
		rep, err := Verify(ctx, s, "n", pub, nil)
		switch {
		case err != nil:
			t.Fatal(err)
		case tt.seq == 0 && !rep.OK:
			t.Errorf("%s: %v, want OK", tt.name, rep)
		case tt.seq != 0 && (rep.OK || rep.Problem != ProblemSubjectIndex || rep.Seq != tt.seq || rep.RecordID != fmt.Sprint("r", tt.seq)):
			t.Errorf("%s: %v; want %s at seq %d", tt.name, rep, ProblemSubjectIndex, tt.seq)
		}
		// Rebuilt from the records, as the report says.
		if err := s.RebuildSubjectIndex(ctx); err != nil {
			t.Fatal(err)
		}
		if rep, err := Verify(ctx, s, "n", pub, nil); err != nil || !rep.OK {
			t.Errorf("%s: rebuilt: %v, %v", tt.name, rep, err)
		}
		s.Close()
	}
}

// TestSubjectDocsSpan checks that a large batch becomes rows of at most
// subjectDocSpan seqs each, per node, that together list every record's
// token.
func TestSubjectDocsSpan(t *testing.T) {
	var recs []Record
	for seq := int64(1); seq <= 300; seq++ {
		for _, node := range []string{"a", "b"} {
			r := Record{Node: node, Seq: seq}
			if seq%5 != 0 {
				r.SubjectHash = fmt.Sprintf("%016x", seq) + strings.Repeat("0", 48)
			}
			recs = append(recs, r)
		}
	}
	docs := subjectDocs(recs)
	for _, r := range recs {
		if r.SubjectHash == "" {
			continue
		}
		covered := 0
		for _, d := range docs {
			if d.node == r.Node && d.first <= r.Seq && r.Seq <= d.last && slices.Contains(d.tokens, subjectToken(r.SubjectHash)) {
				covered++
			}
		}
		if covered != 1 {
			t.Fatalf("record %s/%d is in %d rows, want 1", r.Node, r.Seq, covered)
		}
	}
	for _, d := range docs {
		if d.last-d.first >= subjectDocSpan {
			t.Errorf("row %s %d-%d spans more than %d seqs", d.node, d.first, d.last, subjectDocSpan)
		}
	}
	if len(docs) != 2*((300+subjectDocSpan-1)/subjectDocSpan) {
		t.Errorf("%d rows, want %d", len(docs), 2*((300+subjectDocSpan-1)/subjectDocSpan))
	}
}
