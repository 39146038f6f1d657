package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Helpers of the chaos tests (chaos_test.go): real govbus and registrysim
// processes on loopback ports, a configuration written per test, and a
// consumer that records what every call got and how long it took.

const (
	civilID = "UA/GOV/00000001/civil-registry"
	otherID = "UA/GOV/00000009/other-registry"
	// eserviceID and eserviceKey are the demo's e-service client; its key
	// hash is in the configuration that startGovbus writes.
	eserviceID  = "UA/GOV/00000003/eservice"
	eserviceKey = "demo-eservice-key"
	// injectedFault is the body of an answer that registrysim's faults made.
	injectedFault = `{"error":"injected fault"}`
	// personsService declares the civil registry's person service.
	personsService = "      - {code: persons, methods: [GET], paths: [\"/persons/{id}\"]}\n"
	// documentsService is a POST service; registrysim answers it with 404,
	// a registry answer like any other.
	documentsService = "      - {code: documents, methods: [POST]}\n"
)

// personPath is the consumer path of person i (any i; it wraps around the
// 10,000 persons of the simulated civil registry).
func personPath(registry string, i int) string {
	return fmt.Sprintf("/r1/%s/persons/persons/%d", registry, 1000000001+i%10000)
}

// chaosPortMu guards chaosNextPort, so that tests running in parallel never
// get the same port (freePorts always starts its search at the same base).
var (
	chaosPortMu   sync.Mutex
	chaosNextPort = 20000 + (os.Getpid()+4000)%8000
)

// chaosPorts hands out n free loopback ports below 32768, none twice in
// this test binary.
func chaosPorts(t *testing.T, n int) []string {
	t.Helper()
	chaosPortMu.Lock()
	defer chaosPortMu.Unlock()
	var out []string
	for tries := 0; len(out) < n && tries < 12768; tries++ {
		p := chaosNextPort
		chaosNextPort++
		if chaosNextPort >= 32768 {
			chaosNextPort = 20000
		}
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		ln.Close()
		out = append(out, strconv.Itoa(p))
	}
	if len(out) < n {
		t.Fatal("no free ports below 32768")
	}
	return out
}

// simProc is one registrysim process serving the civil registry.
type simProc struct {
	bin, port string // what restart starts again
	addr      string // 127.0.0.1:PORT
	url       string // http://127.0.0.1:PORT
	cmd       *exec.Cmd
}

// startSim starts registrysim's civil registry on port and waits until it
// answers.
func startSim(t *testing.T, bin, port string) *simProc {
	t.Helper()
	s := &simProc{bin: bin, port: port, addr: "127.0.0.1:" + port, url: "http://127.0.0.1:" + port}
	s.cmd = start(t, bin, "-civil", s.addr, "-business", "")
	waitReady(t, s.url+"/_sim/stats")
	return s
}

// restart starts the registry again on the same port, once it is gone.
func (s *simProc) restart(t *testing.T) *simProc {
	t.Helper()
	return startSim(t, s.bin, s.port)
}

// kill ends the registry the hard way (SIGKILL) and waits until it is gone.
func (s *simProc) kill(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = s.cmd.Wait() // "signal: killed" is the point
}

func (s *simProc) control(t *testing.T, method, path, body string) []byte {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s%s: %v", method, s.url, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s%s: %d %s", method, s.url, path, resp.StatusCode, b)
	}
	return b
}

// faults sets the registry's faults, e.g. {"status":503,"rate":0.1}.
func (s *simProc) faults(t *testing.T, f string) { t.Helper(); s.control(t, "POST", "/_sim/faults", f) }

func (s *simProc) clearFaults(t *testing.T) { t.Helper(); s.control(t, "DELETE", "/_sim/faults", "") }

func (s *simProc) resetStats(t *testing.T) { t.Helper(); s.control(t, "DELETE", "/_sim/stats", "") }

// requests is how many requests reached the registry since the last reset.
func (s *simProc) requests(t *testing.T) int64 {
	t.Helper()
	var st struct {
		Requests int64 `json:"requests"`
	}
	if err := json.Unmarshal(s.control(t, "GET", "/_sim/stats", ""), &st); err != nil {
		t.Fatal(err)
	}
	return st.Requests
}

// regConf is one registry of the configuration startGovbus writes.
type regConf struct {
	id        string
	endpoints []string // base URLs
	// settings are YAML lines at the registry's level (4 spaces), ending
	// with "    services:" and the services.
	settings string
}

// node is a running govbus.
type node struct {
	consumer, status, admin string // base URLs
	cmd                     *exec.Cmd
	client                  *http.Client
}

