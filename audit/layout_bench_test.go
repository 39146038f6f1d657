package audit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
)

// BenchmarkSQLiteLayoutCost takes the SQLite store's append cost apart:
// the CPU time per record of durable transactions of 48 rows (WAL,
// synchronous=FULL, as the store commits them under load) into a records
// table holding 100,000 records: as the store keeps it (the time index and
// records_subjects, one FTS5 row per batch), with a B-tree index on the
// subject instead (as PostgreSQL keeps it, and the SQLite store did before
// records_subjects), without any subject index, and without any secondary
// index. The sub-benchmark rows=one-per-batch stores each batch as one row
// of its records' canonical encodings instead (a layout the store does not
// use): the floor of any SQLite layout that keeps the records themselves.
// BenchmarkFsyncFloor is the floor of a durable commit.
func BenchmarkSQLiteLayoutCost(b *testing.B) {
	withoutSubject := slices.DeleteFunc(slices.Clone(sqlIndexes), func(ix sqlIndex) bool { return ix.name == sqlSubjectIndex })
	for _, bc := range []struct {
		name     string
		indexes  []sqlIndex
		subjects bool // records_subjects, as the store keeps it
	}{
		{"layout=store", withoutSubject, true},
		{"layout=btree-subject", sqlIndexes, false},
		{"layout=no-subject-index", withoutSubject, false},
		{"layout=no-secondary-index", nil, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			db, w := layoutDB(b, bc.indexes, bc.subjects)
			next := 0
			write := func(n int) {
				tx, err := db.Begin()
				if err != nil {
					b.Fatal(err)
				}
				recs := make([]Record, n)
				for i := range recs {
					recs[i] = layoutRecord(next)
					next++
				}
				if err := w.insert(context.Background(), tx, recs); err != nil {
					b.Fatal(err)
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			measureLayout(b, write)
		})
	}
	b.Run("rows=one-per-batch", func(b *testing.B) {
		db, _ := layoutDB(b, nil, false)
		if _, err := db.Exec(`CREATE TABLE batches (node TEXT NOT NULL, first_seq BIGINT NOT NULL,
			data BLOB NOT NULL, PRIMARY KEY (node, first_seq))`); err != nil {
			b.Fatal(err)
		}
		insert, err := db.Prepare(`INSERT INTO batches VALUES (?, ?, ?)`)
		if err != nil {
			b.Fatal(err)
		}
		defer insert.Close()
		next := 0
		var buf []byte
		write := func(n int) {
			buf = buf[:0]
			first := next
			for range n {
				r := layoutRecord(next)
				next++
				var e canonical
				e.buf = buf
				e.str(r.ComputeHash())
				buf = e.buf
				buf = append(buf, r.ID...) // stand-in for the rest of the fields
				buf = append(buf, make([]byte, 600-len(r.ID)-72)...)
			}
			if _, err := insert.Exec("demo-node-1", first, buf); err != nil {
				b.Fatal(err)
			}
		}
		measureLayout(b, write)
	})
}

// measureLayout writes layoutPreload records in transactions of 1,000,
// then measures transactions of layoutBatch: the CPU time per record.
func measureLayout(b *testing.B, write func(n int)) {
	for range layoutPreload / 1000 {
		write(1000)
	}
	cpu := layoutCPU()
	b.ResetTimer()
	for range b.N {
		write(layoutBatch)
	}
	b.StopTimer()
	b.ReportMetric(float64((layoutCPU()-cpu).Nanoseconds())/1e3/float64(b.N*layoutBatch), "cpu-µs/record")
}

// The layout benchmarks' table size before measuring, and their
// transactions' size (about what the store commits under make bench).
const layoutPreload, layoutBatch = 100_000, 48

// BenchmarkFsyncFloor measures one durable commit without SQLite: a write
// of 48 records' worth of bytes (28.8 KB) appended to a file and its
// fdatasync, the least any durable group commit of that size costs here.
func BenchmarkFsyncFloor(b *testing.B) {
	f, err := os.OpenFile(filepath.Join(b.TempDir(), "floor"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 48*600)
	cpu := layoutCPU()
	b.ResetTimer()
	for range b.N {
		if _, err := f.Write(buf); err != nil {
			b.Fatal(err)
		}
		if err := syscall.Fdatasync(int(f.Fd())); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64((layoutCPU()-cpu).Nanoseconds())/1e3/float64(b.N), "cpu-µs/commit")
}

// layoutDB opens a new SQLite database as the store does (WAL,
// synchronous=FULL, its checkpoint interval) with the records table and the
// given indexes, and records_subjects when subjects is true, and prepares
// the store's inserts.
func layoutDB(b *testing.B, indexes []sqlIndex, subjects bool) (*sql.DB, *sqliteWriter) {
	b.Helper()
	db, err := sql.Open("sqlite", filepath.Join(b.TempDir(), "layout.db")+
		"?_pragma=synchronous(FULL)&_pragma=journal_mode(WAL)"+
		fmt.Sprintf("&_pragma=wal_autocheckpoint(%d)", sqliteCheckpointPages)+"&_txlock=immediate")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(sqliteSchema); err != nil {
		b.Fatal(err)
	}
	for _, ix := range indexes {
		if _, err := db.Exec(ix.create()); err != nil {
			b.Fatal(err)
		}
	}
	if subjects {
		if _, err := db.Exec(sqliteSubjectsSchema); err != nil {
			b.Fatal(err)
		}
	}
	w, err := prepareSQLiteWriter(db, subjects)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { w.close() })
	return db, w
}

// layoutRecord is record i of a chain like the demo's civil registry
// makes: one of 5,000,000 data subjects, uuid-sized ids, digests.
func layoutRecord(i int) Record {
	mac := hmac.New(sha256.New, []byte("layout-subject-key"))
	fmt.Fprintf(mac, "%010d", 1000000000+(i*7919)%5000000)
	id := func(k int) string { return fmt.Sprintf("%08x-4aaa-8bbb-cccc-%012x", i, k) }
	const digest = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	return Record{Seq: int64(i + 1), ID: id(0), Kind: KindRequest, Time: time.Now(), Node: "demo-node-1",
		MessageID: id(1), RequestID: id(2), Client: "UA/GOV/00000003/eservice",
		Service: "UA/GOV/00000001/civil-registry/persons", Method: "GET", PathTemplate: "/persons/{id}",
		Purpose: "service-delivery", RuleID: "eservice-persons-read", BodySHA256: digest,
		SubjectHash: hex.EncodeToString(mac.Sum(nil)), TraceID: fmt.Sprintf("%032x", uint64(i)*0x9e3779b97f4a7c15),
		PrevHash: digest, Hash: digest}
}

// layoutCPU is the process's CPU time so far, user and system.
func layoutCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
