// Package pgtest starts a real PostgreSQL server for tests: a throwaway
// cluster made by initdb in a temporary directory, listening on 127.0.0.1
// only with trust authentication and fsync on. The postmaster is the test
// binary's own child (run as the OS user postgres when the tests run as
// root, which initdb refuses), so a test can stop, freeze and restart it.
//
// Start gives each test a database of its own on a server shared by the
// test binary (stopped by Main, from TestMain); StartServer gives a test a
// server of its own. When the PostgreSQL binaries are missing the test is
// skipped, unless the environment has CI=true, where it fails: CI installs
// PostgreSQL.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Database is the database StartServer creates; Server.DSN points at it.
const Database = "govbus_test"

// Port range probed for a free port (below the ephemeral range).
const (
	portLow  = 23000
	portHigh = 28000
)

// Server is a PostgreSQL server run by the test process. Its methods are
// safe for concurrent use.
type Server struct {
	bin  string // directory of initdb and postgres
	root string // temporary directory: data/, the socket, postgres.log
	port int
	cred *syscall.Credential // nil: run as the current user

	mu   sync.Mutex
	proc *process // nil while stopped
}

// process is one run of the postmaster.
type process struct {
	pid  int
	done chan struct{} // closed when it has exited
	err  error         // its exit status, set before done is closed
}

// StartServer initialises a new cluster, starts it and creates the
// database Database. t's cleanup stops the server and removes its
// directory. It skips t when PostgreSQL is not installed (fails under
// CI=true).
func StartServer(t testing.TB) *Server {
	t.Helper()
	s, err := newServer()
	if err != nil {
		giveUp(t, err)
	}
	t.Cleanup(s.destroy)
	return s
}

// skipError is a missing prerequisite (binaries, OS user): a reason to skip.
type skipError struct{ msg string }

func (e skipError) Error() string { return e.msg }

// giveUp skips t when err is a missing prerequisite, unless CI=true; else
// it fails t.
func giveUp(t testing.TB, err error) {
	t.Helper()
	var skip skipError
	if errors.As(err, &skip) && os.Getenv("CI") != "true" {
		t.Skipf("pgtest: %v", err)
	}
	t.Fatalf("pgtest: %v", err)
}

func newServer() (*Server, error) {
	bin, err := findBinaries()
	if err != nil {
		return nil, err
	}
	cred, err := credential()
	if err != nil {
		return nil, err
	}
	sweep()
	root, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(root, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		os.RemoveAll(root)
		return nil, err
	}
	s := &Server{bin: bin, root: root, cred: cred}
	if err := s.initdb(); err != nil {
		os.RemoveAll(root)
		return nil, err
	}
	// A port probed free may be taken before postgres binds it: try a few.
	for attempt := 0; ; attempt++ {
		if s.port, err = freePort(); err != nil {
			break
		}
		if err = s.Start(); err == nil || attempt == 4 {
			break
		}
	}
	if err == nil {
		err = s.createDatabase(context.Background(), Database)
	}
	if err != nil {
		s.destroy()
		return nil, err
	}
	return s, nil
}

// DSN returns the connection string of the database Database.
func (s *Server) DSN() string { return s.dsn(Database) }

func (s *Server) dsn(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable&connect_timeout=2", s.port, db)
}

// Port returns the TCP port the server listens on (the same across
// Stop and Start).
func (s *Server) Port() int { return s.port }

// Start starts the server on its port and data directory and waits until
// it accepts connections. Starting a running server does nothing.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		return nil
	}
	logf, err := os.OpenFile(s.logPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(filepath.Join(s.bin, "postgres"),
		"-D", s.dataDir(),
		"-p", strconv.Itoa(s.port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories="+s.root,
		"-c", "fsync=on",
		"-c", "synchronous_commit=on",
		"-c", "full_page_writes=on",
		"-c", "shared_buffers=16MB",
		"-c", "max_connections=200",
		"-c", "logging_collector=off",
		"-c", "log_min_messages=warning",
	)
	cmd.Stdout, cmd.Stderr = logf, logf
	proc, err := spawn(cmd, s.cred)
	if err != nil {
		return fmt.Errorf("starting postgres: %w", err)
	}
	if err := s.waitReady(proc); err != nil {
		stop(proc)
		return fmt.Errorf("starting postgres on port %d: %w\n%s", s.port, err, tail(s.logPath()))
	}
	s.proc = proc
	return nil
}

// Stop stops the server with a fast shutdown (SIGINT: sessions are
// terminated, committed data stays) and waits until it has exited. Stopping
// a stopped server does nothing.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return nil
	}
	s.thaw() // in case it is frozen
	err := stop(s.proc)
	s.proc = nil
	return err
}

