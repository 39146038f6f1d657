package admin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/govbus/govbus/gateway"
	"github.com/govbus/govbus/opmon"
)

func TestStatus(t *testing.T) {
	r := &gateway.Route{ServiceKey: "UA/GOV/1/reg/svc", Registry: "UA/GOV/1/reg", Adapter: statusAdapter{}}
	h := gateway.NewHolder(&gateway.Snapshot{Version: "v1", Subsystems: map[string][]*gateway.Route{"UA/GOV/1/reg": {r}}})
	start := time.Unix(1000, 0)
	handler := Handler(Options{Node: "n1", Version: "dev", Started: start, Holder: h, Listener: testListener,
		Now: func() time.Time { return start.Add(90 * time.Second) }})
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, request("GET", "/admin/status"))
	var got struct {
		Node          string `json:"node"`
		ConfigVersion string `json:"config_version"`
		Uptime        int64  `json:"uptime_seconds"`
		Registries    []struct {
			ID       string         `json:"id"`
			Services []string       `json:"services"`
			State    map[string]int `json:"state"`
		} `json:"registries"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, rec.Body)
	}
	if got.Node != "n1" || got.ConfigVersion != "v1" || got.Uptime != 90 || len(got.Registries) != 1 ||
		got.Registries[0].ID != "UA/GOV/1/reg" || got.Registries[0].State["in_flight"] != 3 {
		t.Errorf("status = %+v", got)
	}
}

type statusAdapter struct{}

func (statusAdapter) Exchange(context.Context, *gateway.Outbound) (*gateway.Response, error) {
	return nil, nil
}
func (statusAdapter) Status() any { return map[string]int{"in_flight": 3} }

func TestReload(t *testing.T) {
	h := gateway.NewHolder(&gateway.Snapshot{Version: "v1"})
	fail := true
	keyring := testKeyring(t)
	handler := Handler(Options{Holder: h, Listener: testListener, Keyring: func() *Keyring { return keyring }, Reload: func() error {
		if fail {
			return errors.New("line 3: bad")
		}
		h.Store(&gateway.Snapshot{Version: "v2"})
		return nil
	}})
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, request("POST", "/admin/reload", bearer(operatorToken)))
	if rec.Code != 422 || !strings.Contains(rec.Body.String(), "line 3: bad") || h.Load().Version != "v1" {
		t.Errorf("refused reload: %d %s, version %s", rec.Code, rec.Body, h.Load().Version)
	}
	fail = false
	rec = httptest.NewRecorder()
	handler.ServeHTTP(rec, request("POST", "/admin/reload", bearer(operatorToken)))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "v2") {
		t.Errorf("reload: %d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	handler.ServeHTTP(rec, request("GET", "/admin/reload", bearer(operatorToken)))
	if rec.Code != 405 {
		t.Errorf("GET /admin/reload = %d, want 405", rec.Code)
	}
}

func TestOpmon(t *testing.T) {
	h := gateway.NewHolder(&gateway.Snapshot{Version: "v1"})
	keyring := testKeyring(t)
	off := Handler(Options{Holder: h, Listener: testListener, Keyring: func() *Keyring { return keyring }})
	rec := httptest.NewRecorder()
	off.ServeHTTP(rec, request("GET", "/admin/opmon", bearer(viewerToken)))
	if rec.Code != 404 || rec.Header().Get("Content-Type") != "application/json" ||
		!strings.Contains(rec.Body.String(), `"error": "operational monitoring is off"`) {
		t.Errorf("opmon off: %d %s", rec.Code, rec.Body)
	}

	store := opmon.NewStore(10)
	store.Add(&opmon.Record{ID: "r1", Client: "UA/GOV/00000003/eservice", RequestInTs: 1_700_000_000_000, Status: 200, Succeeded: true})
	on := Handler(Options{Holder: h, Listener: testListener, Keyring: func() *Keyring { return keyring }, Opmon: opmon.Handler(store)})
	rec = httptest.NewRecorder()
	on.ServeHTTP(rec, request("GET", "/admin/opmon?client=UA%2FGOV%2F00000003%2Feservice&limit=5", bearer(viewerToken)))
	var page opmon.Page
	if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil || rec.Code != 200 ||
		len(page.Records) != 1 || page.Records[0].ID != "r1" {
		t.Errorf("opmon on: %d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	on.ServeHTTP(rec, request("GET", "/admin/opmon?limit=0", bearer(viewerToken)))
	if rec.Code != 400 {
		t.Errorf("bad limit: %d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	on.ServeHTTP(rec, request("POST", "/admin/opmon", bearer(adminToken)))
	if rec.Code != 405 {
		t.Errorf("POST /admin/opmon = %d, want 405", rec.Code)
	}
}
