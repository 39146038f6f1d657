package registrysim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"
)

// getStats reads the statistics through the control endpoint.
func getStats(t *testing.T, s *Sim) Stats {
	t.Helper()
	rec := serve(t, s, http.MethodGet, "/_sim/stats", "")
	var st Stats
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("GET /_sim/stats: got %d %q (%v), want 200 and JSON", rec.Code, rec.Body, err)
	}
	return st
}

func TestStatsLast(t *testing.T) {
	s := NewCivil()
	if st := getStats(t, s); st.Requests != 0 || st.Last != nil {
		t.Errorf("fresh stats: got %+v, want zero requests and no last", st)
	}
	serve(t, s, http.MethodGet, "/persons/1000000001", "")
	serve(t, s, http.MethodGet, "/nowhere", "")
	serve(t, s, http.MethodDelete, "/persons/1000000001", "")
	req := httptest.NewRequest(http.MethodGet, "http://civil.test/persons/1000000002%2Fx?fields=id&b=%20", nil)
	req.Header.Add("X-Road-Client", "UA/GOV/00000003/eservice")
	req.Header.Add("Traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	req.Header.Add("Accept", "application/json")
	req.Header.Add("Accept", "text/plain")
	s.ServeHTTP(httptest.NewRecorder(), req)

	st := getStats(t, s)
	if st.Requests != 4 {
		t.Errorf("requests: got %d, want 4", st.Requests)
	}
	want := RecordedRequest{
		Method: http.MethodGet,
		Path:   "/persons/1000000002%2Fx",
		Query:  "fields=id&b=%20",
		Host:   "civil.test",
		Header: http.Header{
			"X-Road-Client": {"UA/GOV/00000003/eservice"},
			"Traceparent":   {"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
			"Accept":        {"application/json", "text/plain"},
		},
	}
	if st.Last == nil || !reflect.DeepEqual(*st.Last, want) {
		t.Errorf("last:\ngot  %+v\nwant %+v", st.Last, want)
	}

	got, _ := s.Last()
	got.Header.Set("X-Road-Client", "changed")
	if again, _ := s.Last(); again.Header.Get("X-Road-Client") != "UA/GOV/00000003/eservice" {
		t.Errorf("Last: changing a returned header changed the record to %v", again.Header)
	}
	req.Header.Set("X-Road-Client", "changed")
	if again, _ := s.Last(); again.Header.Get("X-Road-Client") != "UA/GOV/00000003/eservice" {
		t.Errorf("Last: changing the request after serving changed the record to %v", again.Header)
	}
}

func TestStatsReset(t *testing.T) {
	for _, reset := range []struct{ method, target string }{
		{http.MethodPost, "/_sim/stats/reset"},
		{http.MethodDelete, "/_sim/stats"},
	} {
		s := NewCivil()
		serve(t, s, http.MethodGet, "/persons/1000000001", "")
		rec := serve(t, s, reset.method, reset.target, "")
		checkAnswer(t, rec, http.StatusOK, `{"requests":0,"last":null}`)
		if st := getStats(t, s); st.Requests != 0 || st.Last != nil {
			t.Errorf("%s %s: got %+v, want zero requests and no last", reset.method, reset.target, st)
		}
		serve(t, s, http.MethodGet, "/persons/1000000001", "")
		if got := s.Requests(); got != 1 {
			t.Errorf("after %s %s and one request: got %d requests, want 1", reset.method, reset.target, got)
		}
	}
}

// TestSimConcurrent is for the race detector: requests, control calls
// and accessors at once.
func TestSimConcurrent(t *testing.T) {
	s := NewCivil()
	const workers, each = 8, 200
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				serve(t, s, http.MethodGet, "/persons/"+personID(w*each+i), "")
			}
		})
	}
	wg.Go(func() {
		for i := range each {
			// Not postFaults: t.Fatal must not be called from this goroutine.
			if rec := serve(t, s, http.MethodPost, "/_sim/faults", `{"status": 503, "rate": 0.1}`); rec.Code != http.StatusOK {
				t.Errorf("POST /_sim/faults: got %d, want 200", rec.Code)
			}
			s.Stats()
			if i%10 == 0 {
				serve(t, s, http.MethodDelete, "/_sim/faults", "")
			}
		}
	})
	wg.Wait()
	if got := s.Requests(); got != workers*each {
		t.Errorf("requests: got %d, want %d", got, workers*each)
	}
}
