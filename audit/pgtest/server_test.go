package pgtest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { Main(m) }

func query(t *testing.T, dsn string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var fsync string
	if err := conn.QueryRow(ctx, "SHOW fsync").Scan(&fsync); err != nil {
		return err
	}
	if fsync != "on" {
		t.Errorf("fsync = %q, want on", fsync)
	}
	_, err = conn.Exec(ctx, "CREATE TABLE t (x int)")
	return err
}

func TestStartGivesEachTestItsOwnDatabase(t *testing.T) {
	a, b := Start(t), Start(t)
	if a == b {
		t.Fatalf("two calls gave the same DSN %s", a)
	}
	for _, dsn := range []string{a, b} {
		if err := query(t, dsn); err != nil {
			t.Fatalf("%s: %v", dsn, err)
		}
	}
}

func TestServerStopAndStart(t *testing.T) {
	s := StartServer(t)
	if err := query(t, s.DSN()); err != nil {
		t.Fatal(err)
	}
	port := s.Port()
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := query(t, s.DSN()); err == nil {
		t.Fatal("stopped server answered")
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if s.Port() != port {
		t.Errorf("port after restart = %d, want %d", s.Port(), port)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil {
		t.Fatalf("table made before the restart: %v", err)
	}
}

func TestMissingBinariesAreAReasonToSkip(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("PGTEST_BINDIR", "")
	saved := debianBinaries
	debianBinaries = "/nonexistent/*/bin"
	defer func() { debianBinaries = saved }()
	_, err := newServer()
	var skip skipError
	if !errors.As(err, &skip) {
		t.Fatalf("newServer without binaries: %v, want a skipError", err)
	}
}

func TestFindBinariesPrefersTheHighestVersion(t *testing.T) {
	root := t.TempDir()
	for _, v := range []string{"9.6", "15", "16", "notaversion"} {
		dir := filepath.Join(root, v, "bin")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"initdb", "postgres"} {
			if err := os.WriteFile(filepath.Join(dir, name), nil, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Setenv("PGTEST_BINDIR", "")
	saved := debianBinaries
	debianBinaries = filepath.Join(root, "*", "bin")
	defer func() { debianBinaries = saved }()
	got, err := findBinaries()
	if want := filepath.Join(root, "16", "bin"); got != want || err != nil {
		t.Errorf("findBinaries() = %s, %v; want %s", got, err, want)
	}
}
