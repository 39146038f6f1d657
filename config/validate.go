package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/govbus/govbus/gateway"
	"github.com/govbus/govbus/minimise"
	"github.com/govbus/govbus/policies"
)

// validator collects every problem of a defaulted configuration.
type validator struct {
	cfg      *Config
	lines    map[string]int
	problems Problems
}

// addf records a problem at path, with the line of the nearest path known.
func (v *validator) addf(path, format string, args ...any) {
	v.problems = append(v.problems, Problem{Path: path, Line: v.line(path), Message: fmt.Sprintf(format, args...)})
}

// warnf records a warning.
func (v *validator) warnf(path, format string, args ...any) {
	v.problems = append(v.problems, Problem{Path: path, Line: v.line(path), Message: fmt.Sprintf(format, args...), Warning: true})
}

// line finds the line of path or of its nearest ancestor.
func (v *validator) line(path string) int {
	for path != "" {
		if l, ok := v.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

func idx(base string, i int) string { return base + "[" + strconv.Itoa(i) + "]" }

// File resolves a file name relative to the configuration's directory.
func (c *Config) File(name string) string {
	if name == "" || filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(c.Dir, name)
}

func (v *validator) validate() {
	v.listeners()
	v.soapSettings()
	v.admins()
	members := map[string]bool{}
	for i, m := range v.cfg.Members {
		p := idx("members", i)
		if parts := strings.Split(m.ID, "/"); len(parts) != 3 {
			v.addf(p+".id", "%q is not a member id INSTANCE/MEMBERCLASS/MEMBERCODE", m.ID)
		} else if _, err := gateway.ParseClientID(m.ID + "/x"); err != nil {
			v.addf(p+".id", "%q is not a valid member id", m.ID)
		}
		if members[m.ID] {
			v.addf(p+".id", "duplicate member %s", m.ID)
		}
		members[m.ID] = true
	}
	v.tracing()
	v.messageLog()
	v.tracker()
	services := v.registries(members)
	clients := v.clients(members)
	v.authThrottle()
	v.groups(clients)
	v.rules(clients, services)
}

func (v *validator) listeners() {
	l := v.cfg.Listeners
	seen := map[string]string{}
	check := func(path, addr string) {
		if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
			v.addf(path, "%q is not host:port", addr)
			return
		}
		if other, dup := seen[addr]; dup {
			v.addf(path, "address %s is also used by %s", addr, other)
		}
		seen[addr] = path
	}
	check("listeners.consumer.address", l.Consumer.Address)
	check("listeners.status.address", l.Status.Address)
	check("listeners.admin.address", l.Admin.Address)
	if t := l.ConsumerTLS; t != nil {
		check("listeners.consumer_tls.address", t.Address)
		v.file("listeners.consumer_tls.cert_file", t.CertFile, true)
		v.file("listeners.consumer_tls.key_file", t.KeyFile, true)
		v.file("listeners.consumer_tls.client_ca_file", t.ClientCAFile, true)
	}
}

// file checks that a named file exists (required: it must be named).
func (v *validator) file(path, name string, required bool) {
	if name == "" {
		if required {
			v.addf(path, "a file is required")
		}
		return
	}
	if _, err := os.Stat(v.cfg.File(name)); err != nil {
		v.addf(path, "cannot read %s: %v", name, errUnwrapped(err))
	}
}

func errUnwrapped(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// registries validates registries and returns the set of service ids.
func (v *validator) registries(members map[string]bool) map[string]*Service {
	services := map[string]*Service{}
	seen := map[string]bool{}
	for i := range v.cfg.Registries {
		r := &v.cfg.Registries[i]
		p := idx("registries", i)
		id, err := gateway.ParseClientID(r.ID)
		if err != nil {
			v.addf(p+".id", "%q is not a subsystem id INSTANCE/MEMBERCLASS/MEMBERCODE/SUBSYSTEM", r.ID)
		} else {
			if len(members) > 0 && !members[id.Member()] {
				v.addf(p+".id", "member %s is not among members", id.Member())
			}
			r.ID = id.String()
		}
		if seen[r.ID] {
			v.addf(p+".id", "duplicate registry %s", r.ID)
		}
		seen[r.ID] = true
		switch r.Adapter {
		case "rest":
		case "soap":
			if r.SOAPVersion != "" && r.SOAPVersion != "1.1" && r.SOAPVersion != "1.2" {
				v.addf(p+".soap_version", "must be 1.1 or 1.2")
			}
		default:
			v.addf(p+".adapter", "unknown adapter %q (known: rest, soap)", r.Adapter)
		}
		if len(r.Endpoints) == 0 {
			v.addf(p+".endpoints", "at least one endpoint is required")
		}
		for j, e := range r.Endpoints {
			u, err := url.Parse(e)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
				v.addf(idx(p+".endpoints", j), "%q is not an absolute http(s) URL without query", RedactURL(e))
			} else if u.User != nil {
				v.addf(idx(p+".endpoints", j), "%q carries credentials: use the registry's auth instead", RedactURL(e))
			}
		}
		v.upstreamAuth(p+".auth", r.Auth)
		v.file(p+".tls.ca_file", r.TLS.CAFile, false)
		v.file(p+".tls.cert_file", r.TLS.CertFile, r.TLS.KeyFile != "")
		v.file(p+".tls.key_file", r.TLS.KeyFile, r.TLS.CertFile != "")
		if *r.Retry.Max < 0 || *r.Retry.Max > 10 {
			v.addf(p+".retry.max", "must be between 0 and 10")
		}
		if r.Retry.WaitMin > r.Retry.WaitMax {
			v.addf(p+".retry.wait_min", "is longer than wait_max")
		}
		if r.Retry.BudgetRatio < 0 || r.Retry.BudgetRatio > 1 {
			v.addf(p+".retry.budget_ratio", "must be between 0 and 1")
		}
		if r.Retry.BudgetMinPerSecond < 0 {
			v.addf(p+".retry.budget_min_per_second", "must not be negative")
		}
		if r.MaxInFlight < 1 {
			v.addf(p+".max_in_flight", "must be at least 1")
		}
		if r.Breaker.FailureRatio <= 0 || r.Breaker.FailureRatio > 1 {
			v.addf(p+".breaker.failure_ratio", "must be above 0 and at most 1")
		}
		if len(r.Endpoints) > 64 {
			v.addf(p+".endpoints", "at most 64 endpoints per registry")
		}
		if len(r.Services) == 0 {
			v.addf(p+".services", "at least one service is required")
		}
		for j := range r.Services {
			v.service(idx(p+".services", j), r, &r.Services[j], services)
		}
	}
	return services
}

func (v *validator) upstreamAuth(p string, a UpstreamAuth) {
	switch a.Type {
	case "none":
	case "header":
		if a.Header == "" {
			v.addf(p+".header", "type header needs a header name")
		}
		fallthrough
	case "bearer":
		if a.Value == "" {
			v.addf(p+".value", "type %s needs a value", a.Type)
		}
	case "basic":
		if a.Username == "" {
			v.addf(p+".username", "type basic needs a username")
		}
	default:
		v.addf(p+".type", "unknown type %q (none, header, basic, bearer)", a.Type)
	}
}

// methods govbus may forward.
var forwardable = map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "OPTIONS": true}

