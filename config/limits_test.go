package config

import "testing"

// limitsDoc is a valid file but for its rules, which follow it.
const limitsDoc = `
registries:
  - id: UA/GOV/00000001/civil
    endpoints: [http://127.0.0.1:9101]
    services:
      - code: persons
clients:
  - {id: UA/GOV/00000003/eservice, auth: {api_keys: [` + hashA + `]}}
rules:
`

// TestLimitsProblems: rates and quotas are checked with their YAML paths
// and lines.
func TestLimitsProblems(t *testing.T) {
	tests := []struct {
		name  string
		rules string
		want  []want
	}{
		{
			name: "valid",
			rules: `
  - id: r
    clients: [UA/GOV/00000003/eservice]
    services: [UA/GOV/00000001/civil/persons]
    rate: {per_second: 0.5, per_service: true}
    quota: {per_day: 1000, per_service: true}
`,
		},
		{
			name: "bad values",
			rules: `
  - id: r
    clients: [UA/GOV/00000003/eservice]
    services: [UA/GOV/00000001/civil/persons]
    rate: {per_second: 0, burst: -1}
    quota:
      per_day: -5
  - id: s
    clients: [UA/GOV/00000003/eservice]
    services: [UA/GOV/00000001/civil/persons]
    rate:
      per_second: .nan
  - id: t
    clients: [UA/GOV/00000003/eservice]
    services: [UA/GOV/00000001/civil/persons]
    rate: {burst: 5}
    quota: {}
`,
			want: []want{
				{"rules[0].rate.per_second", 12, "above 0"},
				{"rules[0].rate.burst", 12, "not be negative"},
				{"rules[0].quota.per_day", 14, "at least 1"},
				{"rules[1].rate.per_second", 19, "above 0"},
				{"rules[2].rate.per_second", 23, "above 0"},
				{"rules[2].quota.per_day", 24, "at least 1"},
			},
		},
		{
			name: "infinite rate",
			rules: `
  - id: r
    clients: [UA/GOV/00000003/eservice]
    services: [UA/GOV/00000001/civil/persons]
    rate: {per_second: .inf}
`,
			want: []want{{"rules[0].rate.per_second", 12, "above 0"}},
		},
		{
			name: "rate and quota keyed apart",
			rules: `
  - id: r
    clients: [UA/GOV/00000003/eservice]
    services: [UA/GOV/00000001/civil/persons]
    rate: {per_second: 5, per_service: true}
    quota: {per_day: 100}
`,
			want: []want{{"rules[0].quota.per_service", 13, "must equal rate.per_service"}},
		},
		{
			name: "limits on a rule without services",
			rules: `
  - id: r
    clients: [UA/GOV/00000003/eservice]
    rights: [tracker]
    quota: {per_day: 100}
`,
			want: []want{{"rules[0]", 9, "apply to service calls"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, ps, err := parseDoc(t, t.TempDir(), limitsDoc+tt.rules[1:]+"message_log: {disabled: true}\n", nil)
			var got Problems
			for _, p := range ps {
				if p.Path != "message_log.disabled" {
					got = append(got, p)
				}
			}
			checkProblems(t, got, tt.want)
			if len(got.Errors()) > 0 {
				requireRejected(t, cfg, ps, err)
			} else if err != nil {
				t.Fatalf("refused: %v", err)
			}
		})
	}
}

func TestPolicyRuleLimits(t *testing.T) {
	r := PolicyRule(Rule{ID: "r", Rate: &RateLimit{PerSecond: 10, Burst: 20, PerService: true}, Quota: &Quota{PerDay: 500, PerService: true}})
	if r.RatePerSecond != 10 || r.Burst != 20 || r.QuotaPerDay != 500 || !r.PerService {
		t.Errorf("PolicyRule = %+v", r)
	}
}
