package gateway

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"sync/atomic"
	"time"
)

// Defaults of the limits on request bodies being read (Options).
const (
	// DefaultMaxBodyBytesInFlight is the node-wide budget of request body
	// bytes held at once.
	DefaultMaxBodyBytesInFlight = 64 << 20
	// DefaultBodyReadTimeout is how long a body may take before it must
	// keep up MinBodyRate.
	DefaultBodyReadTimeout = 10 * time.Second
	// MinBodyRate is the average rate, in bytes per second, at which a
	// request body must arrive once its BodyReadTimeout is spent.
	MinBodyRate = 64 << 10
)

// bodyChunk is the step in which a body of unknown length takes budget.
const bodyChunk = 64 << 10

// bodyBudget is the number of request body bytes that the exchanges of a
// handler may hold at once, shared by all of them. Safe for concurrent use.
type bodyBudget struct {
	max  int64
	used atomic.Int64
}

func newBodyBudget(max int64) *bodyBudget {
	if max <= 0 {
		max = DefaultMaxBodyBytesInFlight
	}
	return &bodyBudget{max: max}
}

// take reserves n bytes, or reports false (reserving nothing) when that
// would pass the budget.
func (b *bodyBudget) take(n int64) bool {
	for {
		used := b.used.Load()
		if used+n > b.max {
			return false
		}
		if b.used.CompareAndSwap(used, used+n) {
			return true
		}
	}
}

func (b *bodyBudget) give(n int64) { b.used.Add(-n) }

// errBodyBudget is the refusal of a body that the node-wide budget cannot
// hold.
func errBodyBudget() *Error {
	return &Error{Code: CodeRegistryBusy, RetryAfter: time.Second,
		Message: "govbus holds as many request bodies as it may at once; retry shortly"}
}

// bodyGuard reads one exchange's request body within the node's budget and
// against a deadline that follows the bytes as they arrive, so that neither
// many bodies nor a slow one can pin memory for long. Its reservation is
// kept until release, which ServeHTTP defers: the body's bytes are in use
// until the answer is written.
type bodyGuard struct {
	budget  *bodyBudget
	held    int64
	w       http.ResponseWriter      // the exchange's writer, for rc
	rc      *http.ResponseController // made from w when a body is read
	grace   time.Duration
	now     func() time.Time
	started time.Time
}

// bodyGuard returns the guard of one request written to w.
func (h *Handler) bodyGuard(w http.ResponseWriter) bodyGuard {
	grace := h.opts.BodyReadTimeout
	if grace <= 0 {
		grace = DefaultBodyReadTimeout
	}
	return bodyGuard{budget: h.bodies, w: w, grace: grace, now: h.opts.Now}
}

// guardOf returns the body guard of the exchange in ctx, whose
// reservation ServeHTTP releases once the answer is written, and a release
// for the caller to defer when ctx has none (the chain called directly).
func guardOf(ctx context.Context) (*bodyGuard, func()) {
	if in, ok := ctx.Value(inboundKey{}).(*inbound); ok {
		return &in.body, func() {}
	}
	g := &bodyGuard{}
	return g, g.release
}

// release gives the reservation back; it may be called more than once.
func (g *bodyGuard) release() {
	if g.held > 0 && g.budget != nil {
		g.budget.give(g.held)
	}
	g.held = 0
}

// read reads r into buf, at most limit+1 bytes (the caller refuses more).
// declared is the Content-Length (-1 when unknown): a declared body takes
// its whole share of the budget before a byte is read, one of unknown
// length takes it in steps as it arrives. Errors: CodeRegistryBusy when the
// budget cannot hold the body, CodeBadRequest when the body arrives more
// slowly than BodyReadTimeout plus MinBodyRate allow, or cannot be read.
func (g *bodyGuard) read(r io.Reader, declared, limit int64, buf *bytes.Buffer) (int64, error) {
	if g.budget == nil { // a request that did not come through ServeHTTP
		g.budget = newBodyBudget(0)
	}
	if declared > limit {
		declared = limit + 1
	}
	if declared > 0 {
		if !g.budget.take(declared) {
			return 0, errBodyBudget()
		}
		g.held += declared
		buf.Grow(int(declared))
	}
	if g.now == nil {
		g.now = time.Now
	}
	if g.rc == nil && g.w != nil {
		// Made only now: most exchanges (GETs) read no body.
		g.rc = http.NewResponseController(g.w)
	}
	g.started = g.now()
	defer g.clearDeadline()
	n, err := buf.ReadFrom(&guardedReader{g: g, r: io.LimitReader(r, limit+1), declared: declared >= 0})
	if err != nil {
		var e *Error
		switch {
		case errors.As(err, &e):
			return n, e
		case errors.Is(err, os.ErrDeadlineExceeded):
			return n, Wrap(CodeBadRequest, err, "the request body arrived too slowly")
		}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return n, Errorf(CodePayloadTooLarge, "request body over the limit")
		}
		return n, Wrap(CodeBadRequest, err, "reading the request body failed")
	}
	return n, nil
}

// deadline is when the first n bytes of the body must have arrived.
func (g *bodyGuard) deadline(n int64) time.Time {
	return g.started.Add(g.grace + time.Duration(n*int64(time.Second)/MinBodyRate))
}

// clearDeadline lifts the body's read deadline once it is read, so that it
// cannot end the exchange while the registry is called (net/http cancels a
// request whose connection read times out).
func (g *bodyGuard) clearDeadline() {
	if g.rc != nil {
		_ = g.rc.SetReadDeadline(time.Time{})
	}
}

// guardedReader moves the read deadline along as bytes arrive and, for a
// body of unknown length, takes budget before each read.
type guardedReader struct {
	g *bodyGuard
	r io.Reader
	// declared: the body's length was declared and taken whole (net/http
	// never reads past a Content-Length).
	declared bool
	read     int64
}

func (gr *guardedReader) Read(p []byte) (int, error) {
	g := gr.g
	if g.rc != nil {
		// ErrNotSupported (a writer without deadlines) leaves only the
		// server's read timeout.
		_ = g.rc.SetReadDeadline(g.deadline(gr.read + bodyChunk))
	}
	if !gr.declared {
		// Budget before bytes: a body of unknown length never holds more
		// than it has taken.
		if len(p) > bodyChunk {
			p = p[:bodyChunk]
		}
		if need := gr.read + int64(len(p)) - g.held; need > 0 {
			step := max(need, bodyChunk)
			if !g.budget.take(step) {
				return 0, errBodyBudget()
			}
			g.held += step
		}
	}
	n, err := gr.r.Read(p)
	gr.read += int64(n)
	return n, err
}
