package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"
)

const usage = `usage: benchload COMMAND [flags]

commands:
  run    one round of load against a URL; appends a JSON result to -out
  table  prints the comparison table from a results file
  ports  checks that addresses are free to listen on
  wait   polls URLs until each answers 2xx
  proxy  serves a bare reverse proxy to a target until SIGINT or SIGTERM
  spans  checks that a service's spans reached Jaeger; reports dropped spans
  msglog reports a message log's size on disk and records; fails when it has none

"benchload COMMAND -h" lists a command's flags.
`

// ExitInterrupted is the exit status of a run stopped by SIGINT or
// SIGTERM (its context cancelled), as a shell reports a SIGINT.
const ExitInterrupted = 130

// Main runs the benchload command line and returns its exit status:
// 0 on success, 1 when the work failed (a request failed, a port is taken,
// a server never got ready), 2 on a usage error, ExitInterrupted when ctx
// was cancelled during a run.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		return cmdRun(ctx, rest, stdout, stderr)
	case "table":
		return cmdTable(rest, stdout, stderr)
	case "ports":
		return cmdPorts(rest, stderr)
	case "wait":
		return cmdWait(ctx, rest, stderr)
	case "proxy":
		return cmdProxy(ctx, rest, stderr)
	case "spans":
		return cmdSpans(ctx, rest, stdout, stderr)
	case "msglog":
		return cmdMsglog(ctx, rest, stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "benchload: unknown command %q\n%s", cmd, usage)
		return 2
	}
}

// RunConfig is the parsed command line of "benchload run".
type RunConfig struct {
	Scenario    string
	Round       int
	Generator   string // "go" or "wrk"
	Wrk         string // wrk binary
	WrkScript   string
	Options     Options
	HeaderLines []string
	// BodyFile is the file the body was read from, for wrk's script.
	BodyFile   string
	Out        string
	CPUProfile string
	// ServerPids are the processes whose CPU time over the measured phase
	// is reported per request (Result.ServerCPUMicros); none when empty.
	ServerPids []int
}

