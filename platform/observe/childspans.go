package observe

import (
	"context"

	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
	"go.opentelemetry.io/otel/trace/noop"
)

// TracingOn reports whether tp records spans: false for nil and for the
// no-op provider SetupTracing returns without an endpoint. Instrumentation
// that would cost something per call even with nothing recorded (SQL,
// Redis, MongoDB) is only installed when it is true.
func TracingOn(tp trace.TracerProvider) bool {
	if tp == nil {
		return false
	}
	_, off := tp.(noop.TracerProvider)
	return !off
}

// ChildSpansOnly returns tp restricted to spans that have a parent: a
// tracer of it starts a span only when the context already carries a span
// context (a request's, a bus message's), and otherwise returns the
// context as it is with a non-recording span. Give it to the
// instrumentation of clients that background loops use too — SQL, Redis,
// MongoDB — so that the outbox relay's poll every second or a cache
// refresh does not start a trace of its own each time, while every
// statement run for a request or a message shows in its trace.
func ChildSpansOnly(tp trace.TracerProvider) trace.TracerProvider {
	return childOnlyProvider{tp: tp}
}

type childOnlyProvider struct {
	embedded.TracerProvider
	tp trace.TracerProvider
}

func (p childOnlyProvider) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	return childOnlyTracer{t: p.tp.Tracer(name, opts...)}
}

type childOnlyTracer struct {
	embedded.Tracer
	t trace.Tracer
}

func (t childOnlyTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx, trace.SpanFromContext(ctx)
	}
	return t.t.Start(ctx, name, opts...)
}
