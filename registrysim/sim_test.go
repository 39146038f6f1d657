package registrysim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// explosive is a registry that fails the test if it is called.
func explosive(t *testing.T) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("registry called with %s %s, want no call", r.Method, r.URL)
	})
}

// postFaults sets faults through the control endpoint.
func postFaults(t *testing.T, s *Sim, body string) {
	t.Helper()
	rec := serve(t, s, http.MethodPost, "/_sim/faults", body)
	if rec.Code != http.StatusOK {
		t.Fatalf("POST /_sim/faults %s: got %d %q, want 200", body, rec.Code, rec.Body)
	}
}

func TestFaultStatus(t *testing.T) {
	tests := []struct {
		name, faults string
		wantStatus   int
	}{
		{"always", `{"status": 503, "rate": 1.0, "delay_ms": 0}`, http.StatusServiceUnavailable},
		{"rate omitted means always", `{"status": 500}`, http.StatusInternalServerError},
		{"never", `{"status": 503, "rate": 0}`, http.StatusOK},
		{"no status", `{"status": 0, "rate": 1}`, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewCivil()
			postFaults(t, s, tt.faults)
			for range 20 {
				rec := serve(t, s, http.MethodGet, "/persons/1000000001", "")
				if tt.wantStatus == http.StatusOK {
					checkAnswer(t, rec, http.StatusOK, "")
					continue
				}
				checkAnswer(t, rec, tt.wantStatus, `{"error":"injected fault"}`)
				if got := rec.Header().Get("Content-Type"); got != "application/json" {
					t.Errorf("Content-Type: got %q, want application/json", got)
				}
			}
			if got := s.Requests(); got != 20 {
				t.Errorf("requests: got %d, want 20", got)
			}
		})
	}
}

func TestFaultRate(t *testing.T) {
	s := NewCivil()
	postFaults(t, s, `{"status": 502, "rate": 0.5}`)
	const n = 2000
	faulted := 0
	for range n {
		if serve(t, s, http.MethodGet, "/persons/1000000001", "").Code == http.StatusBadGateway {
			faulted++
		}
	}
	// Binomial(2000, 0.5): the bounds are over 8 standard deviations away.
	if faulted < 800 || faulted > 1200 {
		t.Errorf("faulted: got %d of %d, want about half", faulted, n)
	}
}

func TestFaultDelay(t *testing.T) {
	s := NewCivil()
	postFaults(t, s, `{"delay_ms": 30}`)
	start := time.Now()
	rec := serve(t, s, http.MethodGet, "/persons/1000000001", "")
	if elapsed := time.Since(start); elapsed < 30*time.Millisecond {
		t.Errorf("elapsed: got %v, want at least 30ms", elapsed)
	}
	checkAnswer(t, rec, http.StatusOK, "")
}

func TestFaultDelayCancelled(t *testing.T) {
	s := New(explosive(t))
	if err := s.SetFaults(Faults{Status: 503, Rate: 1, DelayMS: MaxFaultDelay.Milliseconds()}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/persons/1000000001", nil)
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.ServeHTTP(rec, req)
	}()
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("ServeHTTP still waiting 10s after the request was cancelled")
	}
	if rec.Body.Len() != 0 {
		t.Errorf("body: got %q, want nothing for a cancelled request", rec.Body)
	}
}

func TestFaultsRejected(t *testing.T) {
	bodies := []string{
		``,
		`{`,
		`[]`,
		`"503"`,
		`{"status": "503"}`,
		`{"status": 99}`,
		`{"status": 600}`,
		`{"status": -2}`,
		`{"rate": 1.5}`,
		`{"rate": -0.1}`,
		`{"delay_ms": -1}`,
		`{"delay_ms": 300001}`,
		`{"delay_ms": 1.5}`,
		`{"status": 503, "extra": 1}`,
		`{"status": 503} {"status": 500}`,
	}
	before := Faults{Status: 504, Rate: 0.25, DelayMS: 7}
	for _, body := range bodies {
		s := New(explosive(t))
		if err := s.SetFaults(before); err != nil {
			t.Fatal(err)
		}
		rec := serve(t, s, http.MethodPost, "/_sim/faults", body)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("POST %q: got status %d, want 400", body, rec.Code)
		}
		if got := s.Faults(); got != before {
			t.Errorf("POST %q: got faults %+v, want unchanged %+v", body, got, before)
		}
	}
}

