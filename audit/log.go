package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// ErrClosed is returned (wrapped) by Append after Close.
var ErrClosed = errors.New("message log closed")

// Options configures a Log. Node and Signer are required.
type Options struct {
	// Node names the node's chain; non-empty, without white space.
	Node string
	// Signer signs the chain head.
	Signer *Signer
	// SignEvery signs the head once this many records were appended since
	// the last signed head. Default 1000.
	SignEvery int
	// SignInterval signs the head when this long has passed since the last
	// signed head and records were appended since. Default 1s.
	SignInterval time.Duration
	// MaxBatch caps the records committed in one transaction. Default 512.
	MaxBatch int
	// MaxDelay is how long the committer, under load (its last commit held
	// more than one record), waits to gather a batch as large as the last
	// one before committing. Zero means the default, 2ms; a negative value
	// means no wait: commit as soon as the committer is free (records that
	// queue during a commit still go together in the next one).
	MaxDelay time.Duration
	// CommitTimeout bounds each store transaction. Default 10s.
	CommitTimeout time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives failures, recoveries and the final head. Default:
	// discard.
	Logger *slog.Logger
	// OnFailure, when not nil, is called with the error when the log goes
	// from healthy to failing; OnRecover when it is healthy again (both
	// from the log's goroutine or Probe's caller; they must not call Probe).
	OnFailure func(error)
	OnRecover func()
	// OnHead, when not nil, is called with each signed head once it is
	// durable (from the committer: keep it short).
	OnHead func(SignedHead)
}

func (o Options) withDefaults() (Options, error) {
	var errs []error
	if o.Node == "" || strings.ContainsFunc(o.Node, func(r rune) bool { return r <= ' ' }) {
		errs = append(errs, fmt.Errorf("node %q: must be non-empty, without white space", o.Node))
	}
	if o.Signer == nil {
		errs = append(errs, errors.New("signer: missing"))
	}
	if o.SignEvery < 0 || o.SignInterval < 0 || o.MaxBatch < 0 || o.CommitTimeout < 0 {
		errs = append(errs, errors.New("SignEvery, SignInterval, MaxBatch, CommitTimeout: must not be negative"))
	}
	o.SignEvery = cmp0(o.SignEvery, 1000)
	o.SignInterval = cmp0(o.SignInterval, time.Second)
	o.MaxBatch = cmp0(o.MaxBatch, 512)
	o.MaxDelay = cmp0(o.MaxDelay, 2*time.Millisecond)
	o.CommitTimeout = cmp0(o.CommitTimeout, 10*time.Second)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, errors.Join(errs...)
}

// cmp0 returns def when v is zero.
func cmp0[T int | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// Log appends records to a node's hash chain with group commit: records
// appended concurrently are committed together, in one store transaction,
// by one goroutine (the committer) that owns the chain head and signs it.
// A Log is safe for concurrent use; run one Log per node name and store.
type Log struct {
	store   Store
	opts    Options
	reqs    chan *pending // unbuffered: a sent record is in the committer's hands
	closing chan struct{}
	done    chan struct{}

	closeOnce sync.Once
	closeErr  error // set by the committer before done closes
	storeOnce sync.Once
	storeErr  error

	chain  chainState // owned by the committer
	head   atomic.Pointer[SignedHead]
	health health
}

// pending is one Append waiting for its batch.
type pending struct {
	ctx  context.Context
	rec  Record
	done chan result // buffered: the committer never waits
}

type result struct {
	rec Record
	err error
}

// Open starts a Log on store. It reads the chain's last record, signed
// head and prune anchor so the chain continues where it stopped. It fails
// on invalid options or when the store cannot be read.
func Open(ctx context.Context, store Store, opts Options) (*Log, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("opening message log: %w", err)
	}
	l := &Log{
		store:   store,
		opts:    opts,
		reqs:    make(chan *pending),
		closing: make(chan struct{}),
		done:    make(chan struct{}),
	}
	l.health = health{logger: opts.Logger, onFailure: opts.OnFailure, onRecover: opts.OnRecover}
	if err := l.resync(ctx); err != nil {
		return nil, fmt.Errorf("opening message log: %w", err)
	}
	l.chain.signedAt = opts.Now()
	go l.run()
	return l, nil
}

