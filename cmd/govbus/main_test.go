package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunCommands(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("node: x\nregistries:\n  - id: not-an-id\n    endpoints: [ftp://x]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args       []string
		code       int
		wantOut    string
		wantErrOut []string
	}{
		{[]string{"version"}, 0, "govbus dev", nil},
		{[]string{"hash-key", "demo-eservice-key"}, 0, "sha256:a590294707470c216ec053f0e5ef5440b8a91b419024de4e9b83532bf865ffb6", nil},
		{[]string{"check", "-config", "../../deploy/demo/govbus.yaml"}, 0, "OK", nil},
		{[]string{"check", "--config", bad}, 1, "", []string{"line 3: registries[0].id", "line 4: registries[0].endpoints[0]", "registries[0].services", "problem(s)"}},
		{[]string{"check"}, 2, "", []string{"-config FILE is required"}},
		{[]string{"serve", "-config", bad}, 1, "", []string{"configuration refused", "registries[0].id"}},
		{[]string{"frobnicate"}, 2, "", []string{"unknown command"}},
		{[]string{"policy", "explain", "-config", "../../deploy/demo/govbus.yaml", "--client", "UA/GOV/00000004/benefits",
			"--service", "UA/GOV/00000001/civil-registry/persons", "--path", "/persons/1000000001", "--purpose", "benefit-eligibility"},
			0, "decision: allow\n", nil},
		{[]string{"policy", "explain", "-config", "../../deploy/demo/govbus.yaml", "--client", "UA/GOV/00000004/benefits",
			"--service", "UA/GOV/00000001/civil-registry/persons", "--path", "/persons/1000000001"},
			0, "decision: deny\ncall: GET UA/GOV/00000001/civil-registry/persons/persons/1000000001 by UA/GOV/00000004/benefits\nwhy: rule benefits-reads-persons would allow it, but purpose missing", nil},
		{[]string{"policy", "explain", "-config", "../../deploy/demo/govbus.yaml", "--client", "UA/GOV/00000004/benefits",
			"--service", "UA/GOV/00000001/civil-registry/persons", "--method", "DELETE", "--path", "/persons/1", "--purpose", "benefit-eligibility"},
			0, "decision: deny", nil},
		{[]string{"policy", "explain", "-config", "../../deploy/demo/govbus.yaml"}, 2, "", []string{"required"}},
		{nil, 2, "", []string{"usage"}},
	} {
		var out, errOut bytes.Buffer
		code := run(tt.args, &out, &errOut)
		if code != tt.code {
			t.Errorf("govbus %v exit = %d, want %d\n%s", tt.args, code, tt.code, errOut.String())
		}
		if !strings.Contains(out.String(), tt.wantOut) {
			t.Errorf("govbus %v stdout = %q, want it to contain %q", tt.args, out.String(), tt.wantOut)
		}
		for _, w := range tt.wantErrOut {
			if !strings.Contains(errOut.String(), w) {
				t.Errorf("govbus %v stderr lacks %q:\n%s", tt.args, w, errOut.String())
			}
		}
	}
}
