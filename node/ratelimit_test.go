package node_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/govbus/govbus/config"
	"github.com/govbus/govbus/gateway"
	"github.com/govbus/govbus/node"
	"github.com/govbus/govbus/ratelimit"
	"github.com/govbus/govbus/registrysim"
)

const limitsConfig = `
registries:
  - id: UA/GOV/00000001/civil-registry
    endpoints: [%s]
    retry: {max: 0}
    services:
      - code: persons
        paths: ["/persons/{id}"]
clients:
  - {id: UA/GOV/00000003/eservice, auth: {api_keys: [%s]}}
  - {id: UA/GOV/00000004/benefits, auth: {api_keys: [%s]}}
rules:
  - id: persons
    clients: [UA/GOV/00000003/eservice, UA/GOV/00000004/benefits]
    services: [UA/GOV/00000001/civil-registry/persons]
    rate: {per_second: 0.4, burst: %d}
message_log: {disabled: true}
`

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func buildLimited(t *testing.T, url string, burst int, opts node.Options) *gateway.Snapshot {
	t.Helper()
	doc := fmt.Appendf(nil, limitsConfig, url, hashOf(eserviceKey), hashOf(benefitsKey), burst)
	cfg, problems, err := config.Parse(doc, ".", func(string) string { return "" })
	if err != nil {
		t.Fatalf("config: %v", problems)
	}
	s, err := node.Build(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// callAs makes one call as client and returns the status, the
// X-Road-Error and Retry-After headers and the error body's type.
func callAs(t *testing.T, base, client, key string) (status int, xErr, retryAfter, bodyType string) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+personsSvc+"/persons/1000000042", nil)
	req.Header.Set("X-Road-Client", client)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var e struct{ Type string }
	if resp.Header.Get("X-Road-Error") != "" {
		if err := json.Unmarshal(body, &e); err != nil {
			t.Errorf("error body %q: %v", body, err)
		}
	}
	return resp.StatusCode, resp.Header.Get("X-Road-Error"), resp.Header.Get("Retry-After"), e.Type
}

// TestRateLimitThroughChain: a client over its rate gets 429
// Client.RateLimited with Retry-After before the registry is called;
// another client keeps its own bucket; a reload with the same State does
// not refill the bucket, and a changed limit applies from the next call.
func TestRateLimitThroughChain(t *testing.T) {
	const (
		eservice = "UA/GOV/00000003/eservice"
		benefits = "UA/GOV/00000004/benefits"
	)
	sim := registrysim.NewCivil()
	reg := httptest.NewServer(sim)
	defer reg.Close()
	clock := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	limits := ratelimit.NewState(clock.Now)
	s1 := buildLimited(t, reg.URL, 3, node.Options{Limits: limits})
	holder := gateway.NewHolder(s1)
	bus := httptest.NewServer(gateway.NewHandler(gateway.Options{Holder: holder}))
	defer bus.Close()

	expectLimited := func(when string, wantRetry int) {
		t.Helper()
		status, xErr, retry, typ := callAs(t, bus.URL, eservice, eserviceKey)
		n, _ := strconv.Atoi(retry)
		if status != http.StatusTooManyRequests || xErr != "Client.RateLimited" || typ != "Client.RateLimited" || n != wantRetry {
			t.Errorf("%s: %d, X-Road-Error %q, body type %q, Retry-After %q; want 429 Client.RateLimited, Retry-After %d",
				when, status, xErr, typ, retry, wantRetry)
		}
	}
	expectOK := func(when, client, key string, n int) {
		t.Helper()
		for i := range n {
			if status, xErr, _, _ := callAs(t, bus.URL, client, key); status != http.StatusOK {
				t.Fatalf("%s: call %d of %s: %d %s, want 200", when, i+1, client, status, xErr)
			}
		}
	}

	// The burst of 3 passes, the 4th waits 2.5 s: Retry-After 3.
	expectOK("burst", eservice, eserviceKey, 3)
	expectLimited("over the burst", 3)
	expectLimited("again", 3)
	// Another client allowed by the same rule has its own bucket.
	expectOK("other client", benefits, benefitsKey, 3)
	if got := sim.Requests(); got != 6 {
		t.Errorf("registry saw %d requests, want the 6 allowed", got)
	}

	// A reload with the same State: the bucket is still empty.
	s2 := buildLimited(t, reg.URL, 3, node.Options{Previous: s1, Limits: limits})
	holder.Store(s2)
	expectLimited("after a reload", 3)
	clock.Advance(2 * time.Second) // 0.8 token: 0.5 s to go
	expectLimited("2 s later", 1)
	clock.Advance(500 * time.Millisecond)
	expectOK("2.5 s later", eservice, eserviceKey, 1)
	expectLimited("token spent", 3)

	// A raised burst applies from the next call; the bucket fills at the
	// rate, not at once.
	s3 := buildLimited(t, reg.URL, 10, node.Options{Previous: s2, Limits: limits})
	holder.Store(s3)
	clock.Advance(10 * time.Second) // 4 tokens
	expectOK("raised burst", eservice, eserviceKey, 4)
	expectLimited("raised burst spent", 3)
	if got := sim.Requests(); got != 11 {
		t.Errorf("registry saw %d requests, want the 11 allowed", got)
	}

	// Without the shared State a reload would have started afresh: the
	// test above would notice.
	fresh := buildLimited(t, reg.URL, 10, node.Options{Previous: s3})
	if _, ok := fresh.Limiter.Allow(t.Context(), eservice, "UA/GOV/00000001/civil-registry/persons", "persons"); !ok {
		t.Error("a Build without Limits shares the State")
	}
}

// TestNoLimiterWithoutLimits: a configuration without rates or quotas
// installs no Limiter, so the chain skips the step.
func TestNoLimiterWithoutLimits(t *testing.T) {
	s := buildSnapshot(t, "http://127.0.0.1:1", "2s", "rule-a", nil)
	if s.Limiter != nil {
		t.Errorf("Limiter = %v, want none", s.Limiter)
	}
}
