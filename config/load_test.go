package config

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// noEnv is an environment where nothing is set.
func noEnv(string) string { return "" }

// TestLoadDemo checks that the demo file loads as is, with no environment
// and no problem at all, and with the documented defaults.
func TestLoadDemo(t *testing.T) {
	cfg, ps, err := Load("../deploy/demo/govbus.yaml", noEnv)
	if err != nil {
		t.Fatalf("Load: got error\n%v\nwant none", err)
	}
	if len(ps) != 0 {
		t.Errorf("problems: got\n%v\nwant none", ps)
	}
	l := cfg.Listeners
	for _, c := range []struct{ name, got, want string }{
		{"node", cfg.Node, "demo-node-1"},
		{"consumer address", l.Consumer.Address, "127.0.0.1:8080"},
		{"status address", l.Status.Address, "127.0.0.1:9464"},
		{"admin address", l.Admin.Address, "127.0.0.1:9465"},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
	if l.ConsumerTLS != nil {
		t.Errorf("consumer_tls: got %+v, want none", l.ConsumerTLS)
	}
	if got, want := len(cfg.Registries), 2; got != want {
		t.Fatalf("registries: got %d, want %d (civil REST, business SOAP)", got, want)
	}
	if b := cfg.Registries[1]; b.Adapter != "soap" || b.Services[0].SOAP == nil || b.Services[0].SOAP.Operation != "companies" {
		t.Errorf("business registry: got %+v, want adapter soap with the companies mapping", b)
	}
	r := cfg.Registries[0]
	if got, want := r.ID, "UA/GOV/00000001/civil-registry"; got != want {
		t.Errorf("registry id: got %q, want %q", got, want)
	}
	if got, want := r.Adapter, "rest"; got != want {
		t.Errorf("adapter: got %q, want %q", got, want)
	}
	if got, want := r.Endpoints, []string{"http://127.0.0.1:9101"}; !slices.Equal(got, want) {
		t.Errorf("endpoints: got %q, want %q", got, want)
	}
	if got, want := r.Auth.Type, "none"; got != want {
		t.Errorf("registry auth type: got %q, want %q", got, want)
	}
	if got, want := r.Timeout.D(), 5*time.Second; got != want {
		t.Errorf("registry timeout: got %v, want %v", got, want)
	}
	if r.Retry.Max == nil {
		t.Fatal("retry max: got nil, want 2")
	}
	if got, want := *r.Retry.Max, 2; got != want {
		t.Errorf("retry max: got %d, want %d", got, want)
	}
	if got, want := len(r.Services), 1; got != want {
		t.Fatalf("services: got %d, want %d", got, want)
	}
	s := r.Services[0]
	if got, want := s.Code, "persons"; got != want {
		t.Errorf("service code: got %q, want %q", got, want)
	}
	if got, want := s.Methods, []string{"GET"}; !slices.Equal(got, want) {
		t.Errorf("methods: got %q, want %q", got, want)
	}
	if got, want := s.Timeout.D(), r.Timeout.D(); got != want {
		t.Errorf("service timeout: got %v, want the registry's %v", got, want)
	}
	if got, want := s.MaxRequestBytes, ByteSize(64<<10); got != want {
		t.Errorf("max_request_bytes: got %d, want %d", got, want)
	}
	if got, want := s.Paths, []string{"/persons/{id}"}; !slices.Equal(got, want) {
		t.Errorf("paths: got %q, want %q", got, want)
	}
	// The OpenAPI file resolves next to the configuration file.
	if got, want := cfg.File(s.OpenAPI), filepath.Join(cfg.Dir, "../../registrysim/civil-openapi.yaml"); got != want {
		t.Errorf("openapi file: got %q, want %q", got, want)
	}
	if !filepath.IsAbs(cfg.Dir) || !strings.HasSuffix(cfg.Dir, filepath.Join("deploy", "demo")) {
		t.Errorf("dir: got %q, want an absolute path ending in deploy/demo", cfg.Dir)
	}
	if cfg.Version == "" {
		t.Error("version: got empty, want a hash of the file")
	}

	wantClients := []string{"UA/GOV/00000003/eservice", "UA/GOV/00000004/benefits", "UA/GOV/00000005/citizen-portal"}
	var gotClients []string
	for _, c := range cfg.Clients {
		gotClients = append(gotClients, c.ID)
		if c.Auth.None || len(c.Auth.APIKeys) != 1 {
			t.Errorf("client %s auth: got %+v, want one API key", c.ID, c.Auth)
		}
	}
	if !slices.Equal(gotClients, wantClients) {
		t.Errorf("clients: got %q, want %q", gotClients, wantClients)
	}
	var ruleIDs []string
	for _, r := range cfg.Rules {
		ruleIDs = append(ruleIDs, r.ID)
	}
	if got, want := ruleIDs, []string{"eservice-reads-persons", "eservice-reads-companies", "benefits-reads-persons", "portal-tracker"}; !slices.Equal(got, want) {
		t.Errorf("rules: got %q, want %q", got, want)
	}
}

// TestLoadMissingFile checks that a file that cannot be read is an error,
// not a list of problems.
func TestLoadMissingFile(t *testing.T) {
	cfg, ps, err := Load(filepath.Join(t.TempDir(), "none.yaml"), noEnv)
	if err == nil || cfg != nil || ps != nil {
		t.Errorf("Load: got %v, %v, %v, want nil, nil and an error", cfg, ps, err)
	}
}

// TestDefaults checks every default the field comments promise, on a file
// that sets as little as it can.
func TestDefaults(t *testing.T) {
	cfg, ps, err := parseDoc(t, t.TempDir(), `
registries:
  - id: UA/GOV/00000001/civil
    endpoints: [http://127.0.0.1:9101]
    services:
      - code: persons
      - code: marriages
        timeout: 2s
        max_request_bytes: 1MiB
  - id: UA/GOV/00000002/business
    endpoints: [http://127.0.0.1:9102]
    timeout: 3s
    max_request_bytes: 100kB
    retry: {max: 0}
    services:
      - code: companies
        methods: [POST]
`, nil)
	if err != nil {
		t.Fatalf("Parse: got error\n%v\nwant none", err)
	}
	if len(ps) != 0 {
		t.Errorf("problems: got\n%v\nwant none", ps)
	}
	type check struct {
		name      string
		got, want any
	}
	l := cfg.Listeners
	civil, business := cfg.Registries[0], cfg.Registries[1]
	checks := []check{
		{"node", cfg.Node, "govbus"},
		{"consumer address", l.Consumer.Address, DefaultConsumerAddress},
		{"status address", l.Status.Address, DefaultStatusAddress},
		{"admin address", l.Admin.Address, DefaultAdminAddress},
		{"read_header_timeout", l.ReadHeaderTimeout.D(), 5 * time.Second},
		{"read_timeout", l.ReadTimeout.D(), 60 * time.Second},
		{"write_timeout", l.WriteTimeout.D(), 120 * time.Second},
		{"idle_timeout", l.IdleTimeout.D(), 120 * time.Second},
		{"max_header_bytes", l.MaxHeaderBytes, ByteSize(64 << 10)},
		{"drain_timeout", l.DrainTimeout.D(), 15 * time.Second},

		{"civil adapter", civil.Adapter, "rest"},
		{"civil auth type", civil.Auth.Type, "none"},
		{"civil timeout", civil.Timeout.D(), 10 * time.Second},
		{"civil max_request_bytes", civil.MaxRequestBytes, ByteSize(10 << 20)},
		{"civil max_response_bytes", civil.MaxResponseBytes, ByteSize(32 << 20)},
		{"civil retry max", *civil.Retry.Max, 2},
		{"civil retry wait_min", civil.Retry.WaitMin.D(), 20 * time.Millisecond},
		{"civil retry wait_max", civil.Retry.WaitMax.D(), time.Second},
		{"civil pool max_idle_conns_per_host", civil.Pool.MaxIdleConnsPerHost, 256},
		{"civil pool max_conns_per_host", civil.Pool.MaxConnsPerHost, 512},
		{"civil pool idle_conn_timeout", civil.Pool.IdleConnTimeout.D(), 90 * time.Second},
		{"civil pool connect_timeout", civil.Pool.ConnectTimeout.D(), 2 * time.Second},
		{"civil max_in_flight", civil.MaxInFlight, 256},
		{"civil retry budget_ratio", civil.Retry.BudgetRatio, 0.2},
		{"civil retry budget_min_per_second", civil.Retry.BudgetMinPerSecond, 5.0},
		{"civil breaker disabled", civil.Breaker.Disabled, false},
		{"civil breaker consecutive_failures", civil.Breaker.ConsecutiveFailures, uint32(5)},
		{"civil breaker failure_ratio", civil.Breaker.FailureRatio, 0.5},
		{"civil breaker min_requests", civil.Breaker.MinRequests, uint32(20)},
		{"civil breaker interval", civil.Breaker.Interval.D(), 10 * time.Second},
		{"civil breaker open_timeout", civil.Breaker.OpenTimeout.D(), 10 * time.Second},
		{"civil breaker half_open_requests", civil.Breaker.HalfOpenRequests, uint32(1)},
		{"persons methods", strings.Join(civil.Services[0].Methods, ","), "GET"},
		{"persons timeout", civil.Services[0].Timeout.D(), 10 * time.Second},
		{"persons max_request_bytes", civil.Services[0].MaxRequestBytes, ByteSize(10 << 20)},
		{"marriages timeout", civil.Services[1].Timeout.D(), 2 * time.Second},
		{"marriages max_request_bytes", civil.Services[1].MaxRequestBytes, ByteSize(1 << 20)},

		{"business retry max (0 set)", *business.Retry.Max, 0},
		{"companies methods", strings.Join(business.Services[0].Methods, ","), "POST"},
		{"companies timeout", business.Services[0].Timeout.D(), 3 * time.Second},
		{"companies max_request_bytes", business.Services[0].MaxRequestBytes, ByteSize(100_000)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

// TestEnv checks ${NAME} and ${NAME:-default} references.
func TestEnv(t *testing.T) {
	tests := []struct {
		name  string
		value string
		env   map[string]string
		want  string
	}{
		{"set", "${GOVBUS_X}", map[string]string{"GOVBUS_X": "secret"}, "secret"},
		{"default when unset", "${GOVBUS_X:-fallback}", nil, "fallback"},
		{"default when empty", "${GOVBUS_X:-fallback}", map[string]string{"GOVBUS_X": ""}, "fallback"},
		{"set beats default", "${GOVBUS_X:-fallback}", map[string]string{"GOVBUS_X": "secret"}, "secret"},
		{"empty default", "${GOVBUS_X:-}", nil, ""},
		{"inside text", "k-${GOVBUS_X}-${GOVBUS_Y:-y}", map[string]string{"GOVBUS_X": "x"}, "k-x-y"},
		{"value is not expanded again", "${GOVBUS_X}", map[string]string{"GOVBUS_X": "${GOVBUS_Y}", "GOVBUS_Y": "no"}, "${GOVBUS_Y}"},
		{"value is not YAML", "${GOVBUS_X}", map[string]string{"GOVBUS_X": "a: [b"}, "a: [b"},
		{"no reference", "$GOVBUS_X", map[string]string{"GOVBUS_X": "no"}, "$GOVBUS_X"},
		{"digits stay a string", "${GOVBUS_X}", map[string]string{"GOVBUS_X": "0123"}, "0123"},
		{"a boolean stays a string", "${GOVBUS_X}", map[string]string{"GOVBUS_X": "true"}, "true"},
		{"quoted", `"${GOVBUS_X}"`, map[string]string{"GOVBUS_X": "s p a c e"}, "s p a c e"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, ps, err := parseDoc(t, t.TempDir(), `
registries:
  - id: UA/GOV/00000001/civil
    endpoints: ["http://${GOVBUS_HOST:-127.0.0.1}:${GOVBUS_PORT:-9101}"]
    timeout: ${GOVBUS_TIMEOUT:-7s}
    auth:
      type: bearer
      value: `+tt.value+`
    services: [{code: persons}]
`, tt.env)
			if tt.want == "" {
				// An empty bearer value is itself a problem, found later.
				checkProblems(t, ps, []want{{"registries[0].auth.value", 7, "needs a value"}})
				if err == nil {
					t.Error("Parse: got no error, want one for the empty bearer value")
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: got error\n%v\nwant none", err)
			}
			if len(ps) != 0 {
				t.Errorf("problems: got\n%v\nwant none", ps)
			}
			r := cfg.Registries[0]
			if got := r.Auth.Value; got != tt.want {
				t.Errorf("auth value: got %q, want %q", got, tt.want)
			}
			if got, want := r.Endpoints[0], "http://127.0.0.1:9101"; got != want {
				t.Errorf("endpoint: got %q, want %q", got, want)
			}
			if got, want := r.Timeout.D(), 7*time.Second; got != want {
				t.Errorf("timeout: got %v, want %v", got, want)
			}
		})
	}
	t.Run("typed values from the environment", func(t *testing.T) {
		env := map[string]string{"GOVBUS_HOST": "10.0.0.5", "GOVBUS_PORT": "80", "GOVBUS_TIMEOUT": "250ms", "GOVBUS_RETRIES": "3"}
		cfg, _, err := parseDoc(t, t.TempDir(), `
registries:
  - id: UA/GOV/00000001/civil
    endpoints: ["http://${GOVBUS_HOST:-127.0.0.1}:${GOVBUS_PORT:-9101}"]
    timeout: ${GOVBUS_TIMEOUT:-7s}
    retry:
      max: ${GOVBUS_RETRIES:-1}
    services: [{code: persons}]
`, env)
		if err != nil {
			t.Fatalf("Parse: got error\n%v\nwant none", err)
		}
		r := cfg.Registries[0]
		if got, want := r.Endpoints[0], "http://10.0.0.5:80"; got != want {
			t.Errorf("endpoint: got %q, want %q", got, want)
		}
		if got, want := r.Timeout.D(), 250*time.Millisecond; got != want {
			t.Errorf("timeout: got %v, want %v", got, want)
		}
		if got, want := *r.Retry.Max, 3; got != want {
			t.Errorf("retry max: got %d, want %d", got, want)
		}
	})
	t.Run("a quoted reference stays a string", func(t *testing.T) {
		cfg, ps, err := parseDoc(t, t.TempDir(), `
registries:
  - id: UA/GOV/00000001/civil
    endpoints: [http://127.0.0.1:9101]
    retry:
      max: "${GOVBUS_RETRIES}"
    services: [{code: persons}]
`, map[string]string{"GOVBUS_RETRIES": "3"})
		requireRejected(t, cfg, ps, err)
		checkProblems(t, ps, []want{{"registries[0].retry.max", 5, "cannot unmarshal !!str `3` into int"}})
	})
}
