package mongostore

import (
	"context"
	"slices"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/meridian-graphql/meridian/internal/ferret"
)

// TestCommandSpans: on FerretDB, with a tracer provider, the commands of
// an insert and a read run under a span leave CLIENT spans beneath it,
// named after command and collection, with no document in them; commands
// run outside a span are spanned only as the provider decides (the app's,
// observe.ChildSpansOnly, leaves them out).
func TestCommandSpans(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	s := openStore(t, ferret.Start(t), Options{ForceFallback: true, TracerProvider: tp})

	ctx, parent := tp.Tracer("test").Start(context.Background(), "request")
	if n, err := s.Insert(ctx, prepare(t, ev{id: "secret-id", user: 7, typ: "login", ts: "2026-11-01 10:00"})); err != nil || n != 1 {
		t.Fatalf("Insert = %d, %v", n, err)
	}
	if _, err := s.Profile(ctx, "secret-user"); err != nil {
		t.Fatal(err)
	}
	parent.End()

	var names []string
	for _, sp := range rec.Ended() {
		if sp.Parent().SpanID() != parent.SpanContext().SpanID() {
			continue
		}
		names = append(names, sp.Name())
		if sp.SpanKind() != trace.SpanKindClient {
			t.Errorf("%s: kind %v", sp.Name(), sp.SpanKind())
		}
		for _, kv := range sp.Attributes() {
			if strings.Contains(kv.Value.Emit(), "secret") {
				t.Errorf("%s: %s records a document: %s", sp.Name(), kv.Key, kv.Value.Emit())
			}
		}
		if got := attrValue(sp, "db.system.name"); got != "mongodb" {
			t.Errorf("%s: db.system.name %q", sp.Name(), got)
		}
		if got := attrValue(sp, "db.namespace"); got != s.db.Name() {
			t.Errorf("%s: db.namespace %q, want %q", sp.Name(), got, s.db.Name())
		}
	}
	for _, want := range []string{"insert events", "find profiles"} {
		if !slices.Contains(names, want) {
			t.Errorf("spans under the request %v: no %q", names, want)
		}
	}
}

func attrValue(s sdktrace.ReadOnlySpan, key string) string {
	for _, kv := range s.Attributes() {
		if string(kv.Key) == key {
			return kv.Value.AsString()
		}
	}
	return ""
}
