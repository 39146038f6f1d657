package node_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/govbus/govbus/audit"
	"github.com/govbus/govbus/config"
	"github.com/govbus/govbus/gateway"
	"github.com/govbus/govbus/node"
	"github.com/govbus/govbus/tracker"
)

// trackerConfig is a node with the tracker's own rate and page size.
const trackerConfig = `
clients:
  - id: UA/GOV/00000005/citizen-portal
    auth: none
rules:
  - id: portal-tracker
    clients: [UA/GOV/00000005/citizen-portal]
    rights: [tracker]
tracker: {rate: {per_second: 1, burst: 3}, max_limit: 7}
message_log: {subject_key: test-subject-key-0123456789}
`

// TestTrackerWiring: the tracker gets its configured page size and rate,
// and a reload keeps a spent bucket spent.
func TestTrackerWiring(t *testing.T) {
	cfg, problems, err := config.Parse([]byte(trackerConfig), ".", func(string) string { return "" })
	if err != nil {
		t.Fatalf("config: %v", problems)
	}
	store, err := audit.OpenSQLite(filepath.Join(t.TempDir(), "log.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	now := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	opts := node.Options{AuditStore: store, Now: func() time.Time { return now }}
	s1, err := node.Build(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if tr, ok := s1.Tracker.(*tracker.Tracker); !ok || tr.MaxLimit != 7 {
		t.Fatalf("tracker %#v, want one with MaxLimit 7", s1.Tracker)
	}
	const portal = "UA/GOV/00000005/citizen-portal"
	allow := func(s *gateway.Snapshot) bool {
		_, ok := s.TrackerLimiter.Allow(context.Background(), portal, gateway.TrackerService, "portal-tracker")
		return ok
	}
	for i := range 3 {
		if !allow(s1) {
			t.Fatalf("call %d refused within the burst of 3", i+1)
		}
	}
	if allow(s1) {
		t.Fatal("the 4th call allowed past the burst of 3")
	}
	opts.Previous = s1
	s2, err := node.Build(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if allow(s2) {
		t.Error("after a reload the spent bucket was full again")
	}
	now = now.Add(time.Second)
	if !allow(s2) {
		t.Error("a second later the bucket gave no call")
	}
}