// ParseRunArgs parses the flags of "benchload run".
func ParseRunArgs(args []string, stderr io.Writer) (RunConfig, error) {
	fs := flag.NewFlagSet("benchload run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c RunConfig
	var hdr HeaderFlag
	var pids pidList
	var rawURL, ids, method string
	fs.StringVar(&c.Scenario, "scenario", "", "name of the scenario in the report, e.g. direct (required)")
	fs.IntVar(&c.Round, "round", 1, "round number in the report")
	fs.StringVar(&c.Generator, "generator", "go", "load generator: go (built in) or wrk")
	fs.StringVar(&c.Wrk, "wrk", "wrk", "wrk `binary` for -generator wrk")
	fs.StringVar(&c.WrkScript, "wrk-script", "", "Lua `file` for wrk (default: the built-in script)")
	fs.StringVar(&rawURL, "url", "", "target `URL`; "+IDPlaceholder+" in its path is replaced by an id per request (required)")
	fs.Var(&hdr, "H", "request header `Name: value` (repeatable)")
	fs.StringVar(&method, "method", "", "HTTP `method` (default GET, or POST with -body-file)")
	fs.StringVar(&c.BodyFile, "body-file", "", "request body `file`, sent with every request; each "+IDPlaceholder+" in it is replaced by the request's id (the URL's)")
	fs.StringVar(&ids, "ids", "1000000001-1000010000", "inclusive `range` of ids for "+IDPlaceholder)
	fs.IntVar(&c.Options.Conns, "c", 64, "connections (each with one request in flight)")
	fs.DurationVar(&c.Options.Duration, "d", 5*time.Second, "measured `duration`")
	fs.DurationVar(&c.Options.Warmup, "warmup", 2*time.Second, "unmeasured warm-up `duration` before it")
	fs.DurationVar(&c.Options.Timeout, "timeout", 10*time.Second, "per-request `timeout`")
	fs.StringVar(&c.Out, "out", "", "results `file` to append the JSON result to")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", "write a CPU profile of the built-in generator to `file`")
	fs.Var(&pids, "server-pids", "`pids` (comma-separated) of the servers whose CPU time over the measured phase is reported per request (from /proc/PID/stat; a pid gone fails the run)")
	if err := fs.Parse(args); err != nil {
		return RunConfig{}, err
	}
	var problems []string
	if fs.NArg() > 0 {
		problems = append(problems, fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	if c.Scenario == "" || strings.ContainsAny(c.Scenario, " \t\n") {
		problems = append(problems, "-scenario NAME is required (one word)")
	}
	if rawURL == "" {
		problems = append(problems, "-url is required")
	} else if t, err := ParseTemplate(rawURL); err != nil {
		problems = append(problems, err.Error())
	} else {
		c.Options.URL = t
	}
	if r, err := ParseIDRange(ids); err != nil {
		problems = append(problems, err.Error())
	} else {
		c.Options.IDs = r
	}
	if c.BodyFile != "" {
		if b, err := readBodyFile(c.BodyFile); err != nil {
			problems = append(problems, err.Error())
		} else {
			c.Options.Body = NewBodyTemplate(b)
		}
	}
	if m, err := ParseMethod(method, c.BodyFile != ""); err != nil {
		problems = append(problems, err.Error())
	} else {
		c.Options.Method = m
	}
	if c.Options.Conns < 1 {
		problems = append(problems, "-c must be at least 1")
	}
	if c.Options.Duration <= 0 {
		problems = append(problems, "-d must be positive")
	}
	if c.Options.Warmup < 0 {
		problems = append(problems, "-warmup must not be negative")
	}
	if c.Options.Timeout <= 0 {
		problems = append(problems, "-timeout must be positive")
	}
	if c.Generator != "go" && c.Generator != "wrk" {
		problems = append(problems, fmt.Sprintf("-generator %q: want go or wrk", c.Generator))
	}
	if len(problems) > 0 {
		return RunConfig{}, errors.New(strings.Join(problems, "; "))
	}
	c.Options.Header = hdr.Header
	c.HeaderLines = hdr.Raw
	c.ServerPids = pids
	c.Options.Seed = uint64(time.Now().UnixNano())
	return c, nil
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := ParseRunArgs(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "benchload run: %v\n", err)
		}
		return exitUsage(err)
	}
	var meter *ServerCPU
	if len(c.ServerPids) > 0 {
		meter = &ServerCPU{Pids: c.ServerPids}
		c.Options.Meter = meter // only a non-nil *ServerCPU: a nil one would be a non-nil Meter
	}
	var res Result
	if c.Generator == "wrk" {
		res, err = RunWrk(ctx, WrkOptions{Options: c.Options, Binary: c.Wrk, Script: c.WrkScript, HeaderLines: c.HeaderLines, BodyFile: c.BodyFile}, c.Scenario, c.Round)
	} else {
		if c.CPUProfile != "" {
			stopProfile, perr := startCPUProfile(c.CPUProfile)
			if perr != nil {
				fmt.Fprintf(stderr, "benchload run: %v\n", perr)
				return 1
			}
			defer stopProfile()
		}
		var measured, warm Outcome
		measured, warm, err = Run(ctx, c.Options)
		res = NewResult(c.Scenario, c.Round, c.Options.Conns, measured, warm)
	}
	if ctx.Err() != nil {
		fmt.Fprintf(stderr, "benchload run: %s round %d: interrupted\n", c.Scenario, c.Round)
		return ExitInterrupted
	}
	if err != nil {
		fmt.Fprintf(stderr, "benchload run: %s round %d: %v\n", c.Scenario, c.Round, err)
		return 1
	}
	if meter != nil {
		res.ServerCPUMicros = meter.PerRequest(res.Requests)
	}
	fmt.Fprintln(stdout, res.Line())
	if c.Out != "" {
		if err := AppendResult(c.Out, res); err != nil {
			fmt.Fprintf(stderr, "benchload run: %v\n", err)
			return 1
		}
	}
	if res.Errors() > 0 {
		return 1
	}
	return 0
}

func cmdTable(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("benchload table", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "results `file` written by benchload run -out (required)")
	ratioList := fs.String("ratio", "govbus/direct", "scenarios whose median req/s to divide, `A/B[,C/D...]`, one line each")
	if err := fs.Parse(args); err != nil {
		return exitUsage(err)
	}
	ratios, err := ParseRatios(*ratioList)
	if *in == "" || fs.NArg() > 0 || err != nil {
		fmt.Fprintln(stderr, "benchload table: want -in FILE [-ratio A/B[,C/D...]]")
		return 2
	}
	f, err := os.Open(*in)
	if err != nil {
		fmt.Fprintf(stderr, "benchload table: %v\n", err)
		return 1
	}
	defer f.Close()
	results, err := ReadResults(f)
	if err != nil {
		fmt.Fprintf(stderr, "benchload table: %s: %v\n", *in, err)
		return 1
	}
	if len(results) == 0 {
		fmt.Fprintf(stderr, "benchload table: %s holds no result\n", *in)
		return 1
	}
	failed, err := WriteTable(stdout, results, ratios...)
	if err != nil {
		fmt.Fprintf(stderr, "benchload table: %v\n", err)
		return 1
	}
	if len(failed) > 0 {
		fmt.Fprintf(stderr, "FAIL: %d round(s) had failed requests; every answer must be 2xx:\n", len(failed))
		for _, r := range failed {
			fmt.Fprintf(stderr, "  %s round %d: %d non-2xx, %d without answer, %d in the warm-up; first: %s\n",
				r.Scenario, r.Round, r.Non2xx, r.NetErrors, r.WarmupErrors, r.FirstError)
		}
		return 1
	}
	return 0
}

func cmdPorts(args []string, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "benchload ports: want ADDRESS... (host:port)")
		return 2
	}
	errs := CheckPorts(args)
	for _, err := range errs {
		fmt.Fprintf(stderr, "benchload: %v\n", err)
	}
	if len(errs) > 0 {
		return 1
	}
	return 0
}

