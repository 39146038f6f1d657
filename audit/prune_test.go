package audit_test

import (
	"bytes"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/govbus/govbus/audit"
)

func TestPrunePrunesOnlyWhatIsOldExportedAndSigned(t *testing.T) {
	store := newSQLite(t)
	signer, recs := minuteChain(t, store, 30, 10) // heads at 10, 20, 30
	before := recs[25].Time                       // records 1..25 are older
	for _, tc := range []struct {
		name         string
		exportedUpTo int64
		wantUpTo     int64
	}{
		{"nothing exported", 0, 0},
		{"export short of the first head", 9, 0},
		{"export covers 15: up to the head at 10", 15, 10},
		{"export covers all: up to the last head before the cut", 30, 20},
		{"again: nothing more to prune", 30, 0},
	} {
		res, err := audit.Prune(t.Context(), store, "ee-test", before, tc.exportedUpTo, signer)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if res.UpTo != tc.wantUpTo {
			t.Fatalf("%s: pruned up to %d, want %d", tc.name, res.UpTo, tc.wantUpTo)
		}
		if res.UpTo == 0 {
			continue
		}
		anchor, ok, err := store.Anchor(t.Context(), "ee-test")
		if err != nil || !ok || anchor != res.Anchor || anchor.Hash != recs[res.UpTo-1].Hash {
			t.Fatalf("%s: anchor %+v, %v, %v; want a head over record %d", tc.name, anchor, ok, err, res.UpTo)
		}
		if !audit.VerifyHead(signer.Public(), anchor) {
			t.Fatalf("%s: the anchor is not validly signed", tc.name)
		}
		rep := verify(t, store, signer.Public(), nil)
		if rep.From != res.UpTo+1 || rep.To != 30 {
			t.Fatalf("%s: Verify after pruning: %s", tc.name, rep)
		}
	}
	var buf bytes.Buffer
	res, err := audit.Export(t.Context(), store, "ee-test", &buf, audit.ExportFilter{})
	if err != nil || res.Records != 10 {
		t.Fatalf("export after pruning: %+v, %v; want records 21..30", res, err)
	}
}

func TestPruneRefusesAChainThatDoesNotVerify(t *testing.T) {
	store, path := openSQLite(t)
	t.Cleanup(func() { store.Close() })
	signer, recs := minuteChain(t, store, 30, 10)
	if _, err := audit.Prune(t.Context(), store, "ee-test", recs[29].Time, 30, newTestSigner(t)); !errors.Is(err, audit.ErrUnverified) {
		t.Fatalf("Prune with another key: %v, want ErrUnverified", err)
	}

	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE records SET client = 'evil' WHERE seq = 25`); err != nil {
		t.Fatal(err)
	}
	_, err = audit.Prune(t.Context(), store, "ee-test", recs[29].Time, 30, signer)
	if !errors.Is(err, audit.ErrUnverified) {
		t.Fatalf("Prune of an edited chain: %v, want ErrUnverified", err)
	}
	t.Log(err)
	if _, ok, _ := store.Anchor(t.Context(), "ee-test"); ok {
		t.Fatal("Prune refused, yet stored an anchor")
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM records`).Scan(&n); err != nil || n != 30 {
		t.Fatalf("%d records after a refused Prune, want 30", n)
	}
}

func TestPruneThenAppendThenVerify(t *testing.T) {
	store := newSQLite(t)
	signer := newTestSigner(t)
	clk := newClock()
	l := openLog(t, store, audit.Options{Signer: signer, SignEvery: 5, SignInterval: time.Hour, Now: clk.Now})
	for i := range 12 {
		clk.Add(time.Minute)
		if err := l.Append(t.Context(), request(i)); err != nil {
			t.Fatal(err)
		}
	}
	res, err := audit.Prune(t.Context(), store, "ee-test", clk.Now().Add(time.Hour), 12, signer)
	if err != nil || res.UpTo != 10 || res.Pruned != 10 {
		t.Fatalf("Prune: %+v, %v; want records 1..10", res, err)
	}
	for i := range 3 {
		if err := l.Append(t.Context(), request(i)); err != nil {
			t.Fatal(err)
		}
	}
	head := l.Head()
	rep := verify(t, store, signer.Public(), &head)
	if rep.From != 11 || rep.To != 15 || head.Seq != 15 {
		t.Fatalf("Verify after prune and appends: %s; head at %d", rep, head.Seq)
	}
}
