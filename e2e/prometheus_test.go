package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// A real Prometheus server (Debian's package) scraping a real govbus: the
// scrape configuration, the rules of deploy/prometheus and the dashboard's
// queries work against what govbus actually exports.

// prometheusServer returns the path of Debian's prometheus, skipping the
// test when it is missing unless CI=true.
func prometheusServer(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("prometheus"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/bin/prometheus"); err == nil {
		return "/usr/bin/prometheus"
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("prometheus not found (CI=true): `make test` installs Debian's prometheus package")
	}
	t.Skip("prometheus server not found: install Debian's prometheus package (`make test` does) to run this test")
	return ""
}

// promAPI is a Prometheus server's HTTP API.
type promAPI struct{ base string }

// get decodes the data of a successful API answer into v.
func (p promAPI) get(path string, query url.Values, v any) error {
	resp, err := http.Get(p.base + path + "?" + query.Encode())
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var answer struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return fmt.Errorf("GET %s: status %d, %v: %.200s", path, resp.StatusCode, err, body)
	}
	if answer.Status != "success" {
		return fmt.Errorf("GET %s %s: %s", path, query.Encode(), answer.Error)
	}
	return json.Unmarshal(answer.Data, v)
}

// promSample is one element of an instant vector.
type promSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

func (s promSample) float(t *testing.T) float64 {
	t.Helper()
	str, _ := s.Value[1].(string)
	f, err := strconv.ParseFloat(str, 64)
	if err != nil {
		t.Fatalf("sample %v: value %v: %v", s.Metric, s.Value[1], err)
	}
	return f
}

// query runs an instant query.
func (p promAPI) query(q string) ([]promSample, error) {
	var data struct {
		ResultType string       `json:"resultType"`
		Result     []promSample `json:"result"`
	}
	if err := p.get("/api/v1/query", url.Values{"query": {q}}, &data); err != nil {
		return nil, err
	}
	if data.ResultType != "vector" {
		return nil, fmt.Errorf("query %s: result type %s, want vector", q, data.ResultType)
	}
	return data.Result, nil
}

