package observability

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/govbus/govbus/gateway"
	"github.com/govbus/govbus/opmon"
)

// Instrument wraps the consumer handler with everything an SRE reads about
// an exchange: one SERVER span (continuing the consumer's W3C trace
// context), the exchange metrics, and one structured log line.
type Instrument struct {
	// Metrics counts and times exchanges. Required.
	Metrics *Metrics
	// Tracer starts the server span. Default: no spans.
	Tracer trace.Tracer
	// Propagator reads traceparent/tracestate. Default: W3C trace context.
	Propagator propagation.TextMapPropagator
	// Logger receives one line per exchange: Debug when the registry
	// answered, Info for Client.* errors, Warn for Server.* ones.
	// Default: discard.
	Logger *slog.Logger
	// Opmon keeps an operational monitoring record per exchange.
	// Default: none kept.
	Opmon interface{ Add(*opmon.Record) }
	// Node names this node in the records.
	Node string
}

// Wrap returns next instrumented. It puts a gateway.Summary into the
// request context for the chain to fill.
func (in Instrument) Wrap(next http.Handler) http.Handler {
	m := in.Metrics
	if in.Tracer == nil {
		in.Tracer = noop.NewTracerProvider().Tracer("")
	}
	if in.Propagator == nil {
		in.Propagator = propagation.TraceContext{}
	}
	if in.Logger == nil {
		in.Logger = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := m.now()
		m.inFlight.Inc()
		s := m.pool.Get().(*gateway.Summary)
		*s = gateway.Summary{}
		ctx := in.Propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, sp := in.Tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer))
		next.ServeHTTP(w, r.WithContext(gateway.WithSummary(ctx, s)))
		took := m.now().Sub(start)

		client, service, outcome := s.Client, s.Service, OutcomeOK
		if client == "" {
			client = UnknownClient
		}
		if service == "" {
			service = UnknownService
		}
		if s.Code != "" {
			outcome = string(s.Code)
		}
		method := methodLabel(r.Method)
		m.exchanges.WithLabelValues(client, service, method, outcome).Inc()
		observe(ctx, m.duration.WithLabelValues(service, method, outcome), took.Seconds())
		if s.Decision != "" {
			m.decisions.WithLabelValues(s.Decision).Inc()
		}
		switch s.Code {
		case gateway.CodeRateLimited:
			m.limited.WithLabelValues(client).Inc()
		case gateway.CodeLoggingFailed:
			m.logFails.Inc()
		}
		m.inFlight.Dec()
		if sp.IsRecording() {
			endServerSpan(sp, r, s)
		}
		sp.End()
		in.log(ctx, sp.SpanContext(), r.Method, s, outcome, took)
		if in.Opmon != nil {
			in.record(sp.SpanContext(), r.Method, s, start, start.Add(took))
		}
		m.pool.Put(s)
	})
}

// observe records v, with the trace id of a sampled span in ctx as the
// exemplar.
func observe(ctx context.Context, o prometheus.Observer, v float64) {
	if sc := trace.SpanContextFromContext(ctx); sc.IsSampled() {
		if eo, ok := o.(prometheus.ExemplarObserver); ok {
			eo.ObserveWithExemplar(v, prometheus.Labels{"trace_id": sc.TraceID().String()})
			return
		}
	}
	o.Observe(v)
}

