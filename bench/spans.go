package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The traced scenario's check that its spans reached the collector: the
// Jaeger query API must list the traced service, and the traced process's
// own count of dropped spans tells how much of the 100% it sampled did not
// leave it.

// ErrServiceNotListed is wrapped by CheckSpans when Jaeger never listed
// the service within the timeout.
var ErrServiceNotListed = errors.New("spans missing")

// SpanCheck is what CheckSpans looks at.
type SpanCheck struct {
	// Query is the base URL of Jaeger's query HTTP API, e.g.
	// http://127.0.0.1:19686.
	Query string
	// Service is the service name the spans must arrive under.
	Service string
	// Metrics, when set, is the Prometheus endpoint of the traced process
	// (e.g. http://127.0.0.1:19466/metrics), read for its exchange and
	// dropped-span counters.
	Metrics string
	// Timeout bounds the wait for Service to be listed.
	Timeout time.Duration
}

// SpanReport is what CheckSpans found.
type SpanReport struct {
	Services []string // as Jaeger lists them
	// SpansPerTrace is the size of one recent trace of the service (0
	// when Jaeger returned none).
	SpansPerTrace int
	// Exchanges and Dropped are the traced process's
	// govbus_exchanges_total and govbus_trace_spans_dropped_total; valid
	// when HaveMetrics.
	HaveMetrics        bool
	Exchanges, Dropped float64
}

// DroppedShare is Dropped over the spans the process made, estimated as
// Exchanges × SpansPerTrace; -1 when unknown.
func (r SpanReport) DroppedShare() float64 {
	made := r.Exchanges * float64(r.SpansPerTrace)
	if !r.HaveMetrics || made <= 0 {
		return -1
	}
	return r.Dropped / made
}

// Lines describes the report for a person reading the bench output.
func (r SpanReport) Lines(c SpanCheck) []string {
	out := []string{fmt.Sprintf("spans: Jaeger lists service %q (services: %s)", c.Service, strings.Join(r.Services, ", "))}
	if r.SpansPerTrace > 0 {
		out = append(out, fmt.Sprintf("spans: one recent %s trace holds %d spans", c.Service, r.SpansPerTrace))
	}
	if !r.HaveMetrics {
		return out
	}
	line := fmt.Sprintf("spans: the traced process counted %.0f exchanges and %.0f dropped spans", r.Exchanges, r.Dropped)
	if share := r.DroppedShare(); share >= 0 {
		line += fmt.Sprintf(" (%.2f%% of ~%.0f made)", 100*share, r.Exchanges*float64(r.SpansPerTrace))
	}
	out = append(out, line)
	if r.Dropped > 0 {
		out = append(out, "WARNING: spans were dropped (export queue full or export failed): "+
			"the traced rows measured less than 100% of the spans exported")
	}
	return out
}

// CheckSpans polls Jaeger until it lists c.Service, then reads the size of
// one of its traces and, with c.Metrics, the traced process's counters.
func CheckSpans(ctx context.Context, c SpanCheck) (SpanReport, error) {
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	wctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	var rep SpanReport
	last := "no answer yet"
	for {
		services, err := JaegerServices(wctx, client, c.Query)
		if err == nil {
			rep.Services = services
			if slices.Contains(services, c.Service) {
				break
			}
			last = "it lists " + describeList(services)
		} else if wctx.Err() == nil {
			last = err.Error()
		}
		select {
		case <-wctx.Done():
			if ctx.Err() != nil {
				return rep, ctx.Err()
			}
			err := fmt.Errorf("%w: Jaeger at %s does not list service %q after %s (%s): no span of it arrived",
				ErrServiceNotListed, c.Query, c.Service, c.Timeout, last)
			if c.Metrics != "" {
				// What the traced process says about its export, for the
				// diagnosis.
				if v, merr := ScrapeCounters(ctx, client, c.Metrics, "govbus_exchanges_total", "govbus_trace_spans_dropped_total"); merr == nil {
					err = fmt.Errorf("%w; the traced process counted %.0f exchanges and %.0f dropped spans", err, v[0], v[1])
				}
			}
			return rep, err
		case <-time.After(200 * time.Millisecond):
		}
	}
	n, err := JaegerSpansPerTrace(ctx, client, c.Query, c.Service)
	if err != nil {
		return rep, err
	}
	rep.SpansPerTrace = n
	if c.Metrics == "" {
		return rep, nil
	}
	vals, err := ScrapeCounters(ctx, client, c.Metrics, "govbus_exchanges_total", "govbus_trace_spans_dropped_total")
	if err != nil {
		return rep, err
	}
	rep.HaveMetrics, rep.Exchanges, rep.Dropped = true, vals[0], vals[1]
	return rep, nil
}

