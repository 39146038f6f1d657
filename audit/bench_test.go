package audit_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/govbus/govbus/audit"
)

// benchPreload is how many records BenchmarkAppendSQLite's log holds
// before it is measured: appends to a log of a few hundred thousand
// records (make bench's run writes about half a million) cost more than to
// an empty one, whose indexes fit in a few pages.
const benchPreload = 200_000

// BenchmarkAppendSQLite measures durable appends (WAL, synchronous=FULL)
// from 64 concurrent appenders, as a busy node's pipeline makes them: each
// appender logs exchanges, a request record and then its response record
// (benchExchange), as govbus does, to a log already holding benchPreload
// records. Besides the rate it reports the process's CPU time per record
// (user+system, all goroutines): on a node whose CPU is busy with
// exchanges, that is the message log's price.
func BenchmarkAppendSQLite(b *testing.B) {
	b.Cleanup(func() {
		if path, err := benchTemplate(); err == nil {
			os.RemoveAll(filepath.Dir(path))
		}
	})
	for _, bc := range []struct {
		name     string
		maxDelay time.Duration
	}{{"maxdelay=2ms", 0}, {"maxdelay=none", -1}} {
		b.Run(bc.name, func(b *testing.B) {
			store := &countingStore{Store: preloadedSQLite(b)}
			l := openLog(b, store, audit.Options{MaxDelay: bc.maxDelay})
			const appenders = 64
			var (
				next atomic.Int64
				wg   sync.WaitGroup
			)
			cpu := cpuTime()
			b.ResetTimer()
			for w := range appenders {
				wg.Go(func() {
					for i := 0; next.Add(1) <= int64(b.N); i++ {
						req, resp := benchExchange(w*1_000_000 + i/2)
						r := req
						if i%2 == 1 {
							r = resp
						}
						if err := l.Append(context.Background(), r); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			cpu = cpuTime() - cpu
			reportRates(b, store)
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/record")
		})
	}
}

// BenchmarkAppendSQLiteSerial measures one appender waiting for each
// record: every record is its own transaction and fsync.
func BenchmarkAppendSQLiteSerial(b *testing.B) {
	store := &countingStore{Store: newSQLite(b)}
	l := openLog(b, store, audit.Options{})
	b.ResetTimer()
	for i := range b.N {
		req, resp := benchExchange(i / 2)
		r := req
		if i%2 == 1 {
			r = resp
		}
		if err := l.Append(context.Background(), r); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportRates(b, store)
}

// BenchmarkBySubjectSQLite measures the Data Tracker's read: the records
// of one data subject (an exchange's request and response) found in a log
// of benchPreload records, through records_subjects.
func BenchmarkBySubjectSQLite(b *testing.B) {
	s := preloadedSQLite(b)
	ctx := context.Background()
	from, to := time.Now().Add(-24*time.Hour), time.Now().Add(time.Hour)
	b.ResetTimer()
	for i := range b.N {
		req, _ := benchExchange(1 + (i*7919)%(benchPreload/2-1))
		recs, err := s.BySubject(ctx, audit.SubjectQuery{SubjectHash: req.SubjectHash, From: from, To: to, Limit: 51})
		if err != nil || len(recs) != 2 {
			b.Fatalf("BySubject: %d records, %v; want the exchange's 2", len(recs), err)
		}
	}
}

// benchTemplate is a closed SQLite log of benchPreload records of node
// "ee-test", made once per process; preloadedSQLite copies it.
var benchTemplate = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "audit-bench-")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "messagelog.db")
	s, err := audit.OpenSQLite(path)
	if err != nil {
		return "", err
	}
	ctx := context.Background()
	start := time.Now().Add(-time.Hour)
	prev, batch := "", make([]audit.Record, 0, 500)
	for i := 1; i <= benchPreload; i++ {
		req, resp := benchExchange(i / 2)
		r := *req
		if i%2 == 0 {
			r = *resp
		}
		r.ID, r.Node, r.Time = uuid.NewString(), "ee-test", start.Add(time.Duration(i)*10*time.Microsecond).UTC().Truncate(time.Microsecond)
		r.Link(int64(i), prev)
		prev = r.Hash
		if batch = append(batch, r); len(batch) == cap(batch) || i == benchPreload {
			if err := s.Append(ctx, batch, nil); err != nil {
				s.Close()
				return "", err
			}
			batch = batch[:0]
		}
	}
	return path, s.Close()
})

// preloadedSQLite returns a SQLite store holding a copy of benchTemplate,
// closed when the benchmark ends.
func preloadedSQLite(b *testing.B) *audit.SQLiteStore {
	b.Helper()
	src, err := benchTemplate()
	if err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "messagelog.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		b.Fatal(err)
	}
	s, err := audit.OpenSQLite(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// benchSubjectKey keys benchExchange's subject hashes.
var benchSubjectKey = []byte("bench-subject-key-0123456789abcdef")

// benchExchange returns the records govbus makes for exchange i of the
// demo's civil registry (GET /persons/{id}, whose id is the data subject):
// uuids for the message and request ids, the subject's HMAC, the bodies'
// digests, a trace id; the response with status, sent/received times and
// attempts.
func benchExchange(i int) (req, resp *audit.Record) {
	mac := hmac.New(sha256.New, benchSubjectKey)
	fmt.Fprintf(mac, "%010d", 1000000000+i%5000000)
	body := sha256.Sum256(fmt.Appendf(nil, `{"id":"%010d","name":"Person %d"}`, i, i))
	now := time.Now()
	req = &audit.Record{
		Kind: audit.KindRequest, MessageID: uuid.NewString(), RequestID: uuid.NewString(),
		Client: "UA/GOV/00000003/eservice", Service: "UA/GOV/00000001/civil-registry/persons",
		Method: "GET", PathTemplate: "/persons/{id}", Purpose: "service-delivery",
		RuleID: "eservice-persons-read", SubjectHash: hex.EncodeToString(mac.Sum(nil)),
		BodySHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		TraceID:    fmt.Sprintf("%032x", uint64(i)*0x9e3779b97f4a7c15),
	}
	resp = &audit.Record{}
	*resp = *req
	resp.Kind, resp.Purpose, resp.Status = audit.KindResponse, "", 200
	resp.Size, resp.BodySHA256 = 180, hex.EncodeToString(body[:])
	resp.SentAt, resp.ReceivedAt, resp.Attempts = now, now.Add(300*time.Microsecond), 1
	return req, resp
}

// cpuTime is the process's CPU time so far, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportRates(b *testing.B, store *countingStore) {
	b.Helper()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	if n := len(store.commits()); n > 0 {
		b.ReportMetric(float64(b.N)/float64(n), "records/tx")
	}
}
