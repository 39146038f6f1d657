package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func init() {
	// Item 12: the demo's published subject key must not protect real
	// data: without demo: true, govbus refuses to start with it.
	registerAttack("operator/demo-subject-key-refused", func(t *testing.T) {
		govbus, _ := sharedBinaries(t)
		src, err := os.ReadFile("../deploy/demo/govbus.yaml")
		if err != nil {
			t.Fatal(err)
		}
		cfg := strings.Replace(string(src), "\ndemo: true\n", "\n", 1)
		if cfg == string(src) {
			t.Fatal("the demo configuration does not say demo: true")
		}
		cfg = strings.ReplaceAll(cfg, "../../registrysim/", mustAbs(t, "../registrysim")+"/")
		dir := t.TempDir()
		path := filepath.Join(dir, "govbus.yaml")
		if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(govbus, "serve", "-config", path)
		cmd.Dir, cmd.Env = dir, []string{"PATH=" + os.Getenv("PATH")} // GOVBUS_SUBJECT_KEY unset
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			t.Fatalf("serve with the demo key and no demo: true: %v, want exit 1\n%s", err, out)
		}
		if !strings.Contains(string(out), "message_log.subject_key") {
			t.Errorf("the refusal does not name message_log.subject_key:\n%s", out)
		}
		if _, err := os.Stat(filepath.Join(dir, "var", "messagelog.db")); err == nil {
			t.Error("a refused start created the message log")
		}
	})

	// Item 12: problem messages never print a registry URL's password.
	registerAttack("operator/endpoint-password-not-printed", func(t *testing.T) {
		govbus, _ := sharedBinaries(t)
		src, _ := os.ReadFile("../deploy/demo/govbus.yaml")
		cfg := strings.Replace(string(src), "http://127.0.0.1:9101", "http://civil:s3cret-pw@127.0.0.1:9101", 1)
		cfg = strings.ReplaceAll(cfg, "../../registrysim/", mustAbs(t, "../registrysim")+"/")
		path := filepath.Join(t.TempDir(), "govbus.yaml")
		if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(govbus, "check", "-config", path).CombinedOutput()
		if err == nil {
			t.Errorf("check accepted an endpoint with credentials:\n%s", out)
		}
		if strings.Contains(string(out), "s3cret-pw") || !strings.Contains(string(out), "registries[0].endpoints[0]") {
			t.Errorf("check output prints the password or misses the endpoint:\n%s", out)
		}
	})

	// Item 12: keep_bodies cannot fill the disk: past the service's daily
	// budget its calls get Server.LoggingFailed and reach no registry,
	// while other services go on.
	registerAttack("operator/keep-bodies-budget", func(t *testing.T) {
		w := newAttackWorld(t, func(cfg string) string {
			return strings.Replace(cfg, "        max_request_bytes: 64KiB\n",
				"        max_request_bytes: 64KiB\n        keep_bodies: true\n        keep_bodies_per_day: 2KiB\n", 1)
		})
		refusedAt := 0
		for i := 0; i < 40 && refusedAt == 0; i++ {
			w.clearReceived(t, "9101")
			a := w.do(t, "GET", civilPath+"/persons/100000020"+string(rune('0'+i%10)), nil, eservice...)
			switch {
			case a.Status == 200:
			case a.Status == 503 && a.Type == "Server.LoggingFailed":
				refusedAt = i + 1
				w.wantNothingReceived(t, "9101")
			default:
				t.Fatalf("call %d: %v", i+1, a)
			}
		}
		if refusedAt < 2 {
			t.Fatalf("the budget never stopped kept bodies (refused at call %d)", refusedAt)
		}
		if a := w.do(t, "GET", businessPath+"/companies/10000142", nil, eservice...); a.Status != 200 {
			t.Errorf("another service after the budget is spent: %v, want 200", a)
		}
		if a := w.do(t, "GET", civilPath+"/persons/1000000209", nil, eservice...); a.Type != "Server.LoggingFailed" {
			t.Errorf("the spent service again: %v, want Server.LoggingFailed", a)
		}
	})
}
