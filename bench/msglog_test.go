package bench

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB",
		5 << 20: "5.0 MiB", 3 << 30: "3.0 GiB", 5 << 40: "5120.0 GiB",
	} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// writeFile writes size bytes to path.
func writeFile(t *testing.T, path string, size int) {
	t.Helper()
	if err := os.WriteFile(path, make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDBFiles(t *testing.T) {
	db := filepath.Join(t.TempDir(), "messagelog.db")
	if _, _, err := DBFiles(db); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing database: %v", err)
	}
	writeFile(t, db, 4096)
	writeFile(t, db+"-shm", 100)
	files, total, err := DBFiles(db)
	if err != nil || total != 4196 || len(files) != 2 ||
		files[0] != (DBFile{"", 4096}) || files[1] != (DBFile{"-shm", 100}) {
		t.Errorf("DBFiles = %v, %d, %v", files, total, err)
	}
}

// fakeSQLite3 writes a script standing for sqlite3 that prints out (to
// stdout when code is 0, else to stderr) and exits with code, and returns
// its path.
func fakeSQLite3(t *testing.T, out string, code int) string {
	t.Helper()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh to run a fake sqlite3")
	}
	p := filepath.Join(t.TempDir(), "sqlite3")
	redirect := ""
	if code != 0 {
		redirect = " >&2"
	}
	script := "#!/bin/sh\nprintf '%s\\n' '" + out + "'" + redirect + "\nexit " + strconv.Itoa(code) + "\n"
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// metricsServer serves a Prometheus exposition with the exchanges of a
// govbus.
func metricsServer(t *testing.T, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/metrics"
}

const govbusMetrics = `# HELP govbus_exchanges_total Exchanges.
# TYPE govbus_exchanges_total counter
govbus_exchanges_total{client="c",method="GET",outcome="ok",service="s"} 300
govbus_exchanges_total{client="c",method="GET",outcome="ok",service="p"} 200
`

func TestCheckMsglogCounts(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "messagelog.db")
	writeFile(t, db, 2048)
	writeFile(t, db+"-wal", 1024)
	c := MsglogCheck{Name: "govbus", DB: db, SQLite3: fakeSQLite3(t, "1000", 0), Metrics: metricsServer(t, govbusMetrics)}
	rep, err := CheckMsglog(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Counted || rep.Records != 1000 || !rep.HaveExchanges || rep.Exchanges != 500 || rep.Total != 3072 {
		t.Errorf("report %+v", rep)
	}
	want := "message log of govbus: " + db + ", 3.0 KiB on disk (db 2.0 KiB, -wal 1.0 KiB); 1000 records, 2.00 per exchange (500 exchanges)"
	if got := rep.Line(c); got != want {
		t.Errorf("line\n got %s\nwant %s", got, want)
	}

	// Metrics that cannot be read are noted, not an error.
	c.Metrics = metricsServer(t, "other_total 1\n")
	rep, err = CheckMsglog(ctx, c)
	if err != nil || rep.HaveExchanges || !strings.Contains(rep.Line(c), "1000 records; exchanges unknown: ") {
		t.Errorf("no exchanges counter: %v, %s", err, rep.Line(c))
	}
}

func TestCheckMsglogFailures(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "messagelog.db")

	_, err := CheckMsglog(ctx, MsglogCheck{Name: "govbus", DB: db, SQLite3: fakeSQLite3(t, "5", 0)})
	if !errors.Is(err, ErrNoRecords) || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing database: %v", err)
	}
	writeFile(t, db, 4096)
	if _, err := CheckMsglog(ctx, MsglogCheck{DB: db, SQLite3: fakeSQLite3(t, "0", 0)}); !errors.Is(err, ErrNoRecords) {
		t.Errorf("no record: %v", err)
	}
	_, err = CheckMsglog(ctx, MsglogCheck{DB: db, SQLite3: fakeSQLite3(t, "Error: no such table: records", 1)})
	if err == nil || errors.Is(err, ErrNoRecords) || !strings.Contains(err.Error(), "no such table") {
		t.Errorf("sqlite3 failing: %v", err)
	}
	if _, err := CheckMsglog(ctx, MsglogCheck{DB: db, SQLite3: fakeSQLite3(t, "many", 0)}); err == nil ||
		!strings.Contains(err.Error(), `"many"`) {
		t.Errorf("sqlite3 printing no number: %v", err)
	}

	// Without sqlite3 the size alone is reported.
	c := MsglogCheck{Name: "govbus", DB: db, SQLite3: filepath.Join(dir, "no-sqlite3")}
	rep, err := CheckMsglog(ctx, c)
	if err != nil || rep.Counted || rep.Total != 4096 {
		t.Fatalf("without sqlite3: %+v, %v", rep, err)
	}
	if l := rep.Line(c); !strings.HasSuffix(l, "4.0 KiB on disk (db 4.0 KiB); records not counted ("+c.SQLite3+" not installed)") {
		t.Errorf("line %s", l)
	}
}

// TestCountRecordsWithSQLite3 counts a real database when sqlite3 is
// installed, as bench/run.sh does while govbus still has the log open.
func TestCountRecordsWithSQLite3(t *testing.T) {
	bin, err := exec.LookPath("sqlite3")
	if err != nil {
		t.Skip("sqlite3 not installed")
	}
	db := filepath.Join(t.TempDir(), "messagelog.db")
	setup := exec.Command(bin, db, "PRAGMA journal_mode=WAL; CREATE TABLE records (seq INTEGER PRIMARY KEY); "+
		"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1234) INSERT INTO records SELECT i FROM n;")
	if out, err := setup.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if n, err := CountRecords(context.Background(), bin, db); err != nil || n != 1234 {
		t.Errorf("CountRecords = %d, %v", n, err)
	}
	other := filepath.Join(t.TempDir(), "other.db")
	if out, err := exec.Command(bin, other, "CREATE TABLE t (x);").CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if _, err := CountRecords(context.Background(), bin, other); err == nil || !strings.Contains(err.Error(), "records") {
		t.Errorf("not a message log: %v", err)
	}
}

func TestMainMsglog(t *testing.T) {
	db := filepath.Join(t.TempDir(), "messagelog.db")
	writeFile(t, db, 100)
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"msglog", "-db", db, "-name", "govbus-x", "-sqlite3", fakeSQLite3(t, "42", 0)}, &stdout, &stderr)
	if code != 0 || !strings.HasPrefix(stdout.String(), "message log of govbus-x: ") || !strings.Contains(stdout.String(), "42 records") {
		t.Errorf("exit %d: %s%s", code, stdout.String(), stderr.String())
	}
	stdout.Reset()
	stderr.Reset()
	code = Main(context.Background(), []string{"msglog", "-db", db + ".none"}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "benchload msglog: govbus: no message log records") {
		t.Errorf("missing database: exit %d: %s", code, stderr.String())
	}
	for _, args := range [][]string{{"msglog"}, {"msglog", "-db", db, "extra"}, {"msglog", "-db", db, "-name", ""}} {
		if code := Main(context.Background(), args, io.Discard, io.Discard); code != 2 {
			t.Errorf("Main(%q) = %d, want 2", args, code)
		}
	}
}
