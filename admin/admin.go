// Package admin serves the operators' listener: /admin/status (registries,
// endpoints, in-flight counts, configuration version) and /admin/reload.
// It is never mounted on the consumer port.
// GET /admin/opmon serves operational monitoring records (see package opmon).
//
// Every path is guarded (access.go): a request must name the listener in
// its Host and must not come from a page of another site; all but GET
// /admin/status need an admin's credential (Keyring: a bearer token, or a
// client certificate when the listener has TLS, see ServerTLS), whose role
// (viewer, operator, admin) must reach what the request asks.
package admin

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"sort"
	"time"

	"github.com/govbus/govbus/authn"
	"github.com/govbus/govbus/config"
	"github.com/govbus/govbus/gateway"
)

// Options configure the admin handler.
type Options struct {
	// Node is the node's name.
	Node string
	// Version is govbus's build version.
	Version string
	// Started is when the process started.
	Started time.Time
	// Holder supplies the running configuration. Required.
	Holder *gateway.Holder
	// Reload re-reads the configuration; nil disables POST /admin/reload.
	Reload func() error
	// LastReload reports the last reload's result (refusals included);
	// nil: none shown.
	LastReload func() any
	// MessageLog reports the message log's latest signed head and health
	// for /admin/status; nil: none shown.
	MessageLog func() any
	// Now is the clock; nil uses time.Now.
	Now func() time.Time
	// Opmon serves GET /admin/opmon, usually opmon.Handler over the
	// node's store; nil answers 404 (operational monitoring is off).
	Opmon http.Handler
	// Listener is the admin listener's configuration: the Host header of
	// every request must name it (its address, or one of its hosts).
	// Required: the zero value refuses every request (403).
	Listener config.AdminListener
	// Keyring returns the admins whose credentials are accepted; it is asked on
	// every request, so a reload that changes the admins takes effect at
	// once. nil, or a nil *Keyring: no admin, and every request that needs
	// a credential gets 401.
	Keyring func() *Keyring
	// Logger receives one line per request, allowed or refused (the
	// admin, method, path and result; never a token); nil discards them.
	Logger *slog.Logger
	// NewID returns the detail id of an error answer; nil uses random
	// UUIDs.
	NewID func() string
	// Throttle counts the admin credentials that fail (an unknown token or
	// certificate, or a token and a certificate of two admins) per source
	// address; once an address has spent ThrottleLimits, its requests that
	// need a credential get 429 Client.RateLimited with Retry-After before
	// any credential is looked at. nil: one of the handler's own, on Now.
	Throttle *authn.Throttle
	// ThrottleLimits bound the failures per address (zero fields: the
	// defaults of authn.ThrottleLimits).
	ThrottleLimits authn.ThrottleLimits
}

// statusReporter is implemented by adapters that can describe their state.
type statusReporter interface{ Status() any }

type registryStatus struct {
	ID       string   `json:"id"`
	Services []string `json:"services"`
	State    any      `json:"state"`
}

type status struct {
	Node          string           `json:"node"`
	Version       string           `json:"version"`
	ConfigVersion string           `json:"config_version"`
	Started       time.Time        `json:"started"`
	UptimeSeconds int64            `json:"uptime_seconds"`
	Registries    []registryStatus `json:"registries"`
	MessageLog    any              `json:"message_log,omitempty"`
	LastReload    any              `json:"last_reload,omitempty"`
}

// Handler returns the admin listener's handler. A request it refuses gets
// X-Road-Error and {"type","message","detail"}: Client.AccessDenied (403)
// for a Host that is not the listener's, a cross-site browser request, or
// a role below the request's; Client.Unauthenticated (401) for a missing
// or unknown credential (or a token and a certificate of two admins);
// Client.RateLimited (429) from an address whose allowance of failed
// credentials is spent (Options.Throttle); Client.BadRequest (400) for two
// Authorization headers.
func Handler(opts Options) http.Handler {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /admin/status", func(w http.ResponseWriter, _ *http.Request) {
		snap := opts.Holder.Load()
		st := status{Node: opts.Node, Version: opts.Version, ConfigVersion: snap.Version,
			Started: opts.Started, UptimeSeconds: int64(opts.Now().Sub(opts.Started).Seconds())}
		ids := make([]string, 0, len(snap.Subsystems))
		for id := range snap.Subsystems {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			routes := snap.Subsystems[id]
			rs := registryStatus{ID: id}
			for _, r := range routes {
				rs.Services = append(rs.Services, r.ServiceKey)
			}
			if sr, ok := routes[0].Adapter.(statusReporter); ok {
				rs.State = sr.Status()
			}
			st.Registries = append(st.Registries, rs)
		}
		if opts.MessageLog != nil {
			st.MessageLog = opts.MessageLog()
		}
		if opts.LastReload != nil {
			st.LastReload = opts.LastReload()
		}
		writeJSON(w, http.StatusOK, st)
	})
	mux.HandleFunc("POST /admin/reload", func(w http.ResponseWriter, _ *http.Request) {
		if opts.Reload == nil {
			writeJSON(w, http.StatusNotImplemented, map[string]string{"error": "reload is not enabled"})
			return
		}
		if err := opts.Reload(); err != nil {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"config_version": opts.Holder.Load().Version})
	})
	mux.HandleFunc("GET /admin/opmon", func(w http.ResponseWriter, r *http.Request) {
		if opts.Opmon == nil {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "operational monitoring is off"})
			return
		}
		opts.Opmon.ServeHTTP(w, r)
	})
	return newGuard(opts, mux)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
