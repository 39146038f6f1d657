package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Options describe one closed-loop run of the built-in generator.
type Options struct {
	// URL is where each request goes; see Template.
	URL Template
	// Method is the request's method; GET when empty.
	Method string
	// Body is sent with every request, its IDPlaceholder replaced by the
	// request's id (the URL's); the zero BodyTemplate sends none.
	Body BodyTemplate
	// Header is sent with every request; it is only read.
	Header http.Header
	// IDs are the ids a varying URL draws from, uniformly per request.
	IDs IDRange
	// Conns is the number of connections, each with one request in flight
	// at a time (closed loop).
	Conns int
	// Warmup is how long to send load, unmeasured, before Duration: it
	// fills the connection pools of the generator and of the servers.
	Warmup time.Duration
	// Duration is how long the measured load lasts.
	Duration time.Duration
	// Timeout bounds each request.
	Timeout time.Duration
	// Seed varies the sequence of ids between runs.
	Seed uint64
	// Meter, when not nil, is started right before the measured phase
	// and stopped right after it (the warm-up is outside).
	Meter Meter
}

// Outcome is what one measured phase observed.
type Outcome struct {
	// Requests is the number of answers received, whatever their status.
	Requests int64
	// Elapsed runs from the start of the phase until the last answer.
	Elapsed time.Duration
	// Latencies of every answer, sorted.
	Latencies []time.Duration
	// Non2xx counts answers outside 200-299; NetErrors counts requests
	// that got no answer (refused, reset, timed out).
	Non2xx, NetErrors int64
	// FirstError describes the first failure, for the report.
	FirstError string
	// CPU is the generator's own CPU time (user and system) over Elapsed.
	CPU time.Duration
}

// Failed reports whether any request failed.
func (o Outcome) Failed() bool { return o.Non2xx > 0 || o.NetErrors > 0 }

// RPS is the rate of answers per second.
func (o Outcome) RPS() float64 {
	if o.Elapsed <= 0 {
		return 0
	}
	return float64(o.Requests) / o.Elapsed.Seconds()
}

// NewTransport returns a keep-alive HTTP/1.1 transport whose pool holds
// conns connections to one host, so that a closed loop of conns workers
// never opens a connection beyond the first conns.
func NewTransport(conns int) *http.Transport {
	return &http.Transport{
		Proxy:                 nil, // measure the path itself, whatever the environment says
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          conns,
		MaxIdleConnsPerHost:   conns,
		MaxConnsPerHost:       conns,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true,
		ResponseHeaderTimeout: 0, // bounded by the client's timeout
		WriteBufferSize:       4 << 10,
		ReadBufferSize:        8 << 10,
	}
}

// Run sends load as o describes: a warm-up, then the measured phase, on
// the same pool of connections. Failures during the warm-up are reported
// in warmup; they do not stop the run.
func Run(ctx context.Context, o Options) (measured, warmup Outcome, err error) {
	if o.Conns < 1 {
		return Outcome{}, Outcome{}, errors.New("connections must be at least 1")
	}
	if o.Duration <= 0 {
		return Outcome{}, Outcome{}, errors.New("duration must be positive")
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	tr := NewTransport(o.Conns)
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport: tr,
		Timeout:   o.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // a redirect is an answer, and not a 2xx
		},
	}
	if o.Warmup > 0 {
		warmup = phase(ctx, client, o, o.Warmup, false, 1)
	}
	if err := ctx.Err(); err != nil {
		return Outcome{}, warmup, err
	}
	// Every loop of the warm-up has ended: nothing is in flight between
	// here and the measured phase.
	if o.Meter != nil {
		if err := o.Meter.Start(); err != nil {
			return Outcome{}, warmup, err
		}
	}
	measured = phase(ctx, client, o, o.Duration, true, 2)
	if err := ctx.Err(); err != nil {
		return measured, warmup, err
	}
	if o.Meter != nil {
		if err := o.Meter.Stop(); err != nil {
			return measured, warmup, err
		}
	}
	return measured, warmup, nil
}

