package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The attack suite (attacks_test.go) replays each break-in of the trust
// boundaries against the real binaries: govbus in front of registrysim,
// which records exactly what it received (-record), so that every case
// can say what reached the registry, or that nothing did.

// attack is one registered attack case; TestAttacks runs them all as
// subtests, sharing one demo world.
type attack struct {
	name string
	run  func(t *testing.T)
}

var attacks []attack

// registerAttack adds a case to TestAttacks (call it from init).
func registerAttack(name string, run func(t *testing.T)) {
	attacks = append(attacks, attack{name, run})
}

// TestAttacks runs every registered attack case, in name order.
func TestAttacks(t *testing.T) {
	cases := slices.Clone(attacks)
	slices.SortFunc(cases, func(a, b attack) int { return strings.Compare(a.name, b.name) })
	for _, c := range cases {
		t.Run(c.name, c.run)
	}
}

// built holds the binaries built once for the whole test binary run.
var built struct {
	once                sync.Once
	dir                 string
	govbus, registrysim string
	err                 error
	out                 []byte
}

// sharedBinaries builds govbus and registrysim once per test binary run,
// into a directory removed by TestMain.
func sharedBinaries(t *testing.T) (govbus, registrysim string) {
	t.Helper()
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "govbus-e2e-bin-")
		if built.err != nil {
			return
		}
		for _, name := range []string{"govbus", "registrysim"} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(built.dir, name), "../cmd/"+name)
			if built.out, built.err = cmd.CombinedOutput(); built.err != nil {
				built.err = fmt.Errorf("building %s: %w", name, built.err)
				return
			}
		}
		built.govbus, built.registrysim = filepath.Join(built.dir, "govbus"), filepath.Join(built.dir, "registrysim")
	})
	if built.err != nil {
		t.Fatalf("%v\n%s", built.err, built.out)
	}
	return built.govbus, built.registrysim
}

