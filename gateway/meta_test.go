package gateway_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/govbus/govbus/authn"
	"github.com/govbus/govbus/gateway"
	"github.com/govbus/govbus/policies"
)

const (
	metaClient = "UA/GOV/00000003/eservice"
	metaKey    = "meta-key"
	civil      = "UA/GOV/00000001/civil-registry"
)

// allowedMethodsHandler serves the civil registry's persons, documents and
// births services to metaClient under conditional rules, on a clock fixed
// at now.
func allowedMethodsHandler(t *testing.T, now time.Time) http.Handler {
	t.Helper()
	auth, err := authn.New([]authn.Client{{ID: metaClient, KeyHashes: []string{authn.HashKey(metaKey)}}})
	if err != nil {
		t.Fatal(err)
	}
	engine, err := policies.Compile([]policies.Rule{
		{ID: "office-hours", Clients: []string{metaClient}, Services: []string{civil + "/persons"},
			Methods: []string{"GET"}, Condition: `now.getHours("Europe/Kyiv") >= 9 && now.getHours("Europe/Kyiv") < 18`},
		{ID: "kyiv-tenant", Clients: []string{metaClient}, Services: []string{civil + "/documents"},
			Condition: `headers["x-tenant"] == "kyiv"`},
		{ID: "own-births", Clients: []string{metaClient}, Services: []string{civil + "/births"},
			Paths: []string{"/births/{id}"}, Condition: `represented_party != "" && params.id == represented_party`},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	snap := &gateway.Snapshot{Routes: map[string]*gateway.Route{}, Subsystems: map[string][]*gateway.Route{},
		Authenticator: auth, Policy: engine}
	for _, s := range []struct{ code, path string }{
		{"persons", "/persons/{id}"}, {"documents", "/documents/{id}"}, {"births", "/births/{id}"},
	} {
		svc, err := gateway.ParseServiceID(civil + "/" + s.code)
		if err != nil {
			t.Fatal(err)
		}
		r := &gateway.Route{Service: svc, ServiceKey: svc.String(), Registry: civil, Methods: []string{"GET"},
			Paths: []string{s.path}, Timeout: time.Second, MaxRequestBytes: 1 << 20, Adapter: noopAdapter{}}
		snap.Routes[r.ServiceKey] = r
		snap.Subsystems[civil] = append(snap.Subsystems[civil], r)
	}
	return gateway.NewHandler(gateway.Options{Holder: gateway.NewHolder(snap), Now: func() time.Time { return now }})
}

// allowedServices asks h for allowedMethods with extra headers and returns
// the service codes listed, each with its endpoints as "METHOD PATH".
func allowedServices(t *testing.T, h http.Handler, extra http.Header) map[string][]string {
	t.Helper()
	req := httptest.NewRequest("GET", "/r1/"+civil+"/allowedMethods", nil)
	req.Header.Set("X-Road-Client", metaClient)
	req.Header.Set("Authorization", "Bearer "+metaKey)
	for k, v := range extra {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("allowedMethods: status %d: %s", rec.Code, rec.Body)
	}
	var list struct {
		Member []struct {
			ServiceCode  string `json:"serviceCode"`
			EndpointList struct {
				Member []struct{ Method, Path string } `json:"member"`
			} `json:"endpointList"`
		} `json:"member"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
		t.Fatalf("allowedMethods: %v: %s", err, rec.Body)
	}
	got := map[string][]string{}
	for _, m := range list.Member {
		eps := []string{}
		for _, e := range m.EndpointList.Member {
			eps = append(eps, e.Method+" "+e.Path)
		}
		got[m.ServiceCode] = eps
	}
	return got
}

func TestAllowedMethodsConditions(t *testing.T) {
	kyiv, err := time.LoadLocation("Europe/Kyiv")
	if err != nil {
		t.Fatal(err)
	}
	inHours := time.Date(2026, 3, 4, 10, 0, 0, 0, kyiv)
	afterHours := time.Date(2026, 3, 4, 20, 0, 0, 0, kyiv)
	all := []string{"births", "documents", "persons"}
	for _, tt := range []struct {
		name   string
		now    time.Time
		header http.Header
		want   []string
	}{
		{"in office hours", inHours, nil, []string{"persons"}},
		{"after office hours", afterHours, nil, nil},
		{"after office hours, the tenant header", afterHours, http.Header{"X-Tenant": {"kyiv"}}, []string{"documents"}},
		{"in office hours, another tenant", inHours, http.Header{"X-Tenant": {"lviv"}}, []string{"persons"}},
		// own-births then depends only on the path of the call, unknown.
		{"acting for a party", afterHours, http.Header{"X-Road-Represented-Party": {"PRIV/42"}}, []string{"births"}},
		{"in office hours, the tenant header, for a party", inHours,
			http.Header{"X-Tenant": {"kyiv"}, "X-Road-Represented-Party": {"PRIV/42"}}, all},
	} {
		got := allowedServices(t, allowedMethodsHandler(t, tt.now), tt.header)
		var codes []string
		for c := range got {
			codes = append(codes, c)
		}
		slices.Sort(codes)
		if !slices.Equal(codes, tt.want) {
			t.Errorf("%s: allowedMethods lists %v, want %v", tt.name, codes, tt.want)
		}
		if eps, ok := got["births"]; ok && !slices.Equal(eps, []string{"GET /births/{id}"}) {
			t.Errorf("%s: births endpoints = %v, want [GET /births/{id}]", tt.name, eps)
		}
		if eps, ok := got["persons"]; ok && !slices.Equal(eps, []string{"GET /persons/{id}"}) {
			t.Errorf("%s: persons endpoints = %v, want [GET /persons/{id}]", tt.name, eps)
		}
	}
}