// startGovbus writes a configuration with the three listeners on ports,
// the given registries, the demo's e-service client and one rule letting
// it call every service of those registries without a purpose; then it
// starts `govbus serve` and waits until /readyz answers 200.
func startGovbus(t *testing.T, bin string, ports []string, drain time.Duration, regs ...regConf) *node {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "node: chaos\nlisteners:\n  consumer: {address: 127.0.0.1:%s}\n  status: {address: 127.0.0.1:%s}\n"+
		"  admin: {address: 127.0.0.1:%s}\n  drain_timeout: %s\nregistries:\n", ports[0], ports[1], ports[2], drain)
	var services []string
	for _, r := range regs {
		fmt.Fprintf(&b, "  - id: %s\n    endpoints: [%s]\n%s", r.id, strings.Join(r.endpoints, ", "), r.settings)
		services = append(services, r.id+"/*")
	}
	fmt.Fprintf(&b, `clients:
  - id: %s
    auth:
      api_keys: [sha256:a590294707470c216ec053f0e5ef5440b8a91b419024de4e9b83532bf865ffb6] # %s
rules:
  - id: eservice-calls-everything
    clients: [%s]
    services: [%s]
`, eserviceID, eserviceKey, eserviceID, strings.Join(services, ", "))
	path := filepath.Join(t.TempDir(), "govbus.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	n := &node{
		consumer: "http://127.0.0.1:" + ports[0],
		status:   "http://127.0.0.1:" + ports[1],
		admin:    "http://127.0.0.1:" + ports[2],
		client: &http.Client{
			Transport: &http.Transport{MaxIdleConns: 128, MaxIdleConnsPerHost: 64},
			Timeout:   15 * time.Second,
		},
	}
	n.cmd = start(t, bin, "serve", "-config", path)
	// Registered after start's cleanup, so it runs before govbus is
	// stopped: a connection the client opened but never used would hold
	// up the server's shutdown for the whole drain_timeout.
	t.Cleanup(func() {
		n.client.CloseIdleConnections()
		if t.Failed() {
			t.Logf("govbus configuration:\n%s", b.String())
		}
	})
	waitReady(t, n.status+"/readyz")
	return n
}

// startCivil starts registrysim's civil registry and, in front of it, a
// govbus with the drain timeout drain whose one registry is civilID at the
// registrysim, with settings (as in regConf).
func startCivil(t *testing.T, drain time.Duration, settings string) (*node, *simProc) {
	t.Helper()
	govbus, simBin := binaries(t)
	ports := chaosPorts(t, 4)
	sim := startSim(t, simBin, ports[3])
	n := startGovbus(t, govbus, ports[:3], drain, regConf{id: civilID, endpoints: []string{sim.url}, settings: settings})
	return n, sim
}

// outcome is what one consumer call got.
type outcome struct {
	start, end time.Time
	status     int
	xrError    string // X-Road-Error
	retryAfter string
	body       string
	err        error
}

func (o outcome) latency() time.Duration { return o.end.Sub(o.start) }

// registryAnswer reports whether the registry's own answer came back
// (a status, without govbus's X-Road-Error).
func (o outcome) registryAnswer() bool { return o.err == nil && o.xrError == "" }

func (o outcome) String() string {
	if o.err != nil {
		return fmt.Sprintf("error %v after %v", o.err, o.latency().Round(time.Microsecond))
	}
	s := strconv.Itoa(o.status)
	if o.xrError != "" {
		s += " " + o.xrError
	} else {
		s += " " + strings.TrimSpace(o.body)
	}
	return s + " after " + o.latency().Round(time.Microsecond).String()
}

// call sends one consumer request as the e-service client.
func (n *node) call(method, path, body string) outcome {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, n.consumer+path, rd)
	if err != nil {
		return outcome{start: time.Now(), end: time.Now(), err: err}
	}
	req.Header.Set("X-Road-Client", eserviceID)
	req.Header.Set("Authorization", "Bearer "+eserviceKey)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	o := outcome{start: time.Now()}
	resp, err := n.client.Do(req)
	if err != nil {
		o.end, o.err = time.Now(), err
		return o
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	o.end = time.Now()
	o.status, o.body, o.err = resp.StatusCode, string(b), err
	o.xrError, o.retryAfter = resp.Header.Get("X-Road-Error"), resp.Header.Get("Retry-After")
	return o
}

func (n *node) get(path string) outcome { return n.call("GET", path, "") }

// endpointState is an endpoint as /admin/status shows it.
type endpointState struct {
	URL     string `json:"url"`
	Breaker string `json:"breaker"`
}

// registryState is a registry's outbound stack as /admin/status shows it.
type registryState struct {
	InFlight    int             `json:"in_flight"`
	MaxInFlight int             `json:"max_in_flight"`
	Endpoints   []endpointState `json:"endpoints"`
}

