package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/govbus/govbus/admin"
	"github.com/govbus/govbus/audit"
	"github.com/govbus/govbus/authn"
	"github.com/govbus/govbus/config"
	"github.com/govbus/govbus/gateway"
	"github.com/govbus/govbus/node"
	"github.com/govbus/govbus/observability"
	"github.com/govbus/govbus/opmon"
	"github.com/govbus/govbus/ratelimit"
)

// serve runs a node until SIGINT or SIGTERM.
func serve(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file")
	level := fs.String("log-level", "info", "log level: debug, info, warn, error")
	drain := fs.Duration("drain", 0, "how long in-flight exchanges may take to finish on shutdown (default: listeners.drain_timeout)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *path == "" {
		fmt.Fprintln(stderr, "govbus serve: -config FILE is required")
		return 2
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintf(stderr, "govbus serve: bad -log-level: %v\n", err)
		return 2
	}
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	if os.Getenv("GOGC") == "" {
		// An exchange allocates little that outlives it; collecting less
		// often measured 16% more exchanges per second on 2 cores. GOGC
		// in the environment overrides this.
		debug.SetGCPercent(400)
	}

	cfg, problems, err := config.Load(*path, nil)
	for _, p := range problems {
		logger.Warn("configuration", slog.String("problem", p.String()))
	}
	if err != nil {
		fmt.Fprintf(stderr, "govbus serve: %s: configuration refused:\n%v\n", *path, err)
		return 1
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	observability.BuildInfo(reg, version, runtime.Version())
	configLoaded := observability.ConfigInfo(reg)
	metrics := observability.NewMetrics(reg, nil)
	upstream := observability.NewUpstream(reg)
	if *drain == 0 {
		*drain = cfg.Listeners.DrainTimeout.D()
	}
	t := cfg.Tracing
	tracing, err := observability.NewTracing(context.Background(), observability.TracingConfig{
		Endpoint: t.Endpoint, ServiceName: t.ServiceName, Sampler: t.Sampler, SamplerArg: t.SamplerArg,
		QueueSize: t.QueueSize, BatchSize: t.BatchSize, ExportTimeout: t.ExportTimeout.D(),
		Attributes: map[string]string{"service.instance.id": cfg.Node, "service.version": version},
	}, reg, os.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "govbus serve: %v\n", err)
		return 1
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = tracing.Shutdown(ctx)
	}()
	if tracing.Endpoint != "" {
		logger.Info("exporting spans", slog.String("endpoint", tracing.Endpoint))
	}
	// Rate-limit buckets and quotas live as long as the process: every
	// Build, reloads included, gets the same state.
	buildOpts := node.Options{Logger: logger, Observer: upstream, Tracer: tracing.Tracer(), Propagator: tracing.Propagator,
		Limits: ratelimit.NewState(time.Now), Bodies: node.NewBodyBudget(time.Now)}
	// So do the counts of failed authentications per source address.
	buildOpts.AuthThrottle = authn.NewThrottle(time.Now)
	buildOpts.AuthObserver = observability.NewAuthFailures(reg, authn.FailureReasons())
	var msglog *audit.Log
	if !cfg.MessageLog.Disabled {
		var store audit.Store
		if msglog, store, err = openMessageLog(context.Background(), cfg, logger); err != nil {
			fmt.Fprintf(stderr, "govbus serve: %v\n", err)
			return 1
		}
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := msglog.Close(ctx); err != nil {
				logger.Error("closing the message log", slog.String("error", err.Error()))
			}
			logger.Info("message log closed", slog.Any("head", msglog.Head()))
		}()
		buildOpts.AuditLog, buildOpts.AuditStore = msglog, store
		stopWatch := watchMessageLog(msglog, logger)
		defer stopWatch()
	}

	snap, err := node.Build(cfg, buildOpts)
	if err != nil {
		fmt.Fprintf(stderr, "govbus serve: %v\n", err)
		return 1
	}
	presetMetrics(metrics, snap)
	holder := gateway.NewHolder(snap)
	upstream.SetRefresh(func() {
		for _, routes := range holder.Load().Subsystems {
			if st, ok := routes[0].Adapter.(interface{ Status() any }); ok {
				st.Status()
			}
		}
	})
	configLoaded(time.Now())

	var reloadMu sync.Mutex
	var lastReload atomic.Pointer[map[string]any]
	// The admins' tokens follow reloads; validation refuses whatever
	// NewKeyring would.
	var adminKeys atomic.Pointer[admin.Keyring]
	keys, err := admin.NewKeyring(cfg.Admins)
	if err != nil {
		fmt.Fprintf(stderr, "govbus serve: %v\n", err)
		return 1
	}
	adminKeys.Store(keys)
	reload := func() error {
		reloadMu.Lock()
		defer reloadMu.Unlock()
		next, _, err := config.Load(*path, nil)
		var keys *admin.Keyring
		if err == nil {
			keys, err = admin.NewKeyring(next.Admins)
		}
		if err == nil {
			var s *gateway.Snapshot
			opts := buildOpts
			opts.Previous = holder.Load()
			if s, err = node.Build(next, opts); err == nil {
				holder.Store(s)
				adminKeys.Store(keys)
				for _, a := range node.Retired(opts.Previous, s) {
					if c, ok := a.(interface{ Close() }); ok {
						// Exchanges that started under the old
						// configuration may still use it for a while.
						time.AfterFunc(2*time.Minute, c.Close)
					}
				}
				presetMetrics(metrics, s)
				configLoaded(time.Now())
				metrics.Reloaded(true)
				lastReload.Store(&map[string]any{"at": time.Now().UTC(), "result": "ok", "config_version": s.Version})
				logger.Info("configuration reloaded", slog.String("version", s.Version))
				return nil
			}
		}
		metrics.Reloaded(false)
		lastReload.Store(&map[string]any{"at": time.Now().UTC(), "result": "refused", "error": err.Error()})
		logger.Error("reload refused; the running configuration stays", slog.String("error", err.Error()))
		return err
	}

	// Operational monitoring: with the message log on, made from its
	// store (durable, and a cluster's on PostgreSQL); else kept in memory
	// as each exchange ends.
	var opmonSource opmon.Source
	var opmonRecords interface{ Add(*opmon.Record) }
	if buildOpts.AuditStore != nil {
		opmonSource = opmon.NewAuditSource(buildOpts.AuditStore, opmon.AuditOptions{})
	} else {
		records := opmon.NewStore(opmon.DefaultSize)
		opmonSource, opmonRecords = records, records
	}
	consumer := observability.Instrument{
		Metrics: metrics, Tracer: tracing.Tracer(), Propagator: tracing.Propagator, Logger: logger,
		Opmon: opmonRecords, Node: cfg.Node,
	}.Wrap(gateway.NewHandler(gateway.Options{Holder: holder, Tracer: tracing.Tracer(),
		MaxBodyBytesInFlight: int64(cfg.Listeners.MaxBodyBytesInFlight), BodyReadTimeout: cfg.Listeners.BodyReadTimeout.D()}))
	var up atomic.Bool
	ready := func() string {
		if !up.Load() {
			return "listeners not up"
		}
		if msglog != nil {
			if err := msglog.Healthy(); err != nil {
				return "message log not writable: " + err.Error()
			}
		}
		return ""
	}
	l := cfg.Listeners
	adminTLS, err := admin.ServerTLS(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "govbus serve: %v\n", err)
		return 1
	}
	servers := []*listener{
		{name: "consumer", addr: l.Consumer.Address, handler: consumer},
		{name: "status", addr: l.Status.Address, handler: observability.StatusHandler(reg, ready)},
		{name: "admin", addr: l.Admin.Address, handler: admin.Handler(admin.Options{
			Node: cfg.Node, Version: version, Started: time.Now(), Holder: holder, Reload: reload,
			Opmon:    opmon.Handler(opmonSource),
			Listener: l.Admin, Keyring: adminKeys.Load, Logger: logger,
			// Failed admin credentials are counted apart from consumers'
			// (neither locks the other out), under auth_throttle's limits
			// as the node started with.
			Throttle: authn.NewThrottle(nil), ThrottleLimits: authn.ThrottleLimits{
				Burst: cfg.AuthThrottle.Burst, PerSecond: cfg.AuthThrottle.PerSecond, MaxAddresses: cfg.AuthThrottle.MaxAddresses},
			LastReload: func() any {
				if r := lastReload.Load(); r != nil {
					return *r
				}
				return nil
			},
			MessageLog: func() any {
				if msglog == nil {
					return nil
				}
				st := map[string]any{"head": msglog.Head(), "healthy": true}
				if err := msglog.Healthy(); err != nil {
					st["healthy"], st["error"] = false, err.Error()
				}
				return st
			},
		}), tls: adminTLS},
	}
	if t := l.ConsumerTLS; t != nil {
		tc, err := serverTLS(cfg, t)
		if err != nil {
			fmt.Fprintf(stderr, "govbus serve: consumer_tls: %v\n", err)
			return 1
		}
		servers = append(servers, &listener{name: "consumer_tls", addr: t.Address, handler: consumer, tls: tc})
	}
	for _, s := range servers {
		if err := s.listen(); err != nil {
			fmt.Fprintf(stderr, "govbus serve: %s listener cannot listen on %s: %v\n", s.name, s.addr, unwrapOp(err))
			for _, o := range servers {
				o.close()
			}
			return 1
		}
	}
	errc := make(chan error, len(servers))
	for _, s := range servers {
		s.srv = &http.Server{
			Handler: s.handler, ReadHeaderTimeout: l.ReadHeaderTimeout.D(), ReadTimeout: l.ReadTimeout.D(),
			WriteTimeout: l.WriteTimeout.D(), IdleTimeout: l.IdleTimeout.D(), MaxHeaderBytes: int(l.MaxHeaderBytes),
			ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn), TLSConfig: s.tls,
		}
		go func() { errc <- s.serve() }()
		logger.Info("listening", slog.String("listener", s.name), slog.String("address", s.ln.Addr().String()))
	}
	up.Store(true)
	logger.Info("govbus started", slog.String("node", cfg.Node), slog.String("version", version), slog.String("config_version", snap.Version))

	if cfg.WatchConfig {
		stopWatch := watchFile(*path, func() { _ = reload() }, logger)
		defer stopWatch()
	}

	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sig)
	for {
		select {
		case err := <-errc:
			logger.Error("listener failed", slog.String("error", err.Error()))
			shutdown(servers, *drain, logger)
			return 1
		case s := <-sig:
			if s == syscall.SIGHUP {
				_ = reload()
				continue
			}
			logger.Info("shutting down", slog.String("signal", s.String()))
			up.Store(false)
			shutdown(servers, *drain, logger)
			return 0
		}
	}
}

