package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// want is one problem a test expects: its exact path and line, and a part
// of its message.
type want struct {
	path string
	line int
	msg  string
}

// parseDoc parses doc, a YAML document written flush-left in a raw string
// (a leading newline is dropped, so the line after the backquote is line 1),
// in dir with the environment env.
func parseDoc(t *testing.T, dir, doc string, env map[string]string) (*Config, Problems, error) {
	t.Helper()
	getenv := func(name string) string { return env[name] }
	return Parse([]byte(strings.TrimPrefix(doc, "\n")), dir, getenv)
}

// checkProblems fails unless got holds exactly the problems wanted, in order.
func checkProblems(t *testing.T, got Problems, wants []want) {
	t.Helper()
	ok := len(got) == len(wants)
	for i := 0; ok && i < len(got); i++ {
		w := wants[i]
		ok = got[i].Path == w.path && got[i].Line == w.line && strings.Contains(got[i].Message, w.msg)
	}
	if ok {
		return
	}
	var b strings.Builder
	b.WriteString("problems: got")
	for _, p := range got {
		fmt.Fprintf(&b, "\n\t%v", p)
	}
	b.WriteString("\nwant")
	for _, w := range wants {
		fmt.Fprintf(&b, "\n\tline %d: %s: ...%s...", w.line, w.path, w.msg)
	}
	t.Error(b.String())
}

// requireRejected fails unless Parse refused the file with a Problems error.
func requireRejected(t *testing.T, cfg *Config, ps Problems, err error) {
	t.Helper()
	if cfg != nil {
		t.Errorf("config: got %+v, want nil for a file with errors", cfg)
	}
	var errPs Problems
	if !errors.As(err, &errPs) {
		t.Fatalf("error: got %v (%T), want a Problems error", err, err)
	}
	if len(errPs.Errors()) == 0 {
		t.Errorf("error: got %v, want at least one non-warning problem", err)
	}
	if len(ps.Errors()) != len(errPs.Errors()) {
		t.Errorf("problems: got %d returned and %d in the error, want the same", len(ps.Errors()), len(errPs.Errors()))
	}
}

const hashA = "sha256:a590294707470c216ec053f0e5ef5440b8a91b419024de4e9b83532bf865ffb6"

// ruleDoc is a document in which the civil registry offers services (the
// inside of its flow sequence, on line 4), the eservice client has a key,
// and the one rule r1 has the fields rule (YAML at 4 spaces, written after
// a newline that is dropped) from line 10 on.
func ruleDoc(services, rule string) string {
	return `
registries:
  - id: UA/GOV/00000001/civil
    endpoints: [http://127.0.0.1:9101]
    services: [` + services + `]
clients:
  - id: UA/GOV/00000003/eservice
    auth: {api_keys: [` + hashA + `]}
rules:
  - id: r1
` + strings.TrimPrefix(rule, "\n")
}

