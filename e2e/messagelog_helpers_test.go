package e2e

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/govbus/govbus/audit" // also registers the "sqlite" driver
)

// Helpers of the message log tests (messagelog_test.go): a govbus process
// with a message log that a test can kill and restart on the same ports,
// and the `govbus audit` command line.

// mlSubjectKey keys the data subjects' hashes in the tests' configurations.
const mlSubjectKey = "e2e-subject-key-not-for-production"

// mlNode is a govbus process whose configuration has a message log.
type mlNode struct {
	bin, config             string
	consumer, status, admin string // base URLs
	cmd                     *exec.Cmd
	client                  *http.Client
}

// sqliteLog is a message_log section: the SQLite store and the signing key
// in dir (absolute paths, so every run of the process finds them).
func sqliteLog(dir string) string {
	return fmt.Sprintf("  store: sqlite\n  path: %s\n  signing_key: %s\n  subject_key: %s\n  sign_interval: 200ms\n",
		filepath.Join(dir, "messagelog.db"), filepath.Join(dir, "messagelog.key"), mlSubjectKey)
}

// postgresLog is a message_log section: the PostgreSQL store at dsn, the
// signing key in dir.
func postgresLog(dsn, dir string) string {
	return fmt.Sprintf("  store: postgres\n  dsn: %q\n  signing_key: %s\n  subject_key: %s\n  sign_interval: 200ms\n",
		dsn, filepath.Join(dir, "messagelog.key"), mlSubjectKey)
}

// newMLNode writes a configuration with the three listeners on ports[0:3],
// the civil registry's person service at simURL, the e-service client
// allowed to call it, and the given message_log section. It does not start
// the process.
func newMLNode(t *testing.T, bin string, ports []string, simURL, messageLog string) *mlNode {
	t.Helper()
	cfg := fmt.Sprintf(`node: ml-e2e
listeners:
  consumer: {address: 127.0.0.1:%s}
  status: {address: 127.0.0.1:%s}
  admin: {address: 127.0.0.1:%s}
  drain_timeout: 2s
registries:
  - id: %s
    endpoints: [%s]
    timeout: 5s
    services:
      - {code: persons, methods: [GET], paths: ["/persons/{id}"], subject: {in: path, name: id}}
clients:
  - id: %s
    auth:
      api_keys: [sha256:a590294707470c216ec053f0e5ef5440b8a91b419024de4e9b83532bf865ffb6] # %s
rules:
  - id: eservice-reads-persons
    clients: [%s]
    services: [%s/persons]
message_log:
%s`, ports[0], ports[1], ports[2], civilID, simURL, eserviceID, eserviceKey, eserviceID, civilID, messageLog)
	path := filepath.Join(t.TempDir(), "govbus.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	n := &mlNode{
		bin: bin, config: path,
		consumer: "http://127.0.0.1:" + ports[0],
		status:   "http://127.0.0.1:" + ports[1],
		admin:    "http://127.0.0.1:" + ports[2],
		client: &http.Client{
			Transport: &http.Transport{MaxIdleConns: 64, MaxIdleConnsPerHost: 32},
			Timeout:   10 * time.Second,
		},
	}
	t.Cleanup(func() {
		n.client.CloseIdleConnections()
		if t.Failed() {
			t.Logf("govbus configuration:\n%s", cfg)
		}
	})
	return n
}

// start runs `govbus serve` and waits until /readyz answers 200.
func (n *mlNode) start(t *testing.T) {
	t.Helper()
	n.cmd = start(t, n.bin, "serve", "-config", n.config)
	waitReady(t, n.status+"/readyz")
}

// kill ends govbus with SIGKILL and waits until it is gone.
func (n *mlNode) kill(t *testing.T) {
	t.Helper()
	if err := n.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = n.cmd.Wait() // "signal: killed" is the point
}

// stop ends govbus with SIGTERM and checks that it exits 0.
func (n *mlNode) stop(t *testing.T) {
	t.Helper()
	n.client.CloseIdleConnections() // an idle connection would hold up the drain
	if err := n.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- n.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("govbus exited with %v after SIGTERM", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("govbus did not stop within 20s of SIGTERM")
	}
}

// mlAnswer is what one HTTP call got.
type mlAnswer struct {
	status  int
	xrError string // X-Road-Error
	body    []byte
	err     error
}

func (a mlAnswer) String() string {
	if a.err != nil {
		return "error " + a.err.Error()
	}
	return fmt.Sprintf("%d %s %s", a.status, a.xrError, bytes.TrimSpace(a.body))
}

