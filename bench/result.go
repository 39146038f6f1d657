package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// Result is one measured round of one scenario, as benchload run appends
// it to the results file (one JSON object per line).
type Result struct {
	Scenario  string  `json:"scenario"`
	Round     int     `json:"round"`
	Generator string  `json:"generator"` // "benchload" or "wrk"
	Conns     int     `json:"conns"`
	Requests  int64   `json:"requests"`
	Seconds   float64 `json:"seconds"`
	RPS       float64 `json:"rps"`
	P50Micros float64 `json:"p50_us"`
	P99Micros float64 `json:"p99_us"`
	// Non2xx and NetErrors count the measured phase's failures;
	// WarmupErrors the warm-up's (either kind).
	Non2xx       int64  `json:"non2xx"`
	NetErrors    int64  `json:"net_errors"`
	WarmupErrors int64  `json:"warmup_errors"`
	FirstError   string `json:"first_error,omitempty"`
	// GenCPU is the generator's CPU use over the measured phase, as a
	// share of the CPUs it may run on; near 1, the generator itself was
	// the limit, and req/s is a lower bound of what the server can do.
	GenCPU float64 `json:"gen_cpu"`
	// ServerCPUMicros is the CPU time (user and system) that the server
	// processes of the scenario (benchload run -server-pids) spent over
	// the measured phase, divided by its requests, in microseconds: what
	// a request costs the servers, which, unlike req/s, does not fall when
	// the generator gets less CPU (Jaeger on its CPU, a noisy round). 0
	// when not measured.
	ServerCPUMicros float64 `json:"server_cpu_us_per_req,omitempty"`
}

// GeneratorBound is the GenCPU from which a round is reported as limited
// by the generator rather than by the server.
const GeneratorBound = 0.9

// Errors is the number of failed requests of the round, warm-up included.
func (r Result) Errors() int64 { return r.Non2xx + r.NetErrors + r.WarmupErrors }

// NewResult summarises the outcome of the built-in generator.
func NewResult(scenario string, round, conns int, measured, warmup Outcome) Result {
	r := Result{
		Scenario: scenario, Round: round, Generator: "benchload", Conns: conns,
		Requests: measured.Requests, Seconds: measured.Elapsed.Seconds(), RPS: measured.RPS(),
		P50Micros:    micros(Percentile(measured.Latencies, 50)),
		P99Micros:    micros(Percentile(measured.Latencies, 99)),
		Non2xx:       measured.Non2xx,
		NetErrors:    measured.NetErrors,
		WarmupErrors: warmup.Non2xx + warmup.NetErrors,
		FirstError:   measured.FirstError,
		GenCPU:       CPUShare(measured.CPU, measured.Elapsed),
	}
	if r.FirstError == "" && warmup.FirstError != "" {
		r.FirstError = "during the warm-up: " + warmup.FirstError
	}
	return r
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// Line is the one-line progress report of a round.
func (r Result) Line() string {
	s := fmt.Sprintf("%-8s round %d: %9.0f req/s  p50 %s  p99 %s  errors %d  generator CPU %s",
		r.Scenario, r.Round, r.RPS, formatMicros(r.P50Micros), formatMicros(r.P99Micros), r.Errors(), formatShare(r.GenCPU))
	if r.ServerCPUMicros > 0 {
		s += "  server CPU " + formatCPU(r.ServerCPUMicros) + "/req"
	}
	if r.FirstError != "" {
		s += "  first: " + r.FirstError
	}
	return s
}

// AppendResult appends r as one JSON line to the file at path.
func AppendResult(path string, r Result) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// ReadResults reads the lines AppendResult wrote; blank lines are skipped.
func ReadResults(r io.Reader) ([]Result, error) {
	var out []Result
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var res Result
		if err := json.Unmarshal([]byte(line), &res); err != nil {
			return nil, fmt.Errorf("line %d: %v", n, err)
		}
		out = append(out, res)
	}
	return out, sc.Err()
}

// Summary is the median of a scenario's rounds.
type Summary struct {
	Scenario                  string
	Rounds                    int
	RPS, P50Micros, P99Micros float64
	Errors                    int64
	// ServerCPUMicros is the median over the CPURounds rounds that
	// measured the servers' CPU per request (0 when none did).
	ServerCPUMicros float64
	CPURounds       int
}

// Summarise groups results by scenario, in order of first appearance,
// and takes the median of each measure over the rounds (errors add up).
func Summarise(results []Result) []Summary {
	var order []string
	by := map[string][]Result{}
	for _, r := range results {
		if _, seen := by[r.Scenario]; !seen {
			order = append(order, r.Scenario)
		}
		by[r.Scenario] = append(by[r.Scenario], r)
	}
	out := make([]Summary, 0, len(order))
	for _, name := range order {
		rs := by[name]
		s := Summary{Scenario: name, Rounds: len(rs)}
		var rps, p50, p99, cpu []float64
		for _, r := range rs {
			rps = append(rps, r.RPS)
			p50 = append(p50, r.P50Micros)
			p99 = append(p99, r.P99Micros)
			if r.ServerCPUMicros > 0 {
				cpu = append(cpu, r.ServerCPUMicros)
			}
			s.Errors += r.Errors()
		}
		s.RPS, s.P50Micros, s.P99Micros = Median(rps), Median(p50), Median(p99)
		s.ServerCPUMicros, s.CPURounds = Median(cpu), len(cpu)
		out = append(out, s)
	}
	return out
}