// Freeze suspends the server (SIGSTOP to the postmaster, then to each of
// its processes): connections stay open but nothing answers, as with a hung
// host or a network partition. Thaw resumes it; Stop thaws first.
func (s *Server) Freeze() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return errors.New("pgtest: the server is stopped")
	}
	if err := syscall.Kill(s.proc.pid, syscall.SIGSTOP); err != nil {
		return err
	}
	// Backends are in sessions of their own (setsid): signal each.
	for _, pid := range children(s.proc.pid) {
		syscall.Kill(pid, syscall.SIGSTOP)
	}
	return nil
}

// Thaw resumes a server suspended by Freeze.
func (s *Server) Thaw() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return errors.New("pgtest: the server is stopped")
	}
	s.thaw()
	return nil
}

func (s *Server) thaw() {
	for _, pid := range children(s.proc.pid) {
		syscall.Kill(pid, syscall.SIGCONT)
	}
	syscall.Kill(s.proc.pid, syscall.SIGCONT)
}

// destroy stops the server and removes its directory.
func (s *Server) destroy() {
	s.Stop()
	os.RemoveAll(s.root)
}

func (s *Server) dataDir() string { return filepath.Join(s.root, "data") }
func (s *Server) logPath() string { return filepath.Join(s.root, "postgres.log") }

// initdb makes the cluster: superuser postgres, trust authentication.
func (s *Server) initdb() error {
	if s.cred != nil {
		if err := os.Chown(s.root, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			return err
		}
	}
	cmd := exec.Command(filepath.Join(s.bin, "initdb"),
		"-D", s.dataDir(), "-U", "postgres", "--auth=trust",
		"-E", "UTF8", "--locale=C", "--no-sync")
	cmd.Dir = s.root
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	return nil
}

// waitReady polls until the server accepts connections, it exits, or 30 s.
func (s *Server) waitReady(proc *process) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgx.Connect(ctx, s.dsn("postgres"))
		if err == nil {
			err = conn.Ping(ctx)
			conn.Close(ctx)
		}
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after 30s: %w", err)
		}
		select {
		case <-proc.done:
			return fmt.Errorf("postgres exited: %v", proc.err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// createDatabase creates the database db.
func (s *Server) createDatabase(ctx context.Context, db string) error {
	conn, err := pgx.Connect(ctx, s.dsn("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize())
	return err
}

// dropDatabase drops the database db, terminating its sessions.
func (s *Server) dropDatabase(ctx context.Context, db string) error {
	conn, err := pgx.Connect(ctx, s.dsn("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)")
	return err
}

// spawn starts cmd from a goroutine locked to its OS thread for the life of
// the process: the child gets SIGQUIT (immediate shutdown) when that thread
// dies, so a test binary that exits without cleanup leaves no server behind.
func spawn(cmd *exec.Cmd, cred *syscall.Credential) (*process, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT}
	p := &process{done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		p.pid = cmd.Process.Pid
		started <- nil
		p.err = cmd.Wait()
		close(p.done)
		// The thread stays locked: the goroutine's exit ends it, which
		// is harmless now the child has gone.
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}

// stop sends SIGINT (fast shutdown) and waits; after 20 s it sends SIGQUIT
// (immediate shutdown), after 10 s more SIGKILL.
func stop(p *process) error {
	steps := []struct {
		sig  syscall.Signal
		wait time.Duration
	}{{syscall.SIGINT, 20 * time.Second}, {syscall.SIGQUIT, 10 * time.Second}, {syscall.SIGKILL, 10 * time.Second}}
	for _, st := range steps {
		if err := syscall.Kill(p.pid, st.sig); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("signalling postgres %d: %w", p.pid, err)
		}
		select {
		case <-p.done:
			return nil
		case <-time.After(st.wait):
		}
	}
	return fmt.Errorf("postgres %d did not exit", p.pid)
}

// freePort returns a port in [portLow, portHigh) that nothing listens on
// at 127.0.0.1 now.
func freePort() (int, error) {
	n := portHigh - portLow
	start := rand.IntN(n)
	for i := range n {
		port := portLow + (start+i)%n
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err == nil {
			l.Close()
			return port, nil
		}
	}
	return 0, fmt.Errorf("no free port in %d-%d", portLow, portHigh)
}

// tail returns the end of the file at path, for error messages.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}
