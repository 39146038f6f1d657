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
	failed, err := WriteTable(&out, got, "govbus", "direct")
	if err != nil || len(failed) != 0 {
		t.Fatalf("failed %v, err %v", failed, err)
	}
	table := out.String()
	for _, want := range []string{
		"scenario", "req/s", "p50", "p99", "errors",
		"direct     median     31000    1.00ms    4.00ms       0",
		"govbus     median      9000    6.00ms   15.00ms       0",
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
	failed, err := WriteTable(&out, rs, "govbus", "direct")
	if err != nil {
		t.Fatal(err)
	}
	if len(failed) != 2 || failed[0].Round != 1 || failed[1].Round != 2 {
		t.Errorf("failed = %+v", failed)
	}
	for _, want := range []string{"govbus     median", "97%", "40%", "note: the generator used 90% or more of its CPU in round(s) direct 1:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), " \n") {
		t.Errorf("trailing spaces:\n%q", out.String())
	}
	// No ratio without both scenarios.
	out.Reset()
	if _, err := WriteTable(&out, rs[:1], "govbus", "direct"); err != nil || strings.Contains(out.String(), "ratio") {
		t.Errorf("single scenario: %v\n%s", err, out.String())
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
