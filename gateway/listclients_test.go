package gateway_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"testing"

	"github.com/govbus/govbus/gateway"
)

// TestListClientsHidesNoneClients checks that listClients names an auth
// none client only to callers in its networks, judged by the TCP peer's
// address and never by X-Forwarded-For.
func TestListClientsHidesNoneClients(t *testing.T) {
	snap := &gateway.Snapshot{Routes: map[string]*gateway.Route{}, Subsystems: map[string][]*gateway.Route{},
		Members: []gateway.Member{{
			ID: "UA/GOV/00000003", Name: "State e-services agency", Subsystems: []string{"eservice", "isolated"},
			Networks: map[string][]netip.Prefix{"isolated": {netip.MustParsePrefix("10.99.0.0/16")}},
		}}}
	h := gateway.NewHandler(gateway.Options{Holder: gateway.NewHolder(snap)})
	list := func(remote string, header ...string) []string {
		req := httptest.NewRequest("GET", "/listClients", nil)
		req.RemoteAddr = remote
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("listClients: status %d: %s", rec.Code, rec.Body)
		}
		var got struct {
			Member []struct {
				ID struct {
					ApplicationCode string `json:"applicationCode"`
				} `json:"id"`
			} `json:"member"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		var subs []string
		for _, m := range got.Member {
			if m.ID.ApplicationCode != "" {
				subs = append(subs, m.ID.ApplicationCode)
			}
		}
		return subs
	}
	for _, tt := range []struct {
		remote string
		header []string
		want   []string
	}{
		{"10.99.1.2:4000", nil, []string{"eservice", "isolated"}},
		{"[::ffff:10.99.1.2]:4000", nil, []string{"eservice", "isolated"}},
		{"127.0.0.1:4000", nil, []string{"eservice"}},
		{"127.0.0.1:4000", []string{"X-Forwarded-For", "10.99.1.2"}, []string{"eservice"}},
		{"192.0.2.1:4000", []string{"X-Real-IP", "10.99.1.2"}, []string{"eservice"}},
	} {
		if got := list(tt.remote, tt.header...); !slices.Equal(got, tt.want) {
			t.Errorf("listClients from %s %v: got %v, want %v", tt.remote, tt.header, got, tt.want)
		}
	}
}

// recordingAuth keeps the credentials it was asked about.
type recordingAuth struct{ got []gateway.Credential }

func (a *recordingAuth) Authenticate(_ string, cred gateway.Credential) error {
	a.got = append(a.got, cred)
	return gateway.Errorf(gateway.CodeUnauthenticated, "no")
}

// TestCredentialRemoteAddr checks that the credential carries the TCP
// peer's address, whatever the headers claim.
func TestCredentialRemoteAddr(t *testing.T) {
	auth := &recordingAuth{}
	snap := &gateway.Snapshot{Routes: map[string]*gateway.Route{}, Subsystems: map[string][]*gateway.Route{}, Authenticator: auth}
	h := gateway.NewHandler(gateway.Options{Holder: gateway.NewHolder(snap)})
	for _, tt := range []struct{ remote, want string }{
		{"192.0.2.7:1234", "192.0.2.7"},
		{"[2001:db8::1]:1234", "2001:db8::1"},
		{"[::ffff:127.0.0.1]:1234", "127.0.0.1"},
	} {
		req := httptest.NewRequest("GET", "/r1/UA/GOV/00000001/civil-registry/persons/persons/1", nil)
		req.RemoteAddr = tt.remote
		req.Header.Set("X-Road-Client", "UA/GOV/00000003/eservice")
		req.Header.Set("X-Forwarded-For", "10.99.0.1")
		req.Header.Set("X-Real-IP", "10.99.0.1")
		h.ServeHTTP(httptest.NewRecorder(), req)
		if len(auth.got) == 0 {
			t.Fatalf("%s: the authenticator was not asked", tt.remote)
		}
		if got := auth.got[len(auth.got)-1].RemoteAddr; got != netip.MustParseAddr(tt.want) {
			t.Errorf("RemoteAddr from %s: got %v, want %s", tt.remote, got, tt.want)
		}
	}
}
