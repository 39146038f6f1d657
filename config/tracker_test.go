package config

import "testing"

// TestTrackerProblems: the tracker section is checked with its YAML paths
// and lines, and a condition too costly to evaluate is refused where it is
// written.
func TestTrackerProblems(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []want
	}{
		{name: "valid", doc: `
tracker: {rate: {per_second: 2, burst: 4}, max_limit: 20}
rules:
  - id: portal
    clients: [UA/GOV/00000003/eservice]
    rights: [tracker]
    condition: '"x-office" in headers && headers["x-office"] == "kyiv"'
`},
		{name: "bad values", doc: `
tracker:
  rate: {per_second: 0, burst: -1}
  max_limit: 501
`, want: []want{
			{"tracker.rate.per_second", 9, "positive"},
			{"tracker.rate.burst", 9, "not be negative"},
			{"tracker.max_limit", 10, "from 1 to 500"},
		}},
		{name: "infinite rate", doc: `
tracker: {rate: {per_second: .inf}}
`, want: []want{{"tracker.rate.per_second", 8, "positive"}}},
		{name: "costly condition", doc: `
rules:
  - id: portal
    clients: [UA/GOV/00000003/eservice]
    rights: [tracker]
    condition: 'headers.all(k, headers.all(j, headers.all(i, k + j + i != "")))'
`, want: []want{{"rules[0].condition", 12, "over the limit of 100000"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := limitsDoc[:len(limitsDoc)-len("rules:\n")] + tt.doc[1:] + "message_log: {disabled: true}\n"
			cfg, ps, err := parseDoc(t, t.TempDir(), doc, nil)
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

func TestTrackerDefaults(t *testing.T) {
	for _, tt := range []struct {
		t         Tracker
		rate      float64
		burst     int
		pageLimit int
	}{
		{Tracker{}, 5, 10, 100},
		{Tracker{Rate: &TrackerRate{PerSecond: 2.5}, MaxLimit: 20}, 2.5, 3, 20},
		{Tracker{Rate: &TrackerRate{PerSecond: 0.2}}, 0.2, 1, 100},
		{Tracker{Rate: &TrackerRate{PerSecond: 1, Burst: 7}}, 1, 7, 100},
	} {
		rate, burst := tt.t.RateLimit()
		if rate != tt.rate || burst != tt.burst || tt.t.PageMax() != tt.pageLimit {
			t.Errorf("%+v: rate %v burst %d max %d; want %v %d %d", tt.t, rate, burst, tt.t.PageMax(), tt.rate, tt.burst, tt.pageLimit)
		}
	}
}
