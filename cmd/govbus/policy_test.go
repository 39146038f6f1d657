package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// conditionalConfig is a small world whose rules have conditions: office
// hours on persons, the caller's own documents by path parameter, and a
// tenant header for posting documents.
const conditionalConfig = `node: test-node
members:
  - {id: UA/GOV/00000001, name: Civil registry}
  - {id: UA/GOV/00000003, name: E-services}
registries:
  - id: UA/GOV/00000001/civil-registry
    endpoints: [http://127.0.0.1:9101]
    services:
      - code: persons
        methods: [GET]
        paths: ["/persons/{id}"]
      - code: documents
        methods: [GET, POST]
        paths: ["/documents/{id}"]
        pass_headers: [X-Tenant]
clients:
  - id: UA/GOV/00000003/eservice
    auth:
      api_keys: [sha256:a590294707470c216ec053f0e5ef5440b8a91b419024de4e9b83532bf865ffb6]
rules:
  - id: office-hours
    clients: [UA/GOV/00000003/eservice]
    services: [UA/GOV/00000001/civil-registry/persons]
    methods: [GET]
    condition: now.getHours("Europe/Kyiv") >= 9 && now.getHours("Europe/Kyiv") < 18
  - id: own-documents
    clients: [UA/GOV/00000003/eservice]
    services: [UA/GOV/00000001/civil-registry/documents]
    methods: [GET]
    condition: params.id == represented_party
  - id: kyiv-tenant
    clients: [UA/GOV/00000003/eservice]
    services: [UA/GOV/00000001/civil-registry/documents]
    methods: [POST]
    condition: headers["x-tenant"] == "kyiv" && user_id.startsWith("UA")
`

