package bench

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// WrkScript is the Lua script that makes wrk vary the ids (in the path
// and in the body), send the method, headers and body, count non-2xx
// answers and print a line ParseWrk reads.
//
//go:embed wrk.lua
var WrkScript []byte

// wrkMark starts the line WrkScript's done() prints.
const wrkMark = "benchload-wrk "

// WrkOutcome is what ParseWrk reads from wrk's output.
type WrkOutcome struct {
	Requests                      int64
	Duration                      time.Duration
	P50, P99                      time.Duration
	Non2xx                        int64
	Connect, Read, Write, Timeout int64 // wrk's socket errors
	FirstBad                      string
	// CPU is wrk's CPU time (user and system), from the kernel.
	CPU time.Duration
}

// Failed reports whether any request failed.
func (w WrkOutcome) Failed() bool { return w.Non2xx+w.SocketErrors() > 0 }

// SocketErrors adds up wrk's socket errors.
func (w WrkOutcome) SocketErrors() int64 { return w.Connect + w.Read + w.Write + w.Timeout }

// ParseWrk finds the line WrkScript prints in wrk's output and reads it.
func ParseWrk(out []byte) (WrkOutcome, error) {
	var line string
	for l := range strings.Lines(string(out)) {
		if strings.HasPrefix(l, wrkMark) {
			line = strings.TrimRight(strings.TrimPrefix(l, wrkMark), "\r\n")
		}
	}
	if line == "" {
		return WrkOutcome{}, errors.New("wrk printed no " + strings.TrimSpace(wrkMark) + " line (was it run with the harness's script?)")
	}
	var w WrkOutcome
	// first_bad comes last and may hold spaces.
	line, w.FirstBad, _ = strings.Cut(line, "first_bad=")
	w.FirstBad = strings.TrimSpace(w.FirstBad)
	seen := map[string]bool{}
	for _, field := range strings.Fields(line) {
		k, v, ok := strings.Cut(field, "=")
		n, err := strconv.ParseInt(v, 10, 64)
		if !ok || err != nil {
			return WrkOutcome{}, fmt.Errorf("wrk result %q: bad field %q", line, field)
		}
		seen[k] = true
		switch k {
		case "requests":
			w.Requests = n
		case "duration_us":
			w.Duration = time.Duration(n) * time.Microsecond
		case "non2xx":
			w.Non2xx = n
		case "connect":
			w.Connect = n
		case "read":
			w.Read = n
		case "write":
			w.Write = n
		case "timeout":
			w.Timeout = n
		case "p50_us":
			w.P50 = time.Duration(n) * time.Microsecond
		case "p99_us":
			w.P99 = time.Duration(n) * time.Microsecond
		}
	}
	for _, k := range []string{"requests", "duration_us", "non2xx", "p50_us", "p99_us"} {
		if !seen[k] {
			return WrkOutcome{}, fmt.Errorf("wrk result %q: no %s", line, k)
		}
	}
	return w, nil
}

// WrkOptions are Options for wrk, plus where wrk is.
type WrkOptions struct {
	Options
	// Binary is the wrk executable. Default "wrk".
	Binary string
	// Script is the Lua script; WrkScript when empty.
	Script string
	// HeaderLines are the headers as "Name: value".
	HeaderLines []string
	// BodyFile is the file the script reads the body from (Options.Body
	// was read from it); none when empty.
	BodyFile string
	// Threads is wrk's -t. Default: the CPUs this process may run on, at
	// most Conns.
	Threads int
}

// wrkSeconds rounds d up to whole seconds, as wrk's -d takes them.
func wrkSeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	return max(1, s)
}

// WrkArgs returns wrk's command line (without the binary) for a run of d.
// After "--" come the script's arguments: PATH LO HI METHOD BODY_FILE
// [HEADER...], PATH holding IDPlaceholder where the URL does; LO and HI
// are "0" and "-1" when neither the path nor the body varies.
func WrkArgs(o WrkOptions, script string, d time.Duration) []string {
	threads := o.Threads
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	threads = max(1, min(threads, o.Conns))
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	origin, path, suffix := o.URL.Split()
	if o.URL.Varies() {
		path += IDPlaceholder + suffix
	}
	method := o.Method
	if method == "" {
		method = "GET"
	}
	args := []string{
		"-t", strconv.Itoa(threads), "-c", strconv.Itoa(o.Conns),
		"-d", strconv.Itoa(wrkSeconds(d)) + "s", "--timeout", strconv.Itoa(wrkSeconds(timeout)) + "s",
		"--latency", "-s", script, origin + "/", "--", path,
	}
	if o.URL.Varies() || (o.BodyFile != "" && o.Body.Varies()) {
		args = append(args, strconv.FormatUint(o.IDs.Lo, 10), strconv.FormatUint(o.IDs.Hi, 10))
	} else {
		args = append(args, "0", "-1") // nothing varies
	}
	args = append(args, method, o.BodyFile)
	return append(args, o.HeaderLines...)
}

