package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckLimits: govbus check refuses bad rates and quotas, naming each
// with its YAML path and line.
func TestCheckLimits(t *testing.T) {
	const base = `registries:
  - id: UA/GOV/00000001/civil
    endpoints: [http://127.0.0.1:9101]
    services:
      - code: persons
clients:
  - {id: UA/GOV/00000003/eservice, auth: none}
message_log: {disabled: true}
rules:
  - id: r
    clients: [UA/GOV/00000003/eservice]
    services: [UA/GOV/00000001/civil/persons]
`
	for _, tt := range []struct {
		limits string
		code   int
		want   []string
	}{
		{"    rate: {per_second: 10, burst: 10}\n    quota: {per_day: 10000}\n", 0, []string{"OK"}},
		{"    rate: {per_second: -1, burst: -2}\n    quota: {per_day: 0}\n", 1, []string{
			"line 13: rules[0].rate.per_second: must be a number above 0",
			"line 13: rules[0].rate.burst: must not be negative",
			"line 14: rules[0].quota.per_day: must be at least 1",
			"3 problem(s)",
		}},
	} {
		file := filepath.Join(t.TempDir(), "govbus.yaml")
		if err := os.WriteFile(file, []byte(base+tt.limits), 0o600); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		code := run([]string{"check", "-config", file}, &out, &errOut)
		if code != tt.code {
			t.Errorf("%q: exit %d, want %d\n%s", tt.limits, code, tt.code, errOut.String())
		}
		for _, w := range tt.want {
			if !strings.Contains(out.String()+errOut.String(), w) {
				t.Errorf("%q: output lacks %q:\n%s%s", tt.limits, w, out.String(), errOut.String())
			}
		}
	}
}
