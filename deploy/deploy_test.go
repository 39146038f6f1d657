package deploy_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The files under test, relative to this package's directory.
const (
	promConfig      = "prometheus/prometheus.yml"
	alertRules      = "prometheus/govbus-alerts.yml"
	alertRulesTests = "prometheus/govbus-alerts.test.yml"
	dashboardFile   = "grafana/govbus-dashboard.json"
	composeDir      = "compose"
	composeFile     = "compose/compose.yaml"
	composeConfig   = "compose/govbus.yaml"
	demoConfig      = "demo/govbus.yaml"
)

// contractMetrics are the metric names govbus exports (README.md,
// Listeners) and their types: the only govbus_ names that dashboards and
// rules may use. Histograms also have _bucket, _sum and _count series.
var contractMetrics = map[string]string{
	"govbus_exchanges_total":                       "counter",
	"govbus_exchange_duration_seconds":             "histogram",
	"govbus_exchanges_in_flight":                   "gauge",
	"govbus_upstream_attempts_total":               "counter",
	"govbus_upstream_duration_seconds":             "histogram",
	"govbus_upstream_retries_total":                "counter",
	"govbus_upstream_retry_budget_exhausted_total": "counter",
	"govbus_breaker_state":                         "gauge",
	"govbus_breaker_transitions_total":             "counter",
	"govbus_upstream_in_flight":                    "gauge",
	"govbus_policy_decisions_total":                "counter",
	"govbus_rate_limited_total":                    "counter",
	"govbus_config_reloads_total":                  "counter",
	"govbus_trace_spans_dropped_total":             "counter",
	"govbus_messagelog_write_failures_total":       "counter",
	"govbus_build_info":                            "gauge",
	"govbus_config_loaded_timestamp_seconds":       "gauge",
}

// composeServices are the services compose.yaml must run.
var composeServices = []string{"govbus", "registrysim", "jaeger", "prometheus", "grafana"}