// RunWrk runs wrk for the warm-up, then for the measured phase (o.Meter
// around it alone), and returns the measured result. The warm-up's
// failures count as WarmupErrors.
func RunWrk(ctx context.Context, o WrkOptions, scenario string, round int) (Result, error) {
	if o.Conns < 1 || o.Duration <= 0 {
		return Result{}, errors.New("connections must be at least 1 and the duration positive")
	}
	bin := o.Binary
	if bin == "" {
		bin = "wrk"
	}
	if o.BodyFile != "" {
		abs, err := filepath.Abs(o.BodyFile)
		if err != nil {
			return Result{}, err
		}
		o.BodyFile = abs
	}
	script := o.Script
	if script == "" {
		f, err := os.CreateTemp("", "benchload-*.lua")
		if err != nil {
			return Result{}, err
		}
		defer os.Remove(f.Name())
		if _, err := f.Write(WrkScript); err != nil {
			_ = f.Close()
			return Result{}, err
		}
		if err := f.Close(); err != nil {
			return Result{}, err
		}
		script = f.Name()
	}
	run := func(d time.Duration) (WrkOutcome, error) {
		var stdout, stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, bin, WrkArgs(o, script, d)...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if ctx.Err() != nil { // wrk stops early on the same SIGINT; that run does not count
			return WrkOutcome{}, ctx.Err()
		}
		if err != nil {
			return WrkOutcome{}, fmt.Errorf("%s: %v\n%s%s", bin, err, stdout.String(), stderr.String())
		}
		w, err := ParseWrk(stdout.Bytes())
		if err != nil {
			return WrkOutcome{}, fmt.Errorf("%v; wrk said:\n%s%s", err, stdout.String(), stderr.String())
		}
		w.CPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		return w, nil
	}
	var warm WrkOutcome
	if o.Warmup > 0 {
		var err error
		if warm, err = run(o.Warmup); err != nil {
			return Result{}, err
		}
	}
	// The warm-up's wrk has exited: nothing is in flight until the
	// measured one starts.
	if o.Meter != nil {
		if err := o.Meter.Start(); err != nil {
			return Result{}, err
		}
	}
	m, err := run(o.Duration)
	if err != nil {
		return Result{}, err
	}
	if o.Meter != nil {
		if err := o.Meter.Stop(); err != nil {
			return Result{}, err
		}
	}
	return wrkResult(scenario, round, o.Conns, m, warm), nil
}

// wrkResult turns wrk's outcomes into a Result.
func wrkResult(scenario string, round, conns int, m, warm WrkOutcome) Result {
	r := Result{
		Scenario: scenario, Round: round, Generator: "wrk", Conns: conns,
		Requests: m.Requests, Seconds: m.Duration.Seconds(),
		P50Micros: micros(m.P50), P99Micros: micros(m.P99),
		Non2xx: m.Non2xx, NetErrors: m.SocketErrors(),
		WarmupErrors: warm.Non2xx + warm.SocketErrors(),
	}
	if m.Duration > 0 {
		r.RPS = float64(m.Requests) / m.Duration.Seconds()
		r.GenCPU = CPUShare(m.CPU, m.Duration)
	}
	switch {
	case m.FirstBad != "":
		r.FirstError = "answer " + m.FirstBad
	case m.SocketErrors() > 0:
		r.FirstError = fmt.Sprintf("socket errors: connect %d, read %d, write %d, timeout %d", m.Connect, m.Read, m.Write, m.Timeout)
	case warm.FirstBad != "":
		r.FirstError = "during the warm-up: answer " + warm.FirstBad
	case warm.SocketErrors() > 0:
		r.FirstError = fmt.Sprintf("during the warm-up: socket errors: connect %d, read %d, write %d, timeout %d", warm.Connect, warm.Read, warm.Write, warm.Timeout)
	}
	return r
}