// TestParseProblems checks that each kind of problem is reported with its
// exact YAML path and line, and that it is the only problem reported.
func TestParseProblems(t *testing.T) {
	tests := []struct {
		name  string
		doc   string
		env   map[string]string
		files []string // created in the configuration's directory
		want  []want
	}{
		{
			name: "unknown top-level field",
			doc: `
node: n
nodes: x
`,
			want: []want{{"nodes", 2, `unknown field "nodes"`}},
		},
		{
			name: "unknown nested fields",
			doc: `
listeners:
  consumer:
    addr: 127.0.0.1:8080
registries:
  - id: UA/GOV/00000001/civil
    endpoints: [http://127.0.0.1:9101]
    retry: {max: 1, wait: 1s}
    services:
      - code: persons
        method: [POST]
`,
			want: []want{
				{"listeners.consumer.addr", 3, `unknown field "addr"`},
				{"registries[0].retry.wait", 7, `unknown field "wait"`},
				{"registries[0].services[0].method", 10, `unknown field "method"`},
			},
		},
		{
			name: "bad duration",
			doc: `
registries:
  - id: UA/GOV/00000001/civil
    endpoints: [http://127.0.0.1:9101]
    timeout: 5 seconds
    services:
      - code: persons
`,
			want: []want{{"registries[0].timeout", 4, `"5 seconds" is not a duration`}},
		},
		{
			name: "negative duration",
			doc: `
listeners:
  read_timeout: -1s
`,
			want: []want{{"listeners.read_timeout", 2, `"-1s" is not a duration`}},
		},
		{
			name: "bad byte size",
			doc: `
registries:
  - id: UA/GOV/00000001/civil
    endpoints: [http://127.0.0.1:9101]
    services:
      - code: persons
        max_request_bytes: 64 kilobytes
`,
			want: []want{{"registries[0].services[0].max_request_bytes", 6, `"64 kilobytes" is not a size`}},
		},
		{
			name: "wrong type",
			doc: `
registries:
  - id: UA/GOV/00000001/civil
    endpoints: [http://127.0.0.1:9101]
    pool: {max_conns_per_host: many}
    services:
      - code: persons
`,
			want: []want{{"registries[0].pool.max_conns_per_host", 4, "cannot unmarshal"}},
		},
		{
			name: "wrong types in flow and block style",
			doc: `
registries:
  - id: UA/GOV/00000001/civil
    endpoints: {primary: http://127.0.0.1:9101}
    pool: {max_idle_conns_per_host: 5, max_conns_per_host: a-great-many}
    services:
      - code: persons
node:
  - a
`,
			want: []want{
				{"registries[0].endpoints", 3, "cannot unmarshal !!map"},
				{"registries[0].pool.max_conns_per_host", 4, "cannot unmarshal !!str `a-great...`"},
				{"node", 8, "cannot unmarshal !!seq"},
			},
		},
		{
			name: "bad endpoint URLs",
			doc: `
registries:
  - id: UA/GOV/00000001/civil
    endpoints:
      - http://127.0.0.1:9101
      - 127.0.0.1:9102/x
      - https://127.0.0.1:9103/?q=1
      - ftp://127.0.0.1:9104
    services:
      - code: persons
`,
			want: []want{
				{"registries[0].endpoints[1]", 5, "not an absolute http(s) URL"},
				{"registries[0].endpoints[2]", 6, "not an absolute http(s) URL"},
				{"registries[0].endpoints[3]", 7, "not an absolute http(s) URL"},
			},
		},
		{
			name: "no endpoint",
			doc: `
registries:
  - id: UA/GOV/00000001/civil
    services:
      - code: persons
`,
			want: []want{{"registries[0].endpoints", 2, "at least one endpoint"}},
		},
		{
			name: "duplicate registry",
			doc: `
registries:
  - id: UA/GOV/00000001/civil
    endpoints: [http://127.0.0.1:9101]
    services: [{code: persons}]
  - id: UA/GOV/00000001/civil
    endpoints: [http://127.0.0.1:9102]
    services: [{code: marriages}]
`,
			want: []want{{"registries[1].id", 5, "duplicate registry UA/GOV/00000001/civil"}},
		},
		{
			name: "invalid registry ids",
			doc: `
registries:
  - id: UA/GOV/civil
    endpoints: [http://127.0.0.1:9101]
    services: [{code: persons}]
  - id: UA/GOV/00000002/business registry
    endpoints: [http://127.0.0.1:9102]
    services: [{code: persons}, {code: "bad code"}]
`,
			want: []want{
				{"registries[0].id", 2, "not a subsystem id"},
				{"registries[1].id", 5, "not a subsystem id"},
				{"registries[1].services[1].code", 7, `"bad code" is not a valid service code`},
			},
		},
		{
			name: "duplicate service",
			doc: `
registries:
  - id: UA/GOV/00000001/civil
    endpoints: [http://127.0.0.1:9101]
    services:
      - code: persons
      - code: persons
        methods: [POST]
`,
			want: []want{{"registries[0].services[1].code", 6, "duplicate service UA/GOV/00000001/civil/persons"}},
		},
		{
			name: "invalid service code",
			doc: `
registries:
  - id: UA/GOV/00000001/civil
    endpoints: [http://127.0.0.1:9101]
    services:
      - code: persons
      - code: per sons
`,
			want: []want{{"registries[0].services[1].code", 6, `"per sons" is not a valid service code`}},
		},
		{
			name: "service named like a metaservice",
			doc: `
registries:
  - id: UA/GOV/00000001/civil
    endpoints: [http://127.0.0.1:9101]
    services:
      - code: listMethods
`,
			want: []want{{"registries[0].services[0].code", 5, "metaservice"}},
		},
		{
			name: "method govbus does not forward",
			doc: `
registries:
  - id: UA/GOV/00000001/civil
    endpoints: [http://127.0.0.1:9101]
    services:
      - code: persons
        methods: [GET, TRACE]
`,
			want: []want{{"registries[0].services[0].methods[1]", 6, `"TRACE" is not a method govbus forwards`}},
		},
		{
			name: "invalid client id",
			doc: `
clients:
  - id: UA/GOV/00000003
    auth: {api_keys: [` + hashA + `]}
`,
			want: []want{{"clients[0].id", 2, "not a subsystem id"}},
		},
		{
			name: "duplicate client",
			doc: `
clients:
  - id: UA/GOV/00000003/eservice
    auth: {api_keys: [` + hashA + `]}
  - id: UA/GOV/00000003/eservice
    auth: {api_keys: [` + hashA + `]}
`,
			want: []want{{"clients[1].id", 4, "duplicate client"}},
		},
		{
			name: "member not among members",
			doc: `
members:
  - {id: UA/GOV/00000001}
registries:
  - id: UA/GOV/00000002/business
    endpoints: [http://127.0.0.1:9102]
    services: [{code: companies}]
clients:
  - id: UA/GOV/00000001/eservice
    auth: {api_keys: [` + hashA + `]}
  - id: UA/GOV/00000003/eservice
    auth: {api_keys: [` + hashA + `]}
`,
			want: []want{
				{"registries[0].id", 4, "member UA/GOV/00000002 is not among members"},
				{"clients[1].id", 10, "member UA/GOV/00000003 is not among members"},
			},
		},
		{
			name: "client without credentials",
			doc: `
clients:
  - id: UA/GOV/00000003/eservice
    auth: {}
  - id: UA/GOV/00000004/benefits
    name: no auth at all
`,
			want: []want{
				{"clients[0].auth", 3, "a client needs api_keys, certificates, or auth: none"},
				// No auth key: the line is the nearest ancestor's.
				{"clients[1].auth", 4, "a client needs api_keys, certificates, or auth: none"},
			},
		},
		{
			// "none" is a scalar: a mapping cannot say none and list keys too.
			name: "auth none plus keys",
			doc: `
clients:
  - id: UA/GOV/00000003/eservice
    auth: {none: {}, api_keys: [` + hashA + `]}
`,
			want: []want{{"clients[0].auth", 3, "auth none cannot be combined with api_keys"}},
		},
		{
			name: "auth neither none nor a mapping",
			doc: `
clients:
  - id: UA/GOV/00000003/eservice
    auth: nobody
  - id: UA/GOV/00000004/benefits
    auth: [none]
`,
			want: []want{
				{"clients[0].auth", 3, `auth must be "none" or a mapping`},
				{"clients[1].auth", 5, `auth must be "none" or a mapping`},
			},
		},
		{
			name: "bad key hash",
			doc: `
clients:
  - id: UA/GOV/00000003/eservice
    auth:
      api_keys:
        - ` + hashA + `
        - sha256:abc
        - demo-eservice-key
`,
			want: []want{
				{"clients[0].auth.api_keys[1]", 6, "not a key hash"},
				{"clients[0].auth.api_keys[2]", 7, "not a key hash"},
			},
		},
		{
			name: "bad certificate identities",
			doc: `
clients:
  - id: UA/GOV/00000003/eservice
    auth:
      certificates:
        - {subject: "CN=eservice,O=Ministry"}
        - {sha256: "12:34"}
        - {}
        - {sha256: ` + hashA + `, subject: "CN=eservice,O=Ministry"}
`,
			want: []want{
				{"clients[0].auth.ca_file", 3, "a client with certificates needs ca_file"},
				{"clients[0].auth.certificates[1].sha256", 6, "not a hex SHA-256 fingerprint"},
				{"clients[0].auth.certificates[2]", 7, "needs sha256 or subject"},
				// Either matching alone would prove the client: one who
				// meant to pin the certificate would accept any other of
				// that subject.
				{"clients[0].auth.certificates[3]", 8, "sha256 or subject, not both"},
			},
		},
		{
			name: "unknown client in group",
			doc: `
groups:
  social: [UA/GOV/00000004/benefits]
`,
			want: []want{{"groups.social[0]", 2, "unknown client UA/GOV/00000004/benefits"}},
		},
		{
			name: "unknown client in rule",
			doc: ruleDoc(`{code: persons}`, `
    clients:
      - UA/GOV/00000003/eservice
      - UA/GOV/00000009/nobody
    services: [UA/GOV/00000001/civil/persons]
`),
			want: []want{{"rules[0].clients[1]", 12, "unknown client UA/GOV/00000009/nobody"}},
		},
		{
			name: "unknown service and registry in rule",
			doc: ruleDoc(`{code: persons}`, `
    clients: [UA/GOV/00000003/eservice]
    services:
      - UA/GOV/00000001/civil/persons
      - UA/GOV/00000001/civil/marriages
      - UA/GOV/00000002/business/*
`),
			want: []want{
				{"rules[0].services[1]", 13, "unknown service UA/GOV/00000001/civil/marriages"},
				{"rules[0].services[2]", 14, "unknown registry UA/GOV/00000002/business"},
			},
		},
		{
			name: "method not declared by the service",
			doc: ruleDoc(`{code: persons}`, `
    clients: [UA/GOV/00000003/eservice]
    services: [UA/GOV/00000001/civil/persons]
    methods:
      - GET
      - POST
`),
			want: []want{{"rules[0].methods[1]", 14, "does not declare POST"}},
		},
		{
			name: "unknown group (from policies)",
			doc: `
registries:
  - id: UA/GOV/00000001/civil
    endpoints: [http://127.0.0.1:9101]
    services: [{code: persons}]
rules:
  - id: r1
    clients: [group:nobody]
    services: [UA/GOV/00000001/civil/persons]
`,
			want: []want{{"rules[0].clients[0]", 7, `unknown group "nobody"`}},
		},
		{
			name: "glob without leading slash (from policies)",
			doc: ruleDoc(`{code: persons}`, `
    clients: [UA/GOV/00000003/eservice]
    services: [UA/GOV/00000001/civil/persons]
    paths:
      - /persons/*
      - persons/*
`),
			want: []want{{"rules[0].paths[1]", 14, `must start with "/"`}},
		},
		{
			name: "rule granting nothing (from policies)",
			doc: `
clients:
  - id: UA/GOV/00000003/eservice
    auth: {api_keys: [` + hashA + `]}
rules:
  - id: r1
    clients: [UA/GOV/00000003/eservice]
`,
			want: []want{{"rules[0]", 5, "grants nothing"}},
		},
		{
			name: "duplicate listener address",
			doc: `
listeners:
  consumer: {address: 127.0.0.1:8080}
  status: {address: 127.0.0.1:8080}
`,
			want: []want{{"listeners.status.address", 3, "127.0.0.1:8080 is also used by listeners.consumer.address"}},
		},
		{
			name: "listener address taken by another's default",
			doc: `
listeners:
  admin: {address: 127.0.0.1:9464}
`,
			want: []want{{"listeners.admin.address", 2, "also used by listeners.status.address"}},
		},
		{
			name: "listener address without port",
			doc: `
listeners:
  consumer:
    address: localhost
`,
			want: []want{{"listeners.consumer.address", 3, `"localhost" is not host:port`}},
		},
		{
			name:  "missing TLS files",
			files: []string{"server.crt"},
			doc: `
listeners:
  consumer_tls:
    address: 127.0.0.1:8443
    cert_file: server.crt
    client_ca_file: clients-ca.crt
`,
			want: []want{
				// No key_file key: the line is the nearest ancestor's.
				{"listeners.consumer_tls.key_file", 2, "a file is required"},
				{"listeners.consumer_tls.client_ca_file", 5, "cannot read clients-ca.crt"},
			},
		},
		{
			name:  "missing upstream TLS files",
			files: []string{"client.crt"},
			doc: `
registries:
  - id: UA/GOV/00000001/civil
    endpoints: [https://127.0.0.1:9101]
    tls:
      ca_file: civil-ca.crt
      cert_file: client.crt
    services: [{code: persons}]
`,
			want: []want{
				// No key_file key: the line is the nearest ancestor's.
				{"registries[0].tls.key_file", 4, "a file is required"},
				{"registries[0].tls.ca_file", 5, "cannot read civil-ca.crt"},
			},
		},
		{
			name: "YAML syntax error",
			doc: `
node: n
listeners:
  consumer: x
   status: y
`,
			want: []want{{"", 4, "mapping values are not allowed"}},
		},
		{
			name: "YAML tab indentation",
			doc:  "node: n\n\tlisteners: {}\n",
			want: []want{{"", 2, "tab character"}},
		},
		{
			name: "environment variable unset",
			doc: `
node: ${GOVBUS_TEST_NODE}
registries:
  - id: UA/GOV/00000001/civil
    endpoints:
      - http://${GOVBUS_TEST_HOST}:9101
    auth: {type: bearer, value: "${GOVBUS_TEST_SECRET:-}"}
    services: [{code: persons}]
`,
			want: []want{
				{"node", 1, "environment variable GOVBUS_TEST_NODE is not set"},
				{"registries[0].endpoints[0]", 5, "environment variable GOVBUS_TEST_HOST is not set"},
			},
		},
		{
			name: "environment variable set but empty",
			doc: `
node: ${GOVBUS_TEST_NODE}
`,
			env:  map[string]string{"GOVBUS_TEST_NODE": ""},
			want: []want{{"node", 1, "environment variable GOVBUS_TEST_NODE is not set"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, f), []byte("test file\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			cfg, ps, err := parseDoc(t, dir, tt.doc, tt.env)
			requireRejected(t, cfg, ps, err)
			checkProblems(t, ps, tt.want)
			for _, p := range ps {
				if p.Warning {
					t.Errorf("problem %v: got a warning, want an error", p)
				}
			}
		})
	}
}

// TestParseReportsEveryProblem checks that one file's problems are all
// reported, not just the first, and sorted by line.
func TestParseReportsEveryProblem(t *testing.T) {
	t.Run("while decoding", func(t *testing.T) {
		// A bad value must not stop decoding: the problems after it count too.
		cfg, ps, err := parseDoc(t, t.TempDir(), `
listeners:
  read_timeout: soon
  write_timeout: later
  max_header_bytes: huge
  idle: 1s
registries:
  - id: UA/GOV/00000001/civil
    endpoints: [http://127.0.0.1:9101]
    timeout: 5 seconds
    retry: {max: lots, wait_min: 1 ms}
    services:
      - code: persons
        max_request_bytes: -1
`, nil)
		requireRejected(t, cfg, ps, err)
		checkProblems(t, ps, []want{
			{"listeners.read_timeout", 2, `"soon" is not a duration`},
			{"listeners.write_timeout", 3, `"later" is not a duration`},
			{"listeners.max_header_bytes", 4, `"huge" is not a size`},
			{"listeners.idle", 5, `unknown field "idle"`},
			{"registries[0].timeout", 9, `"5 seconds" is not a duration`},
			{"registries[0].retry.max", 10, "cannot unmarshal"},
			{"registries[0].retry.wait_min", 10, `"1 ms" is not a duration`},
			{"registries[0].services[0].max_request_bytes", 13, `"-1" is not a size`},
		})
	})
	t.Run("while validating", func(t *testing.T) {
		// Rules come first in this file, listeners last: the problems are
		// sorted by line, not by the order in which they are checked.
		cfg, ps, err := Load("testdata/broken.yaml", func(string) string { return "" })
		requireRejected(t, cfg, ps, err)
		checkProblems(t, ps, []want{
			{"rules[0].clients[0]", 4, "unknown client UA/GOV/00000009/nobody"},
			{"rules[0].methods[0]", 6, "does not declare DELETE"},
			{"rules[0].paths[0]", 7, `must start with "/"`},
			{"rules[1].clients[0]", 9, `unknown group "nobody"`},
			{"registries[0].endpoints[0]", 15, "not an absolute http(s) URL"},
			{"registries[0].services[1].code", 19, "duplicate service"},
			{"clients[0].auth.api_keys[0]", 23, "not a key hash"},
			{"clients[1].auth", 25, "a client needs"},
			{"clients[2].auth", 27, "needs no credential"},
			{"listeners.admin.address", 31, "also used by listeners.consumer.address"},
		})
		for i, p := range ps {
			if got, want := p.Warning, i == 8; got != want {
				t.Errorf("problem %v: got warning=%v, want %v", p, got, want)
			}
		}
		for i := 1; i < len(ps); i++ {
			if ps[i].Line < ps[i-1].Line {
				t.Errorf("problems: line %d after line %d, want them sorted", ps[i].Line, ps[i-1].Line)
			}
		}
	})
}

// TestAuthNoneIsAWarning checks that "auth: none" loads, with a warning.
func TestAuthNoneIsAWarning(t *testing.T) {
	cfg, ps, err := parseDoc(t, t.TempDir(), `
clients:
  - id: UA/GOV/00000003/eservice
    auth: {api_keys: [`+hashA+`]}
  - id: UA/GOV/00000006/isolated
    auth: none
`, nil)
	if err != nil {
		t.Fatalf("Parse: got error %v, want none", err)
	}
	if cfg == nil {
		t.Fatal("Parse: got a nil config, want one")
	}
	checkProblems(t, ps, []want{{"clients[1].auth", 5, "needs no credential"}})
	if len(ps) == 1 && !ps[0].Warning {
		t.Errorf("problem %v: got an error, want a warning", ps[0])
	}
	if got := len(ps.Errors()); got != 0 {
		t.Errorf("Errors(): got %d, want 0", got)
	}
	if got, want := cfg.Clients[1].Auth, (ClientAuth{None: true}); !got.None || len(got.APIKeys) != 0 || len(got.Certificates) != 0 {
		t.Errorf("clients[1].auth: got %+v, want %+v", got, want)
	}
	if cfg.Clients[0].Auth.None {
		t.Errorf("clients[0].auth.None: got true, want false")
	}
	if got, want := ps[0].String(), "line 5: clients[1].auth: warning: "; !strings.HasPrefix(got, want) {
		t.Errorf("String(): got %q, want prefix %q", got, want)
	}
}
