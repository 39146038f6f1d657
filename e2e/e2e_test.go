// Package e2e runs the real govbus and registrysim binaries as processes on
// loopback ports and drives them the way a user would: the README's example
// calls, govbus check, a taken port, and a clean stop on SIGTERM.
package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ports of the demo world, replaced by free ones below 32768.
var demoPorts = []string{"8080", "9464", "9465", "9101", "9102"}

// binaries returns govbus and registrysim, built once per test binary run
// (see sharedBinaries).
func binaries(t *testing.T) (govbus, registrysim string) {
	t.Helper()
	return sharedBinaries(t)
}

// freePorts finds n free loopback ports below 32768.
func freePorts(t *testing.T, n int) []string {
	t.Helper()
	var out []string
	base := 20000 + os.Getpid()%8000
	for p := base; len(out) < n && p < 32768; p++ {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		ln.Close()
		out = append(out, fmt.Sprint(p))
	}
	if len(out) < n {
		t.Fatal("no free ports below 32768")
	}
	return out
}

// start runs a binary, stopping it (by PID) when the test ends.
func start(t *testing.T, name string, args ...string) *exec.Cmd {
	t.Helper()
	return startCmd(t, exec.Command(name, args...), filepath.Base(name))
}

// startCmd starts a prepared command, logging to a file shown when the
// test fails, and stops it (by PID) when the test ends.
func startCmd(t *testing.T, cmd *exec.Cmd, name string) *exec.Cmd {
	t.Helper()
	if cmd.Dir == "" {
		// Relative paths in configurations (the message log's var/...)
		// land in a directory of the test's own.
		cmd.Dir = t.TempDir()
	}
	logf, err := os.Create(filepath.Join(t.TempDir(), name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
			}
		}
		if t.Failed() {
			data, _ := os.ReadFile(logf.Name())
			t.Logf("%s log:\n%s", name, data)
		}
		logf.Close()
	})
	return cmd
}

// demo is the demo world on free ports.
type demo struct {
	ports  map[string]string // demo port -> test port
	config string
	govbus *exec.Cmd
}

func startDemo(t *testing.T, govbus, registrysim string) *demo {
	t.Helper()
	free := freePorts(t, len(demoPorts))
	d := &demo{ports: map[string]string{}}
	for i, p := range demoPorts {
		d.ports[p] = free[i]
	}
	src, err := os.ReadFile("../deploy/demo/govbus.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := d.rewrite(string(src))
	cfg = strings.ReplaceAll(cfg, "../../registrysim/", mustAbs(t, "../registrysim")+"/")
	d.config = filepath.Join(t.TempDir(), "govbus.yaml")
	if err := os.WriteFile(d.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	start(t, registrysim, "-civil", "127.0.0.1:"+d.ports["9101"], "-business", "127.0.0.1:"+d.ports["9102"])
	d.govbus = start(t, govbus, "serve", "-config", d.config)
	waitReady(t, "http://127.0.0.1:"+d.ports["9464"]+"/readyz")
	waitReady(t, "http://127.0.0.1:"+d.ports["9101"]+"/_sim/stats")
	return d
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// rewrite replaces the demo's ports in s.
func (d *demo) rewrite(s string) string {
	for from, to := range d.ports {
		s = strings.ReplaceAll(s, "127.0.0.1:"+from, "127.0.0.1:"+to)
	}
	return s
}

func waitReady(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s not ready after 15s", url)
}

var exampleRE = regexp.MustCompile(`^(curl .*?)\s+#\s*(\d{3})\s*$`)

// exampleCalls reads the example calls from the README.
func exampleCalls(t *testing.T) [][2]string {
	t.Helper()
	f, err := os.Open("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var calls [][2]string
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.Contains(line, "example-calls:start"):
			in = true
		case strings.Contains(line, "example-calls:end"):
			in = false
		case in && strings.HasPrefix(line, "curl "):
			m := exampleRE.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("README example without an expected status: %s", line)
			}
			calls = append(calls, [2]string{m[1], m[2]})
		}
	}
	if len(calls) < 5 {
		t.Fatalf("found %d example calls in the README", len(calls))
	}
	return calls
}

func TestDemoWorld(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not found; `make test` installs it")
	}
	govbus, registrysim := binaries(t)
	d := startDemo(t, govbus, registrysim)

	t.Run("README example calls", func(t *testing.T) {
		for _, c := range exampleCalls(t) {
			cmdline := d.rewrite(c[0]) + " -s -o /dev/null -w '%{http_code}'"
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			cmd := exec.CommandContext(ctx, "bash", "-c", cmdline)
			cmd.Dir = ".." // the calls name files relative to the repository's root
			out, err := cmd.Output()
			cancel()
			if err != nil {
				t.Errorf("%s: %v", c[0], err)
				continue
			}
			if got := string(out); got != c[1] {
				t.Errorf("%s\n  status = %s, want %s", c[0], got, c[1])
			}
		}
	})

	t.Run("check", func(t *testing.T) {
		out, err := exec.Command(govbus, "check", "-config", d.config).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "OK") {
			t.Errorf("check demo: %v\n%s", err, out)
		}
		bad := filepath.Join(t.TempDir(), "bad.yaml")
		src, _ := os.ReadFile(d.config)
		broken := strings.Replace(string(src), "timeout: 5s", "timeout: soon\n    retyr: {max: 1}", 1)
		if err := os.WriteFile(bad, []byte(broken), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err = exec.Command(govbus, "check", "-config", bad).CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			t.Errorf("check broken file: exit %v, want 1\n%s", err, out)
		}
		for _, want := range []string{"registries[0].timeout", "registries[0].retyr", "line "} {
			if !strings.Contains(string(out), want) {
				t.Errorf("check output lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("port taken", func(t *testing.T) {
		cmd := exec.Command(govbus, "serve", "-config", d.config)
		cmd.Dir = t.TempDir()
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() == 0 {
			t.Fatalf("second govbus on the same ports: %v", err)
		}
		if !strings.Contains(string(out), "address already in use") || !strings.Contains(string(out), "127.0.0.1:"+d.ports["8080"]) {
			t.Errorf("message does not name the taken port:\n%s", out)
		}
	})

	t.Run("SIGTERM stops cleanly", func(t *testing.T) {
		if err := d.govbus.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- d.govbus.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("govbus exited with %v after SIGTERM", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("govbus did not stop within 20s of SIGTERM")
		}
	})
}
