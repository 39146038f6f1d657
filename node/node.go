// Package node assembles a running govbus node from a configuration: it
// builds the adapters, the authenticator and the policy engine into a
// gateway.Snapshot, the unit that a reload swaps atomically.
package node

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"time"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/govbus/govbus/adapters/rest"
	soapadapter "github.com/govbus/govbus/adapters/soap"
	"github.com/govbus/govbus/audit"
	"github.com/govbus/govbus/authn"
	"github.com/govbus/govbus/config"
	"github.com/govbus/govbus/gateway"
	"github.com/govbus/govbus/minimise"
	"github.com/govbus/govbus/outbound"
	"github.com/govbus/govbus/policies"
	"github.com/govbus/govbus/ratelimit"
	"github.com/govbus/govbus/tracker"
)

// Options are the dependencies of Build.
type Options struct {
	// Logger receives adapter lines; nil discards.
	Logger *slog.Logger
	// Observer is told what each registry's outbound stack does (metrics).
	// Default: nothing is told.
	Observer outbound.Observer
	// Tracer records a CLIENT span per upstream attempt; Propagator writes
	// its traceparent. Defaults: no spans; W3C trace context.
	Tracer     trace.Tracer
	Propagator propagation.TextMapPropagator
	// AuditLog, when set, records every exchange (the message log);
	// AuditStore, when set, serves the Data Tracker. Both live across
	// reloads.
	AuditLog   Appender
	AuditStore audit.Store
	// Now is the clock of the message log and the tracker; nil: time.Now.
	Now func() time.Time
	// Limits holds the rate-limit buckets and daily quota counters; pass
	// the same State to every Build so that a reload resets none of them.
	// Nil: a State of this Snapshot's own (fine for checks and tests).
	Limits *ratelimit.State
	// AuthThrottle counts failed authentications per source address; pass
	// the same Throttle to every Build so that a reload forgets none.
	// Nil: a Throttle of this Snapshot's own.
	AuthThrottle *authn.Throttle
	// AuthObserver is told of each failed authentication (metrics); nil:
	// no one is.
	AuthObserver authn.Observer
	// Bodies counts the bodies the message log keeps against each
	// service's keep_bodies_per_day; pass the same one to every Build.
	// Nil: a budget of this Snapshot's own.
	Bodies *BodyBudget
	// Previous is the running snapshot when reloading: a registry whose
	// configuration did not change keeps its adapter — its connection
	// pool, circuit breakers, retry budget and bulkhead — so a reload
	// resets no runtime state. Nil: everything is built afresh.
	Previous *gateway.Snapshot
}

// Build turns a validated configuration into a Snapshot.
func Build(cfg *config.Config, opts Options) (*gateway.Snapshot, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &gateway.Snapshot{
		Version:      cfg.Version,
		Routes:       map[string]*gateway.Route{},
		Subsystems:   map[string][]*gateway.Route{},
		KnownClients: map[string]bool{},
	}
	for i := range cfg.Registries {
		if err := addRegistry(s, cfg, &cfg.Registries[i], opts); err != nil {
			return nil, err
		}
	}
	for _, c := range cfg.Clients {
		s.KnownClients[c.ID] = true
	}
	auth, err := authenticator(cfg, opts)
	if err != nil {
		return nil, err
	}
	s.Authenticator = auth
	rules := make([]policies.Rule, len(cfg.Rules))
	for i, r := range cfg.Rules {
		rules[i] = config.PolicyRule(r)
	}
	engine, err := policies.Compile(rules, cfg.Groups)
	if err != nil {
		return nil, fmt.Errorf("compiling policy rules: %w", err)
	}
	s.Policy = engine
	for _, r := range rules {
		if len(r.Fields) > 0 {
			m, err := minimise.New(rules)
			if err != nil {
				return nil, fmt.Errorf("compiling field lists: %w", err)
			}
			s.Minimiser = m
			break
		}
	}
	s.Members = members(cfg)
	s.PublicURL = cfg.ConsumerURL()
	hideNoneClients(s.Members, cfg)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	key := []byte(cfg.MessageLog.SubjectKey)
	if opts.AuditLog != nil {
		disclose := map[string]time.Duration{}
		for _, r := range cfg.Rules {
			if r.DiscloseAfter > 0 {
				disclose[r.ID] = r.DiscloseAfter.D()
			}
		}
		bodies := opts.Bodies
		if bodies == nil {
			bodies = NewBodyBudget(opts.Now)
		}
		limits := map[string]int64{}
		for _, r := range cfg.Registries {
			for _, svc := range r.Services {
				if svc.KeepBodies {
					limits[r.ID+"/"+svc.Code] = int64(svc.KeepBodiesPerDay)
				}
			}
		}
		s.MessageLog = &MessageLog{Log: opts.AuditLog, SubjectKey: key, DiscloseAfter: disclose, Now: opts.Now,
			Bodies: bodies, BodyLimits: limits}
	}
	if opts.AuditStore != nil {
		names := map[string]string{}
		for _, m := range cfg.Members {
			names[m.ID] = m.Name
		}
		s.Tracker = &tracker.Tracker{Store: opts.AuditStore, Key: key, Members: names, Now: opts.Now, MaxLimit: cfg.Tracker.PageMax()}
		rate, burst := cfg.Tracker.RateLimit()
		s.TrackerLimiter = &tracker.Throttle{State: trackerBuckets(opts), Rate: rate, Burst: burst}
	}
	// Last, once nothing can fail: New drops from the long-lived state what
	// the rules no longer limit.
	if lim := ratelimit.New(rules, opts.Limits); lim.Active() {
		s.Limiter = lim
	}
	return s, nil
}

