package bench

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestResultsRoundTripAndTable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.jsonl")
	in := []Result{
		{Scenario: "direct", Round: 1, RPS: 30000, P50Micros: 1000, P99Micros: 4000},
		{Scenario: "govbus", Round: 1, RPS: 9000, P50Micros: 6000, P99Micros: 15000},
		{Scenario: "direct", Round: 2, RPS: 32000, P50Micros: 1100, P99Micros: 3000},
		{Scenario: "govbus", Round: 2, RPS: 10000, P50Micros: 5000, P99Micros: 14000},
		{Scenario: "direct", Round: 3, RPS: 31000, P50Micros: 900, P99Micros: 5000},
		{Scenario: "govbus", Round: 3, RPS: 8000, P50Micros: 7000, P99Micros: 16000},
	}
	for _, r := range in {
		if err := AppendResult(path, r); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := ReadResults(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(in) || got[3] != in[3] {
		t.Fatalf("read back %+v", got)
	}

	sums := Summarise(got)
	if len(sums) != 2 || sums[0].Scenario != "direct" || sums[1].Scenario != "govbus" {
		t.Fatalf("summaries %+v", sums)
	}
	if s := sums[0]; s.RPS != 31000 || s.P50Micros != 1000 || s.P99Micros != 4000 || s.Rounds != 3 {
		t.Errorf("direct medians %+v", s)
	}

	var out bytes.Buffer
	failed, err := WriteTable(&out, got, Ratio{"govbus", "direct"})
	if err != nil || len(failed) != 0 {
		t.Fatalf("failed %v, err %v", failed, err)
	}
	table := out.String()
	for _, want := range []string{
		"scenario", "req/s", "p50", "p99", "errors",
		"direct           median     31000    1.00ms    4.00ms       0",
		"govbus           median      9000    6.00ms   15.00ms       0",
		"ratio govbus/direct req/s (median of 3 rounds): 0.29",
	} {
		if !strings.Contains(table, want) || strings.Contains(table, "note:") {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}

func TestWriteTableReportsFailures(t *testing.T) {
	rs := []Result{
		{Scenario: "direct", Round: 1, RPS: 100, GenCPU: 0.97},
		{Scenario: "govbus", Round: 1, RPS: 50, Non2xx: 2, FirstError: "GET x: 403 Forbidden", GenCPU: 0.4},
		{Scenario: "govbus", Round: 2, RPS: 50, WarmupErrors: 1},
	}
	var out bytes.Buffer
	failed, err := WriteTable(&out, rs, Ratio{"govbus", "direct"})
	if err != nil {
		t.Fatal(err)
	}
	if len(failed) != 2 || failed[0].Round != 1 || failed[1].Round != 2 {
		t.Errorf("failed = %+v", failed)
	}
	for _, want := range []string{"govbus           median", "97%", "40%", "note: the generator used 90% or more of its CPU in round(s) direct 1:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), " \n") {
		t.Errorf("trailing spaces:\n%q", out.String())
	}
	// No ratio without both scenarios.
	out.Reset()
	if _, err := WriteTable(&out, rs[:1], Ratio{"govbus", "direct"}); err != nil || strings.Contains(out.String(), "ratio") {
		t.Errorf("single scenario: %v\n%s", err, out.String())
	}
}

func TestWriteTableThreeScenarios(t *testing.T) {
	var rs []Result
	for round, rps := range [][3]float64{{30000, 9500, 9000}, {32000, 10500, 10000}, {31000, 10000, 8000}} {
		for i, name := range []string{"direct", "proxy", "govbus"} {
			rs = append(rs, Result{Scenario: name, Round: round + 1, RPS: rps[i], P50Micros: 1000 * float64(i+1), P99Micros: 4000})
		}
	}
	table := threeScenarioTable(t, rs)
	want := []string{
		"direct                1     30000",
		"proxy                 1      9500",
		"govbus                3      8000",
		"direct           median     31000    1.00ms    4.00ms       0\n" +
			"proxy            median     10000    2.00ms    4.00ms       0\n" +
			"govbus           median      9000    3.00ms    4.00ms       0\n" +
			"ratio govbus/direct req/s (median of 3 rounds): 0.29\n" +
			"ratio proxy/direct req/s (median of 3 rounds): 0.32\n" +
			"ratio govbus/proxy req/s (median of 3 rounds): 0.90\n",
	}
	for _, w := range want {
		if !strings.Contains(table, w) {
			t.Errorf("table lacks %q:\n%s", w, table)
		}
	}
	// A ratio whose scenario is absent is left out; the others stay.
	if table := threeScenarioTable(t, rs[:2]); strings.Contains(table, "govbus/") || !strings.Contains(table, "ratio proxy/direct req/s (median of 1 round): 0.32\n") {
		t.Errorf("direct and proxy only:\n%s", table)
	}
}

func TestParseRatios(t *testing.T) {
	got, err := ParseRatios(" govbus/direct, proxy/direct ")
	if err != nil || len(got) != 2 || got[0] != (Ratio{"govbus", "direct"}) || got[1] != (Ratio{"proxy", "direct"}) || got[1].String() != "proxy/direct" {
		t.Errorf("ParseRatios = %v, %v", got, err)
	}
	for _, bad := range []string{"", "govbus", "govbus/", "/direct", "a/b/c", "a/b,", "a b/c"} {
		if _, err := ParseRatios(bad); err == nil {
			t.Errorf("ParseRatios(%q) accepted", bad)
		}
	}
}

func TestReadResultsRejectsGarbage(t *testing.T) {
	if _, err := ReadResults(strings.NewReader("{\"scenario\":\"a\"}\n\nnot json\n")); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("err = %v", err)
	}
}

func TestCPUShare(t *testing.T) {
	if got := CPUShare(time.Second, 0); got != 0 {
		t.Errorf("zero elapsed: %v", got)
	}
	want := 0.5 / float64(runtime.NumCPU())
	if got := CPUShare(500*time.Millisecond, time.Second); got != want {
		t.Errorf("CPUShare = %v, want %v", got, want)
	}
	if formatShare(0) != "-" || formatShare(0.456) != "46%" {
		t.Errorf("formatShare: %q %q", formatShare(0), formatShare(0.456))
	}
}

func TestResultServerCPURoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.jsonl")
	in := []Result{
		{Scenario: "govbus", Round: 1, Requests: 30000, RPS: 10000, ServerCPUMicros: 412.5},
		{Scenario: "direct", Round: 1, Requests: 90000, RPS: 30000}, // not measured
	}
	for _, r := range in {
		if err := AppendResult(path, r); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"server_cpu_us_per_req":412.5`) || strings.Contains(lines[1], "server_cpu") {
		t.Errorf("written:\n%s", raw)
	}
	got, err := ReadResults(strings.NewReader(string(raw)))
	if err != nil || len(got) != 2 || got[0] != in[0] || got[1] != in[1] {
		t.Errorf("read back %+v, %v", got, err)
	}
	if l := got[0].Line(); !strings.Contains(l, "server CPU 412.5µs/req") {
		t.Errorf("Line = %q", l)
	}
	if l := got[1].Line(); strings.Contains(l, "server CPU") {
		t.Errorf("Line without the measure = %q", l)
	}
}

func TestWriteTableServerCPU(t *testing.T) {
	var rs []Result
	// req/s and server CPU per request of direct, proxy, govbus per round.
	for round, v := range [][6]float64{
		{30000, 50, 9500, 120, 9000, 400},
		{32000, 52, 10500, 118, 10000, 420},
		{31000, 48, 10000, 125, 8000, 380},
	} {
		for i, name := range []string{"direct", "proxy", "govbus"} {
			rs = append(rs, Result{Scenario: name, Round: round + 1, RPS: v[2*i], ServerCPUMicros: v[2*i+1],
				P50Micros: 1000 * float64(i+1), P99Micros: 4000, GenCPU: 0.5})
		}
	}
	table := threeScenarioTable(t, rs)
	for _, want := range []string{
		"scenario          round     req/s       p50       p99  errors  gen cpu server cpu/req\n",
		"direct                1     30000    1.00ms    4.00ms       0      50%         50.0µs\n",
		"govbus                3      8000    3.00ms    4.00ms       0      50%        380.0µs\n",
		"direct           median     31000    1.00ms    4.00ms       0                  50.0µs\n" +
			"proxy            median     10000    2.00ms    4.00ms       0                 120.0µs\n" +
			"govbus           median      9000    3.00ms    4.00ms       0                 400.0µs\n" +
			"server cpu/req: CPU time (user+system) of the scenario's server processes over the measured phase, per request; lower is better\n" +
			"cost A/B lines: the medians of server cpu/req of A and of B, A minus B, and A over B\n" +
			// The ratio lines of req/s as before, each followed by its cost line.
			"ratio govbus/direct req/s (median of 3 rounds): 0.29\n" +
			"cost govbus/direct server CPU per request (median of 3 rounds): govbus 400.0µs vs direct 50.0µs, +350.0µs (8.00x)\n" +
			"ratio proxy/direct req/s (median of 3 rounds): 0.32\n" +
			"cost proxy/direct server CPU per request (median of 3 rounds): proxy 120.0µs vs direct 50.0µs, +70.0µs (2.40x)\n" +
			"ratio govbus/proxy req/s (median of 3 rounds): 0.90\n" +
			"cost govbus/proxy server CPU per request (median of 3 rounds): govbus 400.0µs vs proxy 120.0µs, +280.0µs (3.33x)\n",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	if strings.Contains(table, " \n") {
		t.Errorf("trailing spaces:\n%q", table)
	}

	// The median is over the rounds that measured it; a scenario that
	// never did has an empty cell and no cost line, its ratio stays.
	rs[0].ServerCPUMicros = 0 // direct round 1
	for i := range rs {
		if rs[i].Scenario == "proxy" {
			rs[i].ServerCPUMicros = 0
		}
	}
	table = threeScenarioTable(t, rs)
	for _, want := range []string{
		"direct           median     31000    1.00ms    4.00ms       0                  50.0µs\n",
		"proxy            median     10000    2.00ms    4.00ms       0\n",
		"cost govbus/direct server CPU per request (median of 2 rounds): govbus 400.0µs vs direct 50.0µs, +350.0µs (8.00x)\n",
		"ratio govbus/proxy req/s (median of 3 rounds): 0.90\n",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("partly measured: table lacks %q:\n%s", want, table)
		}
	}
	if strings.Contains(table, "cost proxy/") || strings.Contains(table, "cost govbus/proxy") {
		t.Errorf("a cost line for proxy, which was not measured:\n%s", table)
	}

	// Without any measure, no legend.
	if table := threeScenarioTable(t, rs[1:2]); strings.Contains(table, "server cpu/req:") {
		t.Errorf("not measured:\n%s", table)
	}
}

// threeScenarioTable writes the table of rs with the ratios of the direct,
// proxy and govbus scenarios.
func threeScenarioTable(t *testing.T, rs []Result) string {
	t.Helper()
	ratios, err := ParseRatios("govbus/direct,proxy/direct,govbus/proxy")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := WriteTable(&out, rs, ratios...); err != nil {
		t.Fatal(err)
	}
	return out.String()
}