func describeList(s []string) string {
	if len(s) == 0 {
		return "no service"
	}
	return "only " + strings.Join(s, ", ")
}

// JaegerServices asks Jaeger's query API (base URL query) which services
// it holds spans of: GET /api/services.
func JaegerServices(ctx context.Context, client *http.Client, query string) ([]string, error) {
	var body struct {
		Data []string `json:"data"`
	}
	if err := getJSON(ctx, client, strings.TrimSuffix(query, "/")+"/api/services", &body); err != nil {
		return nil, err
	}
	return body.Data, nil
}

// JaegerSpansPerTrace returns the number of spans in one recent trace of
// service (GET /api/traces?service=S&limit=1), 0 when there is none.
func JaegerSpansPerTrace(ctx context.Context, client *http.Client, query, service string) (int, error) {
	var body struct {
		Data []struct {
			Spans []json.RawMessage `json:"spans"`
		} `json:"data"`
	}
	u := strings.TrimSuffix(query, "/") + "/api/traces?" + url.Values{"service": {service}, "limit": {"1"}}.Encode()
	if err := getJSON(ctx, client, u, &body); err != nil {
		return 0, err
	}
	if len(body.Data) == 0 {
		return 0, nil
	}
	return len(body.Data[0].Spans), nil
}

func getJSON(ctx context.Context, client *http.Client, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return errors.New(describeAnswer(http.MethodGet, u, resp, snippet))
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("GET %s: %v", u, err)
	}
	return nil
}

// ScrapeCounters reads the Prometheus text exposition at u and returns, for
// each of names, the sum of its samples over all label sets. A name with
// no sample is an error: the process does not have that counter.
func ScrapeCounters(ctx context.Context, client *http.Client, u string, names ...string) ([]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/plain")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return nil, errors.New(describeAnswer(http.MethodGet, u, resp, snippet))
	}
	sums, err := SumSamples(resp.Body, names...)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %v", u, err)
	}
	return sums, nil
}

// SumSamples sums, for each of names, the values of the samples of that
// exact metric name in a Prometheus text (or OpenMetrics) exposition.
func SumSamples(r io.Reader, names ...string) ([]float64, error) {
	sums := make([]float64, len(names))
	seen := make([]bool, len(names))
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest := line, ""
		if i := strings.IndexAny(line, "{ "); i >= 0 {
			name, rest = line[:i], line[i:]
		}
		k := slices.Index(names, name)
		if k < 0 {
			continue
		}
		if strings.HasPrefix(rest, "{") {
			end := labelsEnd(rest)
			if end < 0 {
				return nil, fmt.Errorf("unterminated labels in %q", line)
			}
			rest = rest[end:]
		}
		// value [timestamp], or in OpenMetrics value [timestamp] [# exemplar]
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			return nil, fmt.Errorf("no value in %q", line)
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return nil, fmt.Errorf("bad value in %q", line)
		}
		sums[k] += v
		seen[k] = true
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for i, ok := range seen {
		if !ok {
			return nil, fmt.Errorf("no sample of %s", names[i])
		}
	}
	return sums, nil
}

// labelsEnd returns the index just past the "}" that closes the label set
// at the start of s, skipping quoted values (which may hold "}" or \").
func labelsEnd(s string) int {
	quoted := false
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == '}':
			return i + 1
		}
	}
	return -1
}