// trackerBuckets returns the Data Tracker's buckets of the running
// snapshot, so that a reload refills none, or new ones.
func trackerBuckets(opts Options) *ratelimit.State {
	if opts.Previous != nil {
		if th, ok := opts.Previous.TrackerLimiter.(*tracker.Throttle); ok {
			return th.State
		}
	}
	return ratelimit.NewState(opts.Now)
}

func addRegistry(s *gateway.Snapshot, cfg *config.Config, r *config.Registry, opts Options) error {
	oc := outbound.Config{
		Registry:    r.ID,
		MaxInFlight: r.MaxInFlight,
		Pool: outbound.Pool{
			MaxIdleConnsPerHost: r.Pool.MaxIdleConnsPerHost, MaxConnsPerHost: r.Pool.MaxConnsPerHost,
			IdleConnTimeout: r.Pool.IdleConnTimeout.D(), ConnectTimeout: r.Pool.ConnectTimeout.D(),
		},
		Retry: outbound.Retry{
			Max: *r.Retry.Max, WaitMin: r.Retry.WaitMin.D(), WaitMax: r.Retry.WaitMax.D(),
			BudgetRatio: r.Retry.BudgetRatio, BudgetMinPerSecond: r.Retry.BudgetMinPerSecond,
		},
		Breaker: outbound.Breaker{
			Disabled: r.Breaker.Disabled, ConsecutiveFailures: r.Breaker.ConsecutiveFailures,
			FailureRatio: r.Breaker.FailureRatio, MinRequests: r.Breaker.MinRequests,
			Interval: r.Breaker.Interval.D(), OpenTimeout: r.Breaker.OpenTimeout.D(),
			HalfOpenRequests: r.Breaker.HalfOpenRequests,
		},
		Observer:   opts.Observer,
		Logger:     opts.Logger,
		Tracer:     opts.Tracer,
		Propagator: opts.Propagator,
	}
	if oc.Retry.Max == 0 {
		oc.Retry.Max = -1 // "max: 0" in the file means no retries
	}
	for _, e := range r.Endpoints {
		u, err := url.Parse(e)
		if err != nil {
			return fmt.Errorf("registry %s: %w", r.ID, err)
		}
		oc.Endpoints = append(oc.Endpoints, u)
	}
	tlsCfg, err := upstreamTLS(cfg, r.TLS)
	if err != nil {
		return fmt.Errorf("registry %s: %w", r.ID, err)
	}
	oc.TLS = tlsCfg
	fp := fingerprint(cfg, r)
	var adapter gateway.Adapter
	if prev := previousAdapter(opts.Previous, r.ID, fp); prev != nil {
		adapter = prev
	} else if adapter, err = newAdapter(r, oc); err != nil {
		return fmt.Errorf("registry %s: %w", r.ID, err)
	}
	for _, svc := range r.Services {
		id, err := gateway.ParseServiceID(r.ID + "/" + svc.Code)
		if err != nil {
			return fmt.Errorf("registry %s: %w", r.ID, err)
		}
		route := &gateway.Route{
			Service: id, ServiceKey: id.String(), Registry: r.ID,
			Methods: svc.Methods, Paths: svc.Paths, Timeout: svc.Timeout.D(),
			MaxRequestBytes: int64(svc.MaxRequestBytes), Idempotent: svc.Idempotent, Adapter: adapter,
			KeepBodies: svc.KeepBodies, RegistryFingerprint: fp,
			PassHeaders: svc.PassHeaders, PassResponseHeaders: svc.PassResponseHeaders,
		}
		if r.Adapter == "soap" {
			route.ServiceType = "WSDL"
		}
		if svc.Subject != nil {
			route.Subject = &gateway.SubjectSpec{In: svc.Subject.In, Name: svc.Subject.Name}
			if p := svc.Subject.Pattern; p != "" {
				if route.Subject.Pattern, err = config.CompileSubjectPattern(p); err != nil {
					return fmt.Errorf("service %s: subject pattern: %w", route.ServiceKey, err)
				}
			}
		}
		if svc.OpenAPI != "" {
			if route.OpenAPI, err = os.ReadFile(cfg.File(svc.OpenAPI)); err != nil {
				return fmt.Errorf("service %s: reading OpenAPI: %w", route.ServiceKey, err)
			}
		}
		s.Routes[route.ServiceKey] = route
		s.Subsystems[r.ID] = append(s.Subsystems[r.ID], route)
	}
	return nil
}

