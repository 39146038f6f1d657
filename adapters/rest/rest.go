// Package rest is the adapter for registries that speak HTTP/REST: it
// forwards an exchange's method, path, query, body and end-to-end headers
// through the registry's outbound stack (deadline, bulkhead, retries,
// breakers), authenticating with the registry's own credential, and hands
// back the registry's answer unchanged.
package rest

import (
	"context"
	"net/http"

	"github.com/govbus/govbus/gateway"
	"github.com/govbus/govbus/outbound"
)

// Config configures the adapter of one registry.
type Config struct {
	// Outbound is the registry's outbound stack (endpoints, pool, retry,
	// breaker, bulkhead). Endpoints are required.
	Outbound outbound.Config
	// Auth is how govbus authenticates to the registry. Default: none.
	Auth Auth
	// MaxResponseBytes limits the registry's answer. Default 32 MiB.
	MaxResponseBytes int64
}

// Auth is the credential govbus presents to a registry.
type Auth struct {
	// Type is "none", "header", "basic" or "bearer". Default "none".
	Type string
	// Header is the header name for Type "header".
	Header string
	// Value is the key (header, bearer) or password (basic).
	Value string
	// Username is the user for Type "basic".
	Username string
}

// Adapter forwards exchanges to one REST registry. Safe for concurrent use.
type Adapter struct {
	stack      *outbound.Stack
	authHeader string
	authValue  string
	maxResp    int64
}

var _ gateway.Adapter = (*Adapter)(nil)

// New builds the adapter of one registry, with its own outbound stack (so
// one registry's failures never touch another's pool, breakers or budget).
func New(cfg Config) (*Adapter, error) {
	stack, err := outbound.New(cfg.Outbound)
	if err != nil {
		return nil, err
	}
	a := &Adapter{stack: stack, maxResp: cfg.MaxResponseBytes, authHeader: "Authorization"}
	if a.maxResp == 0 {
		a.maxResp = 32 << 20
	}
	switch cfg.Auth.Type {
	case "bearer":
		a.authValue = "Bearer " + cfg.Auth.Value
	case "basic":
		r := &http.Request{Header: http.Header{}}
		r.SetBasicAuth(cfg.Auth.Username, cfg.Auth.Value)
		a.authValue = r.Header.Get("Authorization")
	case "header":
		a.authHeader, a.authValue = http.CanonicalHeaderKey(cfg.Auth.Header), cfg.Auth.Value
	}
	return a, nil
}

// Close releases the adapter's idle connections.
func (a *Adapter) Close() { a.stack.Close() }

// Status reports the registry's endpoints, breakers and in-flight count.
func (a *Adapter) Status() any { return a.stack.Status() }

// Exchange sends out to the registry and reads its answer. Every answer the
// registry gave is returned as a *gateway.Response; without one the error
// is the outbound stack's *gateway.Error.
func (a *Adapter) Exchange(ctx context.Context, out *gateway.Outbound) (*gateway.Response, error) {
	h := out.Header
	if a.authValue != "" {
		h[a.authHeader] = []string{a.authValue}
	}
	h["User-Agent"] = nil // never Go's default
	return a.stack.Do(ctx, outbound.Call{
		Method: out.Method, Path: out.Path, RawQuery: out.RawQuery, Header: h, Body: out.Body,
		Timeout:          out.Route.Timeout,
		PathTemplate:     out.Route.PathTemplate(out.Path),
		Idempotent:       Idempotent(out.Method) || out.Route.Idempotent,
		MaxResponseBytes: a.maxResp,
	})
}

// Idempotent reports whether a method may be re-sent safely (RFC 9110 §9.2.2).
func Idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}
