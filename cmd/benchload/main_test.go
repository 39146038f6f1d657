package main

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runAsMain makes the test binary behave as benchload itself when a test
// starts it again with this variable set.
const runAsMain = "BENCHLOAD_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runAsMain) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// TestProxyStopsOnSIGTERM runs "benchload proxy" as a process, as
// bench/run.sh does, sends a call through it, then SIGTERM: it must exit
// 0 after saying it stopped.
func TestProxyStopsOnSIGTERM(t *testing.T) {
	registry := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.URL.Path)
	}))
	defer registry.Close()

	cmd := exec.Command(os.Args[0], "proxy", "-listen", "127.0.0.1:0", "-target", registry.URL)
	cmd.Env = append(os.Environ(), runAsMain+"=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }() // when a check below fails first

	lines := make(chan string, 10)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var addr string
	select {
	case l := <-lines:
		const mark = "listening on "
		i, j := strings.Index(l, mark), strings.Index(l, ",")
		if i < 0 || j < i {
			t.Fatalf("first line %q", l)
		}
		addr = l[i+len(mark) : j]
	case <-time.After(10 * time.Second):
		t.Fatal("the proxy did not say where it listens")
	}

	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil}}
	resp, err := client.Get("http://" + addr + "/persons/1000000001")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "/persons/1000000001" {
		t.Fatalf("through the proxy: %s %q", resp.Status, body)
	}
	client.CloseIdleConnections()

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var rest []string
	for l := range lines {
		rest = append(rest, l)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v; stderr: %q", err, rest)
	}
	if len(rest) == 0 || !strings.Contains(rest[len(rest)-1], "stopped") {
		t.Errorf("stderr after SIGTERM: %q", rest)
	}
}
