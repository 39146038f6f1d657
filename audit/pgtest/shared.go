package pgtest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The server shared by the tests of one test binary, started on first use.
var shared struct {
	once sync.Once
	srv  *Server
	err  error
}

var dbCounter atomic.Int64

// Start returns the DSN of a new, empty database on a PostgreSQL server
// shared by the test binary; t's cleanup drops the database. The shared
// server is started on first use and stopped by Main, or, without Main,
// when the test binary exits (the server is the binary's child and dies
// with it; its temporary directory is then left behind). It skips t when
// PostgreSQL is not installed (fails under CI=true).
func Start(t testing.TB) (dsn string) {
	t.Helper()
	shared.once.Do(func() { shared.srv, shared.err = newServer() })
	if shared.err != nil {
		giveUp(t, shared.err)
	}
	return shared.srv.NewDatabase(t)
}

// NewDatabase creates a new, empty database on s and returns its DSN; t's
// cleanup drops it.
func (s *Server) NewDatabase(t testing.TB) (dsn string) {
	t.Helper()
	name := fmt.Sprintf("govbus_test_%d_%d", os.Getpid(), dbCounter.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.createDatabase(ctx, name); err != nil {
		t.Fatalf("pgtest: creating database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.dropDatabase(ctx, name); err != nil {
			t.Logf("pgtest: dropping database %s: %v", name, err)
		}
	})
	return s.dsn(name)
}

// Main runs the tests (m.Run), stops the shared server if one was started,
// removes its directory, and exits with the tests' code. Call it from
// TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if shared.srv != nil {
		shared.srv.destroy()
	}
	os.Exit(code)
}
