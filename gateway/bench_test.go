package gateway_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/govbus/govbus/authn"
	"github.com/govbus/govbus/gateway"
	"github.com/govbus/govbus/policies"
)

// noopAdapter answers every exchange with a fixed person, without I/O.
type noopAdapter struct{ body []byte }

func (a noopAdapter) Exchange(_ context.Context, out *gateway.Outbound) (*gateway.Response, error) {
	return &gateway.Response{Status: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: a.body, Forwarded: out.Path}, nil
}

// benchHandler is the real chain (authn, routing, policy) over a no-op adapter.
func benchHandler(b *testing.B) http.Handler {
	b.Helper()
	auth, err := authn.New([]authn.Client{{ID: "UA/GOV/00000003/eservice", KeyHashes: []string{authn.HashKey("k")}}})
	if err != nil {
		b.Fatal(err)
	}
	engine, err := policies.Compile([]policies.Rule{{ID: "r", Clients: []string{"UA/GOV/00000003/eservice"},
		Services: []string{"UA/GOV/00000001/civil-registry/persons"}, Methods: []string{"GET"},
		Paths: []string{"/persons/*"}, Purposes: []string{"service-delivery"}}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	svc, _ := gateway.ParseServiceID("UA/GOV/00000001/civil-registry/persons")
	route := &gateway.Route{Service: svc, ServiceKey: svc.String(), Registry: "UA/GOV/00000001/civil-registry",
		Methods: []string{"GET"}, Timeout: time.Second, MaxRequestBytes: 1 << 20,
		Adapter: noopAdapter{body: []byte(`{"id":"1000000042","given_name":"Marta","family_name":"Hrytsenko"}`)}}
	snap := &gateway.Snapshot{Routes: map[string]*gateway.Route{route.ServiceKey: route},
		Authenticator: auth, Policy: engine}
	return gateway.NewHandler(gateway.Options{Holder: gateway.NewHolder(snap)})
}

// BenchmarkExchangeInProcess measures govbus's own work per exchange: the
// transport, chain and encoding, with a registry that costs nothing.
func BenchmarkExchangeInProcess(b *testing.B) {
	h := benchHandler(b)
	req := httptest.NewRequest("GET", "/r1/UA/GOV/00000001/civil-registry/persons/persons/1000000042", nil)
	req.Header.Set("X-Road-Client", "UA/GOV/00000003/eservice")
	req.Header.Set("Authorization", "Bearer k")
	req.Header.Set("X-Road-Purpose", "service-delivery")
	req.Header.Set("Accept", "application/json")
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}