// pidList is a comma-separated list of process ids; it implements flag.Value.
type pidList []int

func (p *pidList) String() string {
	s := make([]string, len(*p))
	for i, v := range *p {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, ",")
}

func (p *pidList) Set(v string) error {
	for f := range strings.SplitSeq(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return fmt.Errorf("bad pid %q", f)
		}
		*p = append(*p, n)
	}
	return nil
}

func cmdWait(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("benchload wait", flag.ContinueOnError)
	fs.SetOutput(stderr)
	timeout := fs.Duration("timeout", 20*time.Second, "how long to wait for all URLs")
	var pids pidList
	var hdr HeaderFlag
	fs.Var(&pids, "pid", "`pids` (comma-separated) that must stay alive meanwhile")
	fs.Var(&hdr, "H", "request header `Name: value` (repeatable; sent to every URL)")
	method := fs.String("method", "", "HTTP `method` (default GET, or POST with -body-file)")
	bodyFile := fs.String("body-file", "", "request body `file`, sent to every URL; "+IDPlaceholder+" in it is replaced by -id")
	id := fs.Uint64("id", 0, "the `id` for "+IDPlaceholder+" in the body (required when it holds one)")
	if err := fs.Parse(args); err != nil {
		return exitUsage(err)
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "benchload wait: want [-timeout D] [-pid P,...] [-H 'Name: value'] [-method M] [-body-file F [-id N]] URL...")
		return 2
	}
	var body []byte
	if *bodyFile != "" {
		b, err := readBodyFile(*bodyFile)
		if err != nil {
			fmt.Fprintf(stderr, "benchload wait: %v\n", err)
			return 2
		}
		t := NewBodyTemplate(b)
		if t.Varies() && *id == 0 {
			fmt.Fprintf(stderr, "benchload wait: %s holds %s: give -id\n", *bodyFile, IDPlaceholder)
			return 2
		}
		body = t.Expand(*id)
	}
	m, err := ParseMethod(*method, body != nil)
	if err != nil {
		fmt.Fprintf(stderr, "benchload wait: %v\n", err)
		return 2
	}
	probes := make([]Probe, fs.NArg())
	for i, u := range fs.Args() {
		probes[i] = Probe{URL: u, Header: hdr.Header, Method: m, Body: body}
	}
	if err := Wait(ctx, probes, pids, *timeout); err != nil {
		fmt.Fprintf(stderr, "benchload wait: %v\n", err)
		return 1
	}
	return 0
}

