package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/govbus/govbus/audit/pgtest"
)

// Message log tests (DESIGN.md §6) on the real binaries: records survive
// SIGKILL, `govbus audit verify` finds tampering in the file, govbus fails
// closed while PostgreSQL is down and recovers by itself, and the Data
// Tracker reads the log.

// TestMessageLogDurabilityUnderKill: 8 consumers call govbus (SQLite
// store) in a closed loop, each call with an X-Road-Id of its own, while
// govbus is killed with SIGKILL 5 times and restarted on the same ports.
// Afterwards the chain verifies, and every exchange a consumer saw answered
// 200 has both its request and its response record: none was lost.
func TestMessageLogDurabilityUnderKill(t *testing.T) {
	govbus, simBin := binaries(t)
	ports := chaosPorts(t, 4)
	sim := startSim(t, simBin, ports[3])
	dir := t.TempDir()
	n := newMLNode(t, govbus, ports, sim.url, sqliteLog(dir))
	n.start(t)
	if _, err := os.Stat(filepath.Join(dir, "messagelog.key")); err != nil {
		t.Fatalf("govbus did not write the signing key at first start: %v", err)
	}

	const (
		workers = 8
		kills   = 5
	)
	var (
		mu        sync.Mutex
		succeeded = map[string]bool{} // X-Road-Ids answered 200
		statuses  = map[int]int{}     // every HTTP answer's status
		netErrs   atomic.Int64        // calls without an answer (cut by a kill, or refused)
		attempted atomic.Int64
	)
	okCount := func() int { mu.Lock(); defer mu.Unlock(); return len(succeeded) }
	ctx, cancel := context.WithCancel(context.Background())
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		closedLoop(ctx, workers, func(w, i int) bool {
			id := fmt.Sprintf("ml-kill-w%d-%d", w, i)
			attempted.Add(1)
			a := n.person(w*7919+i, id)
			if a.err != nil {
				netErrs.Add(1)
				time.Sleep(5 * time.Millisecond) // govbus is down: do not spin
				return true
			}
			mu.Lock()
			statuses[a.status]++
			if a.status == http.StatusOK {
				succeeded[id] = true
			}
			mu.Unlock()
			return true
		})
	}()
	t.Cleanup(func() { cancel(); <-loadDone })

	started := time.Now()
	var downtime time.Duration
	perRun := make([]int, 0, kills+1)
	last := 0
	for k := range kills {
		time.Sleep(300*time.Millisecond + rand.N(500*time.Millisecond))
		// Kill under load: the run must have answered calls.
		if !waitFor(5*time.Second, func() bool { return okCount() >= last+10 }) {
			t.Fatalf("run %d answered only %d calls in 5s", k+1, okCount()-last)
		}
		n.kill(t)
		down := time.Now()
		c := okCount()
		perRun, last = append(perRun, c-last), c
		n.start(t)
		downtime += time.Since(down)
	}
	time.Sleep(300 * time.Millisecond)
	cancel()
	<-loadDone
	perRun = append(perRun, okCount()-last)
	n.stop(t)
	elapsed := time.Since(started)

	report := verifyOK(t, govbus, n.config)
	recs := exportRecords(t, govbus, n.config)
	ex := byMessageID(recs)

	var lost []string
	for id := range succeeded {
		e := ex[id]
		switch {
		case e == nil:
			lost = append(lost, id+": no record")
		case e.requests == 0:
			lost = append(lost, id+": no request record")
		case e.responses == 0:
			lost = append(lost, id+": no response record")
		case e.status != http.StatusOK:
			lost = append(lost, fmt.Sprintf("%s: response record says %d, the consumer got 200", id, e.status))
		}
	}
	var requests, responses, orphans, foreign int
	for id, e := range ex {
		requests += e.requests
		responses += e.responses
		if e.responses == 0 {
			orphans++
		}
		if !strings.HasPrefix(id, "ml-kill-w") {
			foreign++
		}
	}
	slices.Sort(lost)
	mu.Lock()
	answered := maps.Clone(statuses)
	mu.Unlock()

	t.Logf("%d kills (SIGKILL every 300-800ms under load), %v total, %v down; exchanges answered 200 per run: %v",
		kills, elapsed.Round(time.Millisecond), downtime.Round(time.Millisecond), perRun)
	t.Logf("calls: %d attempted, %d answered 200, %d without an answer (cut or refused), statuses %v",
		attempted.Load(), len(succeeded), netErrs.Load(), answered)
	t.Logf("records: %d (%d request, %d response) for %d X-Road-Ids; request-only (cut by a kill): %d; lost: %d",
		len(recs), requests, responses, len(ex), orphans, len(lost))
	t.Logf("verify: %s", report)

	if len(lost) > 0 {
		t.Errorf("%d of %d exchanges answered 200 lost records:\n  %s", len(lost), len(succeeded),
			strings.Join(lost[:min(len(lost), 20)], "\n  "))
	}
	if len(succeeded) < 200 {
		t.Errorf("only %d exchanges answered 200: too little load to mean anything", len(succeeded))
	}
	if answered[http.StatusOK] != mlTotal(answered) {
		t.Errorf("every answer should be 200 (a kill cuts connections, it does not produce errors); got %v", answered)
	}
	// Only the exchanges in flight at a kill (at most one per consumer)
	// may lack their response record.
	if orphans > kills*workers {
		t.Errorf("%d exchanges have a request record only; at most %d (%d kills x %d consumers) can have been cut",
			orphans, kills*workers, kills, workers)
	}
	if foreign > 0 {
		t.Errorf("%d records carry an X-Road-Id the consumers never sent", foreign)
	}
	if want := fmt.Sprintf(" %d records (seq 1..%d)", len(recs), len(recs)); !strings.Contains(report, want) {
		t.Errorf("verify report %q does not cover the %d exported records (want %q)", report, len(recs), want)
	}
}

