package registrysim

import (
	"net/http"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Traced wraps a registry so that every request outside /_sim/ records a
// SERVER span, continuing the caller's W3C trace context: the registry's
// own span in an exchange's trace. Ids are replaced by "{id}" in the span
// name and url.path.
func Traced(next http.Handler, tracer trace.Tracer, prop propagation.TextMapPropagator) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, simPrefix) {
			next.ServeHTTP(w, r)
			return
		}
		route := templatePath(r.URL.Path)
		ctx := prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, sp := tracer.Start(ctx, r.Method+" "+route, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", r.Method),
				attribute.String("url.path", route), attribute.String("http.route", route),
				attribute.String("url.scheme", "http")))
		defer sp.End()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r.WithContext(ctx))
		sp.SetAttributes(attribute.Int("http.response.status_code", sw.status))
		if sw.status >= 500 {
			sp.SetAttributes(attribute.String("error.type", strconv.Itoa(sw.status)))
			sp.SetStatus(codes.Error, strconv.Itoa(sw.status))
		}
	})
}

// templatePath replaces path segments holding a digit with "{id}".
func templatePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if strings.ContainsAny(s, "0123456789") {
			segs[i] = "{id}"
		}
	}
	return strings.Join(segs, "/")
}

// statusWriter remembers the status written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (hijacking).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
