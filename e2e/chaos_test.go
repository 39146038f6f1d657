package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Chaos tests: real govbus and registrysim processes, a registry that dies,
// fails, slows down or has a dead replica, and govbus stopped under load.
// Each test measures what consumers got and what reached the registry.
//
// The tests whose assertions are latencies (registry killed, slow registry,
// SIGTERM) run alone; the others run in parallel after them.

// TestChaosRegistryKilled: the registry process dies (SIGKILL). The
// endpoint's breaker opens after exactly consecutive_failures failed
// attempts; later calls fail fast with Server.CircuitOpen; /admin/status
// shows the breaker open; once the registry is back on the same port, the
// breaker lets a probe through (half-open) and traffic recovers.
func TestChaosRegistryKilled(t *testing.T) {
	const (
		consecutiveFailures = 3
		openTimeout         = time.Second
	)
	n, sim := startCivil(t, 2*time.Second, fmt.Sprintf(
		"    retry: {max: 2}\n    breaker: {consecutive_failures: %d, open_timeout: %s}\n    services:\n%s",
		consecutiveFailures, openTimeout, personsService))

	// Steady traffic first: 4 consumers, 50 calls each, all answered.
	warm := rounds(4, 50, func(w, i int) outcome { return n.get(personPath(civilID, w*50+i)) })
	for _, o := range warm {
		if o.status != http.StatusOK {
			t.Fatalf("before the registry was killed: %s", o)
		}
	}

	sim.kill(t)
	killed := time.Now()

	// One consumer now. The first call makes 1+2 attempts, all refused:
	// that is consecutive_failures, so the breaker opens and the call gets
	// Server.RegistryUnavailable; the next one must get Server.CircuitOpen.
	var before []outcome
	var first outcome
	for i := 0; ; i++ {
		o := n.get(personPath(civilID, i))
		if o.xrError == "Server.CircuitOpen" {
			first = o
			break
		}
		before = append(before, o)
		if time.Since(killed) > 5*time.Second || len(before) > 20 {
			t.Fatalf("no Server.CircuitOpen within 5s of the kill; calls got:%s", sample(before, 20))
		}
	}
	if len(before) != 1 || before[0].status != http.StatusBadGateway || before[0].xrError != "Server.RegistryUnavailable" {
		t.Errorf("calls before the breaker opened: want exactly one 502 Server.RegistryUnavailable, got:%s", sample(before, 20))
	}
	failed := n.metric(t, "govbus_upstream_attempts_total", "registry", civilID, "result", "error") +
		n.metric(t, "govbus_upstream_attempts_total", "registry", civilID, "result", "timeout")
	opened := n.metric(t, "govbus_breaker_transitions_total", "registry", civilID, "to", "open")
	t.Logf("breaker opened %v after the kill, after %v failed attempts (consecutive_failures %d); transitions to open: %v",
		first.end.Sub(killed).Round(time.Millisecond), failed, consecutiveFailures, opened)
	if failed != consecutiveFailures || opened != 1 {
		t.Errorf("failed attempts before the breaker opened = %v, transitions to open = %v; want %d and 1",
			failed, opened, consecutiveFailures)
	}
	if got := n.breakers(t, civilID)[sim.url]; got != "open" {
		t.Errorf("/admin/status: breaker of %s is %q while open, want \"open\"", sim.url, got)
	}

	// Fail fast while open: every call in the next 700ms (well inside
	// open_timeout, so no probe is due) is a 503 Server.CircuitOpen with a
	// Retry-After of at least 1s, answered without touching the network.
	fast := []outcome{first}
	for time.Since(first.end) < 700*time.Millisecond && len(fast) < 300 {
		fast = append(fast, n.get(personPath(civilID, len(fast))))
	}
	for _, o := range fast {
		if !isCircuitOpen(o) {
			t.Errorf("while the breaker is open: %s, Retry-After %q; want 503 Server.CircuitOpen, Retry-After >= 1", o, o.retryAfter)
		}
	}
	// Answered at once: the median well under a millisecond's work plus
	// scheduling; single calls may meet a busy CI machine.
	openLat := latenciesOf(fast)
	t.Logf("Server.CircuitOpen latencies: %s", openLat)
	if p50 := openLat.q(0.5); p50 >= 50*time.Millisecond {
		t.Errorf("Server.CircuitOpen median %v, want < 50ms", p50)
	}
	if len(fast) < 20 {
		t.Errorf("only %d calls in 700ms of open breaker", len(fast))
	}

	// The registry comes back on the same port: the breaker goes half-open
	// after open_timeout, the probe succeeds, traffic flows again.
	sim = sim.restart(t)
	restarted := time.Now()
	var recovery []outcome
	var ok outcome
	for ok.status != http.StatusOK {
		if time.Since(restarted) > openTimeout+3*time.Second {
			t.Fatalf("no 200 within %v of the registry's restart; calls got:%s", openTimeout+3*time.Second, sample(recovery, 20))
		}
		o := n.get(personPath(civilID, len(recovery)))
		if o.status == http.StatusOK {
			ok = o
			break
		}
		recovery = append(recovery, o)
		if o.xrError != "Server.CircuitOpen" && o.xrError != "Server.RegistryUnavailable" {
			t.Errorf("while recovering: %s", o)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("first 200 %v after the registry was back, %v after the breaker opened (open_timeout %v); %d calls refused meanwhile",
		ok.end.Sub(restarted).Round(time.Millisecond), ok.end.Sub(first.end).Round(time.Millisecond), openTimeout, len(recovery))
	if d := ok.end.Sub(restarted); d > openTimeout+time.Second {
		t.Errorf("traffic recovered %v after the registry came back, want within open_timeout+1s", d)
	}
	if h := n.metric(t, "govbus_breaker_transitions_total", "registry", civilID, "to", "half-open"); h < 1 {
		t.Errorf("breaker never went half-open (transitions to half-open = %v)", h)
	}
	if got := n.breakers(t, civilID)[sim.url]; got != "closed" {
		t.Errorf("/admin/status: breaker of %s is %q after recovery, want \"closed\"", sim.url, got)
	}
	after := rounds(4, 25, func(w, i int) outcome { return n.get(personPath(civilID, w*25+i)) })
	for _, o := range after {
		if o.status != http.StatusOK {
			t.Errorf("after recovery: %s", o)
		}
	}
}

// TestChaosRetriesMaskFaults: 10% of the registry's answers are 503. Two
// retries hide nearly all of them from consumers without spending the
// retry budget; POSTs to a non-idempotent service are never re-sent.
func TestChaosRetriesMaskFaults(t *testing.T) {
	t.Parallel()
	// consecutive_failures 20 keeps the breaker out of this test: with the
	// default 5, a run of five 503s (about 1% likely over 1,100 attempts)
	// would open it.
	n, sim := startCivil(t, 2*time.Second,
		"    retry: {max: 2}\n    breaker: {consecutive_failures: 20}\n    services:\n"+personsService+documentsService)

	sim.faults(t, `{"status":503,"rate":0.1}`)
	sim.resetStats(t)
	const gets = 1000
	began := time.Now()
	outs := spread(8, gets, func(i int) outcome { return n.get(personPath(civilID, i)) })
	took := time.Since(began)
	var okN int
	var bad []outcome
	for _, o := range outs {
		switch {
		case o.status == http.StatusOK:
			okN++
		case isInjected503(o):
			bad = append(bad, o) // three 503s in a row: the registry's answer, passed on
		default:
			t.Errorf("GET: %s, want 200 or the registry's own 503", o)
		}
	}
	hits := sim.requests(t)
	retries := n.metric(t, "govbus_upstream_retries_total", "registry", civilID)
	exhausted := n.metric(t, "govbus_upstream_retry_budget_exhausted_total", "registry", civilID)
	t.Logf("%d GETs in %v: %d ok (%.2f%%), %d got the registry's 503; registry hits %d, retries %v, budget exhausted %v; latencies %s",
		len(outs), took.Round(time.Millisecond), okN, 100*float64(okN)/float64(len(outs)), len(bad), hits, retries, exhausted, latenciesOf(outs))
	if len(outs) != gets || float64(okN) < 0.995*gets {
		t.Errorf("%d of %d GETs succeeded, want >= 99.5%%:%s", okN, len(outs), sample(bad, 10))
	}
	if exhausted != 0 {
		t.Errorf("retry budget exhausted %v times at a 10%% fault rate, want 0", exhausted)
	}
	if int64(retries) != hits-gets {
		t.Errorf("retries metric %v, but the registry saw %d requests for %d GETs", retries, hits, gets)
	}

	// POST to a non-idempotent service: the injected 503s come back to the
	// consumer, and the registry sees each POST exactly once.
	sim.resetStats(t)
	const posts = 300
	postOuts := spread(4, posts, func(i int) outcome {
		return n.call("POST", "/r1/"+civilID+"/documents/documents", fmt.Sprintf(`{"request":%d}`, i))
	})
	statuses := map[int]int{}
	for _, o := range postOuts {
		if !o.registryAnswer() {
			t.Errorf("POST: %s, want the registry's own answer", o)
			continue
		}
		statuses[o.status]++
	}
	postHits := sim.requests(t)
	retriesAfter := n.metric(t, "govbus_upstream_retries_total", "registry", civilID)
	t.Logf("%d POSTs: statuses %v; registry hits %d; retries during the POSTs %v", posts, statuses, postHits, retriesAfter-retries)
	if postHits != posts {
		t.Errorf("the registry saw %d requests for %d POSTs, want exactly %d (no re-sends)", postHits, posts, posts)
	}
	if retriesAfter != retries {
		t.Errorf("retries metric went from %v to %v during POSTs only", retries, retriesAfter)
	}
	if statuses[http.StatusServiceUnavailable] == 0 {
		t.Errorf("no POST got an injected 503 (statuses %v): the test proved nothing", statuses)
	}
}

// TestChaosRetryBudget: the registry answers every request with 503 under
// steady load. With the breaker kept out of the way, the retry budget alone
// bounds the extra load: registry hits <= (1+ratio) * requests + floor.
// Consumers get the registry's 503 unchanged.
func TestChaosRetryBudget(t *testing.T) {
	t.Parallel()
	const (
		ratio       = 0.2
		perSecond   = 5.0
		budgetFloor = perSecond * 10 // the budget's window is 10s
		loadFor     = 3 * time.Second
	)
	n, sim := startCivil(t, 2*time.Second, fmt.Sprintf(
		"    retry: {max: 2, wait_min: 5ms, wait_max: 50ms, budget_ratio: %v, budget_min_per_second: %v}\n"+
			"    breaker: {consecutive_failures: 1000000, min_requests: 1000000}\n    services:\n%s",
		ratio, perSecond, personsService))
	// No request before the fault: the budget counts every request it saw.
	sim.faults(t, `{"status":503,"rate":1}`)
	sim.resetStats(t)

	outs := steadyLoad(loadFor, 8, func(w, i int) outcome { return n.get(personPath(civilID, w*10000+i)) })
	for i, o := range outs {
		if !isInjected503(o) {
			t.Errorf("call %d: %s; want the registry's 503 %s without X-Road-Error", i, o, injectedFault)
			if i > 10 {
				break
			}
		}
	}
	hits := sim.requests(t)
	reqs := int64(len(outs))
	limit := reqs + int64(ratio*float64(reqs)+budgetFloor+1e-6) // as the budget computes it
	retries := n.metric(t, "govbus_upstream_retries_total", "registry", civilID)
	exhausted := n.metric(t, "govbus_upstream_retry_budget_exhausted_total", "registry", civilID)
	t.Logf("%d consumer requests in %v, registry hits %d (%.3f per request; limit %d = %.1f*requests+%v; without a budget up to %d); retries %v, budget exhausted %v; latencies %s",
		reqs, loadFor, hits, float64(hits)/float64(reqs), limit, 1+ratio, budgetFloor, 3*reqs, retries, exhausted, latenciesOf(outs))
	if hits > limit {
		t.Errorf("registry hits %d > %.1f*%d+%v = %d: the retry budget did not bound the retries", hits, 1+ratio, reqs, budgetFloor, limit)
	}
	if hits <= reqs || exhausted == 0 {
		t.Errorf("hits %d for %d requests, budget exhausted %v: want some retries and an exhausted budget", hits, reqs, exhausted)
	}
	if int64(retries) != hits-reqs {
		t.Errorf("retries metric %v, but the registry saw %d requests for %d consumer requests", retries, hits, reqs)
	}
	if reqs < 200 {
		t.Errorf("only %d consumer requests in %v: not a steady load", reqs, loadFor)
	}
}

// TestChaosBreakerOpensOn503s: the registry answers every request with 503
// and the breaker is the default kind (5 consecutive failures, retries 2).
// A consumer gets the registry's 503 until the breaker opens and
// Server.CircuitOpen from then on; the registry sees no more requests, even
// under steady load.
func TestChaosBreakerOpensOn503s(t *testing.T) {
	t.Parallel()
	const consecutiveFailures = 5
	n, sim := startCivil(t, 2*time.Second, fmt.Sprintf(
		"    retry: {max: 2}\n    breaker: {consecutive_failures: %d, open_timeout: 30s}\n    services:\n%s",
		consecutiveFailures, personsService))
	sim.faults(t, `{"status":503,"rate":1}`)
	sim.resetStats(t)

	// One consumer: its first call makes 1+2 attempts (3 failures) and gets
	// the registry's 503; its second call's 2nd attempt is the 5th failure,
	// which opens the breaker, so the retry after it finds every breaker
	// open and the call gets Server.CircuitOpen (a retry the breaker refuses
	// ends in Server.CircuitOpen: outbound.TestLayerOrder).
	var seq []outcome
	for len(seq) < 10 {
		o := n.get(personPath(civilID, len(seq)))
		seq = append(seq, o)
		if o.xrError == "Server.CircuitOpen" {
			break
		}
	}
	if len(seq) != 2 || !isInjected503(seq[0]) || seq[1].xrError != "Server.CircuitOpen" {
		t.Errorf("one consumer's calls until the breaker opened:%s\nwant the registry's 503, then Server.CircuitOpen", sample(seq, 10))
	}
	hits := sim.requests(t)
	t.Logf("until the breaker opened: %s; registry hits %d (consecutive_failures %d)", sample(seq, 10), hits, consecutiveFailures)
	if hits != consecutiveFailures {
		t.Errorf("the registry saw %d requests before the breaker opened, want consecutive_failures = %d", hits, consecutiveFailures)
	}

	// Steady load from 4 consumers: Server.CircuitOpen for all, at once,
	// and nothing more reaches the registry.
	outs := steadyLoad(time.Second, 4, func(w, i int) outcome { return n.get(personPath(civilID, w*1000+i)) })
	for _, o := range outs {
		if !isCircuitOpen(o) {
			t.Errorf("under load with the breaker open: %s, Retry-After %q; want 503 Server.CircuitOpen, Retry-After >= 1", o, o.retryAfter)
			break
		}
	}
	lat := latenciesOf(outs)
	after := sim.requests(t)
	t.Logf("open breaker under load: %d calls, all Server.CircuitOpen: %s; registry hits since it opened %d", len(outs), lat, after-hits)
	if after != hits {
		t.Errorf("the registry saw %d more requests while the breaker was open", after-hits)
	}
	if lat.q(0.5) >= 50*time.Millisecond {
		t.Errorf("Server.CircuitOpen p50 %v, want < 50ms", lat.q(0.5))
	}
	if got := n.breakers(t, civilID)[sim.url]; got != "open" {
		t.Errorf("/admin/status: breaker of %s is %q, want \"open\"", sim.url, got)
	}
}

// isInjected503 reports whether o is the registry's injected 503, passed
// through unchanged.
func isInjected503(o outcome) bool {
	return o.status == http.StatusServiceUnavailable && o.registryAnswer() && strings.TrimSpace(o.body) == injectedFault
}

// TestChaosSlowRegistry: one registry answers after 2s, beyond its 300ms
// service timeout. Consumers get Server.RegistryTimeout at the deadline;
// beyond its max_in_flight they get Server.RegistryBusy at once; and the
// other registry, behind the same govbus, stays fast all along.
func TestChaosSlowRegistry(t *testing.T) {
	govbus, simBin := binaries(t)
	ports := chaosPorts(t, 5)
	fastSim := startSim(t, simBin, ports[3])
	slowSim := startSim(t, simBin, ports[4])
	const (
		deadline    = 300 * time.Millisecond
		maxInFlight = 4
		slowWorkers = 8
		fastWorkers = 2
	)
	n := startGovbus(t, govbus, ports[:3], 2*time.Second,
		regConf{id: civilID, endpoints: []string{fastSim.url}, settings: "    services:\n" + personsService},
		// The breaker is kept out of the way: timeouts count as failures.
		regConf{id: otherID, endpoints: []string{slowSim.url}, settings: fmt.Sprintf(
			"    max_in_flight: %d\n    breaker: {consecutive_failures: 1000000, min_requests: 1000000}\n"+
				"    services:\n      - {code: persons, methods: [GET], paths: [\"/persons/{id}\"], timeout: %s}\n",
			maxInFlight, deadline)})
	slowSim.faults(t, `{"delay_ms":2000}`)
	if o := n.get(personPath(civilID, 0)); o.status != http.StatusOK {
		t.Fatalf("fast registry: %s", o)
	}

	// One at a time: Server.RegistryTimeout at the deadline ± 50ms.
	var single []outcome
	for i := range 5 {
		o := n.get(personPath(otherID, i))
		single = append(single, o)
		if o.status != http.StatusGatewayTimeout || o.xrError != "Server.RegistryTimeout" {
			t.Errorf("slow registry: %s, want 504 Server.RegistryTimeout", o)
		}
		if d := o.latency() - deadline; d < -10*time.Millisecond || d > deadline/2 {
			t.Errorf("Server.RegistryTimeout after %v, want %v (at most %v late)", o.latency(), deadline, deadline/2)
		}
	}
	t.Logf("single slow calls (deadline %v): %s", deadline, latenciesOf(single))

	// Saturation: 8 consumers keep calling the slow registry (4 may be in
	// flight), 2 call the fast one, and an operator watches /admin/status.
	slowSim.resetStats(t)
	var slow, fast recorder
	var maxSeen atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var statusErr atomic.Pointer[error]
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			st, err := n.tryRegistryState(otherID)
			if err != nil {
				statusErr.Store(&err)
				return
			}
			if int64(st.InFlight) > maxSeen.Load() {
				maxSeen.Store(int64(st.InFlight))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	closedLoop(ctx, slowWorkers+fastWorkers, func(w, i int) bool {
		if w >= slowWorkers {
			fast.add(n.get(personPath(civilID, w*1000+i)))
			return true
		}
		o := n.get(personPath(otherID, w*1000+i))
		slow.add(o)
		if o.xrError == "Server.RegistryBusy" {
			time.Sleep(5 * time.Millisecond) // no hot spin on a full bulkhead
		}
		return true
	})
	<-done
	if err := statusErr.Load(); err != nil {
		t.Errorf("watching /admin/status: %v", *err)
	}

	var timeouts, busy []outcome
	for _, o := range slow.outcomes() {
		switch {
		case o.status == http.StatusGatewayTimeout && o.xrError == "Server.RegistryTimeout":
			timeouts = append(timeouts, o)
			// The deadline holds: never early, and not stretched by retries
			// (a retry would take another whole deadline); the slack is for
			// a loaded CI machine.
			if d := o.latency() - deadline; d < -10*time.Millisecond || d > deadline/2 {
				t.Errorf("Server.RegistryTimeout under load after %v, want %v (at most %v late)", o.latency(), deadline, deadline/2)
			}
		case o.status == http.StatusServiceUnavailable && o.xrError == "Server.RegistryBusy":
			busy = append(busy, o)
			// A full bulkhead answers without waiting for the registry:
			// well before the deadline that a wait would run into.
			if o.latency() >= deadline/2 {
				t.Errorf("Server.RegistryBusy after %v, want at once (< %v)", o.latency(), deadline/2)
			}
		default:
			t.Errorf("slow registry under load: %s", o)
		}
	}
	fastOuts := fast.outcomes()
	for _, o := range fastOuts {
		if o.status != http.StatusOK {
			t.Errorf("fast registry during the slow load: %s", o)
		}
	}
	fastLat := latenciesOf(fastOuts)
	slowHits := slowSim.requests(t)
	t.Logf("slow registry: %d Server.RegistryTimeout (%s), %d Server.RegistryBusy (%s); it saw %d requests; max in flight seen %d of %d",
		len(timeouts), latenciesOf(timeouts), len(busy), latenciesOf(busy), slowHits, maxSeen.Load(), maxInFlight)
	t.Logf("fast registry during the slow load: %s", fastLat)
	if len(timeouts) == 0 || len(busy) == 0 {
		t.Errorf("want both timeouts and busy answers, got %d and %d", len(timeouts), len(busy))
	}
	if slowHits != int64(len(timeouts)) {
		t.Errorf("the slow registry saw %d requests, want one per timeout (%d): busy calls must not reach it", slowHits, len(timeouts))
	}
	if maxSeen.Load() > maxInFlight {
		t.Errorf("/admin/status showed %d in flight, over max_in_flight %d", maxSeen.Load(), maxInFlight)
	}
	if len(fastOuts) < 20 || fastLat.q(0.5) >= 50*time.Millisecond {
		t.Errorf("fast registry during the slow load: %s; want >= 20 calls with p50 < 50ms", fastLat)
	}
}

// TestChaosDeadEndpoint: one of a registry's two endpoints has nothing
// listening. Every call succeeds through the other; the dead one's breaker
// opens and the live one's stays closed.
func TestChaosDeadEndpoint(t *testing.T) {
	t.Parallel()
	govbus, simBin := binaries(t)
	ports := chaosPorts(t, 5)
	sim := startSim(t, simBin, ports[3])
	dead := "http://127.0.0.1:" + ports[4] // handed out to this test only, never listened on
	n := startGovbus(t, govbus, ports[:3], 2*time.Second, regConf{id: civilID, endpoints: []string{dead, sim.url},
		settings: "    retry: {max: 2}\n    breaker: {consecutive_failures: 5, open_timeout: 30s}\n    services:\n" + personsService})
	sim.resetStats(t)

	const gets = 400
	outs := spread(4, gets, func(i int) outcome { return n.get(personPath(civilID, i)) })
	okN := 0
	for _, o := range outs {
		if o.status == http.StatusOK {
			okN++
		} else {
			t.Errorf("GET with one dead endpoint: %s", o)
		}
	}
	hits := sim.requests(t)
	deadFailed := n.metric(t, "govbus_upstream_attempts_total", "endpoint", dead, "result", "error")
	retries := n.metric(t, "govbus_upstream_retries_total", "registry", civilID)
	br := n.breakers(t, civilID)
	t.Logf("%d/%d GETs ok (latencies %s); live endpoint saw %d; attempts refused by the dead endpoint %v, retries %v; breakers %v",
		okN, len(outs), latenciesOf(outs), hits, deadFailed, retries, br)
	if okN != gets {
		t.Errorf("%d of %d GETs succeeded, want all", okN, gets)
	}
	if hits != gets {
		t.Errorf("the live endpoint saw %d requests for %d GETs", hits, gets)
	}
	if br[dead] != "open" || br[sim.url] != "closed" {
		t.Errorf("/admin/status breakers %v; want %s open and %s closed", br, dead, sim.url)
	}
}

// TestChaosSIGTERMDrain: govbus gets SIGTERM while 20 consumers are in the
// middle of slow requests. Every request it had accepted gets its 200;
// /readyz answers 503 during the drain; the process exits 0. Requests made
// after the listener closed cannot connect; they are counted, not failed.
func TestChaosSIGTERMDrain(t *testing.T) {
	const (
		workers = 20
		drain   = 5 * time.Second
		// delay keeps requests in flight long enough for the drain (and a
		// 503 from /readyz) to be seen.
		delay = 500 * time.Millisecond
	)
	n, sim := startCivil(t, drain, "    services:\n"+personsService)
	sim.faults(t, fmt.Sprintf(`{"delay_ms":%d}`, delay.Milliseconds()))

	var rec recorder
	var completed atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		closedLoop(ctx, workers, func(w, i int) bool {
			o := n.get(personPath(civilID, w*1000+i))
			rec.add(o)
			completed.Add(1)
			return o.err == nil // a consumer stops once it cannot connect
		})
	}()
	// Let every consumer finish a request and start the next, then signal
	// mid-request (a quarter of the delay into the second round).
	if !waitFor(5*time.Second, func() bool { return completed.Load() >= workers }) {
		t.Fatalf("only %d requests completed in 5s", completed.Load())
	}
	time.Sleep(delay / 4)
	exited := make(chan error, 1)
	signalled := time.Now()
	if err := n.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	go func() { exited <- n.cmd.Wait() }()
	waited := false
	defer func() { // never leave Wait running when the test returns
		if !waited {
			_ = n.cmd.Process.Kill()
			<-exited
		}
	}()

	// /readyz, polled from right after the signal, must answer 503.
	probe := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Second}
	var seen []string
	got503 := false
	for !got503 && time.Since(signalled) < drain {
		resp, err := probe.Get(n.status + "/readyz")
		if err != nil {
			seen = append(seen, fmt.Sprintf("%v: %v", time.Since(signalled).Round(time.Millisecond), err))
			if len(seen) > 30 {
				break
			}
		} else {
			resp.Body.Close()
			seen = append(seen, fmt.Sprintf("%v: %d", time.Since(signalled).Round(time.Millisecond), resp.StatusCode))
			got503 = resp.StatusCode == http.StatusServiceUnavailable
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !got503 {
		t.Errorf("/readyz never answered 503 during the drain; polled after SIGTERM:\n  %s", strings.Join(seen, "\n  "))
	}

	var exitErr error
	select {
	case exitErr = <-exited:
		waited = true
	case <-time.After(drain + 5*time.Second):
		t.Fatalf("govbus still running %v after SIGTERM", drain+5*time.Second)
	}
	stopped := time.Now()
	if exitErr != nil || n.cmd.ProcessState.ExitCode() != 0 {
		t.Errorf("govbus exited with %v after SIGTERM, want 0", exitErr)
	}
	<-loadDone

	var ok, inFlight, notAccepted, notAcceptedBefore int
	for _, o := range rec.outcomes() {
		switch {
		case o.err == nil && o.status == http.StatusOK:
			ok++
			if o.start.Before(signalled) && o.end.After(signalled) {
				inFlight++
			}
		case o.err != nil && refused(o.err):
			notAccepted++
			if o.start.Before(signalled) {
				notAcceptedBefore++
			}
		default:
			t.Errorf("request started %v after SIGTERM failed: %s", o.start.Sub(signalled).Round(time.Millisecond), o)
		}
	}
	t.Logf("SIGTERM with %d consumers in slow requests: %d requests got 200, %d of them in flight at the signal; "+
		"%d could not connect (%d of those started before the signal); drain and exit took %v; /readyz after the signal: %s",
		workers, ok, inFlight, notAccepted, notAcceptedBefore, stopped.Sub(signalled).Round(time.Millisecond), strings.Join(seen, ", "))
	if inFlight < workers/2 {
		t.Errorf("only %d requests were in flight at the signal, want >= %d: the test did not load the drain", inFlight, workers/2)
	}
}