// Append adds r to the chain and returns once the transaction holding it
// is durable. It sets r's ID (when empty), Node, Time, Seq, PrevHash and
// Hash; non-zero DiscloseAfter, SentAt and ReceivedAt are kept in UTC at
// microsecond precision.
//
// On error r is not in the chain as far as the caller may assume (the
// pipeline answers Server.LoggingFailed), and r's Seq, PrevHash and Hash
// are unchanged. The error wraps the store's error, ErrClosed after
// Close, or ctx's error; when ctx ends after r was handed to the committer
// the record may still be written — the log never loses a record it
// acknowledged, and may keep one it did not.
func (l *Log) Append(ctx context.Context, r *Record) error {
	if r == nil {
		return errors.New("appending to the message log: nil record")
	}
	if r.ID == "" {
		r.ID = uuid.NewString()
	}
	r.Node = l.opts.Node
	p := &pending{ctx: ctx, rec: *r, done: make(chan result, 1)}
	p.rec.Body = bytes.Clone(r.Body)
	p.rec.DiscloseAfter = normalizeTime(r.DiscloseAfter)
	p.rec.SentAt, p.rec.ReceivedAt = normalizeTime(r.SentAt), normalizeTime(r.ReceivedAt)
	select {
	case l.reqs <- p:
	case <-l.closing:
		return fmt.Errorf("appending to the message log: %w", ErrClosed)
	case <-ctx.Done():
		return fmt.Errorf("appending to the message log: %w", ctx.Err())
	}
	select {
	case res := <-p.done:
		if res.err != nil {
			return res.err
		}
		r.Time, r.DiscloseAfter = res.rec.Time, res.rec.DiscloseAfter
		r.SentAt, r.ReceivedAt = res.rec.SentAt, res.rec.ReceivedAt
		r.Seq, r.PrevHash, r.Hash = res.rec.Seq, res.rec.PrevHash, res.rec.Hash
		return nil
	case <-ctx.Done():
		return fmt.Errorf("appending to the message log: %w", ctx.Err())
	}
}

// Head returns the latest durable signed head (after Open: the stored one,
// or the prune anchor); the zero SignedHead when none was ever signed.
func (l *Log) Head() SignedHead {
	if h := l.head.Load(); h != nil {
		return *h
	}
	return SignedHead{}
}

// Close stops accepting records, commits those already queued, signs and
// stores the final head, and closes the store (the SQLite store
// checkpoints its WAL). It returns the final commit's or the store's
// error, or ctx's error when ctx ends first (the store then stays open
// until a later Close returns).
func (l *Log) Close(ctx context.Context) error {
	l.closeOnce.Do(func() { close(l.closing) })
	select {
	case <-l.done:
	case <-ctx.Done():
		return fmt.Errorf("closing message log: %w", ctx.Err())
	}
	l.storeOnce.Do(func() {
		if err := l.store.Close(); err != nil {
			l.storeErr = fmt.Errorf("closing message log store: %w", err)
		}
	})
	return errors.Join(l.closeErr, l.storeErr)
}

// health tracks whether the log can be written, for readiness.
type health struct {
	mu        sync.Mutex // serializes transitions and their callbacks
	err       atomic.Pointer[error]
	logger    *slog.Logger
	onFailure func(error)
	onRecover func()
}

func (h *health) current() error {
	if p := h.err.Load(); p != nil {
		return *p
	}
	return nil
}

// failed records err; on the healthy → failing transition it logs and
// calls onFailure.
func (h *health) failed(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	was := h.current()
	h.err.Store(&err)
	if was == nil {
		h.logger.Error("message log failing", "err", err)
		if h.onFailure != nil {
			h.onFailure(err)
		}
	}
}

// ok clears the error; on the failing → healthy transition it logs and
// calls onRecover.
func (h *health) ok() {
	if h.err.Load() == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err.Swap(nil) != nil {
		h.logger.Info("message log recovered")
		if h.onRecover != nil {
			h.onRecover()
		}
	}
}

// Healthy returns nil when the log's last transaction (or Probe)
// succeeded, else that error: the last append's or probe's, until an
// append or Probe succeeds. /readyz answers 503 while it is not nil.
func (l *Log) Healthy() error { return l.health.current() }

// Probe pings the store (Store.Ping) and updates Healthy with the outcome:
// a failure marks the log failing, a success healthy. It returns the
// store's error, wrapped.
func (l *Log) Probe(ctx context.Context) error {
	if err := l.store.Ping(ctx); err != nil {
		err = fmt.Errorf("probing the message log: %w", err)
		l.health.failed(err)
		return err
	}
	l.health.ok()
	return nil
}