// registryState reads a registry's state from the admin listener.
func (n *node) registryState(t *testing.T, registry string) registryState {
	t.Helper()
	st, err := n.tryRegistryState(registry)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// tryRegistryState is registryState for goroutines other than the test's.
func (n *node) tryRegistryState(registry string) (registryState, error) {
	resp, err := http.Get(n.admin + "/admin/status")
	if err != nil {
		return registryState{}, fmt.Errorf("GET /admin/status: %w", err)
	}
	defer resp.Body.Close()
	var st struct {
		Registries []struct {
			ID    string        `json:"id"`
			State registryState `json:"state"`
		} `json:"registries"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return registryState{}, fmt.Errorf("decoding /admin/status: %w", err)
	}
	for _, r := range st.Registries {
		if r.ID == registry {
			return r.State, nil
		}
	}
	return registryState{}, fmt.Errorf("/admin/status does not show registry %s", registry)
}

// breakers maps each endpoint URL of a registry to its breaker state.
func (n *node) breakers(t *testing.T, registry string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, ep := range n.registryState(t, registry).Endpoints {
		m[ep.URL] = ep.Breaker
	}
	return m
}

// metric sums the samples of the named metric whose labels include all of
// labels ("k", "v", ...), read from the status listener's /metrics. It
// fails the test when no such series exists.
func (n *node) metric(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	resp, err := http.Get(n.status + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	var sum float64
	found := false
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
lines:
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if !strings.Contains(line, labels[i]+`="`+labels[i+1]+`"`) {
				continue lines
			}
		}
		f, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		sum += f
		found = true
	}
	if !found {
		t.Fatalf("/metrics has no series %s%v", name, labels)
	}
	return sum
}

// recorder collects outcomes from many goroutines.
type recorder struct {
	mu  sync.Mutex
	all []outcome
}

func (r *recorder) add(o outcome) {
	r.mu.Lock()
	r.all = append(r.all, o)
	r.mu.Unlock()
}

func (r *recorder) outcomes() []outcome {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.all)
}

// closedLoop runs workers goroutines, each calling f with its number and
// its own call count until f returns false or ctx ends, and waits for them.
func closedLoop(ctx context.Context, workers int, f func(w, i int) bool) {
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				if !f(w, i) {
					return
				}
			}
		})
	}
	wg.Wait()
}

// rounds runs workers consumers that each make calls calls, call(w, i)
// for consumer w's call i, and returns what they got.
func rounds(workers, calls int, call func(w, i int) outcome) []outcome {
	var rec recorder
	closedLoop(context.Background(), workers, func(w, i int) bool {
		rec.add(call(w, i))
		return i < calls-1
	})
	return rec.outcomes()
}

// spread makes the calls call(0) to call(calls-1) from workers consumers,
// each taking the next one as soon as it is free, and returns what they got.
func spread(workers, calls int, call func(i int) outcome) []outcome {
	var next atomic.Int64
	var rec recorder
	closedLoop(context.Background(), workers, func(int, int) bool {
		i := next.Add(1) - 1
		if i >= int64(calls) {
			return false
		}
		rec.add(call(int(i)))
		return true
	})
	return rec.outcomes()
}

// steadyLoad runs workers consumers for d, each calling call(w, i) for its
// i-th call one after the other, and returns what they got.
func steadyLoad(d time.Duration, workers int, call func(w, i int) outcome) []outcome {
	var rec recorder
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	closedLoop(ctx, workers, func(w, i int) bool {
		rec.add(call(w, i))
		return true
	})
	return rec.outcomes()
}

// isCircuitOpen reports whether o is govbus's 503 Server.CircuitOpen with a
// Retry-After of at least a second.
func isCircuitOpen(o outcome) bool {
	ra, err := strconv.Atoi(o.retryAfter)
	return o.status == http.StatusServiceUnavailable && o.xrError == "Server.CircuitOpen" && err == nil && ra >= 1
}

// latencies summarises the latencies of outcomes.
type latencies []time.Duration

func latenciesOf(outs []outcome) latencies {
	l := make(latencies, len(outs))
	for i, o := range outs {
		l[i] = o.latency()
	}
	slices.Sort(l)
	return l
}

// q is the q-quantile (nearest rank) of sorted latencies.
func (l latencies) q(q float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	return l[min(len(l)-1, int(q*float64(len(l))))]
}

func (l latencies) String() string {
	if len(l) == 0 {
		return "n=0"
	}
	r := func(d time.Duration) time.Duration { return d.Round(10 * time.Microsecond) }
	return fmt.Sprintf("n=%d min=%v p50=%v p90=%v p99=%v max=%v",
		len(l), r(l[0]), r(l.q(0.5)), r(l.q(0.9)), r(l.q(0.99)), r(l[len(l)-1]))
}

// refused reports whether err means no connection to the consumer listener
// could be made, i.e. the request was never accepted.
func refused(err error) bool {
	var op *net.OpError
	return errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &op) && op.Op == "dial"
}

// waitFor polls cond every 10ms until it holds or timeout passes.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sample lists at most n outcomes, for failure messages.
func sample(outs []outcome, n int) string {
	var b strings.Builder
	for i, o := range outs {
		if i == n {
			fmt.Fprintf(&b, "\n  ... %d more", len(outs)-n)
			break
		}
		fmt.Fprintf(&b, "\n  %s", o)
	}
	return b.String()
}
