package node_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/govbus/govbus/config"
	"github.com/govbus/govbus/gateway"
	"github.com/govbus/govbus/node"
	"github.com/govbus/govbus/outbound"
	"github.com/govbus/govbus/registrysim"
)

const reloadConfig = `
registries:
  - id: UA/GOV/00000001/civil-registry
    endpoints: [%s]
    timeout: %s
    retry: {max: 0}
    breaker: {consecutive_failures: 2, open_timeout: 1m}
    services:
      - code: persons
        paths: ["/persons/{id}"]
clients:
  - {id: UA/GOV/00000003/eservice, auth: {api_keys: [%s]}}
rules:
  - id: %s
    clients: [UA/GOV/00000003/eservice]
    services: [UA/GOV/00000001/civil-registry/persons]
message_log: {disabled: true}
`

func buildSnapshot(t testing.TB, url, timeout, rule string, prev *gateway.Snapshot) *gateway.Snapshot {
	t.Helper()
	cfg, problems, err := config.Parse(fmt.Appendf(nil, reloadConfig, url, timeout, hashOf(eserviceKey), rule), ".", func(string) string { return "" })
	if err != nil {
		t.Fatalf("config: %v", problems)
	}
	s, err := node.Build(cfg, node.Options{Previous: prev})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func breakerOf(s *gateway.Snapshot) string {
	st := s.Subsystems["UA/GOV/00000001/civil-registry"][0].Adapter.(interface{ Status() any }).Status().(outbound.Status)
	return st.Endpoints[0].Breaker
}

// TestReloadKeepsRuntimeState: a reload that leaves a registry's
// configuration alone keeps its breaker (and pool, budget, bulkhead); a
// change to it builds a new one.
func TestReloadKeepsRuntimeState(t *testing.T) {
	sim := registrysim.NewCivil()
	_ = sim.SetFaults(registrysim.Faults{Status: 503, Rate: 1})
	reg := httptest.NewServer(sim)
	defer reg.Close()
	s1 := buildSnapshot(t, reg.URL, "2s", "rule-a", nil)
	holder := gateway.NewHolder(s1)
	bus := httptest.NewServer(gateway.NewHandler(gateway.Options{Holder: holder}))
	defer bus.Close()
	for i := 0; i < 3; i++ {
		get(t, bus.URL)
	}
	if got := breakerOf(s1); got != "open" {
		t.Fatalf("breaker = %s, want open", got)
	}
	// The rules changed, the registry did not: same adapter, still open.
	s2 := buildSnapshot(t, reg.URL, "2s", "rule-b", s1)
	if got := breakerOf(s2); got != "open" {
		t.Errorf("after a reload that changed only rules: breaker = %s, want still open", got)
	}
	if len(node.Retired(s1, s2)) != 0 {
		t.Errorf("a kept adapter was retired")
	}
	// The registry's own settings changed: a fresh adapter.
	s3 := buildSnapshot(t, reg.URL, "3s", "rule-b", s2)
	if got := breakerOf(s3); got != "closed" {
		t.Errorf("after the registry's timeout changed: breaker = %s, want a new closed one", got)
	}
	if len(node.Retired(s2, s3)) != 1 {
		t.Errorf("the replaced adapter was not retired")
	}
}

func get(t testing.TB, base string) int {
	req, _ := http.NewRequest("GET", base+"/r1/UA/GOV/00000001/civil-registry/persons/persons/1000000042", nil)
	req.Header.Set("X-Road-Client", "UA/GOV/00000003/eservice")
	req.Header.Set("Authorization", "Bearer "+eserviceKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestReloadUnderLoad swaps the configuration 100 times while clients
// call; no request fails.
func TestReloadUnderLoad(t *testing.T) {
	reg := httptest.NewServer(registrysim.NewCivil())
	defer reg.Close()
	prev := buildSnapshot(t, reg.URL, "2s", "rule-0", nil)
	holder := gateway.NewHolder(prev)
	bus := httptest.NewServer(gateway.NewHandler(gateway.Options{Holder: holder}))
	defer bus.Close()
	var ok, failed atomic.Int64
	var statuses sync.Map
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if code := get(t, bus.URL); code == 200 {
					ok.Add(1)
				} else {
					failed.Add(1)
					statuses.Store(code, true)
				}
			}
		}()
	}
	for i := 1; i <= 100; i++ {
		// Let a few requests through under each configuration.
		for want := int64(i * 5); ok.Load()+failed.Load() < want; {
			runtime.Gosched()
		}
		timeout := "2s"
		if i%10 == 0 {
			timeout = fmt.Sprintf("%ds", 2+i%3) // now and then the registry itself changes
		}
		next := buildSnapshot(t, reg.URL, timeout, fmt.Sprintf("rule-%d", i), holder.Load())
		holder.Store(next)
	}
	close(stop)
	wg.Wait()
	var codes []string
	statuses.Range(func(k, _ any) bool { codes = append(codes, fmt.Sprint(k)); return true })
	if failed.Load() != 0 || ok.Load() == 0 {
		t.Errorf("%d requests failed (statuses %s), %d succeeded across 100 reloads", failed.Load(), strings.Join(codes, ","), ok.Load())
	}
	t.Logf("%d requests succeeded across 100 reloads", ok.Load())
}
