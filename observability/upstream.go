package observability

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/govbus/govbus/outbound"
)

// breakerStates are the values of govbus_breaker_state.
var breakerStates = map[string]float64{"closed": 0, "half-open": 1, "open": 2}

// Upstream counts what the registries' outbound stacks do. It implements
// outbound.Observer; its series exist for every configured endpoint from
// start-up.
type Upstream struct {
	attempts    *prometheus.CounterVec
	retries     *prometheus.CounterVec
	budget      *prometheus.CounterVec
	state       *prometheus.GaugeVec
	transitions *prometheus.CounterVec
	inFlight    *prometheus.GaugeVec
	duration    *prometheus.HistogramVec
	refresh     atomic.Pointer[func()]
}

var _ outbound.Observer = (*Upstream)(nil)

// NewUpstream registers the outbound metrics on reg.
func NewUpstream(reg prometheus.Registerer) *Upstream {
	u := &Upstream{
		attempts: newCounterVec("upstream_attempts_total",
			"Attempts sent to registry endpoints, by result (ok: any answer below 500; 5xx; error; timeout).",
			"registry", "endpoint", "result"),
		retries: newCounterVec("upstream_retries_total",
			"Requests re-sent to a registry.",
			"registry"),
		budget: newCounterVec("upstream_retry_budget_exhausted_total",
			"Retries refused because the registry's retry budget was spent.",
			"registry"),
		state: newGaugeVec("breaker_state",
			"Circuit breaker state per endpoint: 0 closed, 1 half-open, 2 open.",
			"registry", "endpoint"),
		transitions: newCounterVec("breaker_transitions_total",
			"Circuit breaker state changes per endpoint, by new state.",
			"registry", "endpoint", "to"),
		inFlight: newGaugeVec("upstream_in_flight",
			"Requests in flight to each registry (the bulkhead's use).",
			"registry"),
		duration: newDurationHistogram("upstream_duration_seconds",
			"Time of one attempt on a registry endpoint, from sending the request to the answer's head.",
			"registry", "endpoint"),
	}
	reg.MustRegister(u.attempts, u.retries, u.budget, refreshing{u.state, &u.refresh}, u.transitions, u.inFlight, u.duration)
	return u
}

// SetRefresh sets a function run before each scrape of the breaker states:
// a breaker only moves from open to half-open when asked, so the scrape
// asks (e.g. by reading every stack's status).
func (u *Upstream) SetRefresh(fn func()) { u.refresh.Store(&fn) }

// refreshing is a collector that runs a refresh before collecting.
type refreshing struct {
	prometheus.Collector
	fn *atomic.Pointer[func()]
}

func (r refreshing) Collect(ch chan<- prometheus.Metric) {
	if fn := r.fn.Load(); fn != nil {
		(*fn)()
	}
	r.Collector.Collect(ch)
}

// Endpoints creates every series of a registry at zero.
func (u *Upstream) Endpoints(registry string, endpoints []string) {
	u.retries.WithLabelValues(registry)
	u.budget.WithLabelValues(registry)
	u.inFlight.WithLabelValues(registry)
	for _, e := range endpoints {
		for _, r := range []string{"ok", "5xx", "error", "timeout"} {
			u.attempts.WithLabelValues(registry, e, r)
		}
		for to := range breakerStates {
			u.transitions.WithLabelValues(registry, e, to)
		}
		u.state.WithLabelValues(registry, e).Set(0)
		u.duration.WithLabelValues(registry, e)
	}
}

// Attempt counts and times one attempt; a sampled span in ctx becomes the
// duration's exemplar.
func (u *Upstream) Attempt(ctx context.Context, registry, endpoint, result string, took time.Duration) {
	u.attempts.WithLabelValues(registry, endpoint, result).Inc()
	observe(ctx, u.duration.WithLabelValues(registry, endpoint), took.Seconds())
}

// Retry counts one retry.
func (u *Upstream) Retry(registry string) { u.retries.WithLabelValues(registry).Inc() }

// BudgetExhausted counts one refused retry.
func (u *Upstream) BudgetExhausted(registry string) { u.budget.WithLabelValues(registry).Inc() }

// BreakerChanged records a state change.
func (u *Upstream) BreakerChanged(registry, endpoint, _, to string) {
	u.state.WithLabelValues(registry, endpoint).Set(breakerStates[to])
	u.transitions.WithLabelValues(registry, endpoint, to).Inc()
}

// InFlight records the registry's requests in flight.
func (u *Upstream) InFlight(registry string, n int) {
	u.inFlight.WithLabelValues(registry).Set(float64(n))
}
