package audit_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/govbus/govbus/audit"
)

// minuteChain appends n records to store, one a minute from testTime+1m,
// through a Log signing every signEvery records; record i has client
// "c<i%2>" and service "s<i%3>". It returns the signer and the records.
func minuteChain(t *testing.T, store audit.Store, n, signEvery int) (*audit.Signer, []audit.Record) {
	t.Helper()
	signer := newTestSigner(t)
	clk := newClock()
	l := openLog(t, store, audit.Options{Signer: signer, SignEvery: signEvery, SignInterval: time.Hour, Now: clk.Now})
	var recs []audit.Record
	for i := 1; i <= n; i++ {
		clk.Add(time.Minute)
		r := &audit.Record{Client: fmt.Sprintf("c%d", i%2), Service: fmt.Sprintf("s%d", i%3), Body: []byte{byte(i), 0}}
		if err := l.Append(t.Context(), r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, *r)
	}
	return signer, recs
}

func TestExportFilters(t *testing.T) {
	store := newSQLite(t)
	_, recs := minuteChain(t, store, 12, 100)
	at := func(seq int) time.Time { return recs[seq-1].Time }
	for _, tc := range []struct {
		name   string
		filter audit.ExportFilter
		want   []int64
	}{
		{"all", audit.ExportFilter{}, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}},
		{"from, inclusive", audit.ExportFilter{From: at(10)}, []int64{10, 11, 12}},
		{"to, exclusive", audit.ExportFilter{To: at(3)}, []int64{1, 2}},
		{"window", audit.ExportFilter{From: at(4), To: at(7)}, []int64{4, 5, 6}},
		{"client", audit.ExportFilter{Client: "c0"}, []int64{2, 4, 6, 8, 10, 12}},
		{"service", audit.ExportFilter{Service: "s1"}, []int64{1, 4, 7, 10}},
		{"client and service in a window", audit.ExportFilter{Client: "c0", Service: "s1", To: at(10)}, []int64{4}},
		{"nothing", audit.ExportFilter{Client: "nobody"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			res, err := audit.Export(t.Context(), store, "ee-test", &buf, tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			sc := bufio.NewScanner(&buf)
			for sc.Scan() {
				var r audit.Record
				if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
					t.Fatalf("line %q: %v", sc.Text(), err)
				}
				want := recs[r.Seq-1]
				if r.Hash != want.Hash || r.ComputeHash() != r.Hash || !bytes.Equal(r.Body, want.Body) {
					t.Fatalf("exported record %d does not round-trip: %+v", r.Seq, r)
				}
				got = append(got, r.Seq)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("exported seqs %v, want %v", got, tc.want)
			}
			wantLast := int64(0)
			if len(tc.want) > 0 {
				wantLast = tc.want[len(tc.want)-1]
			}
			if res.Records != len(tc.want) || res.LastSeq != wantLast {
				t.Fatalf("ExportResult %+v, want %d records up to %d", res, len(tc.want), wantLast)
			}
		})
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errInjected }

func TestExportReportsWriteErrors(t *testing.T) {
	store := newSQLite(t)
	minuteChain(t, store, 3, 100)
	if _, err := audit.Export(t.Context(), store, "ee-test", failingWriter{}, audit.ExportFilter{}); !errors.Is(err, errInjected) {
		t.Fatalf("Export to a failing writer: %v, want its error", err)
	}
}