// mlDo sends a GET with the given headers (name, value, ...).
func mlDo(c *http.Client, url string, headers ...string) mlAnswer {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return mlAnswer{err: err}
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		return mlAnswer{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return mlAnswer{status: resp.StatusCode, xrError: resp.Header.Get("X-Road-Error"), body: b, err: err}
}

// person asks for person i as the e-service client, with X-Road-Id id.
func (n *mlNode) person(i int, id string) mlAnswer {
	return mlDo(n.client, n.consumer+personPath(civilID, i),
		"X-Road-Client", eserviceID, "Authorization", "Bearer "+eserviceKey, "X-Road-Id", id)
}

// mlStatusCode is the status of GET url, 0 when it cannot be fetched.
func mlStatusCode(url string) int {
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// mlStatus is the message log's part of /admin/status.
type mlStatus struct {
	Head    json.RawMessage `json:"head"`
	Healthy bool            `json:"healthy"`
	Error   string          `json:"error"`
}

// messageLogStatus reads message_log from /admin/status, with the seq of
// its published head.
func (n *mlNode) messageLogStatus(t *testing.T) (mlStatus, int64) {
	t.Helper()
	resp, err := http.Get(n.admin + "/admin/status")
	if err != nil {
		t.Fatalf("GET /admin/status: %v", err)
	}
	defer resp.Body.Close()
	var st struct {
		MessageLog *mlStatus `json:"message_log"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatalf("decoding /admin/status: %v", err)
	}
	if st.MessageLog == nil {
		t.Fatal("/admin/status has no message_log")
	}
	var h audit.SignedHead
	if len(st.MessageLog.Head) > 0 {
		if err := json.Unmarshal(st.MessageLog.Head, &h); err != nil {
			t.Fatalf("/admin/status message_log.head %s: %v", st.MessageLog.Head, err)
		}
	}
	return *st.MessageLog, h.Seq
}

// govbusAudit runs `govbus audit ARGS` and returns its output and exit
// code.
func govbusAudit(t *testing.T, bin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"audit"}, args...)...)
	cmd.Dir = t.TempDir()
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("govbus audit %s: %v", strings.Join(args, " "), err)
	}
	return o.String(), e.String(), code
}

// verifyOK runs `govbus audit verify` on config and fails unless it exits 0
// saying OK; it returns the report line.
func verifyOK(t *testing.T, bin, config string, args ...string) string {
	t.Helper()
	out, errOut, code := govbusAudit(t, bin, append([]string{"verify", "-config", config}, args...)...)
	if code != 0 || !strings.Contains(out, ": OK: ") {
		t.Fatalf("govbus audit verify %v: exit %d, want 0 and OK\nstdout: %s\nstderr: %s", args, code, out, errOut)
	}
	return strings.TrimSpace(out)
}

// exportRecords reads the whole chain with `govbus audit export`.
func exportRecords(t *testing.T, bin, config string) []audit.Record {
	t.Helper()
	out, errOut, code := govbusAudit(t, bin, "export", "-config", config)
	if code != 0 {
		t.Fatalf("govbus audit export: exit %d\n%s", code, errOut)
	}
	var recs []audit.Record
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var r audit.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	if want := fmt.Sprintf("exported %d records", len(recs)); !strings.Contains(errOut, want) {
		t.Fatalf("govbus audit export read %d records but says %q", len(recs), strings.TrimSpace(errOut))
	}
	return recs
}

// exchangeRecords groups records by X-Road-Id.
type exchangeRecords struct {
	requests, responses int
	status              int // the (last) response record's status
}

func byMessageID(recs []audit.Record) map[string]*exchangeRecords {
	m := map[string]*exchangeRecords{}
	for _, r := range recs {
		e := m[r.MessageID]
		if e == nil {
			e = &exchangeRecords{}
			m[r.MessageID] = e
		}
		switch r.Kind {
		case audit.KindRequest:
			e.requests++
		case audit.KindResponse:
			e.responses++
			e.status = r.Status
		}
	}
	return m
}

// mlCopyFile copies src to dst when src exists.
func mlCopyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// mlExecSQLite runs statements on the SQLite file at path, each of which must
// change at least one row.
func mlExecSQLite(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range stmts {
		res, err := db.Exec(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			t.Fatalf("%s: changed %d rows (%v)", q, n, err)
		}
	}
}
