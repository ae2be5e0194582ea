package observe

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// recordingTracing is tracing over an SDK provider that keeps its spans in
// memory.
func recordingTracing(t testing.TB, o TraceOptions) (*Tracing, *tracetest.SpanRecorder) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	shutdown, tp, err := newProvider(resource.Empty(), rec, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = shutdown(context.Background()) })
	return NewTracing(tp, o), rec
}

const (
	incomingTrace  = "4bf92f3577b34da6a3ce929d0e0e4736"
	incomingParent = "00f067aa0ba902b7"
)

func spansByName(rec *tracetest.SpanRecorder) map[string][]sdktrace.ReadOnlySpan {
	out := map[string][]sdktrace.ReadOnlySpan{}
	for _, s := range rec.Ended() {
		out[s.Name()] = append(out[s.Name()], s)
	}
	return out
}

func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	out := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		out[kv.Key] = kv.Value
	}
	return out
}

func TestTracingFollowsTraceparent(t *testing.T) {
	tr, rec := recordingTracing(t, TraceOptions{})
	s := newStack(t, stackOptions{tracing: tr})
	resp, _ := s.query(t, map[string]any{"query": "query Hello { name }"},
		"traceparent", "00-"+incomingTrace+"-"+incomingParent+"-01", "X-Request-ID", "req-1")
	if resp.StatusCode != http.StatusOK {
		t.Fatal(resp.Status)
	}

	spans := spansByName(rec)
	server := one(t, spans, "POST /query")
	op := one(t, spans, "Hello")

	if got := server.SpanContext().TraceID().String(); got != incomingTrace {
		t.Errorf("server span in trace %s, want the caller's", got)
	}
	if got := server.Parent().SpanID().String(); got != incomingParent || !server.Parent().IsRemote() {
		t.Errorf("server span parent %s (remote %v), want %s", got, server.Parent().IsRemote(), incomingParent)
	}
	if server.SpanKind() != trace.SpanKindServer {
		t.Errorf("server span kind %v", server.SpanKind())
	}
	a := attrs(server)
	if a["http.response.status_code"].AsInt64() != 200 || a["http.route"].AsString() != "/query" ||
		a["http.request.method"].AsString() != "POST" || a["meridian.request_id"].AsString() != "req-1" {
		t.Errorf("server span attributes %v", a)
	}

	if op.Parent().SpanID() != server.SpanContext().SpanID() {
		t.Error("operation span is not a child of the server span")
	}
	a = attrs(op)
	if a["graphql.operation.type"].AsString() != "query" || a["graphql.operation.name"].AsString() != "Hello" {
		t.Errorf("operation span attributes %v", a)
	}
	if op.Status().Code == codes.Error {
		t.Error("successful operation marked as an error")
	}
	if op.StartTime().Before(server.StartTime()) || op.EndTime().After(server.EndTime()) {
		t.Error("operation span is not inside the server span")
	}
}

func TestTracingFieldsAndErrors(t *testing.T) {
	tr, rec := recordingTracing(t, TraceOptions{Fields: true})
	s := newStack(t, stackOptions{tracing: tr})
	s.query(t, map[string]any{"query": "{ name a: fail user { id broken } }"})

	spans := spansByName(rec)
	op := one(t, spans, "query") // anonymous: named after its type
	if a := attrs(op); a["graphql.errors.count"].AsInt64() != 2 || a["graphql.operation.name"].AsString() != "" {
		t.Errorf("operation attributes %v", a)
	}
	if op.Status().Code != codes.Error {
		t.Error("operation with errors not marked as an error")
	}
	var events []string
	for _, e := range op.Events() {
		for _, kv := range e.Attributes {
			if kv.Key == "graphql.error.path" || kv.Key == "graphql.error.code" {
				events = append(events, kv.Value.AsString())
			}
		}
	}
	if got := strings.Join(events, " "); got != "a NOT_FOUND user.broken INTERNAL" {
		t.Errorf("error events %q", got)
	}

	fail := one(t, spans, "Query.fail")
	if fail.Parent().SpanID() != op.SpanContext().SpanID() {
		t.Error("field span is not a child of the operation span")
	}
	if fail.Status().Code != codes.Error || attrs(fail)["graphql.field.path"].AsString() != "a" {
		t.Errorf("Query.fail span: status %v attributes %v", fail.Status(), attrs(fail))
	}
	// gqlgen resolves children after the parent's resolver returned, under
	// the parent's field context but not inside its middleware: every
	// field span hangs off the operation span.
	broken := one(t, spans, "User.broken")
	one(t, spans, "Query.user")
	if broken.Parent().SpanID() != op.SpanContext().SpanID() {
		t.Error("nested field span is not a child of the operation span")
	}
	if attrs(broken)["graphql.field.path"].AsString() != "user.broken" {
		t.Errorf("User.broken attributes %v", attrs(broken))
	}
	// Fields without a resolver get no span.
	for _, name := range []string{"Query.name", "User.id"} {
		if len(spans[name]) != 0 {
			t.Errorf("trivial field %s has a span", name)
		}
	}
}

