package gateway

import (
	"context"
	"time"
)

// Summary is what the steps of an exchange learn about it, for metrics,
// traces and logs around the exchange. It holds configured identifiers
// only: no paths, user ids or message contents.
type Summary struct {
	// MessageID and RequestID are the exchange's X-Road-Id and govbus's
	// own id ("" until the request head was decoded).
	MessageID, RequestID string
	// Client is the authenticated client id ("" until authenticated).
	Client string
	// Service is the routed service id ("" until routed).
	Service string
	// Registry is the providing subsystem id ("" until routed).
	Registry string
	// PathTemplate is the path after the service code with ids replaced
	// by the service's template ("/persons/{id}"), or "/{path}" when no
	// template matches: never a raw id.
	PathTemplate string
	// Decision is the policy's effect ("allow", "deny", "purpose-required"),
	// "" when the exchange never reached the policy.
	Decision string
	// RuleID is the policy rule that allowed the exchange.
	RuleID string
	// Code is the error code when govbus answered with an error.
	Code Code
	// Status is the HTTP status sent to the consumer.
	Status int
	// RequestSize and ResponseSize are the body sizes received from the
	// consumer and sent back.
	RequestSize, ResponseSize int64
	// SentAt and ReceivedAt are when the registry was first called and when
	// its answer arrived (zero when it never was); Attempts counts the
	// attempts.
	SentAt, ReceivedAt time.Time
	Attempts           int
	// Message is the consumer-safe message of an error answer.
	Message string
	// ErrorID is the detail id of an error answer (also in the log).
	ErrorID string
	// Cause is the internal cause of an error answer, for the log only.
	Cause error
}

type summaryKey struct{}

// WithSummary returns ctx carrying s.
func WithSummary(ctx context.Context, s *Summary) context.Context {
	return context.WithValue(ctx, summaryKey{}, s)
}

// SummaryFrom returns the Summary in ctx, or a throwaway one when there is
// none, so callers never check for nil.
func SummaryFrom(ctx context.Context) *Summary {
	if s, ok := ctx.Value(summaryKey{}).(*Summary); ok {
		return s
	}
	return &Summary{}
}
