package node_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/govbus/govbus/config"
	"github.com/govbus/govbus/gateway"
	"github.com/govbus/govbus/node"
	"github.com/govbus/govbus/observability"
	"github.com/govbus/govbus/opmon"
	"github.com/govbus/govbus/registrysim"
)

// world is a whole govbus stack in one process: the real handler chain,
// adapters and policies in front of real HTTP registries.
type world struct {
	civil   *registrysim.Sim
	docs    *registrysim.Sim
	spoofer *registrysim.Sim
	bus     *httptest.Server
	reg     *prometheus.Registry
	records *opmon.Store
}

const (
	eserviceKey = "demo-eservice-key"
	benefitsKey = "demo-benefits-key"
	portalKey   = "demo-portal-key"
	personsSvc  = "/r1/UA/GOV/00000001/civil-registry/persons"
	docsSvc     = "/r1/UA/GOV/00000001/civil-registry/documents"
	spoofSvc    = "/r1/UA/GOV/00000006/spoofer/echo"
)

const worldConfig = `
node: test
listeners: {consumer: {address: "127.0.0.1:1"}, status: {address: "127.0.0.1:2"}, admin: {address: "127.0.0.1:3"}}
registries:
  - id: UA/GOV/00000001/civil-registry
    endpoints: [%s]
    timeout: 2s
    retry: {max: 2, wait_min: 1ms, wait_max: 5ms}
    services:
      - code: persons
        paths: ["/persons/{id}"]
        timeout: 300ms
        subject: {in: path, name: id}
        openapi: ../registrysim/civil-openapi.yaml
        pass_headers: [X-Custom-Header, X-Drop-Me]
      - code: documents
        methods: [GET, POST]
        max_request_bytes: 1KiB
  - id: UA/GOV/00000006/spoofer
    endpoints: [%s]
    max_response_bytes: 4KiB
    services:
      - code: echo
        methods: [GET, POST]
        pass_response_headers: [X-Custom, X-Secret]
  - id: UA/GOV/00000007/down
    endpoints: [%s]
    retry: {max: 1, wait_min: 1ms, wait_max: 2ms}
    services:
      - code: things
clients:
  - {id: UA/GOV/00000003/eservice, auth: {api_keys: [%s]}}
  - {id: UA/GOV/00000004/benefits, auth: {api_keys: [%s]}}
  - {id: UA/GOV/00000005/citizen-portal, auth: {api_keys: [%s]}}
  - {id: UA/GOV/00000008/isolated, auth: none}
groups:
  social-services: [UA/GOV/00000004/benefits]
rules:
  - id: eservice-persons
    clients: [UA/GOV/00000003/eservice, UA/GOV/00000008/isolated]
    services: [UA/GOV/00000001/civil-registry/persons]
    methods: [GET]
    paths: ["/persons/*"]
    purposes: [service-delivery]
  - id: eservice-everything-else
    clients: [UA/GOV/00000003/eservice]
    services: [UA/GOV/00000001/civil-registry/documents, UA/GOV/00000006/spoofer/*, UA/GOV/00000007/down/things]
  - id: benefits-persons
    clients: [group:social-services]
    services: [UA/GOV/00000001/civil-registry/persons]
    methods: [GET]
    paths: ["/persons/*"]
    purposes: [benefit-eligibility]
    disclose_after: 4320h
  - id: portal-tracker
    clients: [UA/GOV/00000005/citizen-portal]
    rights: [tracker]
message_log:
  subject_key: test-subject-key-0123456789
`

// flaky counts calls to /flaky, which fails every other time.
var flaky atomic.Int64

// spoofHandler answers with headers a registry must not be able to set.
var spoofHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Road-Client", "EVIL/X/Y/Z")
	w.Header().Set("X-Road-Error", "Server.Fake")
	w.Header().Set("X-Road-Request-Hash", "forged")
	w.Header().Set("Connection", "X-Secret")
	w.Header().Set("X-Secret", "hop")
	w.Header().Set("X-Custom", "kept")
	w.Header().Set("Content-Type", "text/plain")
	if r.URL.Path == "/big" {
		_, _ = w.Write([]byte(strings.Repeat("x", 5000)))
		return
	}
	if r.URL.Path == "/fail" || r.URL.Path == "/flaky" && flaky.Add(1)%2 == 1 {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_, _ = io.WriteString(w, "echo")
})

func newWorld(t *testing.T) *world {
	t.Helper()
	return newTracedWorld(t, nil)
}

// newTracedWorld is newWorld with spans recorded by tp (nil: none).
func newTracedWorld(t *testing.T, tp trace.TracerProvider) *world {
	t.Helper()
	return newWorldWith(t, tp, node.Options{})
}

// newWorldWith builds the world with spans recorded by tp (nil: none) and
// opts (a message log, a tracker store).
func newWorldWith(t *testing.T, tp trace.TracerProvider, opts node.Options) *world {
	t.Helper()
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	tracer := tp.Tracer("govbus-test")
	w := &world{civil: registrysim.NewCivil(), spoofer: registrysim.New(spoofHandler)}
	w.docs = w.civil
	civilSrv := httptest.NewServer(w.civil)
	t.Cleanup(civilSrv.Close)
	spoofSrv := httptest.NewServer(w.spoofer)
	t.Cleanup(spoofSrv.Close)
	// A port that refuses connections: listen, note it, close.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	downURL := "http://" + ln.Addr().String()
	ln.Close()

	src := fmt.Sprintf(worldConfig, civilSrv.URL, spoofSrv.URL, downURL,
		hashOf(eserviceKey), hashOf(benefitsKey), hashOf(portalKey))
	cfg, problems, err := config.Parse([]byte(src), ".", func(string) string { return "" })
	if err != nil {
		t.Fatalf("config: %v", problems)
	}
	w.reg = prometheus.NewRegistry()
	opts.Tracer, opts.Observer = tracer, observability.NewUpstream(w.reg)
	snap, err := node.Build(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	metrics := observability.NewMetrics(w.reg, nil)
	h := gateway.NewHandler(gateway.Options{Holder: gateway.NewHolder(snap), Tracer: tracer})
	w.records = opmon.NewStore(1000)
	w.bus = httptest.NewServer(observability.Instrument{Metrics: metrics, Tracer: tracer, Opmon: w.records, Node: "test"}.Wrap(h))
	t.Cleanup(w.bus.Close)
	return w
}

func hashOf(key string) string {
	return strings.TrimSpace(mustHash(key))
}

// call sends a raw HTTP/1.1 request, so that targets reach govbus exactly
// as written (no client-side cleaning), and returns the answer with its body.
func (w *world) call(t *testing.T, method, target string, header http.Header, body string) (*http.Response, string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", w.bus.Listener.Addr().String(), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: govbus.test\r\n", method, target)
	for k, vs := range header {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	if body != "" && header.Get("Transfer-Encoding") == "" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("Connection: close\r\n\r\n")
	b.WriteString(body)
	if _, err := io.WriteString(conn, b.String()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("%s %.80s: reading answer: %v", method, target, err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(data)
}

// as returns the headers of a call by a client with its key.
func as(client, key, purpose string) http.Header {
	h := http.Header{}
	if client != "" {
		h.Set("X-Road-Client", client)
	}
	if key != "" {
		h.Set("Authorization", "Bearer "+key)
	}
	if purpose != "" {
		h.Set("X-Road-Purpose", purpose)
	}
	return h
}

func eservice() http.Header { return as("UA/GOV/00000003/eservice", eserviceKey, "service-delivery") }
