package registrysim

import (
	"bytes"
	"io"
	"net/http"
	"sync"
)

// maxRecordedBody bounds the body kept of one recorded request; the rest
// is still passed to the registry, but not kept.
const maxRecordedBody = 1 << 20

// Received is one request a recording Sim received outside /_sim/, as it
// arrived: the raw request target, every header as Go's server parsed it
// (Host included), and the body.
type Received struct {
	Method string `json:"method"`
	// Target is the request target exactly as received (RequestURI).
	Target string `json:"target"`
	// Header holds every header, Host included.
	Header http.Header `json:"header"`
	// Body is the request body (at most 1 MiB of it); JSON-encoded as
	// base64.
	Body []byte `json:"body"`
}

// recorder keeps the last n requests in full.
type recorder struct {
	mu   sync.Mutex
	n    int
	reqs []Received
}

// Record makes the Sim keep the last n requests it receives outside
// /_sim/ in full, served at GET /_sim/received and cleared by DELETE
// /_sim/received; n <= 0 keeps none (the default: recording reads every
// body into memory, which a load benchmark should not pay for).
func (s *Sim) Record(n int) {
	if n <= 0 {
		s.rec.Store(nil)
		return
	}
	s.rec.Store(&recorder{n: n})
}

// record reads r's body (restoring it for the registry) and keeps the
// request.
func (rc *recorder) record(r *http.Request) {
	got := Received{Method: r.Method, Target: r.RequestURI, Header: r.Header.Clone()}
	got.Header["Host"] = []string{r.Host}
	if r.Body != nil && r.Body != http.NoBody {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxRecordedBody))
		if err == nil {
			got.Body = body
		}
		r.Body = readCloser{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.reqs = append(rc.reqs, got)
	if len(rc.reqs) > rc.n {
		rc.reqs = append(rc.reqs[:0], rc.reqs[len(rc.reqs)-rc.n:]...)
	}
}

// received returns a copy of the kept requests, oldest first.
func (rc *recorder) received() []Received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]Received{}, rc.reqs...)
}

// clear forgets the kept requests.
func (rc *recorder) clear() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.reqs = nil
}

// readCloser reads from one reader and closes another.
type readCloser struct {
	io.Reader
	io.Closer
}

// serveReceived serves GET and DELETE /_sim/received.
func (s *Sim) serveReceived(w http.ResponseWriter, r *http.Request) {
	rc := s.rec.Load()
	if rc == nil {
		writeError(w, http.StatusNotFound, "recording is off (registrysim -record N)")
		return
	}
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, struct {
			Requests []Received `json:"requests"`
		}{rc.received()})
	case http.MethodDelete:
		rc.clear()
		writeJSON(w, http.StatusOK, struct {
			Requests []Received `json:"requests"`
		}{[]Received{}})
	default:
		writeMethodNotAllowed(w, http.MethodGet, http.MethodDelete)
	}
}