func (v *validator) service(p string, r *Registry, s *Service, services map[string]*Service) {
	// A bad registry id is reported at the id; still check the code itself.
	sub := r.ID
	_, subErr := gateway.ParseClientID(sub)
	if subErr != nil {
		sub = "X/X/X/X"
	}
	id, err := gateway.ParseServiceID(sub + "/" + s.Code)
	if err != nil {
		v.addf(p+".code", "%q is not a valid service code", s.Code)
		return
	}
	switch s.Code {
	case gateway.MetaListMethods, gateway.MetaAllowedMethods, gateway.MetaGetOpenAPI:
		v.addf(p+".code", "%q is the name of a metaservice", s.Code)
	}
	if key := id.String(); subErr == nil {
		if services[key] != nil {
			v.addf(p+".code", "duplicate service %s", key)
		}
		services[key] = s
	}
	for k, m := range s.Methods {
		if !forwardable[m] {
			v.addf(idx(p+".methods", k), "%q is not a method govbus forwards (GET HEAD POST PUT PATCH DELETE OPTIONS)", m)
		}
	}
	for k, path := range s.Paths {
		if !strings.HasPrefix(path, "/") {
			v.addf(idx(p+".paths", k), "%q must start with /", path)
		}
	}
	if s.Timeout <= 0 {
		v.addf(p+".timeout", "must be positive")
	}
	if s.MaxRequestBytes <= 0 {
		v.addf(p+".max_request_bytes", "must be positive")
	}
	v.file(p+".openapi", s.OpenAPI, false)
	v.serviceHeaders(p, s)
	if m := s.SOAP; m != nil {
		if r.Adapter != "soap" {
			v.addf(p+".soap", "only for registries with adapter soap")
		}
		if m.Operation == "" && m.Template == "" {
			v.addf(p+".soap.operation", "an operation (or a template) is required")
		}
	}
	if sub := s.Subject; sub != nil {
		switch sub.In {
		case "path":
			found := false
			for _, path := range s.Paths {
				found = found || strings.Contains(path, "{"+sub.Name+"}")
			}
			if !found {
				v.addf(p+".subject.name", "no path template of the service has {%s}", sub.Name)
			}
		case "soap":
			v.soapSubject(p, r, sub)
		case "query", "header", "json":
		default:
			v.addf(p+".subject.in", "must be path, query, header, json or soap")
		}
		if sub.Name == "" && sub.In != "soap" {
			v.addf(p+".subject.name", "is required")
		}
		if sub.Pattern != "" {
			if _, err := CompileSubjectPattern(sub.Pattern); err != nil {
				v.addf(p+".subject.pattern", "not an RE2 expression: %v", err)
			}
		}
		if v.cfg.MessageLog.SubjectKey == "" && !v.cfg.MessageLog.Disabled {
			v.addf(p+".subject", "message_log.subject_key is required to hash data subjects")
		}
	}
}

