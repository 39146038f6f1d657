package node

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/govbus/govbus/audit"
	"github.com/govbus/govbus/gateway"
	"github.com/govbus/govbus/tracker"
)

// Appender makes a record durable: the message log (*audit.Log).
type Appender interface {
	Append(ctx context.Context, r *audit.Record) error
}

// MessageLog turns exchanges into message log records.
type MessageLog struct {
	Log Appender
	// SubjectKey keys the data subject's hash.
	SubjectKey []byte
	// DiscloseAfter maps rule ids to how long their accesses stay covert.
	DiscloseAfter map[string]time.Duration
	Now           func() time.Time
	// Bodies counts kept bodies against BodyLimits (service id → bytes
	// per UTC day) for services with keep_bodies; nil: no limit.
	Bodies     *BodyBudget
	BodyLimits map[string]int64
}

var _ gateway.MessageLog = (*MessageLog)(nil)

// LogRequest records the request as forwarded, before forwarding it.
func (m *MessageLog) LogRequest(ctx context.Context, req *gateway.Request) error {
	if req.Subject != "" {
		req.SubjectHash = tracker.Hash(m.SubjectKey, req.Subject)
	}
	rec := m.base(ctx, req, audit.KindRequest)
	rec.UserID, rec.Issue, rec.Purpose = req.UserID, req.Issue, req.Purpose
	rec.Size, rec.BodySHA256 = int64(len(req.BodyBytes)), digest(req.BodyBytes)
	if req.Route.KeepBodies {
		if err := m.keep(req.Route.ServiceKey, len(req.BodyBytes), true); err != nil {
			return err
		}
		if len(req.BodyBytes) > 0 {
			rec.Body = append([]byte(nil), req.BodyBytes...)
		}
	}
	if d := m.DiscloseAfter[req.Decision.RuleID]; d > 0 {
		rec.DiscloseAfter = rec.Time.Add(d)
	}
	return m.Log.Append(ctx, rec)
}

// LogResponse records the answer (or govbus's error) before the consumer
// receives it, with when the registry was first called, when its answer
// arrived and how many attempts it took (zero when there was no answer:
// the adapter reports none then).
func (m *MessageLog) LogResponse(ctx context.Context, req *gateway.Request, resp *gateway.Response, err error) error {
	rec := m.base(ctx, req, audit.KindResponse)
	if resp != nil {
		rec.Status = resp.Status
		rec.SentAt, rec.ReceivedAt, rec.Attempts = resp.SentAt, resp.ReceivedAt, resp.Attempts
		rec.Size, rec.BodySHA256 = int64(len(resp.Body)), digest(resp.Body)
		rec.OriginalSHA256 = resp.OriginalSHA256
		if req.Route.KeepBodies && len(resp.Body) > 0 {
			_ = m.keep(req.Route.ServiceKey, len(resp.Body), false)
			rec.Body = append([]byte(nil), resp.Body...)
		}
	} else {
		code := gateway.CodeOf(err)
		rec.ErrorType, rec.Status, rec.BodySHA256 = string(code), gateway.StatusOf(code), digest(nil)
	}
	return m.Log.Append(ctx, rec)
}

// keep counts n bytes of a kept body of service against its daily
// budget; a request (strict) over it is ErrBodyBudgetSpent.
func (m *MessageLog) keep(service string, n int, strict bool) error {
	limit, ok := m.BodyLimits[service]
	if m.Bodies == nil || !ok {
		return nil
	}
	return m.Bodies.reserve(service, int64(n), limit, strict)
}

// base fills the fields both records share.
func (m *MessageLog) base(ctx context.Context, req *gateway.Request, kind audit.Kind) *audit.Record {
	rec := &audit.Record{
		Kind: kind, Time: m.Now().UTC(), MessageID: req.MessageID, RequestID: req.RequestID,
		Client: req.ClientKey, Service: req.Route.ServiceKey, Method: req.Method,
		PathTemplate: req.Route.PathTemplate(req.Target.Path), RuleID: req.Decision.RuleID,
		SubjectHash: req.SubjectHash,
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		rec.TraceID = sc.TraceID().String()
	}
	return rec
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