func TestFaultsEndpoints(t *testing.T) {
	s := NewCivil()
	checkAnswer(t, serve(t, s, http.MethodGet, "/_sim/faults", ""), http.StatusOK,
		`{"status":0,"rate":0,"delay_ms":0}`)
	checkAnswer(t, serve(t, s, http.MethodPost, "/_sim/faults", `{"status":503,"rate":1.0,"delay_ms":0}`),
		http.StatusOK, `{"status":503,"rate":1,"delay_ms":0}`)
	checkAnswer(t, serve(t, s, http.MethodGet, "/_sim/faults", ""), http.StatusOK,
		`{"status":503,"rate":1,"delay_ms":0}`)
	checkAnswer(t, serve(t, s, http.MethodGet, "/persons/1000000001", ""), http.StatusServiceUnavailable, "")

	checkAnswer(t, serve(t, s, http.MethodDelete, "/_sim/faults", ""), http.StatusOK,
		`{"status":0,"rate":0,"delay_ms":0}`)
	checkAnswer(t, serve(t, s, http.MethodGet, "/persons/1000000001", ""), http.StatusOK, "")

	rec := serve(t, s, http.MethodPut, "/_sim/faults", "{}")
	checkAnswer(t, rec, http.StatusMethodNotAllowed, "")
	if got, want := rec.Header().Get("Allow"), "GET, POST, DELETE"; got != want {
		t.Errorf("Allow: got %q, want %q", got, want)
	}
}

// TestSimNeverFaulted checks that /_sim/ itself is neither faulted,
// delayed, nor counted, and never reaches the registry.
func TestSimNeverFaulted(t *testing.T) {
	s := New(explosive(t))
	if err := s.SetFaults(Faults{Status: StatusClose, Rate: 1, DelayMS: MaxFaultDelay.Milliseconds()}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		method, target string
		wantStatus     int
	}{
		{http.MethodGet, "/_sim/faults", http.StatusOK},
		{http.MethodGet, "/_sim/stats", http.StatusOK},
		{http.MethodGet, "/_sim/unknown", http.StatusNotFound},
		{http.MethodGet, "/_sim", http.StatusNotFound},
		{http.MethodGet, "/_sim/", http.StatusNotFound},
		{http.MethodPost, "/_sim/stats", http.StatusMethodNotAllowed},
		{http.MethodGet, "/_sim/stats/reset", http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		rec := serve(t, s, tt.method, tt.target, "")
		if rec.Code != tt.wantStatus {
			t.Errorf("%s %s: got %d, want %d", tt.method, tt.target, rec.Code, tt.wantStatus)
		}
	}
	if got := s.Requests(); got != 0 {
		t.Errorf("requests: got %d, want 0", got)
	}
}

func TestFaultClose(t *testing.T) {
	s := NewCivil()
	srv := httptest.NewServer(s)
	defer srv.Close()
	if err := s.SetFaults(Faults{Status: StatusClose, Rate: 1}); err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Get(srv.URL + "/persons/1000000001")
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got status %d, want the connection closed without an answer", resp.StatusCode)
	}
	s.ClearFaults()
	resp, err = srv.Client().Get(srv.URL + "/persons/1000000001")
	if err != nil {
		t.Fatalf("after clearing faults: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("after clearing faults: got %d, want 200", resp.StatusCode)
	}
}

func TestRecordKeepsRequestsInFull(t *testing.T) {
	sim := New(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_, _ = w.Write(b) // the registry still gets the whole body
	}))
	sim.Record(2)
	srv := httptest.NewServer(sim)
	defer srv.Close()
	for i, target := range []string{"/a", "/b;x/%2e%2e?q=1&q=2", "/c"} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+target, strings.NewReader(fmt.Sprintf("body-%d", i)))
		req.Header.Set("X_Road_Client", "spoof")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		echo, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got, want := string(echo), fmt.Sprintf("body-%d", i); got != want {
			t.Errorf("registry read %q, want %q", got, want)
		}
	}
	resp, err := http.Get(srv.URL + "/_sim/received")
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Requests []Received }
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(got.Requests) != 2 {
		t.Fatalf("kept %d requests, want the last 2", len(got.Requests))
	}
	first := got.Requests[0]
	if first.Target != "/b;x/%2e%2e?q=1&q=2" || string(first.Body) != "body-1" || first.Header.Get("X_Road_Client") != "spoof" {
		t.Errorf("first kept request = %+v", first)
	}
	req, _ := http.NewRequest(http.MethodDelete, srv.URL+"/_sim/received", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	if n := len(sim.rec.Load().received()); n != 0 {
		t.Errorf("after DELETE %d requests kept", n)
	}
}

func TestRecordOffByDefault(t *testing.T) {
	srv := httptest.NewServer(New(http.NotFoundHandler()))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/_sim/received")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /_sim/received without Record: %d, want 404", resp.StatusCode)
	}
}