// listener is one of the node's HTTP listeners.
type listener struct {
	name, addr string
	handler    http.Handler
	tls        *tls.Config
	ln         net.Listener
	srv        *http.Server
}

func (l *listener) listen() (err error) {
	l.ln, err = net.Listen("tcp", l.addr)
	if err == nil && l.tls == nil {
		// An obs-folded header line gets 400 and a closed connection
		// (on TLS listeners Go's server must see the *tls.Conn itself).
		l.ln = gateway.FoldGuard(l.ln)
	}
	return err
}

func (l *listener) serve() error {
	var err error
	if l.tls != nil {
		err = l.srv.ServeTLS(l.ln, "", "")
	} else {
		err = l.srv.Serve(l.ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func (l *listener) close() {
	if l.ln != nil {
		_ = l.ln.Close()
	}
}

// shutdown stops accepting and lets in-flight exchanges finish within
// drain. The consumer listeners go first; the status and admin listeners
// stay up meanwhile, so probes see /readyz answer 503 during the drain.
func shutdown(servers []*listener, drain time.Duration, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	isConsumer := func(s *listener) bool { return s.name == "consumer" || s.name == "consumer_tls" }
	stop(ctx, servers, logger, isConsumer)
	stop(ctx, servers, logger, func(s *listener) bool { return !isConsumer(s) })
}

// stop shuts the chosen listeners down in parallel.
func stop(ctx context.Context, servers []*listener, logger *slog.Logger, which func(*listener) bool) {
	var wg sync.WaitGroup
	for _, s := range servers {
		if s.srv == nil || !which(s) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.srv.Shutdown(ctx); err != nil {
				logger.Warn("drain cut short", slog.String("listener", s.name), slog.String("error", err.Error()))
				_ = s.srv.Close()
			}
		}()
	}
	wg.Wait()
}

// unwrapOp shortens "listen tcp 127.0.0.1:8080: bind: address already in
// use" to its cause.
func unwrapOp(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		var sys *os.SyscallError
		if errors.As(op.Err, &sys) {
			return sys.Err
		}
		return op.Err
	}
	return err
}

// serverTLS builds the consumer TLS listener's configuration: client
// certificates are asked for and, when given, must chain to the client CA.
func serverTLS(cfg *config.Config, t *config.TLSListener) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(cfg.File(t.CertFile), cfg.File(t.KeyFile))
	if err != nil {
		return nil, err
	}
	pem, err := os.ReadFile(cfg.File(t.ClientCAFile))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New("client CA file holds no PEM certificate")
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert},
		ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: pool,
	}, nil
}