// endServerSpan names the server span and sets the stable HTTP server
// attributes, with ids replaced by templates and query values redacted.
func endServerSpan(sp trace.Span, r *http.Request, s *gateway.Summary) {
	route := "/r1/{serviceId}/{path}"
	switch {
	case s.Service == "listClients":
		route = "/listClients"
	case s.Service == gateway.MetaListMethods || s.Service == gateway.MetaAllowedMethods || s.Service == gateway.MetaGetOpenAPI:
		route = "/r1/{subsystemId}/" + s.Service
	case s.Registry != "":
		route = "/r1/" + s.Service + s.PathTemplate
	}
	name := r.Method
	if s.Registry != "" {
		name += " /r1/" + s.Service
	} else if route != "/r1/{serviceId}/{path}" {
		name += " " + route
	}
	sp.SetName(name)
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	attrs := []attribute.KeyValue{
		attribute.String("http.request.method", r.Method),
		attribute.String("url.path", route),
		attribute.String("http.route", route),
		attribute.String("url.scheme", scheme),
		attribute.Int("http.response.status_code", s.Status),
		attribute.String("network.protocol.version", strings.TrimPrefix(r.Proto, "HTTP/")),
	}
	if i := strings.IndexByte(r.RequestURI, '?'); i >= 0 && i+1 < len(r.RequestURI) {
		attrs = append(attrs, attribute.String("url.query", gateway.RedactQuery(r.RequestURI[i+1:])))
	}
	if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if host, port, err := net.SplitHostPort(la.String()); err == nil {
			p, _ := strconv.Atoi(port)
			attrs = append(attrs, attribute.String("server.address", host), attribute.Int("server.port", p))
		}
	}
	if host, port, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		p, _ := strconv.Atoi(port)
		attrs = append(attrs, attribute.String("network.peer.address", host), attribute.Int("network.peer.port", p))
	}
	if ua := r.UserAgent(); ua != "" {
		attrs = append(attrs, attribute.String("user_agent.original", ua))
	}
	if s.Client != "" {
		attrs = append(attrs, attribute.String("govbus.client", s.Client))
	}
	if s.Registry != "" {
		attrs = append(attrs, attribute.String("govbus.service", s.Service), attribute.String("govbus.registry", s.Registry))
	}
	if s.MessageID != "" {
		attrs = append(attrs, attribute.String("govbus.message_id", s.MessageID), attribute.String("govbus.request_id", s.RequestID))
	}
	if s.RuleID != "" {
		attrs = append(attrs, attribute.String("govbus.policy.rule_id", s.RuleID))
	}
	errType := string(s.Code)
	if errType == "" && s.Status >= 500 {
		errType = strconv.Itoa(s.Status)
	}
	if errType != "" {
		attrs = append(attrs, attribute.String("error.type", errType))
	}
	sp.SetAttributes(attrs...)
	if s.Status >= 500 {
		sp.SetStatus(codes.Error, errType)
	}
}

// record keeps the exchange's operational monitoring record.
func (in Instrument) record(sc trace.SpanContext, method string, s *gateway.Summary, in0, out time.Time) {
	rec := opmon.Record{
		ID: s.RequestID, MessageID: s.MessageID, Client: s.Client, Service: s.Service, Registry: s.Registry,
		Method: method, RuleID: s.RuleID,
		RequestInTs: opmon.Millis(in0), RequestOutTs: opmon.Millis(s.SentAt),
		ResponseInTs: opmon.Millis(s.ReceivedAt), ResponseOutTs: opmon.Millis(out),
		RequestSize: s.RequestSize, ResponseSize: s.ResponseSize, Status: s.Status,
		Succeeded: s.Code == "" && s.Status < 500, FaultCode: string(s.Code), FaultString: s.Message,
		Attempts: s.Attempts, Node: in.Node,
	}
	if sc.IsValid() {
		rec.TraceID = sc.TraceID().String()
	}
	in.Opmon.Add(&rec)
}

// log writes the exchange's line: identifiers and outcome, never personal
// data (no user id, path or body).
func (in Instrument) log(ctx context.Context, sc trace.SpanContext, method string, s *gateway.Summary, outcome string, took time.Duration) {
	level := slog.LevelDebug
	switch {
	case strings.HasPrefix(outcome, "Server."):
		level = slog.LevelWarn
	case strings.HasPrefix(outcome, "Client."):
		level = slog.LevelInfo
	}
	if !in.Logger.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("message_id", s.MessageID), slog.String("request_id", s.RequestID),
		slog.String("client", s.Client), slog.String("service", s.Service), slog.String("method", method),
		slog.Int("status", s.Status), slog.String("outcome", outcome),
		slog.Float64("duration_ms", float64(took.Microseconds())/1000),
	}
	if sc.IsValid() {
		attrs = append(attrs, slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	if s.RuleID != "" {
		attrs = append(attrs, slog.String("rule_id", s.RuleID))
	}
	if s.ErrorID != "" {
		attrs = append(attrs, slog.String("detail", s.ErrorID))
	}
	if s.Cause != nil {
		attrs = append(attrs, slog.String("cause", s.Cause.Error()))
	}
	in.Logger.LogAttrs(ctx, level, "exchange", attrs...)
}
