package observe

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace/noop"
)

// TestChildSpansOnly: a tracer of the restricted provider starts no root
// span — the context comes back as it was — but starts children of a
// span in the context as the provider under it would.
func TestChildSpansOnly(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	tr := ChildSpansOnly(tp).Tracer("test")

	bg := context.Background()
	ctx, span := tr.Start(bg, "background poll")
	span.End()
	if ctx != bg || span.IsRecording() || span.SpanContext().IsValid() {
		t.Errorf("a root span was started: recording %v, valid %v", span.IsRecording(), span.SpanContext().IsValid())
	}

	pctx, parent := tp.Tracer("test").Start(bg, "request")
	_, child := tr.Start(pctx, "SELECT")
	child.End()
	parent.End()
	ended := rec.Ended()
	if len(ended) != 2 || ended[0].Name() != "SELECT" || ended[0].Parent().SpanID() != parent.SpanContext().SpanID() {
		t.Errorf("spans %v: want SELECT as the child of request", ended)
	}
}

func TestTracingOn(t *testing.T) {
	tp := sdktrace.NewTracerProvider()
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	if TracingOn(nil) || TracingOn(noop.NewTracerProvider()) || !TracingOn(tp) {
		t.Error("TracingOn: want false for nil and the no-op provider, true for the SDK's")
	}
	_, off, err := SetupTracing(context.Background(), TracingConfig{})
	if err != nil || TracingOn(off) {
		t.Errorf("SetupTracing without an endpoint: %v, tracing on %v", err, TracingOn(off))
	}
}