// clients validates clients and returns the set of client ids.
func (v *validator) clients(members map[string]bool) map[string]bool {
	clients := map[string]bool{}
	for i := range v.cfg.Clients {
		c := &v.cfg.Clients[i]
		p := idx("clients", i)
		id, err := gateway.ParseClientID(c.ID)
		if err != nil {
			v.addf(p+".id", "%q is not a subsystem id INSTANCE/MEMBERCLASS/MEMBERCODE/SUBSYSTEM", c.ID)
		} else if len(members) > 0 && !members[id.Member()] {
			v.addf(p+".id", "member %s is not among members", id.Member())
		}
		if clients[c.ID] {
			v.addf(p+".id", "duplicate client %s", c.ID)
		}
		clients[c.ID] = true
		v.clientAuth(p+".auth", c.ID, c.Auth)
	}
	return clients
}

func validHash(h string) bool {
	h = strings.TrimPrefix(h, "sha256:")
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		if !strings.ContainsRune("0123456789abcdefABCDEF", rune(h[i])) {
			return false
		}
	}
	return true
}

func (v *validator) groups(clients map[string]bool) {
	for name, ids := range v.cfg.Groups {
		p := "groups." + name
		if name == "" || strings.ContainsAny(name, ": /") {
			v.addf(p, "group names may not contain ':', '/' or spaces")
		}
		for k, id := range ids {
			if !clients[id] {
				v.addf(idx(p, k), "unknown client %s", id)
			}
		}
	}
}

func (v *validator) rules(clients map[string]bool, services map[string]*Service) {
	rules := make([]policies.Rule, len(v.cfg.Rules))
	for i, r := range v.cfg.Rules {
		p := idx("rules", i)
		for k, c := range r.Clients {
			if !strings.HasPrefix(c, "group:") && !clients[c] {
				v.addf(idx(p+".clients", k), "unknown client %s", c)
			}
		}
		for k, s := range r.Services {
			if sub, ok := strings.CutSuffix(s, "/*"); ok {
				if !v.hasRegistry(sub) {
					v.addf(idx(p+".services", k), "unknown registry %s", sub)
				}
				continue
			}
			svc, known := services[s]
			if !known {
				v.addf(idx(p+".services", k), "unknown service %s", s)
				continue
			}
			for m, method := range r.Methods {
				if !contains(svc.Methods, method) {
					v.addf(idx(p+".methods", m), "service %s does not declare %s", s, method)
				}
			}
		}
		v.fields(p, r.Fields)
		v.limits(p, r)
		rules[i] = PolicyRule(r)
	}
	if _, err := policies.Compile(rules, v.cfg.Groups); err != nil {
		var ps policies.Problems
		if errors.As(err, &ps) {
			for _, pp := range ps {
				v.addf(pp.Path(), "%s", pp.Msg)
			}
		} else {
			v.addf("rules", "%v", err)
		}
	}
}

