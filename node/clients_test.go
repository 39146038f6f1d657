package node_test

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/govbus/govbus/authn"
	"github.com/govbus/govbus/config"
	"github.com/govbus/govbus/gateway"
	"github.com/govbus/govbus/node"
)

const clientsConfig = `
members:
  - {id: UA/GOV/00000003, name: State e-services agency}
clients:
  - {id: UA/GOV/00000003/eservice, auth: {api_keys: [%s]}}
  - {id: UA/GOV/00000003/lan, auth: {none: {from: [10.99.0.0/16]}}}
  - {id: UA/GOV/00000003/batch, auth: none}
auth_throttle: {burst: 2, per_second: 0.5}
message_log: {disabled: true}
`

// failureCounter counts failures by reason.
type failureCounter map[string]int

func (c failureCounter) AuthFailed(reason string) { c[reason]++ }

// TestClientsWiring checks that Build hands the configured networks,
// throttle limits and observer to the authenticator, that a rebuild (a
// reload) over the same Throttle keeps an address throttled, and that
// listClients' directory limits auth none clients to their networks.
func TestClientsWiring(t *testing.T) {
	cfg, problems, err := config.Parse([]byte(fmt.Sprintf(clientsConfig, hashOf(eserviceKey))), ".", func(string) string { return "" })
	if err != nil {
		t.Fatalf("config: %v %v", err, problems)
	}
	now := time.Unix(1_800_000_000, 0)
	failures := failureCounter{}
	opts := node.Options{Now: func() time.Time { return now }, AuthThrottle: authn.NewThrottle(func() time.Time { return now }), AuthObserver: failures}
	snap, err := node.Build(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	lan, far := netip.MustParseAddr("10.99.3.4"), netip.MustParseAddr("192.0.2.1")
	if err := snap.Authenticator.Authenticate("UA/GOV/00000003/lan", gateway.Credential{RemoteAddr: lan}); err != nil {
		t.Errorf("lan from its network: got %v, want nil", err)
	}
	for _, client := range []string{"UA/GOV/00000003/lan", "UA/GOV/00000003/batch"} {
		if err := snap.Authenticator.Authenticate(client, gateway.Credential{RemoteAddr: far}); gateway.CodeOf(err) != gateway.CodeUnauthenticated {
			t.Errorf("%s from %s: got %v, want %s", client, far, err, gateway.CodeUnauthenticated)
		}
	}
	if failures[authn.ReasonNetwork] != 2 {
		t.Errorf("network failures counted: got %v, want 2", failures)
	}

	// The burst of 2 is spent; a reload does not give it back.
	reloaded, err := node.Build(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	err = reloaded.Authenticator.Authenticate("UA/GOV/00000003/eservice", gateway.Credential{APIKey: eserviceKey, RemoteAddr: far})
	var ge *gateway.Error
	if !errors.As(err, &ge) || ge.Code != gateway.CodeRateLimited || ge.RetryAfter != 2*time.Second {
		t.Errorf("after the burst, reloaded: got %v, want %s with RetryAfter 2s", err, gateway.CodeRateLimited)
	}

	var m gateway.Member
	for _, x := range snap.Members {
		if x.ID == "UA/GOV/00000003" {
			m = x
		}
	}
	want := map[string]string{"lan": "[10.99.0.0/16]", "batch": "[127.0.0.0/8 ::1/128]"}
	if len(m.Networks) != len(want) {
		t.Errorf("directory networks: got %v, want %v", m.Networks, want)
	}
	for sub, nets := range want {
		if got := fmt.Sprint(m.Networks[sub]); got != nets {
			t.Errorf("directory networks of %s: got %s, want %s", sub, got, nets)
		}
	}
}
