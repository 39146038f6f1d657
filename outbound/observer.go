package outbound

import (
	"context"
	"time"
)

// Observer is told what the stack does, for metrics. Implementations must
// be safe for concurrent use and cheap: they run on every attempt.
type Observer interface {
	// Endpoints announces the registry's endpoints once, at start-up, so
	// that series exist before the first call.
	Endpoints(registry string, endpoints []string)
	// Attempt reports one attempt on an endpoint, its result — "ok" (any
	// answer below 500), "5xx", "error" or "timeout" — and how long it
	// took; ctx carries the attempt's span (for exemplars).
	Attempt(ctx context.Context, registry, endpoint, result string, took time.Duration)
	// Retry reports a re-sent request.
	Retry(registry string)
	// BudgetExhausted reports a retry refused by the retry budget.
	BudgetExhausted(registry string)
	// BreakerChanged reports a breaker state change ("closed",
	// "half-open", "open").
	BreakerChanged(registry, endpoint, from, to string)
	// InFlight reports the registry's requests in flight after a change.
	InFlight(registry string, n int)
}

// NopObserver observes nothing.
type NopObserver struct{}

func (NopObserver) Endpoints(string, []string)                                     {}
func (NopObserver) Attempt(context.Context, string, string, string, time.Duration) {}
func (NopObserver) Retry(string)                                                   {}
func (NopObserver) BudgetExhausted(string)                                         {}
func (NopObserver) BreakerChanged(string, string, string, string)                  {}
func (NopObserver) InFlight(string, int)                                           {}