// identRE matches PromQL identifiers: metric names (with colons for
// recording rules), label names, function names.
var identRE = regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*`)

// metricNames returns the govbus metric names and recording rule names
// (those with a colon) that expr refers to.
func metricNames(expr string) (metrics, recorded []string) {
	for _, id := range identRE.FindAllString(expr, -1) {
		switch {
		case strings.Contains(id, ":"):
			recorded = append(recorded, id)
		case strings.HasPrefix(id, "govbus_"):
			metrics = append(metrics, id)
		}
	}
	return metrics, recorded
}

// unknownMetric reports whether name is not a contract metric (or a
// histogram's _bucket, _sum or _count series).
func unknownMetric(name string) bool {
	if _, ok := contractMetrics[name]; ok {
		return false
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && contractMetrics[base] == "histogram" {
			return false
		}
	}
	return true
}

func TestDeployMetricNameCheck(t *testing.T) {
	for _, c := range []struct {
		expr    string
		unknown []string
	}{
		{`sum by (client, service) (rate(govbus_exchanges_total[5m]))`, nil},
		{`histogram_quantile(0.99, sum by (le) (rate(govbus_exchange_duration_seconds_bucket[5m])))`, nil},
		{`rate(govbus_exchange_total[5m])`, []string{"govbus_exchange_total"}},
		{`govbus_breaker_state_bucket`, []string{"govbus_breaker_state_bucket"}},
		{`govbus_exchanges_total_count + govbus_upstream_duration_seconds_sum`, []string{"govbus_exchanges_total_count"}},
		{`up{job="govbus"} == 0`, nil},
	} {
		metrics, _ := metricNames(c.expr)
		var got []string
		for _, m := range metrics {
			if unknownMetric(m) {
				got = append(got, m)
			}
		}
		if !slices.Equal(got, c.unknown) {
			t.Errorf("unknown metrics in %s: got %q, want %q", c.expr, got, c.unknown)
		}
	}
}

// promtool returns the path of Debian's promtool, skipping the test when it
// is missing unless CI=true.
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("promtool not found (CI=true): `make test` installs Debian's prometheus package")
		}
		t.Skip("promtool not found: install Debian's prometheus package (`make test` does) to check the Prometheus files")
	}
	return p
}

// runPromtool runs promtool with args and fails the test with its output
// when it exits non-zero.
func runPromtool(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command(promtool(t), args...).CombinedOutput()
	if err != nil {
		t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func TestPromtoolCheckConfig(t *testing.T) {
	runPromtool(t, "check", "config", promConfig)
}

func TestAlertRulesPromtoolCheck(t *testing.T) {
	runPromtool(t, "check", "rules", alertRules)
}

func TestAlertRulesPromtoolUnitTests(t *testing.T) {
	runPromtool(t, "test", "rules", alertRulesTests)
}

// ruleFile is a Prometheus rule file.
type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Record      string            `yaml:"record"`
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func readYAML(t *testing.T, file string, v any) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("parsing %s: %v", file, err)
	}
}

func TestAlertRulesUseContractMetrics(t *testing.T) {
	var rf ruleFile
	readYAML(t, alertRules, &rf)
	recorded := map[string]bool{}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				recorded[r.Record] = true
			}
		}
	}
	alerts := map[string]string{} // alert name -> expression
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			metrics, rec := metricNames(r.Expr)
			for _, m := range metrics {
				if unknownMetric(m) {
					t.Errorf("rule %s%s: expression names %s, which govbus does not export", r.Record, r.Alert, m)
				}
			}
			for _, m := range rec {
				if !recorded[m] {
					t.Errorf("rule %s%s: expression names %s, which no recording rule defines", r.Record, r.Alert, m)
				}
			}
			if r.Alert == "" {
				continue
			}
			alerts[r.Alert] = r.Expr
			if got := r.Labels["severity"]; got != "critical" && got != "warning" {
				t.Errorf("alert %s: severity label = %q, want critical or warning", r.Alert, got)
			}
			for _, a := range []string{"summary", "description"} {
				if strings.TrimSpace(r.Annotations[a]) == "" {
					t.Errorf("alert %s: no %s annotation", r.Alert, a)
				}
			}
		}
	}
	// Each required alert, recognised by what its expression watches.
	for what, needle := range map[string]string{
		"SLO burn rate":             "service:govbus_exchanges_server_errors:ratio_rate5m",
		"breaker open":              "govbus_breaker_state",
		"message log write failure": "govbus_messagelog_write_failures_total",
		"span export drops":         "govbus_trace_spans_dropped_total",
		"retry budget exhaustion":   "govbus_upstream_retry_budget_exhausted_total",
		"govbus down":               `up{job="govbus"} == 0`,
	} {
		found := false
		for _, expr := range alerts {
			found = found || strings.Contains(expr, needle)
		}
		if !found {
			t.Errorf("no alert for %s: no alert expression contains %s", what, needle)
		}
	}
}

// dashboard is the part of a Grafana dashboard that the tests read.
type dashboard struct {
	Title         string  `json:"title"`
	UID           string  `json:"uid"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []struct {
			Type  string `json:"type"`
			Name  string `json:"name"`
			Query any    `json:"query"`
		} `json:"list"`
	} `json:"templating"`
	Annotations struct {
		List []struct {
			Name string `json:"name"`
			Expr string `json:"expr"`
		} `json:"list"`
	} `json:"annotations"`
}