func mlTotal(m map[int]int) int {
	s := 0
	for _, v := range m {
		s += v
	}
	return s
}

// TestMessageLogTamperDetectedByCLI: after some exchanges and a clean
// stop, edits made directly in the SQLite file are found by `govbus audit
// verify` (exit 1, naming the record): an edited row, a deleted row, and a
// tail cut together with its signed heads, which only the head published
// in /admin/status (given as -anchor) reveals.
func TestMessageLogTamperDetectedByCLI(t *testing.T) {
	govbus, simBin := binaries(t)
	ports := chaosPorts(t, 4)
	sim := startSim(t, simBin, ports[3])
	dir := t.TempDir()
	n := newMLNode(t, govbus, ports, sim.url, sqliteLog(dir))
	n.start(t)
	const exchanges = 10
	for i := range exchanges {
		if a := n.person(i, fmt.Sprintf("ml-tamper-%d", i)); a.status != http.StatusOK {
			t.Fatalf("exchange %d: %s", i, a)
		}
	}
	const records = 2 * exchanges
	// The head published in /admin/status, once it covers every record,
	// is what an operator anchors outside the node.
	var anchor json.RawMessage
	if !waitFor(5*time.Second, func() bool {
		st, seq := n.messageLogStatus(t)
		anchor = st.Head
		return seq == records
	}) {
		t.Fatalf("/admin/status never published a head at seq %d; last: %s", records, anchor)
	}
	n.stop(t)

	db := filepath.Join(dir, "messagelog.db")
	src, err := os.ReadFile(n.config)
	if err != nil {
		t.Fatal(err)
	}
	// tampered copies the log to a file of its own, runs stmts on it and
	// returns a configuration reading it.
	tampered := func(name string, stmts ...string) string {
		t.Helper()
		d := t.TempDir()
		path := filepath.Join(d, name+".db")
		mlCopyFile(t, db, path)
		mlCopyFile(t, db+"-wal", path+"-wal")
		mlExecSQLite(t, path, stmts...)
		cfg := filepath.Join(d, "govbus.yaml")
		if err := os.WriteFile(cfg, []byte(strings.ReplaceAll(string(src), db, path)), 0o600); err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	failing := func(what, cfg string, args []string, wants ...string) {
		t.Helper()
		out, errOut, code := govbusAudit(t, govbus, append([]string{"verify", "-config", cfg}, args...)...)
		t.Logf("%s: exit %d: %s", what, code, strings.TrimSpace(out+errOut))
		if code != 1 {
			t.Errorf("%s: verify exit %d, want 1", what, code)
		}
		for _, w := range wants {
			if !strings.Contains(out, w) {
				t.Errorf("%s: verify output lacks %q:\n%s%s", what, w, out, errOut)
			}
		}
	}
	withAnchor := []string{"-anchor", string(anchor)}

	t.Logf("untouched: %s", verifyOK(t, govbus, n.config))
	if rep := verifyOK(t, govbus, n.config, withAnchor...); !strings.Contains(rep, fmt.Sprintf("%d records (seq 1..%d)", records, records)) {
		t.Errorf("untouched log against the published head: %s, want %d records", rep, records)
	}

	failing("client of seq 3 edited", tampered("edited", `UPDATE records SET client = 'EVIL' WHERE seq = 3`), nil,
		"seq 3 (record ", "hash mismatch (edited)")

	failing("seq 7 deleted", tampered("deleted", `DELETE FROM records WHERE seq = 7`), nil,
		"seq 8 (record ", "sequence gap (deleted)", "record 7 is missing")

	// The data subject index is no part of the chain, but emptying it would
	// hide every access from the Data Tracker; audit reindex repairs it.
	unindexed := tampered("unindexed", `DELETE FROM records_subjects`)
	failing("subject index emptied", unindexed, nil, "missing from the data subject index", "govbus audit reindex")
	if out, errOut, code := govbusAudit(t, govbus, "reindex", "-config", unindexed); code != 0 {
		t.Errorf("audit reindex: exit %d: %s%s", code, out, errOut)
	}
	t.Logf("subject index rebuilt: %s", verifyOK(t, govbus, unindexed))

	cut := tampered("cut", `DELETE FROM records WHERE seq > 14`, `DELETE FROM heads WHERE seq > 14`)
	// Control: with the signed heads gone too, the cut leaves no trace in
	// the file itself (verify.go says so) ...
	if out, errOut, code := govbusAudit(t, govbus, "verify", "-config", cut); code != 0 {
		t.Errorf("tail cut with its heads, no anchor: exit %d, want 0 (nothing in the file shows the cut):\n%s%s", code, out, errOut)
	} else {
		t.Logf("tail cut with its heads, no anchor: exit 0: %s", strings.TrimSpace(out))
	}
	// ... which the anchored head reveals.
	failing("tail after seq 14 cut, anchored head", cut, withAnchor,
		"cut tail", fmt.Sprintf("chain ends at seq 14, before the anchored head at %d", records))
}

// TestMessageLogFailsClosedWithPostgres: with the PostgreSQL store, while
// the server is down govbus answers Server.LoggingFailed and forwards
// nothing, /readyz answers 503; when the server is back on the same port
// govbus recovers by itself, and the chain verifies.
func TestMessageLogFailsClosedWithPostgres(t *testing.T) {
	pg := pgtest.StartServer(t)
	govbus, simBin := binaries(t)
	ports := chaosPorts(t, 4)
	sim := startSim(t, simBin, ports[3])
	n := newMLNode(t, govbus, ports, sim.url, postgresLog(pg.DSN(), t.TempDir()))
	n.start(t)

	var ok []string // X-Road-Ids answered 200
	exchange := func(phase string, i int) (string, mlAnswer) {
		id := fmt.Sprintf("ml-pg-%s-%d", phase, i)
		a := n.person(i, id)
		if a.status == http.StatusOK {
			ok = append(ok, id)
		}
		return id, a
	}
	const calls = 20
	for i := range calls {
		if _, a := exchange("before", i); a.status != http.StatusOK {
			t.Fatalf("before the outage, exchange %d: %s", i, a)
		}
	}

	if err := pg.Stop(); err != nil {
		t.Fatalf("stopping PostgreSQL: %v", err)
	}
	forwarded := sim.requests(t)
	var refused []string
	var slowest time.Duration
	for i := range calls {
		t0 := time.Now()
		id, a := exchange("down", i)
		slowest = max(slowest, time.Since(t0))
		refused = append(refused, id)
		if a.status != http.StatusServiceUnavailable || a.xrError != "Server.LoggingFailed" {
			t.Errorf("PostgreSQL down, exchange %d: %s; want 503 Server.LoggingFailed", i, a)
		}
	}
	leaked := sim.requests(t) - forwarded
	if leaked != 0 {
		t.Errorf("PostgreSQL down: %d requests reached the registry; want 0 (nothing is forwarded unlogged)", leaked)
	}
	var readyz int
	if !waitFor(5*time.Second, func() bool {
		readyz = mlStatusCode(n.status + "/readyz")
		return readyz == http.StatusServiceUnavailable
	}) {
		t.Errorf("PostgreSQL down: /readyz answers %d, want 503", readyz)
	}
	if st, _ := n.messageLogStatus(t); st.Healthy || st.Error == "" {
		t.Errorf("PostgreSQL down: /admin/status message_log %+v, want healthy false and the error", st)
	}

	if err := pg.Start(); err != nil {
		t.Fatalf("restarting PostgreSQL: %v", err)
	}
	restarted := time.Now()
	// No traffic meanwhile: a load balancer sends none to a node that is
	// not ready, so readiness must come back by itself.
	if !waitFor(5*time.Second, func() bool { return mlStatusCode(n.status+"/readyz") == http.StatusOK }) {
		t.Fatalf("/readyz still %d 5s after PostgreSQL's restart", mlStatusCode(n.status+"/readyz"))
	}
	readyAfter := time.Since(restarted)
	for i := range calls {
		if _, a := exchange("after", i); a.status != http.StatusOK {
			t.Errorf("after recovery, exchange %d: %s", i, a)
		}
	}
	n.stop(t)

	report := verifyOK(t, govbus, n.config)
	recs := exportRecords(t, govbus, n.config)
	ex := byMessageID(recs)
	for _, id := range ok {
		if e := ex[id]; e == nil || e.requests != 1 || e.responses != 1 || e.status != http.StatusOK {
			t.Errorf("exchange %s answered 200: records %+v, want one request and one 200 response", id, e)
		}
	}
	for _, id := range refused {
		if e := ex[id]; e != nil {
			t.Errorf("exchange %s refused while PostgreSQL was down has records %+v", id, e)
		}
	}
	t.Logf("PostgreSQL down: %d exchanges, all 503 Server.LoggingFailed (slowest %v), %d forwarded; /readyz 503",
		len(refused), slowest.Round(time.Microsecond), leaked)
	t.Logf("after PostgreSQL's restart: /readyz 200 after %v without traffic; then %d of %d exchanges 200",
		readyAfter.Round(time.Millisecond), len(ok)-calls, calls)
	t.Logf("records: %d for %d exchanges answered 200; verify: %s", len(recs), len(ok), report)
}

// TestMessageLogTrackerEndToEnd: in the demo world, the e-service and the
// benefits system read person 1000000042; the citizen portal's Data
// Tracker lists both accesses with the members and purposes; the e-service
// has no tracker right.
func TestMessageLogTrackerEndToEnd(t *testing.T) {
	govbus, simBin := binaries(t)
	d := startDemo(t, govbus, simBin)
	base := "http://127.0.0.1:" + d.ports["8080"]
	c := &http.Client{Timeout: 10 * time.Second}
	t.Cleanup(c.CloseIdleConnections)
	person := func(id string) string { return base + "/r1/UA/GOV/00000001/civil-registry/persons/persons/" + id }
	for _, call := range []struct{ client, key, purpose, person string }{
		{"UA/GOV/00000003/eservice", "demo-eservice-key", "service-delivery", "1000000042"},
		{"UA/GOV/00000004/benefits", "demo-benefits-key", "benefit-eligibility", "1000000042"},
		{"UA/GOV/00000004/benefits", "demo-benefits-key", "benefit-eligibility", "1000000001"}, // someone else
	} {
		if a := mlDo(c, person(call.person), "X-Road-Client", call.client, "Authorization", "Bearer "+call.key,
			"X-Road-Purpose", call.purpose); a.status != http.StatusOK {
			t.Fatalf("%s reads %s: %s", call.client, call.person, a)
		}
	}
	tracker := base + "/tracker/v1/accesses?subject=1000000042"

	a := mlDo(c, tracker, "X-Road-Client", "UA/GOV/00000005/citizen-portal", "Authorization", "Bearer demo-portal-key",
		"X-Road-UserId", "EE38001085718")
	if a.status != http.StatusOK {
		t.Fatalf("tracker as the citizen portal: %s", a)
	}
	var got struct {
		Accesses []struct {
			Time      time.Time `json:"time"`
			Member    string    `json:"member"`
			MemberID  string    `json:"member_id"`
			Subsystem string    `json:"subsystem"`
			Service   string    `json:"service"`
			Purpose   string    `json:"purpose"`
			Outcome   string    `json:"outcome"`
		} `json:"accesses"`
	}
	if err := json.Unmarshal(a.body, &got); err != nil {
		t.Fatalf("tracker answer %s: %v", a.body, err)
	}
	t.Logf("tracker for 1000000042: %s", a.body)
	want := []struct{ member, memberID, subsystem, purpose string }{
		{"State e-services agency", "UA/GOV/00000003", "eservice", "service-delivery"},
		{"Pension and benefits fund", "UA/GOV/00000004", "benefits", "benefit-eligibility"},
	}
	if len(got.Accesses) != len(want) {
		t.Fatalf("tracker lists %d accesses, want %d: %s", len(got.Accesses), len(want), a.body)
	}
	for i, w := range want {
		g := got.Accesses[i]
		if g.Member != w.member || g.MemberID != w.memberID || g.Subsystem != w.subsystem || g.Purpose != w.purpose ||
			g.Service != "UA/GOV/00000001/civil-registry/persons" || g.Outcome != "ok" || g.Time.IsZero() {
			t.Errorf("access %d = %+v, want member %q (%s), subsystem %s, purpose %s, service persons, outcome ok",
				i, g, w.member, w.memberID, w.subsystem, w.purpose)
		}
	}

	a = mlDo(c, tracker, "X-Road-Client", "UA/GOV/00000003/eservice", "Authorization", "Bearer demo-eservice-key")
	if a.status != http.StatusForbidden || a.xrError != "Client.AccessDenied" {
		t.Errorf("tracker as the e-service: %s; want 403 Client.AccessDenied", a)
	}
}