// Ratio names two scenarios whose median req/s WriteTable divides: Of
// over Base, e.g. govbus over direct.
type Ratio struct {
	Of, Base string
}

// String formats r as ParseRatios reads it, "Of/Base".
func (r Ratio) String() string { return r.Of + "/" + r.Base }

// ParseRatios parses a comma-separated list of "A/B", e.g.
// "govbus/direct,proxy/direct,govbus/proxy".
func ParseRatios(s string) ([]Ratio, error) {
	var out []Ratio
	for f := range strings.SplitSeq(s, ",") {
		of, base, ok := strings.Cut(strings.TrimSpace(f), "/")
		if !ok || of == "" || base == "" || strings.ContainsAny(of+base, "/ \t") {
			return nil, fmt.Errorf("ratio %q: want A/B, two scenario names", f)
		}
		out = append(out, Ratio{Of: of, Base: base})
	}
	return out, nil
}

// WriteTable prints every round, the medians and, for each of ratios
// whose two scenarios are both present, the ratio of their medians of
// req/s and, when both measured it, their medians of server CPU per
// request side by side (a "cost" line). It returns the failed rounds.
func WriteTable(w io.Writer, results []Result, ratios ...Ratio) (failed []Result, err error) {
	const row = "%-16s %6s %9s %9s %9s %7s %8s %14s\n"
	var b strings.Builder
	fmt.Fprintf(&b, row, "scenario", "round", "req/s", "p50", "p99", "errors", "gen cpu", "server cpu/req")
	var bound []string
	for _, r := range results {
		fmt.Fprintf(&b, row, r.Scenario, strconv.Itoa(r.Round), fmt.Sprintf("%.0f", r.RPS),
			formatMicros(r.P50Micros), formatMicros(r.P99Micros), strconv.FormatInt(r.Errors(), 10), formatShare(r.GenCPU),
			formatCPU(r.ServerCPUMicros))
		if r.Errors() > 0 {
			failed = append(failed, r)
		}
		if r.GenCPU >= GeneratorBound {
			bound = append(bound, fmt.Sprintf("%s %d", r.Scenario, r.Round))
		}
	}
	sums := Summarise(results)
	cpuMeasured := false
	for _, s := range sums {
		fmt.Fprintf(&b, row, s.Scenario, "median", fmt.Sprintf("%.0f", s.RPS),
			formatMicros(s.P50Micros), formatMicros(s.P99Micros), strconv.FormatInt(s.Errors, 10), "",
			formatCPU(s.ServerCPUMicros))
		cpuMeasured = cpuMeasured || s.CPURounds > 0
	}
	if cpuMeasured {
		b.WriteString("server cpu/req: CPU time (user+system) of the scenario's server processes over the measured phase, per request; lower is better\n" +
			"cost A/B lines: the medians of server cpu/req of A and of B, A minus B, and A over B\n")
	}
	for _, ratio := range ratios {
		num, den := findSummary(sums, ratio.Of), findSummary(sums, ratio.Base)
		if num == nil || den == nil {
			continue
		}
		if den.RPS > 0 {
			fmt.Fprintf(&b, "ratio %s req/s (median of %s): %.2f\n", ratio, countRounds(min(num.Rounds, den.Rounds)), num.RPS/den.RPS)
		}
		if num.CPURounds > 0 && den.CPURounds > 0 {
			fmt.Fprintf(&b, "cost %s server CPU per request (median of %s): %s %s vs %s %s, %s (%.2fx)\n",
				ratio, countRounds(min(num.CPURounds, den.CPURounds)),
				num.Scenario, formatCPU(num.ServerCPUMicros), den.Scenario, formatCPU(den.ServerCPUMicros),
				fmt.Sprintf("%+.1fµs", num.ServerCPUMicros-den.ServerCPUMicros), num.ServerCPUMicros/den.ServerCPUMicros)
		}
	}
	if len(bound) > 0 {
		fmt.Fprintf(&b, "note: the generator used %s or more of its CPU in round(s) %s: there it, not the server, set req/s\n",
			formatShare(GeneratorBound), strings.Join(bound, ", "))
	}
	table := b.String()
	for strings.Contains(table, " \n") {
		table = strings.ReplaceAll(table, " \n", "\n")
	}
	_, err = io.WriteString(w, table)
	return failed, err
}

// findSummary returns the summary of scenario, or nil.
func findSummary(sums []Summary, scenario string) *Summary {
	for i := range sums {
		if sums[i].Scenario == scenario {
			return &sums[i]
		}
	}
	return nil
}

// countRounds writes n rounds, e.g. "3 rounds", "1 round".
func countRounds(n int) string {
	if n == 1 {
		return "1 round"
	}
	return fmt.Sprintf("%d rounds", n)
}

// formatCPU writes a CPU time per request, e.g. "412.3µs"; nothing when
// it was not measured.
func formatCPU(us float64) string {
	if us <= 0 {
		return ""
	}
	return fmt.Sprintf("%.1fµs", us)
}

// formatShare writes a share as a percentage, e.g. "97%"; "-" when unknown.
func formatShare(x float64) string {
	if x <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", 100*x)
}

// formatMicros writes a latency in milliseconds, e.g. "1.24ms".
func formatMicros(us float64) string {
	return fmt.Sprintf("%.2fms", us/1000)
}
