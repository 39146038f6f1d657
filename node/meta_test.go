package node_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/govbus/govbus/registrysim"
)

type serviceList struct {
	Member []struct {
		ObjectType      string `json:"objectType"`
		ServiceType     string `json:"serviceType"`
		InstanceID      string `json:"instanceId"`
		MemberClass     string `json:"memberClass"`
		MemberCode      string `json:"memberCode"`
		ApplicationCode string `json:"applicationCode"`
		ServiceCode     string `json:"serviceCode"`
		EndpointList    struct {
			Member []struct{ Method, Path string } `json:"member"`
		} `json:"endpointList"`
	} `json:"member"`
}

func codes(l serviceList) []string {
	var out []string
	for _, m := range l.Member {
		out = append(out, m.ServiceCode)
	}
	return out
}

func TestMetaservices(t *testing.T) {
	w := newWorld(t)
	sub := "/r1/UA/GOV/00000001/civil-registry"

	t.Run("listClients needs no identity", func(t *testing.T) {
		resp, body := w.call(t, "GET", "/listClients", http.Header{}, "")
		if resp.StatusCode != 200 {
			t.Fatalf("status %d %s", resp.StatusCode, body)
		}
		var l struct {
			Member []struct {
				Name string `json:"name"`
				ID   struct {
					ObjectType, InstanceID, MemberClass, MemberCode, ApplicationCode string
				} `json:"id"`
			} `json:"member"`
		}
		if err := json.Unmarshal([]byte(body), &l); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, m := range l.Member {
			if m.ID.ObjectType == "APPLICATION" && m.ID.MemberCode == "00000001" && m.ID.ApplicationCode == "civil-registry" {
				found = true
			}
		}
		if !found {
			t.Errorf("listClients lacks the civil-registry subsystem: %s", body)
		}
		resp, body = w.call(t, "GET", "/listClients?instanceId=EE", http.Header{}, "")
		if resp.StatusCode != 200 || body != `{"member":[]}` {
			t.Errorf("other instance: %d %s", resp.StatusCode, body)
		}
	})
	t.Run("listMethods lists every service", func(t *testing.T) {
		resp, body := w.call(t, "GET", sub+"/listMethods", as("UA/GOV/00000005/citizen-portal", portalKey, ""), "")
		var l serviceList
		if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &l) != nil {
			t.Fatalf("status %d %s", resp.StatusCode, body)
		}
		if got := codes(l); len(got) != 2 || got[0] != "persons" || got[1] != "documents" {
			t.Errorf("services = %v, want [persons documents]", got)
		}
		m := l.Member[0]
		if m.ObjectType != "SERVICE" || m.ServiceType != "REST" || m.ApplicationCode != "civil-registry" ||
			len(m.EndpointList.Member) != 1 || m.EndpointList.Member[0].Path != "/persons/{id}" {
			t.Errorf("persons entry = %+v", m)
		}
	})
	t.Run("allowedMethods shows only what the policy allows", func(t *testing.T) {
		for _, c := range []struct {
			client, key string
			want        []string
		}{
			{"UA/GOV/00000004/benefits", benefitsKey, []string{"persons"}},
			{"UA/GOV/00000003/eservice", eserviceKey, []string{"persons", "documents"}},
			{"UA/GOV/00000005/citizen-portal", portalKey, nil},
		} {
			resp, body := w.call(t, "GET", sub+"/allowedMethods", as(c.client, c.key, ""), "")
			var l serviceList
			if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &l) != nil {
				t.Fatalf("%s: status %d %s", c.client, resp.StatusCode, body)
			}
			if got := codes(l); len(got) != len(c.want) || (len(got) > 0 && got[0] != c.want[0]) {
				t.Errorf("%s: allowed = %v, want %v", c.client, got, c.want)
			}
		}
	})
	t.Run("metaservices need identity", func(t *testing.T) {
		resp, _ := w.call(t, "GET", sub+"/listMethods", as("UA/GOV/00000004/benefits", "", ""), "")
		if resp.StatusCode != 401 {
			t.Errorf("status = %d, want 401", resp.StatusCode)
		}
	})
	t.Run("getOpenAPI", func(t *testing.T) {
		resp, body := w.call(t, "GET", sub+"/getOpenAPI?serviceCode=persons", as("UA/GOV/00000004/benefits", benefitsKey, ""), "")
		if resp.StatusCode != 200 || body != string(registrysim.CivilOpenAPI) {
			t.Errorf("status %d, body is not the civil registry's OpenAPI description", resp.StatusCode)
		}
		for q, want := range map[string]int{"": 400, "?serviceCode=documents": 404, "?serviceCode=nope": 404, "?serviceCode=a%20b": 400} {
			resp, _ := w.call(t, "GET", sub+"/getOpenAPI"+q, as("UA/GOV/00000004/benefits", benefitsKey, ""), "")
			if resp.StatusCode != want {
				t.Errorf("getOpenAPI%s status = %d, want %d", q, resp.StatusCode, want)
			}
		}
	})
	if got := w.civil.Requests(); got != 0 {
		t.Errorf("metaservices called the registry %d times", got)
	}
}
