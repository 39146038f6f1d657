package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// jaegerConfig runs Jaeger with in-memory storage and every listener on
// 127.0.0.1: OTLP/HTTP in, the query API out.
const jaegerConfig = `
service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces: {receivers: [otlp], processors: [batch], exporters: [jaeger_storage_exporter]}
  telemetry:
    metrics: {level: none}
    logs: {level: warn}
extensions:
  jaeger_storage:
    backends:
      mem: {memory: {max_traces: 10000}}
  jaeger_query:
    storage: {traces: mem}
    enable_tracing: false
    http: {endpoint: "127.0.0.1:%s"}
    grpc: {endpoint: "127.0.0.1:%s"}
receivers:
  otlp:
    protocols:
      http: {endpoint: "127.0.0.1:%s"}
processors:
  batch: {timeout: 100ms}
exporters:
  jaeger_storage_exporter: {trace_storage: mem}
`

// jaegerBinary returns the pinned Jaeger, built once into a cache by
// scripts/ensure-jaeger.sh (make test runs it first).
func jaegerBinary(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("../scripts/ensure-jaeger.sh").Output()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("building Jaeger: %v", err)
		}
		t.Skipf("Jaeger could not be built (scripts/ensure-jaeger.sh): %v", err)
	}
	return strings.TrimSpace(string(out))
}

type jaegerTrace struct {
	Spans []struct {
		TraceID       string `json:"traceID"`
		SpanID        string `json:"spanID"`
		OperationName string `json:"operationName"`
		ProcessID     string `json:"processID"`
		References    []struct {
			RefType string `json:"refType"`
			SpanID  string `json:"spanID"`
		} `json:"references"`
		Tags []struct {
			Key   string `json:"key"`
			Value any    `json:"value"`
		} `json:"tags"`
	} `json:"spans"`
	Processes map[string]struct {
		ServiceName string `json:"serviceName"`
	} `json:"processes"`
}

// TestTracesInJaeger runs govbus and registrysim exporting to a real
// Jaeger and reads the exchange's trace back from Jaeger's query API.
func TestTracesInJaeger(t *testing.T) {
	jaeger := jaegerBinary(t)
	govbus, registrysim := binaries(t)
	ports := freePorts(t, 7)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "jaeger.yaml")
	if err := os.WriteFile(cfgPath, fmt.Appendf(nil, jaegerConfig, ports[0], ports[1], ports[2]), 0o600); err != nil {
		t.Fatal(err)
	}
	j := exec.Command(jaeger, "--config=file:"+cfgPath)
	j.Env = append(os.Environ(), "JAEGER_LISTEN_HOST=127.0.0.1")
	startCmd(t, j, "jaeger")
	query := "http://127.0.0.1:" + ports[0]
	otlp := "http://127.0.0.1:" + ports[2]
	waitReady(t, query+"/api/services")

	d := &demo{ports: map[string]string{"8080": ports[3], "9464": ports[4], "9465": ports[5], "9101": ports[6]}}
	src, err := os.ReadFile("../deploy/demo/govbus.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.ReplaceAll(d.rewrite(string(src)), "../../registrysim/", mustAbs(t, "../registrysim")+"/")
	d.config = filepath.Join(dir, "govbus.yaml")
	if err := os.WriteFile(d.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	start(t, registrysim, "-civil", "127.0.0.1:"+d.ports["9101"], "-business", "", "-otlp", otlp)
	gb := exec.Command(govbus, "serve", "-config", d.config)
	gb.Env = append(os.Environ(), "OTEL_EXPORTER_OTLP_ENDPOINT="+otlp)
	startCmd(t, gb, "govbus")
	waitReady(t, "http://127.0.0.1:"+d.ports["9464"]+"/readyz")
	waitReady(t, "http://127.0.0.1:"+d.ports["9101"]+"/_sim/stats") // the registry may still be starting

	req, _ := http.NewRequest("GET", "http://127.0.0.1:"+d.ports["8080"]+"/r1/UA/GOV/00000001/civil-registry/persons/persons/1000000042", nil)
	req.Header.Set("X-Road-Client", "UA/GOV/00000003/eservice")
	req.Header.Set("Authorization", "Bearer demo-eservice-key")
	req.Header.Set("X-Road-Purpose", "service-delivery")
	req.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("exchange status %d", resp.StatusCode)
	}

	// Spans arrive within the exporters' batch delays; poll the query API.
	var tr jaegerTrace
	deadline := time.Now().Add(20 * time.Second)
	for {
		tr = fetchTrace(t, query, "4bf92f3577b34da6a3ce929d0e0e4736")
		if len(tr.Spans) >= 6 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	type span struct{ service, name, kind, parent string }
	byID := map[string]span{}
	for _, s := range tr.Spans {
		sp := span{service: tr.Processes[s.ProcessID].ServiceName, name: s.OperationName}
		for _, tag := range s.Tags {
			if tag.Key == "span.kind" {
				sp.kind, _ = tag.Value.(string)
			}
		}
		for _, r := range s.References {
			if r.RefType == "CHILD_OF" {
				sp.parent = r.SpanID
			}
		}
		byID[s.SpanID] = sp
	}
	find := func(service, name string) (string, span) {
		t.Helper()
		for id, s := range byID {
			if s.service == service && s.name == name {
				return id, s
			}
		}
		t.Fatalf("no %s span %q in the trace; have %v", service, name, byID)
		return "", span{}
	}
	serverID, server := find("govbus", "GET /r1/UA/GOV/00000001/civil-registry/persons")
	if server.kind != "server" || server.parent != "00f067aa0ba902b7" {
		t.Errorf("server span = %+v, want kind server under the consumer's span", server)
	}
	for _, name := range []string{"authenticate", "policy", "adapter"} {
		if _, s := find("govbus", name); s.parent != serverID {
			t.Errorf("%s span parent = %s, want the server span %s", name, s.parent, serverID)
		}
	}
	adapterID, _ := find("govbus", "adapter")
	// The registry's span hangs under the CLIENT span of the attempt that
	// reached it (the last one, when an attempt had to be retried).
	_, reg := find("registrysim", "GET /persons/{id}")
	client, ok := byID[reg.parent]
	if reg.kind != "server" || !ok {
		t.Fatalf("registry span = %+v, want kind server under a govbus span", reg)
	}
	if client.service != "govbus" || client.name != "GET" || client.kind != "client" || client.parent != adapterID {
		t.Errorf("the registry span's parent = %+v, want govbus's CLIENT span under the adapter span", client)
	}
}

// fetchTrace reads one trace from Jaeger's query API.
func fetchTrace(t *testing.T, query, traceID string) jaegerTrace {
	t.Helper()
	resp, err := http.Get(query + "/api/traces/" + traceID)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Data []jaegerTrace }
	if resp.StatusCode != 200 {
		return jaegerTrace{}
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Data) == 0 {
		return jaegerTrace{}
	}
	return out.Data[0]
}