// worker is one closed loop's tally.
type worker struct {
	latencies         []time.Duration
	requests          int64
	non2xx, netErrors int64
	firstError        string
}

// phase runs o.Conns closed loops for d.
func phase(ctx context.Context, client *http.Client, o Options, d time.Duration, record bool, stream uint64) Outcome {
	workers := make([]worker, o.Conns)
	cpu0 := processCPU()
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i := range workers {
		w := &workers[i]
		if record {
			// Enough for about 20k req/s per 64 connections without regrowth.
			w.latencies = make([]time.Duration, 0, 2048*max(1, int(d/time.Second)))
		}
		rng := rand.New(rand.NewPCG(o.Seed^stream<<32, uint64(i)))
		wg.Go(func() { w.loop(ctx, client, o, rng, deadline, record) })
	}
	wg.Wait()
	out := Outcome{Elapsed: time.Since(start), CPU: processCPU() - cpu0}
	parts := make([][]time.Duration, len(workers))
	for i := range workers {
		w := &workers[i]
		parts[i] = w.latencies
		out.Requests += w.requests
		out.Non2xx += w.non2xx
		out.NetErrors += w.netErrors
		if out.FirstError == "" {
			out.FirstError = w.firstError
		}
	}
	if record {
		out.Latencies = mergeSorted(parts)
	}
	return out
}

func (w *worker) loop(ctx context.Context, client *http.Client, o Options, rng *rand.Rand, deadline time.Time, record bool) {
	method := o.Method
	if method == "" {
		method = http.MethodGet
	}
	for ctx.Err() == nil && time.Now().Before(deadline) {
		id := o.IDs.Pick(rng)
		target := o.URL.Expand(id)
		var body io.Reader // a nil interface, not a nil *bytes.Reader, when there is no body
		if o.Body.Present() {
			body = bytes.NewReader(o.Body.Expand(id))
		}
		req, err := http.NewRequestWithContext(ctx, method, target, body)
		if err != nil {
			w.fail(fmt.Sprintf("%s %s: %v", method, target, err), true)
			return
		}
		req.Header = o.Header
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			w.fail(fmt.Sprintf("%s %s: %v", method, target, err), true)
			// Do not spin on a refused port: the run fails anyway.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		var snippet []byte
		ok := resp.StatusCode >= 200 && resp.StatusCode <= 299
		if !ok {
			snippet, _ = io.ReadAll(io.LimitReader(resp.Body, 200))
		}
		_, err = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			w.fail(fmt.Sprintf("%s %s: reading the body: %v", method, target, err), true)
			continue
		}
		lat := time.Since(t0)
		w.requests++
		if record {
			w.latencies = append(w.latencies, lat)
		}
		if !ok {
			w.fail(describeAnswer(method, target, resp, snippet), false)
		}
	}
}

func (w *worker) fail(msg string, network bool) {
	if network {
		w.netErrors++
	} else {
		w.non2xx++
	}
	if w.firstError == "" {
		w.firstError = msg
	}
}

// processCPU is the CPU time this process has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// CPUShare is cpu over elapsed, as a share of the CPUs the process may
// run on: 1 means the generator had no CPU time to spare.
func CPUShare(cpu, elapsed time.Duration) float64 {
	if elapsed <= 0 {
		return 0
	}
	return cpu.Seconds() / elapsed.Seconds() / float64(runtime.NumCPU())
}

// describeAnswer summarises a failed answer: status, govbus's error type
// and the start of the body.
func describeAnswer(method, target string, resp *http.Response, snippet []byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %s", method, target, resp.Status)
	if t := resp.Header.Get("X-Road-Error"); t != "" {
		fmt.Fprintf(&b, " (X-Road-Error: %s)", t)
	}
	if s := strings.TrimSpace(string(snippet)); s != "" {
		fmt.Fprintf(&b, ": %s", s)
	}
	return b.String()
}
