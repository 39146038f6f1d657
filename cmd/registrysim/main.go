// Command registrysim runs the simulated registries of the govbus demo
// world (DESIGN.md §7): the civil registry over REST and the business
// registry over SOAP 1.1 (X-Road message protocol 4.0, WSDL at ?wsdl). Each
// takes fault orders and reports statistics under /_sim/ (see package
// registrysim).
//
// Usage:
//
//	registrysim [-civil ADDR] [-business ADDR] [-otlp URL] [-record N]
//
// An empty address disables a registry. registrysim prints nothing per
// request. It exits with status 1 when an address cannot be listened on or
// a server fails, 2 on a usage error, and 0 after a graceful shutdown on
// SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/govbus/govbus/registrysim"
)

// shutdownTimeout bounds the graceful shutdown: requests still running
// after it (an injected delay, say) are cut off.
const shutdownTimeout = 5 * time.Second

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

// registry is one simulated registry to serve.
type registry struct {
	name    string // for messages: "civil"
	addr    string
	handler http.Handler
}

// run starts the registries named by args and serves them until a signal
// arrives; it returns the process exit status.
// newTracerProvider exports the registry's spans over OTLP/HTTP to base.
func newTracerProvider(base string) (*sdktrace.TracerProvider, error) {
	exp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpointURL(strings.TrimSuffix(base, "/")+"/v1/traces"))
	if err != nil {
		return nil, err
	}
	res := resource.NewSchemaless(attribute.String("service.name", "registrysim"))
	return sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(200*time.Millisecond)), sdktrace.WithResource(res)), nil
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("registrysim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	civilAddr := fs.String("civil", "127.0.0.1:9101",
		"listen `address` of the civil registry (REST); empty disables it")
	businessAddr := fs.String("business", "127.0.0.1:9102",
		"listen `address` of the business registry (SOAP 1.1); empty disables it")
	record := fs.Int("record", 0,
		"keep the last `N` requests each registry receives in full, served at GET /_sim/received (0: none)")
	otlp := fs.String("otlp", "",
		"OTLP/HTTP base `URL` (e.g. http://127.0.0.1:4318) for the registry's own spans; empty: none")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "registrysim: unexpected argument %q\n", fs.Arg(0))
		return 2
	}

	logger := slog.New(slog.NewTextHandler(stderr, nil))
	wrap := func(_ string, h http.Handler) http.Handler { return h }
	if *otlp != "" {
		tp, err := newTracerProvider(*otlp)
		if err != nil {
			fmt.Fprintf(stderr, "registrysim: -otlp: %v\n", err)
			return 2
		}
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
			defer cancel()
			_ = tp.Shutdown(ctx)
		}()
		wrap = func(name string, h http.Handler) http.Handler {
			return registrysim.Traced(h, tp.Tracer("registrysim-"+name), propagation.TraceContext{})
		}
		logger.Info("exporting spans", "endpoint", *otlp)
	}
	var registries []registry
	if *civilAddr != "" {
		sim := registrysim.NewCivil()
		sim.Record(*record)
		registries = append(registries, registry{"civil", *civilAddr, wrap("civil", sim)})
	}
	if *businessAddr != "" {
		sim := registrysim.NewBusiness()
		sim.Record(*record)
		registries = append(registries, registry{"business", *businessAddr, wrap("business", sim)})
	}
	if len(registries) == 0 {
		fmt.Fprintln(stderr, "registrysim: no registry to serve: every address is empty")
		return 2
	}

	// Bind every address before serving any, so that a taken port stops
	// start-up before anything answers.
	listeners := make([]net.Listener, 0, len(registries))
	defer func() {
		for _, ln := range listeners {
			_ = ln.Close() // already closed by Shutdown on the normal path
		}
	}()
	for _, reg := range registries {
		ln, err := net.Listen("tcp", reg.addr)
		if err != nil {
			fmt.Fprintf(stderr, "registrysim: %s registry cannot listen on %s: %s\n",
				reg.name, reg.addr, listenReason(err))
			return 1
		}
		listeners = append(listeners, ln)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	servers := make([]*http.Server, len(registries))
	errc := make(chan error, len(registries))
	for i, reg := range registries {
		srv := newServer(reg.handler, logger)
		servers[i] = srv
		ln := listeners[i]
		go func() {
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("serving the %s registry: %w", reg.name, err)
			}
		}()
		logger.Info("registry listening", "registry", reg.name, "addr", ln.Addr().String())
	}

	status := 0
	select {
	case <-ctx.Done():
		logger.Info("shutting down")
	case err := <-errc:
		logger.Error("registry failed", "err", err)
		status = 1
	}
	stop() // a second signal now ends the process at once

	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	for i, srv := range servers {
		if err := srv.Shutdown(shutdownCtx); err != nil {
			logger.Warn("shutdown cut short", "registry", registries[i].name, "err", err)
			_ = srv.Close() // drop what is left; the process is ending
		}
	}
	return status
}

// newServer returns the HTTP server of one registry. The write timeout
// leaves room for the longest injected delay.
func newServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      registrysim.MaxFaultDelay + 30*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// listenReason reduces a net.Listen error to its cause, such as "address
// already in use", since the caller's message already names the address.
func listenReason(err error) string {
	var sysErr *os.SyscallError
	if errors.As(err, &sysErr) {
		return sysErr.Err.Error()
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Err != nil {
		return opErr.Err.Error()
	}
	return err.Error()
}