// fingerprint identifies a registry's configuration, the contents of its
// TLS files included (so a rotated certificate is picked up): equal
// fingerprints, same adapter.
func fingerprint(cfg *config.Config, r *config.Registry) string {
	h := sha256.New()
	b, _ := json.Marshal(r)
	h.Write(b)
	for _, f := range []string{r.TLS.CAFile, r.TLS.CertFile, r.TLS.KeyFile} {
		if f != "" {
			data, _ := os.ReadFile(cfg.File(f))
			h.Write(data)
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// previousAdapter returns the running adapter of registry id when its
// configuration is unchanged, or nil.
func previousAdapter(prev *gateway.Snapshot, id, fp string) gateway.Adapter {
	if prev == nil {
		return nil
	}
	routes := prev.Subsystems[id]
	if len(routes) == 0 || routes[0].RegistryFingerprint != fp {
		return nil
	}
	return routes[0].Adapter
}

// Retired returns the adapters of prev that next no longer uses; the
// caller closes them once in-flight exchanges are done with them.
func Retired(prev, next *gateway.Snapshot) []gateway.Adapter {
	if prev == nil {
		return nil
	}
	used := map[gateway.Adapter]bool{}
	for _, routes := range next.Subsystems {
		used[routes[0].Adapter] = true
	}
	var out []gateway.Adapter
	for _, routes := range prev.Subsystems {
		if a := routes[0].Adapter; !used[a] {
			out = append(out, a)
			used[a] = true
		}
	}
	return out
}

// adapterCloser is an adapter that holds connections.
type adapterCloser interface {
	gateway.Adapter
	Close()
}

// newAdapter builds the adapter of the registry's kind over its outbound
// stack.
func newAdapter(r *config.Registry, oc outbound.Config) (adapterCloser, error) {
	auth := rest.Auth{Type: r.Auth.Type, Header: r.Auth.Header, Value: r.Auth.Value, Username: r.Auth.Username}
	if r.Adapter != "soap" {
		return rest.New(rest.Config{Outbound: oc, Auth: auth, MaxResponseBytes: int64(r.MaxResponseBytes)})
	}
	services := map[string]soapadapter.ServiceMapping{}
	for _, svc := range r.Services {
		m := svc.SOAP
		if m == nil {
			continue
		}
		path := m.Path
		if path == "" && len(svc.Paths) > 0 {
			path = svc.Paths[0]
		}
		services[svc.Code] = soapadapter.ServiceMapping{
			Operation: m.Operation, Namespace: m.Namespace, SOAPAction: m.SOAPAction, Path: path,
			Template: m.Template, ResultElement: m.ResultElement, NotFoundFault: m.NotFoundFault,
		}
	}
	return soapadapter.New(soapadapter.Config{
		Outbound: oc, Auth: auth, MaxResponseBytes: int64(r.MaxResponseBytes),
		SOAP12: r.SOAPVersion == "1.2", Services: services,
	})
}

// upstreamTLS builds the client TLS configuration toward a registry; nil
// when nothing is configured (the system roots apply).
func upstreamTLS(cfg *config.Config, t config.UpstreamTLS) (*tls.Config, error) {
	if t == (config.UpstreamTLS{}) {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if t.CAFile != "" {
		pem, err := os.ReadFile(cfg.File(t.CAFile))
		if err != nil {
			return nil, fmt.Errorf("reading CA file: %w", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, errors.New("CA file holds no PEM certificate")
		}
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.File(t.CertFile), cfg.File(t.KeyFile))
		if err != nil {
			return nil, fmt.Errorf("loading client certificate: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// members builds the listClients directory: configured members with the
// subsystems (registries and clients) they own.
func members(cfg *config.Config) []gateway.Member {
	out := make([]gateway.Member, 0, len(cfg.Members))
	index := map[string]int{}
	for _, m := range cfg.Members {
		index[m.ID] = len(out)
		out = append(out, gateway.Member{ID: m.ID, Name: m.Name})
	}
	add := func(id string) {
		c, err := gateway.ParseClientID(id)
		if err != nil {
			return
		}
		i, ok := index[c.Member()]
		if !ok {
			index[c.Member()] = len(out)
			i = len(out)
			out = append(out, gateway.Member{ID: c.Member()})
		}
		for _, s := range out[i].Subsystems {
			if s == c.Subsystem {
				return
			}
		}
		out[i].Subsystems = append(out[i].Subsystems, c.Subsystem)
	}
	for _, r := range cfg.Registries {
		add(r.ID)
	}
	for _, c := range cfg.Clients {
		add(c.ID)
	}
	return out
}