// fields checks a rule's field list (data minimisation): each path's
// syntax, then that the paths do not contradict one another.
func (v *validator) fields(rule string, fields []string) {
	p := rule + ".fields"
	if fields != nil && len(fields) == 0 {
		v.addf(p, "lists no field; leave it out to grant every field")
		return
	}
	ok := true
	for k, f := range fields {
		if _, err := minimise.ParsePath(f); err != nil {
			v.addf(idx(p, k), "%v", err)
			ok = false
		}
	}
	if !ok || len(fields) == 0 {
		return
	}
	if _, err := minimise.Compile(fields); err != nil {
		var pe *minimise.PathError
		if errors.As(err, &pe) {
			v.addf(idx(p, pe.Index), "%v", err)
		} else {
			v.addf(p, "%v", err)
		}
	}
}

// limits checks a rule's rate and quota.
func (v *validator) limits(rule string, r Rule) {
	if r.Rate != nil {
		p := rule + ".rate"
		if ps := r.Rate.PerSecond; !(ps > 0) || math.IsInf(ps, 1) {
			v.addf(p+".per_second", "must be a number above 0 (calls per second)")
		}
		if r.Rate.Burst < 0 {
			v.addf(p+".burst", "must not be negative (0: per_second rounded up)")
		}
	}
	if r.Quota != nil && r.Quota.PerDay <= 0 {
		v.addf(rule+".quota.per_day", "must be at least 1")
	}
	if r.Rate != nil && r.Quota != nil && r.Rate.PerService != r.Quota.PerService {
		// One key per rule: either both are per client or both per service.
		v.addf(rule+".quota.per_service", "must equal rate.per_service: a rule counts its rate and quota per the same key")
	}
	if (r.Rate != nil || r.Quota != nil) && len(r.Services) == 0 {
		v.warnf(rule, "rate and quota apply to service calls; this rule grants none")
	}
}

func (v *validator) hasRegistry(id string) bool {
	for _, r := range v.cfg.Registries {
		if r.ID == id {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// PolicyRule converts a configured rule to the policy engine's form.
func PolicyRule(r Rule) policies.Rule {
	pr := policies.Rule{ID: r.ID, Clients: r.Clients, Services: r.Services, Methods: r.Methods,
		Paths: r.Paths, Purposes: r.Purposes, Rights: r.Rights, Fields: r.Fields, Condition: r.Condition}
	if r.Rate != nil {
		pr.RatePerSecond, pr.Burst, pr.PerService = r.Rate.PerSecond, r.Rate.Burst, r.Rate.PerService
	}
	if r.Quota != nil {
		pr.QuotaPerDay = r.Quota.PerDay
		pr.PerService = pr.PerService || r.Quota.PerService
	}
	return pr
}

func (v *validator) tracing() {
	t := v.cfg.Tracing
	if t.Endpoint != "" {
		if u, err := url.Parse(t.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.addf("tracing.endpoint", "%q is not an http(s) URL", RedactURL(t.Endpoint))
		}
	}
	switch t.Sampler {
	case "", "parentbased_always_on", "always_on", "always_off", "traceidratio", "parentbased_traceidratio":
	default:
		v.addf("tracing.sampler", "unknown sampler %q", t.Sampler)
	}
	if t.SamplerArg < 0 || t.SamplerArg > 1 {
		v.addf("tracing.sampler_arg", "must be between 0 and 1")
	}
}

func (v *validator) messageLog() {
	ml := v.cfg.MessageLog
	if ml.Disabled {
		v.warnf("message_log.disabled", "the message log is off: exchanges leave no record")
		return
	}
	switch ml.Store {
	case "sqlite":
		if ml.Path == "" {
			v.addf("message_log.path", "is required for the sqlite store")
		}
	case "postgres":
		if ml.DSN == "" {
			v.addf("message_log.dsn", "is required for the postgres store")
		}
	default:
		v.addf("message_log.store", "unknown store %q (sqlite, postgres)", ml.Store)
	}
	if ml.SignEvery < 1 {
		v.addf("message_log.sign_every", "must be at least 1")
	}
	if ml.SubjectKey != "" && len(ml.SubjectKey) < 16 {
		v.addf("message_log.subject_key", "must be at least 16 bytes")
	}
	if ml.SubjectKey == DemoSubjectKey && !v.cfg.Demo {
		v.addf("message_log.subject_key", "is the demo's published key (is GOVBUS_SUBJECT_KEY unset?): set a secret key, or demo: true for the demo world only")
	}
}

// CompileSubjectPattern compiles a subject's pattern, anchored at both
// ends: the whole subject must match.
func CompileSubjectPattern(p string) (*regexp.Regexp, error) {
	return regexp.Compile(`^(?:` + p + `)$`)
}