// shared is the attack world every case may use; TestMain stops it.
var shared struct {
	mu    sync.Mutex
	world *attackWorld
	procs []*exec.Cmd
	dir   string
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, p := range shared.procs {
		stopProc(p)
	}
	if shared.dir != "" {
		_ = os.RemoveAll(shared.dir)
	}
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// stopProc stops a process by PID: SIGTERM, then SIGKILL after 10 s.
func stopProc(cmd *exec.Cmd) {
	if cmd.Process == nil || cmd.ProcessState != nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// attackWorld is the demo world on free ports, its registries recording
// what they receive.
type attackWorld struct {
	// ports maps each demo port ("8080", "9101", ...) to the test's.
	ports map[string]string
	// config is the configuration file govbus runs with; dir its working
	// directory (var/messagelog.db lives there).
	config, dir string
	govbusBin   string
	client      *http.Client
	logs        []string
}

// eservice, benefits and portal are the demo clients' identities.
var (
	eservice = []string{"X-Road-Client: UA/GOV/00000003/eservice", "Authorization: Bearer demo-eservice-key", "X-Road-Purpose: service-delivery"}
	benefits = []string{"X-Road-Client: UA/GOV/00000004/benefits", "Authorization: Bearer demo-benefits-key", "X-Road-Purpose: benefit-eligibility"}
	portal   = []string{"X-Road-Client: UA/GOV/00000005/citizen-portal", "Authorization: Bearer demo-portal-key"}
)

// civilPath and businessPath are the service prefixes of the demo's two
// registries.
const (
	civilPath    = "/r1/UA/GOV/00000001/civil-registry/persons"
	businessPath = "/r1/UA/GOV/00000002/business-registry/companies"
)

// sharedAttackWorld returns the plain demo world, started at the first
// call and shared by every case of the test binary run.
func sharedAttackWorld(t *testing.T) *attackWorld {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.world == nil {
		dir, err := os.MkdirTemp("", "govbus-e2e-attacks-")
		if err != nil {
			t.Fatal(err)
		}
		shared.dir = dir
		// Every case calls from 127.0.0.1, some fail to authenticate on
		// purpose, and many count tracker entries: the shared world's
		// throttles must not count one case's calls against the next
		// (the throttles have worlds and cases of their own).
		w, procs, err := launchAttackWorld(t, dir, func(cfg string) string {
			return cfg + "\nauth_throttle: {burst: 10000, per_second: 1000}\ntracker: {rate: {per_second: 1000, burst: 1000}}\n"
		})
		shared.procs = append(shared.procs, procs...)
		if err != nil {
			t.Fatal(err)
		}
		shared.world = w
	}
	return shared.world
}

// newAttackWorld starts a demo world of the test's own, its configuration
// passed through tweak first; it is stopped when t ends.
func newAttackWorld(t *testing.T, tweak func(cfg string) string) *attackWorld {
	t.Helper()
	w, procs, err := launchAttackWorld(t, t.TempDir(), tweak)
	t.Cleanup(func() {
		for _, p := range procs {
			stopProc(p)
		}
		if t.Failed() {
			for _, l := range w.logs {
				b, _ := os.ReadFile(l)
				t.Logf("%s:\n%s", filepath.Base(l), b)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// launchAttackWorld writes the demo configuration on free ports into dir
// and starts registrysim (recording) and govbus there.
func launchAttackWorld(t *testing.T, dir string, tweak func(string) string) (*attackWorld, []*exec.Cmd, error) {
	t.Helper()
	govbus, registrysim := sharedBinaries(t)
	free := freePorts(t, len(demoPorts))
	w := &attackWorld{ports: map[string]string{}, dir: dir, govbusBin: govbus,
		client: &http.Client{Timeout: 20 * time.Second}}
	for i, p := range demoPorts {
		w.ports[p] = free[i]
	}
	src, err := os.ReadFile("../deploy/demo/govbus.yaml")
	if err != nil {
		return w, nil, err
	}
	d := &demo{ports: w.ports}
	cfg := d.rewrite(string(src))
	cfg = strings.ReplaceAll(cfg, "../../registrysim/", mustAbs(t, "../registrysim")+"/")
	if tweak != nil {
		cfg = tweak(cfg)
	}
	w.config = filepath.Join(dir, "govbus.yaml")
	if err := os.WriteFile(w.config, []byte(cfg), 0o600); err != nil {
		return w, nil, err
	}
	var procs []*exec.Cmd
	for _, p := range []struct {
		name string
		cmd  *exec.Cmd
	}{
		{"registrysim", exec.Command(registrysim, "-record", "1000",
			"-civil", "127.0.0.1:"+w.ports["9101"], "-business", "127.0.0.1:"+w.ports["9102"])},
		{"govbus", exec.Command(govbus, "serve", "-config", w.config)},
	} {
		logPath := filepath.Join(dir, p.name+".log")
		logf, err := os.Create(logPath)
		if err != nil {
			return w, procs, err
		}
		w.logs = append(w.logs, logPath)
		p.cmd.Dir, p.cmd.Stdout, p.cmd.Stderr = dir, logf, logf
		if err := p.cmd.Start(); err != nil {
			logf.Close()
			return w, procs, err
		}
		logf.Close() // the child holds its own descriptor
		procs = append(procs, p.cmd)
	}
	for _, u := range []string{w.url("9464") + "/readyz", w.url("9101") + "/_sim/stats", w.url("9102") + "/_sim/stats"} {
		if !waitFor(15*time.Second, func() bool { return statusOf(w.client, u) == http.StatusOK }) {
			for _, l := range w.logs {
				b, _ := os.ReadFile(l)
				t.Logf("%s:\n%s", filepath.Base(l), b)
			}
			return w, procs, fmt.Errorf("%s not ready within 15 s", u)
		}
	}
	return w, procs, nil
}

// statusOf is the status of GET u, 0 when there is no answer.
func statusOf(c *http.Client, u string) int {
	resp, err := c.Get(u)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// url is the base URL of the listener on demo port port.
func (w *attackWorld) url(port string) string { return "http://127.0.0.1:" + w.ports[port] }

// attackAnswer is govbus's answer to one attack request.
type attackAnswer struct {
	Status int
	// Type is the X-Road-Error header ("" for a registry's answer).
	Type   string
	Header http.Header
	Body   []byte
}

func (a attackAnswer) String() string {
	return fmt.Sprintf("%d %s %q", a.Status, a.Type, a.Body)
}

// do sends one request to the consumer port with target sent exactly as
// given (never cleaned) and headers as "Name: value" lines.
func (w *attackWorld) do(t *testing.T, method, target string, body []byte, headers ...string) attackAnswer {
	t.Helper()
	return w.doOn(t, "8080", method, target, body, headers...)
}

// doOn is do on the listener of demo port port.
func (w *attackWorld) doOn(t *testing.T, port, method, target string, body []byte, headers ...string) attackAnswer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, w.url(port)+"/", rd)
	if err != nil {
		t.Fatal(err)
	}
	req.URL = &url.URL{Scheme: "http", Host: "127.0.0.1:" + w.ports[port], Opaque: target}
	if i := strings.IndexByte(target, '?'); i >= 0 {
		req.URL.Opaque, req.URL.RawQuery = target[:i], target[i+1:]
	}
	for _, h := range headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok {
			t.Fatalf("header %q is not Name: value", h)
		}
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if strings.EqualFold(name, "Host") {
			req.Host = value
			continue
		}
		// Set as written: no canonicalisation, so X_Road_Client and
		// repeated names go out as the attacker wrote them.
		req.Header[name] = append(req.Header[name], value)
	}
	resp, err := w.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", method, target, err)
	}
	return attackAnswer{Status: resp.StatusCode, Type: resp.Header.Get("X-Road-Error"), Header: resp.Header, Body: b}
}

// doRaw writes raw on a new TCP connection to demo port port and returns
// what came back until the server closed the connection or 5 s passed
// (an upper bound for a failing case only: a passing one ends sooner).
func (w *attackWorld) doRaw(t *testing.T, port, raw string) string {
	t.Helper()
	conn, err := net.Dial("tcp", "127.0.0.1:"+w.ports[port])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, _ := io.ReadAll(conn)
	return string(b)
}

// receivedRequest is a request as a registry received it.
type receivedRequest struct {
	Method, Target string
	Header         http.Header
	Body           []byte
}

// received returns what the registry on demo port port ("9101" civil,
// "9102" business) received since it was last cleared.
func (w *attackWorld) received(t *testing.T, port string) []receivedRequest {
	t.Helper()
	resp, err := w.client.Get(w.url(port) + "/_sim/received")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct{ Requests []receivedRequest }
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatalf("decoding /_sim/received: %v", err)
	}
	return got.Requests
}

// clearReceived forgets what the registry on port received.
func (w *attackWorld) clearReceived(t *testing.T, port string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodDelete, w.url(port)+"/_sim/received", nil)
	resp, err := w.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// trackerCount returns how many accesses the citizen portal's Data
// Tracker lists for subject, walking every page.
func (w *attackWorld) trackerCount(t *testing.T, subject string) int {
	t.Helper()
	n, cursor := 0, ""
	for page := 0; page < 1000; page++ {
		q := "subject=" + url.QueryEscape(subject) + "&limit=100"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		a := w.do(t, "GET", "/tracker/v1/accesses?"+q, nil, append(slices.Clone(portal), "X-Road-UserId: UA1234567890")...)
		if a.Status != http.StatusOK {
			t.Fatalf("tracker for a subject: %v", a)
		}
		var got struct {
			Accesses   []json.RawMessage `json:"accesses"`
			NextCursor string            `json:"next_cursor"`
		}
		if err := json.Unmarshal(a.Body, &got); err != nil {
			t.Fatalf("tracker answer: %v: %s", err, a.Body)
		}
		n += len(got.Accesses)
		if got.NextCursor == "" {
			return n
		}
		cursor = got.NextCursor
	}
	t.Fatal("tracker pages do not end")
	return n
}

// with returns headers followed by more.
func with(headers []string, more ...string) []string {
	return append(slices.Clone(headers), more...)
}

// wantNothingReceived fails t when the registry on port received anything.
func (w *attackWorld) wantNothingReceived(t *testing.T, port string) {
	t.Helper()
	if got := w.received(t, port); len(got) != 0 {
		t.Errorf("the registry received %d requests, want none; first: %s %s %v", len(got), got[0].Method, got[0].Target, got[0].Header)
	}
}