func TestNoFieldSpansByDefault(t *testing.T) {
	tr, rec := recordingTracing(t, TraceOptions{})
	if _, ok := tr.GraphQL().(interface {
		InterceptField(context.Context, func(context.Context) (any, error)) (any, error)
	}); ok {
		t.Error("the extension intercepts fields although Fields is off")
	}
	s := newStack(t, stackOptions{tracing: tr})
	s.query(t, map[string]any{"query": "{ fail }"})
	if spans := spansByName(rec); len(spans["Query.fail"]) != 0 || len(spans["query"]) != 1 {
		t.Errorf("spans %v", keys(spans))
	}
}

func TestUnsampledRequestsGetNoFieldSpans(t *testing.T) {
	tr, rec := recordingTracing(t, TraceOptions{Fields: true})
	s := newStack(t, stackOptions{tracing: tr})
	// The caller decided not to sample (flags 00); ParentBased follows it.
	s.query(t, map[string]any{"query": "{ fail }"}, "traceparent", "00-"+incomingTrace+"-"+incomingParent+"-00")
	if n := len(rec.Ended()); n != 0 {
		t.Errorf("%d spans recorded for an unsampled request", n)
	}
}

func TestSetupTracingWithoutEndpointIsNoop(t *testing.T) {
	shutdown, tp, err := SetupTracing(context.Background(), TracingConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown(context.Background())
	_, span := tp.Tracer("x").Start(context.Background(), "s")
	if span.IsRecording() {
		t.Error("no-op provider records")
	}
	// The caller's trace still flows through, for the logs.
	tr := NewTracing(tp, TraceOptions{})
	var got trace.SpanContext
	h := tr.Middleware(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		got = trace.SpanContextFromContext(r.Context())
	}))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("traceparent", "00-"+incomingTrace+"-"+incomingParent+"-01")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if got.TraceID().String() != incomingTrace {
		t.Errorf("trace id %s did not flow through the no-op provider", got.TraceID())
	}
}

func TestSetupTracingRejectsBadEndpoints(t *testing.T) {
	for _, ep := range []string{"collector:4318", "ftp://collector", "http://"} {
		if _, _, err := SetupTracing(context.Background(), TracingConfig{Endpoint: ep}); err == nil {
			t.Errorf("endpoint %q accepted", ep)
		}
	}
}

// TestSetupTracingExportsOverOTLPHTTP runs the real exporter against a
// fake collector.
func TestSetupTracingExportsOverOTLPHTTP(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  func(url string) TracingConfig
		path string
	}{
		{"base endpoint", func(u string) TracingConfig { return TracingConfig{Endpoint: u + "/"} }, "/v1/traces"},
		{"traces endpoint", func(u string) TracingConfig {
			return TracingConfig{Endpoint: "http://ignored.invalid", TracesEndpoint: u + "/custom/traces"}
		}, "/custom/traces"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var mu sync.Mutex
			var got []string
			collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				mu.Lock()
				got = append(got, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type"))
				if !strings.Contains(string(body), "exported-span") || !strings.Contains(string(body), "meridian-test") {
					t.Errorf("export lacks the span or service name")
				}
				mu.Unlock()
				w.Header().Set("Content-Type", "application/x-protobuf")
			}))
			defer collector.Close()

			cfg := c.cfg(collector.URL)
			cfg.ServiceName = "meridian-test"
			shutdown, tp, err := SetupTracing(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, span := tp.Tracer("test").Start(context.Background(), "exported-span")
			span.End()
			// Shutdown flushes the batch processor.
			if err := shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(got) != 1 || got[0] != "POST "+c.path+" application/x-protobuf" {
				t.Fatalf("collector saw %v", got)
			}
		})
	}
}

func TestRouteOf(t *testing.T) {
	for pattern, want := range map[string]string{
		"/query": "/query", "GET /export/events": "/export/events", "GET example.com/x/{id}": "/x/{id}", "": "",
	} {
		if got := routeOf(pattern); got != want {
			t.Errorf("routeOf(%q) = %q", pattern, got)
		}
	}
}

func one(t testing.TB, spans map[string][]sdktrace.ReadOnlySpan, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	if len(spans[name]) != 1 {
		t.Fatalf("want one %q span, have %v", name, keys(spans))
	}
	return spans[name][0]
}

func keys(spans map[string][]sdktrace.ReadOnlySpan) map[string]int {
	out := map[string]int{}
	for k, v := range spans {
		out[k] = len(v)
	}
	return out
}