// watchFile calls changed when the file's size or modification time
// changes (checked every second); the reload it triggers refuses an
// invalid file like any other.
func watchFile(path string, changed func(), logger *slog.Logger) (stop func()) {
	stamp := func() string {
		fi, err := os.Stat(path)
		if err != nil {
			return ""
		}
		return fi.ModTime().String() + "/" + strconv.FormatInt(fi.Size(), 10)
	}
	done := make(chan struct{})
	go func() {
		last := stamp()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if now := stamp(); now != last && now != "" {
					last = now
					logger.Info("configuration file changed; reloading", slog.String("path", path))
					changed()
				}
			}
		}
	}()
	return func() { close(done) }
}

// watchMessageLog publishes each new signed head in the log and probes the
// store — every second while it fails, so that readiness and exchanges
// recover by themselves when it is back, and every 5 s while it works, so
// that an idle node's /readyz notices a store that went away.
func watchMessageLog(l *audit.Log, logger *slog.Logger) (stop func()) {
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		var last int64
		var lastLog, lastProbe time.Time
		for {
			select {
			case <-done:
				return
			case now := <-tick.C:
				failing := l.Healthy() != nil
				if failing || now.Sub(lastProbe) >= 5*time.Second {
					lastProbe = now
					ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
					err := l.Probe(ctx)
					cancel()
					switch {
					case failing && err == nil:
						logger.Info("message log writable again")
					case !failing && err != nil:
						logger.Error("message log not writable", slog.String("error", err.Error()))
					}
				}
				if h := l.Head(); h.Seq != last && now.Sub(lastLog) >= 10*time.Second {
					last, lastLog = h.Seq, now
					logger.Info("message log head", slog.String("node", h.Node), slog.Int64("seq", h.Seq),
						slog.String("hash", h.Hash), slog.String("key_id", h.KeyID), slog.String("signature", h.Signature))
				}
			}
		}
	}()
	return func() { close(done) }
}

// presetMetrics creates the series of every configured client and service.
func presetMetrics(m *observability.Metrics, snap *gateway.Snapshot) {
	clients := make([]string, 0, len(snap.KnownClients))
	for c := range snap.KnownClients {
		clients = append(clients, c)
	}
	services := make([]string, 0, len(snap.Routes))
	methods := map[string][]string{}
	for id, r := range snap.Routes {
		services = append(services, id)
		methods[id] = r.Methods
	}
	m.Preset(clients, services, methods)
}