// poll calls cond every 200ms until it returns "" or timeout passes, then
// fails the test with cond's last answer.
func poll(t *testing.T, timeout time.Duration, what string, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		why := cond()
		if why == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %s", what, timeout, why)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// startPrometheus runs a Prometheus server on a free loopback port with a
// scrape configuration for govbus's status listener at statusAddr (every
// second) and the rules of deploy/prometheus, and waits until it is ready.
// The test's end stops it by PID.
func startPrometheus(t *testing.T, bin, statusAddr string) promAPI {
	t.Helper()
	port := freePorts(t, 1)[0]
	rules := mustAbs(t, "../deploy/prometheus/govbus-alerts.yml")
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - %q
scrape_configs:
  - job_name: govbus
    static_configs:
      - targets: [%q]
`, rules, statusAddr)
	dir := t.TempDir()
	file := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	start(t, bin,
		"--config.file="+file,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address=127.0.0.1:"+port,
	)
	api := promAPI{"http://127.0.0.1:" + port}
	waitReady(t, api.base+"/-/ready")
	return api
}

func TestPrometheusScrapesGovbus(t *testing.T) {
	promBin := prometheusServer(t)
	govbus, registrysim := binaries(t)
	d := startDemo(t, govbus, registrysim)

	const (
		calls   = 3
		persons = "UA/GOV/00000001/civil-registry/persons"
	)
	call := func(t *testing.T, i int) {
		t.Helper()
		u := fmt.Sprintf("http://127.0.0.1:%s/r1/%s/persons/%d", d.ports["8080"], persons, 1000000042+i)
		req, err := http.NewRequest("GET", u, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Road-Client", eserviceID)
		req.Header.Set("Authorization", "Bearer "+eserviceKey)
		req.Header.Set("X-Road-Purpose", "service-delivery")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if got, want := resp.StatusCode, 200; got != want {
			t.Fatalf("GET %s: status = %d, want %d", u, got, want)
		}
	}
	for i := range calls {
		call(t, i)
	}

	prom := startPrometheus(t, promBin, "127.0.0.1:"+d.ports["9464"])

	poll(t, 20*time.Second, "govbus target up", func() string {
		var data struct {
			ActiveTargets []struct {
				Labels    map[string]string `json:"labels"`
				Health    string            `json:"health"`
				LastError string            `json:"lastError"`
			} `json:"activeTargets"`
		}
		if err := prom.get("/api/v1/targets", nil, &data); err != nil {
			return err.Error()
		}
		if got := len(data.ActiveTargets); got != 1 {
			return fmt.Sprintf("active targets = %d, want 1", got)
		}
		tg := data.ActiveTargets[0]
		if tg.Labels["job"] != "govbus" || tg.Health != "up" {
			return fmt.Sprintf("target %v: health = %q (last error %q), want up", tg.Labels, tg.Health, tg.LastError)
		}
		return ""
	})

	t.Run("exchanges counted", func(t *testing.T) {
		poll(t, 10*time.Second, "govbus_exchanges_total of the e-service", func() string {
			samples, err := prom.query("govbus_exchanges_total")
			if err != nil {
				return err.Error()
			}
			for _, s := range samples {
				if s.Metric["client"] == eserviceID && s.Metric["outcome"] == "ok" && s.Metric["service"] == persons {
					if got := s.float(t); got < calls {
						return fmt.Sprintf("%v = %v, want ≥ %d", s.Metric, got, calls)
					}
					return ""
				}
			}
			return fmt.Sprintf("no series with client %s and outcome ok among %d: %v", eserviceID, len(samples), samples)
		})
	})

	t.Run("rules evaluate", func(t *testing.T) {
		poll(t, 20*time.Second, "rule health", func() string {
			var data struct {
				Groups []struct {
					Name  string `json:"name"`
					Rules []struct {
						Name      string `json:"name"`
						Health    string `json:"health"`
						LastError string `json:"lastError"`
					} `json:"rules"`
				} `json:"groups"`
			}
			if err := prom.get("/api/v1/rules", nil, &data); err != nil {
				return err.Error()
			}
			if len(data.Groups) == 0 {
				return "no rule groups loaded"
			}
			for _, g := range data.Groups {
				for _, r := range g.Rules {
					if r.Health != "ok" {
						return fmt.Sprintf("rule %s of %s: health = %q (%s), want ok", r.Name, g.Name, r.Health, r.LastError)
					}
				}
			}
			return ""
		})
		// With ok exchanges going on, the error ratio is 0, not absent (and
		// not NaN, as it is without traffic in the window).
		q := fmt.Sprintf("service:govbus_exchanges_server_errors:ratio_rate5m{service=%q}", persons)
		i := calls
		poll(t, 20*time.Second, q, func() string {
			call(t, i)
			i++
			samples, err := prom.query(q)
			if err != nil {
				return err.Error()
			}
			if len(samples) != 1 {
				return fmt.Sprintf("%d samples, want 1", len(samples))
			}
			if got := samples[0].float(t); got != 0 {
				return fmt.Sprintf("got %v, want 0", got)
			}
			return ""
		})
	})

	t.Run("dashboard queries run", func(t *testing.T) {
		exprs := dashboardExprs(t, "../deploy/grafana/govbus-dashboard.json")
		if len(exprs) < 10 {
			t.Fatalf("dashboard has %d expressions, want at least 10", len(exprs))
		}
		for _, e := range exprs {
			if _, err := prom.query(e); err != nil {
				t.Errorf("dashboard query: %v", err)
			}
		}
	})
}

// grafanaVar matches a Grafana variable reference ($name or ${name}); $1
// (a label_replace group) is not one.
var grafanaVar = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)

// dashboardExprs returns the PromQL of every "expr" in a Grafana dashboard,
// with Grafana's interval variables replaced by durations and the
// dashboard's own variables by ".*" (All).
func dashboardExprs(t *testing.T, file string) []string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("parsing %s: %v", file, err)
	}
	builtins := map[string]string{"__rate_interval": "1m", "__interval": "15s", "__range": "1h"}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "expr" {
					out = append(out, grafanaVar.ReplaceAllStringFunc(s, func(ref string) string {
						if d, ok := builtins[grafanaVar.FindStringSubmatch(ref)[1]]; ok {
							return d
						}
						return ".*"
					}))
					continue
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
	return out
}
