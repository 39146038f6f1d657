package registrysim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// StatusClose, as Faults.Status, makes a faulted request end with the
// connection closed and no answer at all, as a crashed or reset registry
// would (see closeConnection).
const StatusClose = -1

// MaxFaultDelay is the longest delay a Faults may ask for.
const MaxFaultDelay = 5 * time.Minute

// maxFaultsBody bounds the body of POST /_sim/faults.
const maxFaultsBody = 4 << 10

// Faults are the failures a Sim injects into requests outside /_sim/.
type Faults struct {
	// Status is the status a faulted request gets, with the body
	// {"error":"injected fault"}: 200 … 599, StatusClose, or 0 for no
	// status fault (only the delay).
	Status int `json:"status"`
	// Rate is the fraction 0 … 1 of requests that get Status, drawn at
	// random per request. POST /_sim/faults defaults it to 1 when omitted.
	Rate float64 `json:"rate"`
	// DelayMS is how long, in milliseconds, every request waits before it
	// is faulted or served; 0 … MaxFaultDelay. A request whose context ends
	// while it waits is abandoned without an answer.
	DelayMS int64 `json:"delay_ms"`
}

// Validate returns an error naming the first field out of range, or nil.
func (f Faults) Validate() error {
	switch {
	case f.Status != 0 && f.Status != StatusClose && (f.Status < 200 || f.Status > 599):
		return fmt.Errorf("status: %d is not 0, -1 or 200 … 599", f.Status)
	case !(f.Rate >= 0 && f.Rate <= 1): // also catches NaN
		return fmt.Errorf("rate: %v is not within 0 … 1", f.Rate)
	case f.DelayMS < 0 || f.DelayMS > MaxFaultDelay.Milliseconds():
		return fmt.Errorf("delay_ms: %d is not within 0 … %d", f.DelayMS, MaxFaultDelay.Milliseconds())
	}
	return nil
}

// serveSim serves the control endpoints under /_sim/.
func (s *Sim) serveSim(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/_sim/faults":
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, http.StatusOK, s.Faults())
		case http.MethodPost:
			f, err := decodeFaults(w, r)
			if err == nil {
				err = s.SetFaults(f)
			}
			if err != nil {
				writeError(w, http.StatusBadRequest, err.Error())
				return
			}
			writeJSON(w, http.StatusOK, s.Faults())
		case http.MethodDelete:
			s.ClearFaults()
			writeJSON(w, http.StatusOK, s.Faults())
		default:
			writeMethodNotAllowed(w, http.MethodGet, http.MethodPost, http.MethodDelete)
		}
	case "/_sim/stats":
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, http.StatusOK, s.Stats())
		case http.MethodDelete:
			s.ResetStats()
			writeJSON(w, http.StatusOK, s.Stats())
		default:
			writeMethodNotAllowed(w, http.MethodGet, http.MethodDelete)
		}
	case "/_sim/received":
		s.serveReceived(w, r)
	case "/_sim/stats/reset":
		if r.Method != http.MethodPost {
			writeMethodNotAllowed(w, http.MethodPost)
			return
		}
		s.ResetStats()
		writeJSON(w, http.StatusOK, s.Stats())
	default:
		writeError(w, http.StatusNotFound, "not found")
	}
}

// decodeFaults reads the body of POST /_sim/faults: one JSON object with
// only the fields of Faults. An omitted rate means 1.
func decodeFaults(w http.ResponseWriter, r *http.Request) (Faults, error) {
	var in struct {
		Status  int      `json:"status"`
		Rate    *float64 `json:"rate"`
		DelayMS int64    `json:"delay_ms"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFaultsBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return Faults{}, fmt.Errorf("decoding faults: %w", err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return Faults{}, errors.New("decoding faults: more than one JSON value")
	}
	f := Faults{Status: in.Status, Rate: 1, DelayMS: in.DelayMS}
	if in.Rate != nil {
		f.Rate = *in.Rate
	}
	return f, nil
}
