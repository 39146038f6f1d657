// Package registrysim simulates the government registries of the govbus
// demo world (DESIGN.md §7) for the demo, the tests and the load benchmark.
//
// The civil registry (Civil) serves 10,000 synthetic, deterministic persons
// over REST. Every simulated registry is wrapped in a Sim, which adds the
// loopback control endpoints under /_sim/:
//
//	POST   /_sim/faults       set faults: {"status": 503, "rate": 1.0, "delay_ms": 0}
//	GET    /_sim/faults       the active faults
//	DELETE /_sim/faults       clear the faults
//	GET    /_sim/stats        {"requests": N, "last": {...}}
//	DELETE /_sim/stats        reset the statistics (also POST /_sim/stats/reset)
//	GET    /_sim/received     the last requests in full, when recording (see Record)
//	DELETE /_sim/received     forget them
//
// Requests under /_sim/ are never faulted and never counted. In tests:
//
//	srv := httptest.NewServer(registrysim.NewCivil())
package registrysim

import (
	"math/rand/v2"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// simPrefix is the path prefix of the control endpoints.
const simPrefix = "/_sim/"

// Sim wraps a registry handler with fault injection and statistics; see the
// package documentation for its /_sim/ endpoints. The zero Sim is not
// usable; create one with New. A Sim is safe for concurrent use.
type Sim struct {
	next     http.Handler
	requests atomic.Int64
	last     atomic.Pointer[RecordedRequest] // nil until the first request
	faults   atomic.Pointer[Faults]          // nil when none are set
	rec      atomic.Pointer[recorder]        // nil unless Record was called
}

// Stats is the answer of GET /_sim/stats.
type Stats struct {
	// Requests counts the requests that reached the Sim outside /_sim/,
	// whatever their answer (404s and injected faults included).
	Requests int64 `json:"requests"`
	// Last is the last such request, or nil when there was none.
	Last *RecordedRequest `json:"last"`
}

// RecordedRequest is what a Sim remembers of the last request it received
// outside /_sim/, so that tests can check what a caller forwarded.
type RecordedRequest struct {
	Method string `json:"method"`
	// Path is the escaped path as received (url.URL.EscapedPath).
	Path string `json:"path"`
	// Query is the raw query, without '?'.
	Query string `json:"query"`
	// Host is the Host header (Go moves it out of Header).
	Host string `json:"host"`
	// Header holds every other request header.
	Header http.Header `json:"headers"`
}

// New returns a Sim that passes requests outside /_sim/ to next, after
// counting them and applying the active faults.
func New(next http.Handler) *Sim {
	return &Sim{next: next}
}

// ServeHTTP serves /_sim/ itself and everything else through the faults to
// the wrapped registry.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if isSimPath(r.URL.Path) {
		s.serveSim(w, r)
		return
	}
	s.requests.Add(1)
	if rc := s.rec.Load(); rc != nil {
		rc.record(r)
	}
	s.last.Store(&RecordedRequest{
		Method: r.Method,
		Path:   r.URL.EscapedPath(),
		Query:  r.URL.RawQuery,
		Host:   r.Host,
		Header: r.Header.Clone(),
	})
	if f := s.faults.Load(); f != nil && s.inject(w, r, f) {
		return
	}
	s.next.ServeHTTP(w, r)
}

// isSimPath reports whether path belongs to the control endpoints.
func isSimPath(path string) bool {
	return path == "/_sim" || strings.HasPrefix(path, simPrefix)
}

// inject applies faults f to one request and reports whether it answered
// (or abandoned) the request, so that the registry must not.
func (s *Sim) inject(w http.ResponseWriter, r *http.Request, f *Faults) bool {
	if f.DelayMS > 0 {
		t := time.NewTimer(time.Duration(f.DelayMS) * time.Millisecond)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return true // the caller has gone: answer nothing
		}
	}
	if f.Status == 0 || rand.Float64() >= f.Rate {
		return false
	}
	if f.Status == StatusClose {
		closeConnection(w)
		return true
	}
	writeError(w, f.Status, "injected fault")
	return true
}

// closeConnection drops the connection without answering. Where the
// connection cannot be hijacked (HTTP/2, httptest.ResponseRecorder) it
// aborts the handler with http.ErrAbortHandler, which the server turns into
// a reset stream or a closed connection without logging it.
func closeConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close() // closing is all we want; its error changes nothing
}

// Requests returns the number of requests received outside /_sim/ since
// the Sim was built or its statistics were last reset.
func (s *Sim) Requests() int64 {
	return s.requests.Load()
}

// Last returns a copy of the last request received outside /_sim/, and
// false when there was none since the last reset.
func (s *Sim) Last() (RecordedRequest, bool) {
	last := s.last.Load()
	if last == nil {
		return RecordedRequest{}, false
	}
	c := *last
	c.Header = last.Header.Clone()
	return c, true
}

// Stats returns the statistics that GET /_sim/stats reports.
func (s *Sim) Stats() Stats {
	st := Stats{Requests: s.Requests()}
	if last, ok := s.Last(); ok {
		st.Last = &last
	}
	return st
}

// ResetStats sets the request count to zero and forgets the last request.
func (s *Sim) ResetStats() {
	s.requests.Store(0)
	s.last.Store(nil)
}

// Faults returns the active faults; the zero Faults when none are set.
func (s *Sim) Faults() Faults {
	if f := s.faults.Load(); f != nil {
		return *f
	}
	return Faults{}
}

// SetFaults replaces the active faults with f, or returns f.Validate's
// error and changes nothing. Faults with neither a status nor a delay
// clear them.
func (s *Sim) SetFaults(f Faults) error {
	if err := f.Validate(); err != nil {
		return err
	}
	if f.Status == 0 && f.DelayMS == 0 {
		s.faults.Store(nil)
		return nil
	}
	s.faults.Store(&f)
	return nil
}

// ClearFaults removes every fault.
func (s *Sim) ClearFaults() {
	s.faults.Store(nil)
}