func TestPolicyExplainConditions(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "govbus.yaml")
	if err := os.WriteFile(cfg, []byte(conditionalConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"explain", "-config", cfg, "--client", "UA/GOV/00000003/eservice"}
	persons := []string{"--service", "UA/GOV/00000001/civil-registry/persons", "--path", "/persons/1000000042"}
	documents := []string{"--service", "UA/GOV/00000001/civil-registry/documents", "--path", "/documents/42"}
	args := func(parts ...[]string) []string {
		out := append([]string{}, base...)
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	for _, tt := range []struct {
		name  string
		args  []string
		lines []string // the first is line 1; the rest appear in order
		not   []string
	}{
		{"office hours, inside", args(persons, []string{"--time", "2026-03-04T10:00:00+02:00"}), []string{
			"decision: allow",
			"conditions see: time 2026-03-04T10:00:00+02:00; path templates /persons/{id}",
			"rule: office-hours allows it",
			"  condition: true",
			`      now.getHours("Europe/Kyiv") >= 9 && now.getHours("Europe/Kyiv") < 18`,
		}, nil},
		{"office hours, outside (given in UTC)", args(persons, []string{"--time", "2026-03-04T17:30:00Z"}), []string{
			"decision: deny",
			"conditions see: time 2026-03-04T17:30:00Z",
			"why: rule office-hours would allow it, but its condition is false",
			"  condition: false",
		}, nil},
		{"params from the service's path template", args(documents, []string{"--represented-party", "PRIV/42"}), []string{
			"decision: allow",
			`represented party "PRIV/42"; path templates /documents/{id}`,
			"rule: own-documents allows it",
			"  condition: true",
			"      params.id == represented_party",
			// Without a user id, the false operand of && decides; the
			// missing header does not matter.
			"also: rule kyiv-tenant needs method GET (it allows POST); its condition to hold",
			"  condition: false",
		}, nil},
		{"params, another party", args(documents, []string{"--represented-party", "43"}), []string{
			"decision: deny",
			"why: rule own-documents would allow it, but its condition is false",
			"  condition: false",
		}, nil},
		{"header missing: the condition fails", args(documents, []string{"--method", "post", "--user-id", "UA123"}), []string{
			"decision: deny",
			"call: POST ",
			"why: rule kyiv-tenant's condition could not be evaluated, and that denies the call",
			"  condition: error: no such key: x-tenant",
			"also: rule own-documents needs method POST (it allows GET); its condition to hold",
		}, nil},
		{"header present", args(documents, []string{"--method", "POST", "--user-id", "UA123", "--header", "x-tenant:  kyiv ",
			"--header", "Accept: a", "--header", "accept: b"}), []string{
			"decision: allow",
			`user id "UA123"`,
			"header Accept: a, b; header X-Tenant: kyiv",
			"rule: kyiv-tenant allows it",
			"  condition: true",
		}, nil},
		{"another tenant", args(documents, []string{"--method", "POST", "--user-id", "UA123", "--header", "X-Tenant: lviv"}), []string{
			"decision: deny",
			"why: rule kyiv-tenant would allow it, but its condition is false",
			"  condition: false",
			`      headers["x-tenant"] == "kyiv" && user_id.startsWith("UA")`,
		}, nil},
		{"an undeclared method is noted", args(persons, []string{"--method", "DELETE", "--time", "2026-03-04T10:00:00+02:00"}), []string{
			"decision: deny",
			"why: no rule allows",
			"also: rule office-hours needs method DELETE (it allows GET)",
			"note: the service declares only GET; govbus would answer Client.MethodNotAllowed",
		}, nil},
		{"an undeclared service is noted", args([]string{"--service", "UA/GOV/00000001/civil-registry/births"}), []string{
			"decision: deny",
			"no rule names this client",
			"note: no registry in this configuration declares the service",
		}, []string{"conditions see:"}},
	} {
		var out, errOut bytes.Buffer
		if code := policyCmd(tt.args, &out, &errOut); code != 0 {
			t.Errorf("%s: exit %d, want 0; stderr: %s", tt.name, code, errOut.String())
			continue
		}
		got := out.String()
		if !strings.HasPrefix(got, tt.lines[0]+"\n") {
			t.Errorf("%s: line 1 is not %q:\n%s", tt.name, tt.lines[0], got)
		}
		rest := got
		for _, want := range tt.lines[1:] {
			i := strings.Index(rest, want)
			if i < 0 {
				t.Errorf("%s: output lacks %q (in order):\n%s", tt.name, want, got)
				break
			}
			rest = rest[i+len(want):]
		}
		for _, bad := range tt.not {
			if strings.Contains(got, bad) {
				t.Errorf("%s: output has %q:\n%s", tt.name, bad, got)
			}
		}
	}
}

func TestPolicyExplainBadFlags(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "govbus.yaml")
	if err := os.WriteFile(cfg, []byte(conditionalConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"explain", "-config", cfg, "--client", "UA/GOV/00000003/eservice",
		"--service", "UA/GOV/00000001/civil-registry/documents"}
	for _, tt := range []struct {
		extra   []string
		wantErr string
	}{
		{[]string{"--time", "yesterday"}, `--time "yesterday": want RFC 3339`},
		{[]string{"--time", "2026-03-04T10:00:00"}, "want RFC 3339"},
		{[]string{"--header", "X-Tenant kyiv"}, `--header "X-Tenant kyiv": want 'Name: value'`},
		{[]string{"--header", ": kyiv"}, "is not a header name"},
		{[]string{"--header", "X Tenant: kyiv"}, `"X Tenant" is not a header name`},
		{[]string{"--header", "X-Road-UserId: UA1"}, "use --purpose, --user-id, --issue or --represented-party"},
		{[]string{"--header", "Authorization: Bearer k"}, "conditions never see it"},
		{[]string{"--header", "X-Office: kyiv"}, "X-Office: this service does not forward it (add it to its pass_headers)"},
		{[]string{"--header", "Cookie: a=b"}, "Cookie: this service does not forward it"},
		{[]string{"--header", "X_Tenant: kyiv"}, "header name holding '_'"},
		{[]string{"--represented-party", "A/B/C"}, "want CLASS/CODE"},
		{[]string{"--represented-party", "PRIV/"}, "want CLASS/CODE"},
		{[]string{"--user-id", strings.Repeat("x", 1025)}, "--user-id is longer than 1024 bytes"},
		{[]string{"--nope"}, "flag provided but not defined"},
		{[]string{"stray"}, `unexpected argument "stray"`},
	} {
		var out, errOut bytes.Buffer
		if code := policyCmd(append(append([]string{}, base...), tt.extra...), &out, &errOut); code != 2 {
			t.Errorf("%v: exit %d, want 2", tt.extra, code)
		}
		if !strings.Contains(errOut.String(), tt.wantErr) {
			t.Errorf("%v: stderr lacks %q:\n%s", tt.extra, tt.wantErr, errOut.String())
		}
		if out.Len() != 0 {
			t.Errorf("%v: stdout = %q, want nothing", tt.extra, out.String())
		}
	}
}
