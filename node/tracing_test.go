package node_test

import (
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

func attrs(s sdktrace.ReadOnlySpan) map[string]attribute.Value {
	m := map[string]attribute.Value{}
	for _, kv := range s.Attributes() {
		m[string(kv.Key)] = kv.Value
	}
	return m
}

// TestSpanTree drives one exchange and checks the span tree: a SERVER
// span continuing the consumer's trace, step spans under it, a CLIENT span
// under the adapter span, templated paths, and no personal data anywhere.
func TestSpanTree(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	w := newTracedWorld(t, tp)
	h := eservice()
	h.Set("X-Road-UserId", "EE38001085718")
	h.Set("Traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	resp, body := w.call(t, "GET", personsSvc+"/persons/1000000042?name=Marta", h, "")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d %s", resp.StatusCode, body)
	}
	spans := rec.Ended()
	byName := spansByName(spans)
	server := one(t, byName, "GET /r1/UA/GOV/00000001/civil-registry/persons")
	if server.SpanKind() != trace.SpanKindServer {
		t.Errorf("server span kind = %v", server.SpanKind())
	}
	if got := server.SpanContext().TraceID().String(); got != "0af7651916cd43dd8448eb211c80319c" {
		t.Errorf("trace id = %s, want the consumer's", got)
	}
	if got := server.Parent().SpanID().String(); got != "b7ad6b7169203331" {
		t.Errorf("server span parent = %s, want the consumer's span", got)
	}
	sa := attrs(server)
	for k, want := range map[string]string{
		"http.request.method": "GET",
		"url.path":            "/r1/UA/GOV/00000001/civil-registry/persons/persons/{id}",
		"url.query":           "name=REDACTED",
		"url.scheme":          "http",
		"govbus.client":       "UA/GOV/00000003/eservice",
		"govbus.service":      "UA/GOV/00000001/civil-registry/persons",
	} {
		if got := sa[k].Emit(); got != want {
			t.Errorf("server %s = %q, want %q", k, got, want)
		}
	}
	if got := sa["http.response.status_code"].AsInt64(); got != 200 {
		t.Errorf("server status attribute = %d", got)
	}
	for _, name := range []string{"authenticate", "policy", "adapter"} {
		if s := one(t, byName, name); s.Parent().SpanID() != server.SpanContext().SpanID() {
			t.Errorf("%s is not a child of the server span", name)
		}
	}
	if got := attrs(one(t, byName, "policy"))["govbus.policy.rule_id"].AsString(); got != "eservice-persons" {
		t.Errorf("policy rule id = %q", got)
	}
	client := one(t, byName, "GET")
	if client.SpanKind() != trace.SpanKindClient || client.Parent().SpanID() != one(t, byName, "adapter").SpanContext().SpanID() {
		t.Errorf("attempt span: kind %v, want CLIENT under the adapter span", client.SpanKind())
	}
	ca := attrs(client)
	if !strings.HasSuffix(ca["url.full"].AsString(), "/persons/{id}?name=REDACTED") || ca["server.address"].AsString() != "127.0.0.1" ||
		ca["server.port"].AsInt64() == 0 || ca["http.response.status_code"].AsInt64() != 200 {
		t.Errorf("attempt attributes = %v", ca)
	}
	last, _ := w.civil.Last()
	want := "00-0af7651916cd43dd8448eb211c80319c-" + client.SpanContext().SpanID().String() + "-01"
	if got := last.Header.Get("Traceparent"); got != want {
		t.Errorf("registry traceparent = %q, want %q (the CLIENT span as parent)", got, want)
	}
	noPersonalData(t, spans, "1000000042", "EE38001085718", "Marta")
}

// TestRetrySpans checks one CLIENT span per attempt, with
// http.request.resend_count on the retry and the registry seeing the
// retry's span as its parent.
func TestRetrySpans(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	w := newTracedWorld(t, sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)))
	flaky.Store(0)
	resp, body := w.call(t, "GET", spoofSvc+"/flaky?id=1000000042", as("UA/GOV/00000003/eservice", eserviceKey, ""), "")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d %s", resp.StatusCode, body)
	}
	clients := spansByName(rec.Ended())["GET"]
	if len(clients) != 2 {
		t.Fatalf("CLIENT spans = %d, want 2 (one per attempt)", len(clients))
	}
	first, second := attrs(clients[0]), attrs(clients[1])
	if first["http.response.status_code"].AsInt64() != 503 || first["error.type"].AsString() != "503" {
		t.Errorf("first attempt = %v, want a 503 with error.type", first)
	}
	if _, ok := first["http.request.resend_count"]; ok {
		t.Errorf("first attempt carries http.request.resend_count")
	}
	if got := second["http.request.resend_count"].AsInt64(); got != 1 {
		t.Errorf("retry resend_count = %d, want 1", got)
	}
	if got := first["url.full"].AsString(); !strings.HasSuffix(got, "/{path}?id=REDACTED") {
		t.Errorf("url.full = %q, want the path template and a redacted query", got)
	}
	last, _ := w.spoofer.Last()
	if got := last.Header.Get("Traceparent"); !strings.Contains(got, clients[1].SpanContext().SpanID().String()) {
		t.Errorf("registry traceparent = %q, want the retry's span as parent", got)
	}
	noPersonalData(t, rec.Ended(), "1000000042")
}

func spansByName(spans []sdktrace.ReadOnlySpan) map[string][]sdktrace.ReadOnlySpan {
	m := map[string][]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		m[s.Name()] = append(m[s.Name()], s)
	}
	return m
}

// noPersonalData fails when a span's name or attribute holds a secret.
func noPersonalData(t *testing.T, spans []sdktrace.ReadOnlySpan, secrets ...string) {
	t.Helper()
	for _, s := range spans {
		for _, kv := range s.Attributes() {
			for _, secret := range secrets {
				if strings.Contains(kv.Value.Emit(), secret) || strings.Contains(s.Name(), secret) {
					t.Errorf("span %q attribute %s = %q holds personal data", s.Name(), kv.Key, kv.Value.Emit())
				}
			}
		}
	}
}

func one(t *testing.T, by map[string][]sdktrace.ReadOnlySpan, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	if len(by[name]) != 1 {
		t.Fatalf("spans named %q = %d, want 1", name, len(by[name]))
	}
	return by[name][0]
}