func cmdProxy(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("benchload proxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "", "`address` (host:port) to listen on (required)")
	rawTarget := fs.String("target", "", "`URL` to forward to, e.g. http://127.0.0.1:19101 (required)")
	drain := fs.Duration("drain", 5*time.Second, "how long requests in flight may finish after SIGINT or SIGTERM")
	if err := fs.Parse(args); err != nil {
		return exitUsage(err)
	}
	if *listen == "" || *rawTarget == "" || fs.NArg() > 0 || *drain <= 0 {
		fmt.Fprintln(stderr, "benchload proxy: want -listen HOST:PORT -target http://HOST:PORT [-drain D]")
		return 2
	}
	target, err := ParseProxyTarget(*rawTarget)
	if err != nil {
		fmt.Fprintf(stderr, "benchload proxy: %v\n", err)
		return 2
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(stderr, "benchload proxy: %v\n", notFree(*listen, err))
		return 1
	}
	fmt.Fprintf(stderr, "benchload proxy: listening on %s, forwarding to %s\n", ln.Addr(), target)
	if err := ServeProxy(ctx, ln, target, *drain); err != nil {
		fmt.Fprintf(stderr, "benchload proxy: %v\n", err)
		return 1
	}
	fmt.Fprintln(stderr, "benchload proxy: stopped")
	return 0
}

func cmdSpans(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("benchload spans", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c SpanCheck
	fs.StringVar(&c.Query, "query", "", "base `URL` of Jaeger's query HTTP API, e.g. http://127.0.0.1:19686 (required)")
	fs.StringVar(&c.Service, "service", "govbus", "service `name` whose spans must have arrived")
	fs.StringVar(&c.Metrics, "metrics", "", "Prometheus `URL` of the traced govbus, read for its exchanges and dropped spans")
	fs.DurationVar(&c.Timeout, "timeout", 15*time.Second, "how long to wait for Jaeger to list the service")
	if err := fs.Parse(args); err != nil {
		return exitUsage(err)
	}
	if c.Query == "" || c.Service == "" || c.Timeout <= 0 || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "benchload spans: want -query URL [-service NAME] [-metrics URL] [-timeout D]")
		return 2
	}
	rep, err := CheckSpans(ctx, c)
	if err != nil {
		fmt.Fprintf(stderr, "benchload spans: %v\n", err)
		if ctx.Err() != nil {
			return ExitInterrupted
		}
		return 1
	}
	for _, l := range rep.Lines(c) {
		fmt.Fprintln(stdout, l)
	}
	return 0
}

func cmdMsglog(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("benchload msglog", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c MsglogCheck
	fs.StringVar(&c.DB, "db", "", "SQLite `file` of the message log, e.g. var/bench/messagelog.db (required)")
	fs.StringVar(&c.Name, "name", "govbus", "`name` of the process in the report")
	fs.StringVar(&c.SQLite3, "sqlite3", "sqlite3", "sqlite3 `binary` counting the records; when missing, the size alone is reported")
	fs.StringVar(&c.Metrics, "metrics", "", "Prometheus `URL` of the process, read for govbus_exchanges_total")
	if err := fs.Parse(args); err != nil {
		return exitUsage(err)
	}
	if c.DB == "" || c.Name == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "benchload msglog: want -db FILE [-name NAME] [-sqlite3 BIN] [-metrics URL]")
		return 2
	}
	rep, err := CheckMsglog(ctx, c)
	if err != nil {
		fmt.Fprintf(stderr, "benchload msglog: %s: %v\n", c.Name, err)
		if ctx.Err() != nil {
			return ExitInterrupted
		}
		return 1
	}
	fmt.Fprintln(stdout, rep.Line(c))
	return 0
}

// maxBodyFile bounds a -body-file: the bench sends envelopes of a few KiB.
const maxBodyFile = 1 << 20

// readBodyFile reads a -body-file, which must not be empty nor over
// maxBodyFile.
func readBodyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("-body-file: %v", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxBodyFile+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("-body-file: %v", err)
	case len(b) == 0:
		return nil, fmt.Errorf("-body-file %s is empty", path)
	case len(b) > maxBodyFile:
		return nil, fmt.Errorf("-body-file %s is over %s", path, FormatBytes(maxBodyFile))
	}
	return b, nil
}

// startCPUProfile starts a CPU profile into path; the returned function
// ends it.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}, nil
}

// exitUsage is 0 for -h and 2 for any other flag error.
func exitUsage(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}
