package bench

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestParseRunArgs(t *testing.T) {
	c, err := ParseRunArgs([]string{
		"-scenario", "govbus", "-round", "2", "-url", "http://127.0.0.1:19080/r1/S/persons/{id}",
		"-H", "X-Road-Client: UA/GOV/00000003/eservice", "-H", "Authorization: Bearer k",
		"-c", "16", "-d", "3s", "-warmup", "0s", "-generator", "wrk", "-out", "r.jsonl",
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Scenario != "govbus" || c.Round != 2 || c.Generator != "wrk" || c.Out != "r.jsonl" ||
		c.Options.Conns != 16 || c.Options.Duration != 3*time.Second || c.Options.Warmup != 0 ||
		c.Options.IDs != (IDRange{1000000001, 1000010000}) || !c.Options.URL.Varies() {
		t.Errorf("parsed %+v", c)
	}
	if c.Options.Header.Get("Authorization") != "Bearer k" || len(c.HeaderLines) != 2 {
		t.Errorf("headers %v %q", c.Options.Header, c.HeaderLines)
	}

	c, err = ParseRunArgs([]string{"-scenario", "direct", "-url", "http://h:1/persons/{id}"}, io.Discard)
	if err != nil || c.Options.Conns != 64 || c.Options.Duration != 5*time.Second ||
		c.Options.Warmup != 2*time.Second || c.Generator != "go" {
		t.Errorf("defaults: %+v, %v", c, err)
	}

	for name, args := range map[string][]string{
		"no scenario":      {"-url", "http://h/{id}"},
		"no url":           {"-scenario", "a"},
		"relative url":     {"-scenario", "a", "-url", "/persons/{id}"},
		"zero conns":       {"-scenario", "a", "-url", "http://h/x", "-c", "0"},
		"zero duration":    {"-scenario", "a", "-url", "http://h/x", "-d", "0s"},
		"negative warm-up": {"-scenario", "a", "-url", "http://h/x", "-warmup", "-1s"},
		"bad generator":    {"-scenario", "a", "-url", "http://h/x", "-generator", "ab"},
		"bad ids":          {"-scenario", "a", "-url", "http://h/x", "-ids", "9-1"},
		"bad header":       {"-scenario", "a", "-url", "http://h/x", "-H", "nocolon"},
		"extra argument":   {"-scenario", "a", "-url", "http://h/x", "more"},
		"unknown flag":     {"-scenario", "a", "-url", "http://h/x", "-z"},
	} {
		if _, err := ParseRunArgs(args, io.Discard); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
	if _, err := ParseRunArgs([]string{"-h"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
}

func TestMainRunAndTable(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer k" {
			w.Header().Set("X-Road-Error", "Client.Unauthenticated")
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer srv.Close()
	out := filepath.Join(t.TempDir(), "r.jsonl")
	run := func(scenario string, extra ...string) (int, string) {
		var stdout, stderr bytes.Buffer
		args := append([]string{"run", "-scenario", scenario, "-url", srv.URL + "/persons/{id}",
			"-c", "2", "-d", "100ms", "-warmup", "20ms", "-out", out}, extra...)
		code := Main(context.Background(), args, &stdout, &stderr)
		return code, stdout.String() + stderr.String()
	}
	if code, msg := run("direct", "-H", "Authorization: Bearer k"); code != 0 || !strings.Contains(msg, "direct   round 1") {
		t.Fatalf("direct: exit %d: %s", code, msg)
	}
	if code, msg := run("govbus", "-H", "Authorization: Bearer k"); code != 0 {
		t.Fatalf("govbus: exit %d: %s", code, msg)
	}
	var stdout, stderr bytes.Buffer
	if code := Main(context.Background(), []string{"table", "-in", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("table: exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "ratio govbus/direct") {
		t.Errorf("table:\n%s", stdout.String())
	}

	// A round with refusals fails, and so does the table.
	code, msg := run("govbus")
	if code != 1 || !strings.Contains(msg, "Client.Unauthenticated") {
		t.Fatalf("refused round: exit %d: %s", code, msg)
	}
	stdout.Reset()
	stderr.Reset()
	if code := Main(context.Background(), []string{"table", "-in", out}, &stdout, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), "FAIL") || !strings.Contains(stderr.String(), "401") {
		t.Errorf("table after a failed round: exit %d\n%s", code, stderr.String())
	}
}

func TestMainUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"nope"}, {"run"}, {"table"}, {"ports"}, {"wait"}, {"table", "-in", "x", "-ratio", "ab"}} {
		if code := Main(context.Background(), args, io.Discard, io.Discard); code != 2 {
			t.Errorf("Main(%q) = %d, want 2", args, code)
		}
	}
	if code := Main(context.Background(), []string{"help"}, io.Discard, io.Discard); code != 0 {
		t.Errorf("help = %d", code)
	}
	if code := Main(context.Background(), []string{"table", "-in", filepath.Join(t.TempDir(), "none")}, io.Discard, io.Discard); code != 1 {
		t.Errorf("missing results file = %d", code)
	}
}

func TestPorts(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	taken := ln.Addr().String()
	var stderr bytes.Buffer
	if code := Main(context.Background(), []string{"ports", "127.0.0.1:0", taken}, io.Discard, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), taken+" is not free") {
		t.Errorf("exit %d: %s", code, stderr.String())
	}
	if code := Main(context.Background(), []string{"ports", "127.0.0.1:0"}, io.Discard, io.Discard); code != 0 {
		t.Errorf("free port: exit %d", code)
	}
}

func TestWait(t *testing.T) {
	ready := time.Now().Add(150 * time.Millisecond)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/forbidden":
			w.WriteHeader(http.StatusForbidden)
		case r.URL.Path == "/auth" && r.Header.Get("Authorization") == "":
			w.WriteHeader(http.StatusUnauthorized)
		case time.Now().Before(ready):
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	me := os.Getpid()

	if err := Wait(ctx, []Probe{{URL: srv.URL + "/readyz"}}, []int{me}, 5*time.Second); err != nil {
		t.Errorf("503 then 200: %v", err)
	}
	if err := Wait(ctx, []Probe{{URL: srv.URL + "/auth", Header: http.Header{"Authorization": {"Bearer k"}}}}, nil, time.Second); err != nil {
		t.Errorf("with header: %v", err)
	}
	start := time.Now()
	err := Wait(ctx, []Probe{{URL: srv.URL + "/forbidden"}}, nil, 5*time.Second)
	if err == nil || !strings.Contains(err.Error(), "403") || time.Since(start) > time.Second {
		t.Errorf("403 must fail at once: %v after %v", err, time.Since(start))
	}
}

func TestWaitTimesOutAndNoticesDeadProcess(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // refused from now on
	err = Wait(context.Background(), []Probe{{URL: "http://" + addr + "/"}}, nil, 200*time.Millisecond)
	if !errors.Is(err, ErrNotReady) {
		t.Errorf("refused: %v", err)
	}
	// A pid that cannot exist (above the kernel's pid_max).
	err = Wait(context.Background(), []Probe{{URL: "http://" + addr + "/"}}, []int{1 << 30}, 5*time.Second)
	if err == nil || !strings.Contains(err.Error(), "exited") {
		t.Errorf("dead pid: %v", err)
	}
}

func TestIsZombie(t *testing.T) {
	if !isZombie([]byte("123 (govbus) Z 1 2 3")) || isZombie([]byte("123 (a) b) S 1")) || isZombie([]byte("")) {
		t.Error("isZombie misreads /proc/PID/stat")
	}
	if !isZombie([]byte("123 (a) b) Z 1")) {
		t.Error("a ) in the command name")
	}
}

func TestMainRunInterrupted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	out := filepath.Join(t.TempDir(), "r.jsonl")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	code := Main(ctx, []string{"run", "-scenario", "a", "-url", srv.URL + "/", "-c", "1", "-d", "1m", "-out", out}, io.Discard, io.Discard)
	if code != ExitInterrupted {
		t.Errorf("exit %d, want %d", code, ExitInterrupted)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("an interrupted run wrote a result: %v", err)
	}
}

func TestParseRunArgsBody(t *testing.T) {
	dir := t.TempDir()
	body := filepath.Join(dir, "env.xml")
	if err := os.WriteFile(body, []byte("<code>{id}</code>"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.xml")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := ParseRunArgs([]string{"-scenario", "soap", "-url", "http://h:1/", "-body-file", body,
		"-ids", "10000001-10001000", "-H", "Content-Type: text/xml"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Options.Method != "POST" || c.BodyFile != body || !c.Options.Body.Varies() ||
		string(c.Options.Body.Expand(10000042)) != "<code>10000042</code>" {
		t.Errorf("parsed %+v", c)
	}
	c, err = ParseRunArgs([]string{"-scenario", "soap", "-url", "http://h:1/", "-body-file", body, "-method", "PUT"}, io.Discard)
	if err != nil || c.Options.Method != "PUT" {
		t.Errorf("-method PUT: %q, %v", c.Options.Method, err)
	}
	c, err = ParseRunArgs([]string{"-scenario", "get", "-url", "http://h:1/{id}"}, io.Discard)
	if err != nil || c.Options.Method != "GET" || c.Options.Body.Present() || c.BodyFile != "" {
		t.Errorf("no body: %+v, %v", c, err)
	}
	for name, args := range map[string][]string{
		"GET with a body": {"-method", "GET", "-body-file", body},
		"lower-case":      {"-method", "post", "-body-file", body},
		"missing file":    {"-body-file", filepath.Join(dir, "none.xml")},
		"empty file":      {"-body-file", empty},
	} {
		if _, err := ParseRunArgs(append([]string{"-scenario", "a", "-url", "http://h:1/"}, args...), io.Discard); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}

// TestMainRunPostAndWait: benchload run and wait send -method, -body-file
// and -H as given.
func TestMainRunPostAndWait(t *testing.T) {
	var posts atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "text/xml" ||
			!strings.HasPrefix(string(b), "<code>1000") || len(b) != len("<code>10000042</code>") {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = fmt.Fprintf(w, "%s %q", r.Method, b)
			return
		}
		posts.Add(1)
	}))
	defer srv.Close()
	dir := t.TempDir()
	body := filepath.Join(dir, "env.xml")
	if err := os.WriteFile(body, []byte("<code>{id}</code>"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "r.jsonl")
	var stderr bytes.Buffer
	code := Main(context.Background(), []string{"run", "-scenario", "soap-direct", "-url", srv.URL + "/",
		"-body-file", body, "-ids", "10000001-10001000", "-H", "Content-Type: text/xml",
		"-c", "2", "-d", "100ms", "-warmup", "0s", "-out", out}, io.Discard, &stderr)
	if code != 0 || posts.Load() == 0 {
		t.Fatalf("run: exit %d, %d posts: %s", code, posts.Load(), stderr.String())
	}

	wait := func(args ...string) (int, string) {
		var stderr bytes.Buffer
		code := Main(context.Background(), append([]string{"wait", "-timeout", "2s"}, args...), io.Discard, &stderr)
		return code, stderr.String()
	}
	if code, msg := wait("-H", "Content-Type: text/xml", "-body-file", body, "-id", "10000042", srv.URL+"/"); code != 0 {
		t.Errorf("wait with a POST: exit %d: %s", code, msg)
	}
	if code, msg := wait("-body-file", body, "-id", "10000042", srv.URL+"/"); code != 1 || !strings.Contains(msg, "POST "+srv.URL+"/: 400") {
		t.Errorf("wait without the Content-Type: exit %d: %s", code, msg)
	}
	if code, msg := wait("-H", "Content-Type: text/xml", "-body-file", body, srv.URL+"/"); code != 2 || !strings.Contains(msg, "-id") {
		t.Errorf("wait without -id: exit %d: %s", code, msg)
	}
	if code, _ := wait("-method", "GET", "-body-file", body, "-id", "1", srv.URL+"/"); code != 2 {
		t.Errorf("wait GET with a body: exit %d", code)
	}
}

// TestMainRunServerPids: with -server-pids, the round reports the CPU
// that those processes spent per request (here the test process itself,
// which serves the requests); a pid that does not exist fails the round.
func TestMainRunServerPids(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc/PID/stat is Linux's")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	out := filepath.Join(t.TempDir(), "r.jsonl")
	run := func(pids string) (int, string) {
		var stdout, stderr bytes.Buffer
		code := Main(context.Background(), []string{"run", "-scenario", "direct", "-url", srv.URL + "/persons/{id}",
			"-c", "2", "-d", "300ms", "-warmup", "20ms", "-out", out, "-server-pids", pids}, &stdout, &stderr)
		return code, stdout.String() + stderr.String()
	}
	if code, msg := run(strconv.Itoa(os.Getpid())); code != 0 || !strings.Contains(msg, "µs/req") {
		t.Fatalf("exit %d: %s", code, msg)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := ReadResults(f)
	f.Close()
	if err != nil || len(rs) != 1 || rs[0].ServerCPUMicros <= 0 || rs[0].Requests == 0 {
		t.Fatalf("results %+v, %v", rs, err)
	}
	var stdout bytes.Buffer
	if code := Main(context.Background(), []string{"table", "-in", out}, &stdout, io.Discard); code != 0 ||
		!strings.Contains(stdout.String(), "server cpu/req") || !strings.Contains(stdout.String(), "µs\n") {
		t.Errorf("table: exit %d\n%s", code, stdout.String())
	}

	// A pid that cannot exist (above the kernel's pid_max): no result.
	if code, msg := run(strconv.Itoa(os.Getpid()) + "," + strconv.Itoa(1<<30)); code != 1 || !strings.Contains(msg, "is gone") {
		t.Errorf("missing pid: exit %d: %s", code, msg)
	}
	if b, _ := os.ReadFile(out); strings.Count(string(b), "\n") != 1 {
		t.Errorf("a result was written for the failed round:\n%s", b)
	}
	if code, _ := run("12,x"); code != 2 {
		t.Errorf("bad -server-pids: exit %d", code)
	}
}
