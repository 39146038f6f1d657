package node_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/govbus/govbus/config"
	"github.com/govbus/govbus/gateway"
	"github.com/govbus/govbus/node"
	"github.com/govbus/govbus/registrysim"
)

// TestConditionOwnRecords: a rule whose CEL condition lets a client read
// only the represented party's own record, over REST
// (X-Road-Represented-Party).
func TestConditionOwnRecords(t *testing.T) {
	sim := registrysim.NewCivil()
	reg := httptest.NewServer(sim)
	defer reg.Close()
	src := fmt.Sprintf(`
registries:
  - id: UA/GOV/00000001/civil-registry
    endpoints: [%s]
    services:
      - code: persons
        paths: ["/persons/{id}"]
clients:
  - {id: UA/GOV/00000003/eservice, auth: {api_keys: [%s]}}
rules:
  - id: own-records
    clients: [UA/GOV/00000003/eservice]
    services: [UA/GOV/00000001/civil-registry/persons]
    condition: params.id == represented_party
message_log: {disabled: true}
`, reg.URL, hashOf(eserviceKey))
	cfg, problems, err := config.Parse([]byte(src), ".", func(string) string { return "" })
	if err != nil {
		t.Fatalf("config: %v", problems)
	}
	snap, err := node.Build(cfg, node.Options{})
	if err != nil {
		t.Fatal(err)
	}
	bus := httptest.NewServer(gateway.NewHandler(gateway.Options{Holder: gateway.NewHolder(snap)}))
	defer bus.Close()
	for _, c := range []struct {
		party, id string
		want      int
	}{
		{"PERSON/1000000042", "1000000042", 200},
		{"PERSON/1000000042", "1000000043", 403},
		{"", "1000000042", 403},
	} {
		req, _ := http.NewRequest("GET", bus.URL+"/r1/UA/GOV/00000001/civil-registry/persons/persons/"+c.id, nil)
		req.Header.Set("X-Road-Client", "UA/GOV/00000003/eservice")
		req.Header.Set("Authorization", "Bearer "+eserviceKey)
		if c.party != "" {
			req.Header.Set("X-Road-Represented-Party", c.party)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("party %q reading %s: status %d, want %d", c.party, c.id, resp.StatusCode, c.want)
		}
	}
	if last, _ := sim.Last(); last.Header.Get("X-Road-Represented-Party") != "PERSON/1000000042" {
		t.Errorf("registry got X-Road-Represented-Party %q", last.Header.Get("X-Road-Represented-Party"))
	}
}