type panel struct {
	ID         int         `json:"id"`
	Type       string      `json:"type"`
	Title      string      `json:"title"`
	Datasource *datasource `json:"datasource"`
	GridPos    struct{ H, W, X, Y int }
	Targets    []struct {
		RefID      string      `json:"refId"`
		Expr       string      `json:"expr"`
		Datasource *datasource `json:"datasource"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // of a collapsed row
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

func readDashboard(t *testing.T) dashboard {
	t.Helper()
	data, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("parsing %s: %v", dashboardFile, err)
	}
	return d
}

// dashboardExpr is one PromQL expression of the dashboard.
type dashboardExpr struct{ where, expr string }

// exprs returns every PromQL expression of the dashboard: panel targets,
// query variables and annotations.
func (d dashboard) exprs() []dashboardExpr {
	var out []dashboardExpr
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			for _, tg := range p.Targets {
				out = append(out, dashboardExpr{fmt.Sprintf("panel %d %q target %s", p.ID, p.Title, tg.RefID), tg.Expr})
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		q := v.Query
		if m, ok := q.(map[string]any); ok {
			q = m["query"]
		}
		s, _ := q.(string)
		out = append(out, dashboardExpr{"variable " + v.Name, s})
	}
	for _, a := range d.Annotations.List {
		if a.Expr != "" {
			out = append(out, dashboardExpr{"annotation " + a.Name, a.Expr})
		}
	}
	return out
}

func TestDashboardUsesContractMetrics(t *testing.T) {
	d := readDashboard(t)
	used := map[string]bool{}
	exprs := d.exprs()
	if len(exprs) < 10 {
		t.Fatalf("dashboard has %d PromQL expressions, want at least 10", len(exprs))
	}
	for _, e := range exprs {
		if strings.TrimSpace(e.expr) == "" {
			t.Errorf("%s: empty expression", e.where)
			continue
		}
		metrics, rec := metricNames(e.expr)
		for _, m := range metrics {
			used[m] = true
			if unknownMetric(m) {
				t.Errorf("%s: %s names %s, which govbus does not export", e.where, e.expr, m)
			}
		}
		if len(rec) > 0 {
			t.Errorf("%s: names recording rules %q; the dashboard must work without govbus-alerts.yml", e.where, rec)
		}
	}
	// The panels the SREs need, recognised by the series they read.
	for _, want := range []string{
		"govbus_exchanges_total",                       // traffic matrix, rate, errors
		"govbus_exchange_duration_seconds_bucket",      // p50/p99 per service
		"govbus_breaker_state",                         // breaker states per endpoint
		"govbus_upstream_retries_total",                // retries
		"govbus_upstream_retry_budget_exhausted_total", // budget exhaustion
		"govbus_upstream_in_flight",                    // in flight per registry
		"govbus_upstream_duration_seconds_bucket",      // upstream p99 per endpoint
	} {
		if !used[want] {
			t.Errorf("no dashboard expression reads %s", want)
		}
	}
	matrix := false
	for _, e := range exprs {
		matrix = matrix || strings.Contains(strings.Join(strings.Fields(e.expr), " "), "sum by (client, service) (rate(govbus_exchanges_total")
	}
	if !matrix {
		t.Error("no client × service traffic matrix: no expression sums govbus_exchanges_total by (client, service)")
	}
}

func TestDashboardStructure(t *testing.T) {
	d := readDashboard(t)
	if d.Title == "" || d.UID == "" {
		t.Errorf("title, uid = %q, %q; want both set", d.Title, d.UID)
	}
	if d.SchemaVersion < 36 {
		t.Errorf("schemaVersion = %d, want at least 36", d.SchemaVersion)
	}
	dsVar := ""
	for _, v := range d.Templating.List {
		if v.Type == "datasource" && v.Query == "prometheus" {
			dsVar = "${" + v.Name + "}"
		}
	}
	okDatasource := func(ds *datasource) bool {
		return ds != nil && ds.Type == "prometheus" && (ds.UID == "prometheus" || (dsVar != "" && ds.UID == dsVar))
	}
	ids := map[int]string{}
	var check func([]panel)
	check = func(ps []panel) {
		for _, p := range ps {
			if other, dup := ids[p.ID]; dup {
				t.Errorf("panel id %d used by %q and %q", p.ID, other, p.Title)
			}
			ids[p.ID] = p.Title
			if p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X+p.GridPos.W > 24 {
				t.Errorf("panel %q: gridPos %+v is not within the 24-column grid", p.Title, p.GridPos)
			}
			if p.Type != "row" && !okDatasource(p.Datasource) {
				t.Errorf("panel %q: datasource %+v, want Prometheus by uid \"prometheus\" or the datasource variable", p.Title, p.Datasource)
			}
			for _, tg := range p.Targets {
				if !okDatasource(tg.Datasource) {
					t.Errorf("panel %q target %s: datasource %+v, want Prometheus by uid \"prometheus\" or the datasource variable", p.Title, tg.RefID, tg.Datasource)
				}
			}
			check(p.Panels)
		}
	}
	check(d.Panels)
}

// grafanaVarRE matches a Grafana variable reference ($name or ${name});
// $1 (a label_replace group) is not one.
var grafanaVarRE = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)

// grafanaBuiltins stand in for Grafana's interval variables.
var grafanaBuiltins = map[string]string{"__rate_interval": "5m", "__interval": "1m", "__range": "1h"}

// TestDashboardPromQLParses checks every dashboard expression with
// promtool, as recording rules, after replacing Grafana's variables.
func TestDashboardPromQLParses(t *testing.T) {
	d := readDashboard(t)
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
	}
	type rule struct {
		Record string `yaml:"record"`
		Expr   string `yaml:"expr"`
	}
	var rules []rule
	for i, e := range d.exprs() {
		if strings.HasPrefix(e.where, "variable ") {
			continue // label_values(...) is Grafana's, not PromQL
		}
		expr := grafanaVarRE.ReplaceAllStringFunc(e.expr, func(ref string) string {
			name := grafanaVarRE.FindStringSubmatch(ref)[1]
			if v, ok := grafanaBuiltins[name]; ok {
				return v
			}
			if !vars[name] {
				t.Errorf("%s: uses $%s, which the dashboard does not define", e.where, name)
			}
			return ".*"
		})
		rules = append(rules, rule{fmt.Sprintf("dashboard:expr_%d", i), expr})
	}
	file := map[string]any{"groups": []any{map[string]any{"name": "dashboard", "rules": rules}}}
	data, err := yaml.Marshal(file)
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(t.TempDir(), "dashboard-rules.yml")
	if err := os.WriteFile(name, data, 0o600); err != nil {
		t.Fatal(err)
	}
	runPromtool(t, "check", "rules", name)
}

// compose is the part of compose.yaml that the tests read.
type compose struct {
	Services map[string]struct {
		Build *struct {
			Context    string `yaml:"context"`
			Dockerfile string `yaml:"dockerfile"`
		} `yaml:"build"`
		Image       string            `yaml:"image"`
		Entrypoint  []string          `yaml:"entrypoint"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Volumes     []string          `yaml:"volumes"`
		Ports       []string          `yaml:"ports"`
		DependsOn   []string          `yaml:"depends_on"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

func readCompose(t *testing.T) compose {
	t.Helper()
	var c compose
	readYAML(t, composeFile, &c)
	return c
}

// mount is one entry of a service's volumes.
type mount struct{ source, target string }

func (m mount) bind() bool {
	return strings.HasPrefix(m.source, ".") || strings.HasPrefix(m.source, "/")
}

func parseMount(t *testing.T, v string) mount {
	t.Helper()
	parts := strings.Split(v, ":")
	if len(parts) < 2 || len(parts) > 3 {
		t.Fatalf("volume %q is not SOURCE:TARGET[:MODE]", v)
	}
	return mount{parts[0], parts[1]}
}

func TestComposeServicesAndMounts(t *testing.T) {
	c := readCompose(t)
	var names []string
	for name := range c.Services {
		names = append(names, name)
	}
	sort.Strings(names)
	want := slices.Clone(composeServices)
	sort.Strings(want)
	if !slices.Equal(names, want) {
		t.Errorf("compose services = %q, want %q", names, want)
	}
	for name, s := range c.Services {
		if s.Image == "" && s.Build == nil {
			t.Errorf("service %s: neither image nor build", name)
		}
		if s.Build != nil {
			dockerfile := filepath.Join(composeDir, s.Build.Context, s.Build.Dockerfile)
			if _, err := os.Stat(dockerfile); err != nil {
				t.Errorf("service %s: build Dockerfile: %v", name, err)
			}
		}
		for _, v := range s.Volumes {
			m := parseMount(t, v)
			if !m.bind() {
				if _, ok := c.Volumes[m.source]; !ok {
					t.Errorf("service %s: named volume %q is not declared under volumes", name, m.source)
				}
				continue
			}
			if _, err := os.Stat(filepath.Join(composeDir, m.source)); err != nil {
				t.Errorf("service %s mounts %s: %v", name, m.source, err)
			}
		}
		for _, p := range s.Ports {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("service %s publishes %q; publish on the host's loopback only (127.0.0.1:HOST:CONTAINER)", name, p)
			}
		}
		for _, dep := range s.DependsOn {
			if _, ok := c.Services[dep]; !ok {
				t.Errorf("service %s depends on %s, which is not a service", name, dep)
			}
		}
	}
}

// TestComposeDockerfile checks the image against the repository: the Go
// version of go.mod and the files it copies.
func TestComposeDockerfile(t *testing.T) {
	c := readCompose(t)
	b := c.Services["govbus"].Build
	if b == nil {
		t.Fatal("service govbus is not built from the repository")
	}
	context := filepath.Join(composeDir, b.Context)
	data, err := os.ReadFile(filepath.Join(context, b.Dockerfile))
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(context, "go.mod"))
	if err != nil {
		t.Fatalf("build context %s is not the repository root: %v", b.Context, err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod)
	if goVersion == nil {
		t.Fatal("go.mod has no go directive")
	}
	if want := "FROM golang:" + string(goVersion[1]); !strings.Contains(string(data), want) {
		t.Errorf("Dockerfile does not build with %s (go.mod says go %s)", want, goVersion[1])
	}
	if got := len(regexp.MustCompile(`(?m)^FROM `).FindAllIndex(data, -1)); got < 2 {
		t.Errorf("Dockerfile has %d FROM lines, want a multi-stage build (at least 2)", got)
	}
	copyRE := regexp.MustCompile(`(?m)^COPY\s+(?:--chown=\S+\s+)?([^-\s]\S*)\s+(\S+)\s*$`)
	for _, m := range copyRE.FindAllStringSubmatch(string(data), -1) {
		if m[1] == "." {
			continue
		}
		for _, src := range strings.Fields(m[1]) {
			if _, err := os.Stat(filepath.Join(context, src)); err != nil {
				t.Errorf("Dockerfile copies %s: %v", src, err)
			}
		}
	}
}

// hostPort splits a URL's or an address's host and port.
func hostPort(t *testing.T, s string) (host, port string) {
	t.Helper()
	if u, err := url.Parse(s); err == nil && u.Host != "" {
		s = u.Host
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return host, port
}

// govbusConfig is the part of a govbus configuration that the tests read.
type govbusConfig struct {
	Listeners map[string]struct {
		Address string `yaml:"address"`
	} `yaml:"listeners"`
	Registries []struct {
		ID        string   `yaml:"id"`
		Endpoints []string `yaml:"endpoints"`
		Adapter   string   `yaml:"adapter"`
	} `yaml:"registries"`
	MessageLog struct {
		Disabled bool   `yaml:"disabled"`
		Store    string `yaml:"store"`
		Path     string `yaml:"path"`
	} `yaml:"message_log"`
}

// TestComposeWiring checks that the containers find each other: the
// addresses in govbus.yaml, the Prometheus target, Grafana's datasources and
// the OTLP endpoint name compose services and the ports they listen on.
func TestComposeWiring(t *testing.T) {
	c := readCompose(t)
	var cfg govbusConfig
	readYAML(t, composeConfig, &cfg)
	gb := c.Services["govbus"]

	// govbus runs the mounted compose configuration.
	cfgTarget := ""
	for _, v := range gb.Volumes {
		if m := parseMount(t, v); m.bind() && path.Clean(filepath.ToSlash(filepath.Join(composeDir, m.source))) == composeConfig {
			cfgTarget = m.target
		}
	}
	if cfgTarget == "" {
		t.Errorf("service govbus does not mount %s", composeConfig)
	} else if i := slices.Index(gb.Command, "-config"); i < 0 || i+1 >= len(gb.Command) || gb.Command[i+1] != cfgTarget {
		t.Errorf("govbus command = %q, want serve -config %s", gb.Command, cfgTarget)
	}

	// Listeners bind all interfaces in the container and are published.
	for _, name := range []string{"consumer", "status", "admin"} {
		host, port := hostPort(t, cfg.Listeners[name].Address)
		if host != "0.0.0.0" {
			t.Errorf("listeners.%s binds %s, want 0.0.0.0 inside the container", name, host)
		}
		published := false
		for _, p := range gb.Ports {
			published = published || strings.HasSuffix(p, ":"+port)
		}
		if !published {
			t.Errorf("listeners.%s port %s is not published by service govbus (ports %q)", name, port, gb.Ports)
		}
	}
	_, statusPort := hostPort(t, cfg.Listeners["status"].Address)

	// Registry endpoints are the registrysim container on the ports it
	// listens on: -civil for the REST registry, -business for the SOAP one.
	sim := c.Services["registrysim"]
	simPorts := map[string]string{}
	for _, flag := range []string{"-civil", "-business"} {
		i := slices.Index(sim.Command, flag)
		if i < 0 || i+1 >= len(sim.Command) || sim.Command[i+1] == "" {
			t.Fatalf("registrysim command = %q, want %s ADDRESS", sim.Command, flag)
		}
		_, simPorts[flag] = hostPort(t, sim.Command[i+1])
	}
	for _, r := range cfg.Registries {
		want := simPorts["-civil"]
		if r.Adapter == "soap" {
			want = simPorts["-business"]
		}
		for _, e := range r.Endpoints {
			if host, port := hostPort(t, e); host != "registrysim" || port != want {
				t.Errorf("registry %s endpoint %s, want http://registrysim:%s", r.ID, e, want)
			}
		}
	}

	// The SQLite message log lives on a volume (the image is read-only for
	// the nonroot user): its directory, relative to the image's WORKDIR, is
	// a named volume of service govbus.
	if ml := cfg.MessageLog; !ml.Disabled && (ml.Store == "" || ml.Store == "sqlite") {
		dockerfile, err := os.ReadFile(filepath.Join(composeDir, gb.Build.Context, gb.Build.Dockerfile))
		if err != nil {
			t.Fatal(err)
		}
		workdirs := regexp.MustCompile(`(?m)^WORKDIR\s+(\S+)`).FindAllSubmatch(dockerfile, -1)
		if len(workdirs) == 0 {
			t.Fatal("Dockerfile sets no WORKDIR")
		}
		dir := path.Dir(path.Join(string(workdirs[len(workdirs)-1][1]), ml.Path))
		onVolume := false
		for _, v := range gb.Volumes {
			m := parseMount(t, v)
			onVolume = onVolume || (!m.bind() && m.target == dir)
		}
		if !onVolume {
			t.Errorf("message log %s is in %s in the container, which is no volume of service govbus (volumes %q)", ml.Path, dir, gb.Volumes)
		}
	}

	// OTLP goes to the jaeger service's OTLP/HTTP port.
	if host, port := hostPort(t, gb.Environment["OTEL_EXPORTER_OTLP_ENDPOINT"]); host != "jaeger" || port != "4318" {
		t.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT = %q, want http://jaeger:4318", gb.Environment["OTEL_EXPORTER_OTLP_ENDPOINT"])
	}

	// Prometheus scrapes govbus's status listener.
	var prom struct {
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	readYAML(t, filepath.Join(composeDir, mountSource(t, c, "prometheus", "/etc/prometheus/prometheus.yml")), &prom)
	var targets []string
	for _, sc := range prom.ScrapeConfigs {
		if sc.JobName == "govbus" {
			for _, s := range sc.StaticConfigs {
				targets = append(targets, s.Targets...)
			}
		}
	}
	if want := []string{"govbus:" + statusPort}; !slices.Equal(targets, want) {
		t.Errorf("Prometheus job govbus targets = %q, want %q", targets, want)
	}

	// Grafana's datasources are the prometheus and jaeger services, and the
	// dashboard provider reads the directory the dashboard is mounted in.
	provisioning := mountSource(t, c, "grafana", "/etc/grafana/provisioning")
	var ds struct {
		Datasources []struct {
			UID  string `yaml:"uid"`
			Type string `yaml:"type"`
			URL  string `yaml:"url"`
		} `yaml:"datasources"`
	}
	readYAML(t, filepath.Join(composeDir, provisioning, "datasources", "govbus.yaml"), &ds)
	wantDS := map[string]string{"prometheus": "prometheus:9090", "jaeger": "jaeger:16686"}
	for _, d := range ds.Datasources {
		u, err := url.Parse(d.URL)
		if err != nil || u.Host != wantDS[d.Type] {
			t.Errorf("Grafana datasource %s (%s) url %q, want host %s", d.UID, d.Type, d.URL, wantDS[d.Type])
		}
		delete(wantDS, d.Type)
	}
	if len(wantDS) > 0 {
		t.Errorf("Grafana provisioning lacks datasources %v", wantDS)
	}
	var providers struct {
		Providers []struct {
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	readYAML(t, filepath.Join(composeDir, provisioning, "dashboards", "govbus.yaml"), &providers)
	dashTarget := ""
	for _, v := range c.Services["grafana"].Volumes {
		if m := parseMount(t, v); strings.HasSuffix(m.source, filepath.Base(dashboardFile)) {
			dashTarget = m.target
		}
	}
	if len(providers.Providers) != 1 || path.Dir(dashTarget) != providers.Providers[0].Options.Path {
		t.Errorf("dashboard mounted at %q, but the dashboard providers read %+v", dashTarget, providers.Providers)
	}
}

// mountSource returns the source (relative to the compose directory) of the
// bind mount of service at target.
func mountSource(t *testing.T, c compose, service, target string) string {
	t.Helper()
	for _, v := range c.Services[service].Volumes {
		if m := parseMount(t, v); m.bind() && m.target == target {
			return m.source
		}
	}
	t.Fatalf("service %s mounts nothing at %s", service, target)
	return ""
}

// TestPromtoolCheckComposeConfig lays the Prometheus service's mounts out
// as the container sees them and checks its configuration there, which
// proves that the rules file it names is mounted next to it.
func TestPromtoolCheckComposeConfig(t *testing.T) {
	c := readCompose(t)
	prom := c.Services["prometheus"]
	root := t.TempDir()
	for _, v := range prom.Volumes {
		m := parseMount(t, v)
		if !m.bind() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(composeDir, m.source))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(root, m.target)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	config := ""
	for _, a := range prom.Command {
		if v, ok := strings.CutPrefix(a, "--config.file="); ok {
			config = v
		}
	}
	if config == "" {
		t.Fatalf("prometheus command %q has no --config.file", prom.Command)
	}
	runPromtool(t, "check", "config", filepath.Join(root, config))
}

// TestComposeGovbusConfigIsTheDemo checks that the compose configuration
// is the demo's with only the addresses changed.
func TestComposeGovbusConfigIsTheDemo(t *testing.T) {
	var demo, comp map[string]any
	readYAML(t, demoConfig, &demo)
	readYAML(t, composeConfig, &comp)
	for _, m := range []map[string]any{demo, comp} {
		delete(m, "listeners")
		regs, _ := m["registries"].([]any)
		for _, r := range regs {
			if r, ok := r.(map[string]any); ok {
				delete(r, "endpoints")
			}
		}
	}
	if !reflect.DeepEqual(comp, demo) {
		got, _ := yaml.Marshal(comp)
		want, _ := yaml.Marshal(demo)
		t.Errorf("%s differs from %s beyond listeners and endpoints:\ngot:\n%s\nwant:\n%s", composeConfig, demoConfig, got, want)
	}
}

func TestComposeGovbusConfigPassesCheck(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "govbus")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/govbus").CombinedOutput(); err != nil {
		t.Fatalf("building govbus: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "check", "-config", composeConfig).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK") {
		t.Errorf("govbus check -config %s: %v\n%s", composeConfig, err, out)
	}
}
