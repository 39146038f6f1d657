package audit_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/govbus/govbus/audit"
)

// BenchmarkAppendSQLite measures durable appends (WAL, synchronous=FULL)
// from 64 concurrent appenders, as a busy node's pipeline makes them.
func BenchmarkAppendSQLite(b *testing.B) {
	for _, bc := range []struct {
		name     string
		maxDelay time.Duration
	}{{"maxdelay=2ms", 0}, {"maxdelay=none", -1}} {
		b.Run(bc.name, func(b *testing.B) {
			store := &countingStore{Store: newSQLite(b)}
			l := openLog(b, store, audit.Options{MaxDelay: bc.maxDelay})
			const appenders = 64
			var (
				next atomic.Int64
				wg   sync.WaitGroup
			)
			b.ResetTimer()
			for range appenders {
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						if err := l.Append(context.Background(), request(1)); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			reportRates(b, store)
		})
	}
}

// BenchmarkAppendSQLiteSerial measures one appender waiting for each
// record: every record is its own transaction and fsync.
func BenchmarkAppendSQLiteSerial(b *testing.B) {
	store := &countingStore{Store: newSQLite(b)}
	l := openLog(b, store, audit.Options{})
	b.ResetTimer()
	for range b.N {
		if err := l.Append(context.Background(), request(1)); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportRates(b, store)
}

func reportRates(b *testing.B, store *countingStore) {
	b.Helper()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	if n := len(store.commits()); n > 0 {
		b.ReportMetric(float64(b.N)/float64(n), "records/tx")
	}
}
