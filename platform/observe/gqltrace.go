package observe

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// maxErrorEvents bounds the error events on one span: a list query can
// fail once per element.
const maxErrorEvents = 10

// GraphQL returns the gqlgen extension starting a span per operation (and
// per resolver field when TraceOptions.Fields): srv.Use(t.GraphQL()).
func (t *Tracing) GraphQL() graphql.HandlerExtension {
	if t.fields {
		return gqlTraceFields{gqlTrace{t}}
	}
	// Without field spans the extension is no FieldInterceptor at all, so
	// gqlgen does not call it on every field.
	return gqlTrace{t}
}

// gqlTrace spans operations.
type gqlTrace struct{ t *Tracing }

// gqlTraceFields spans operations and resolver fields.
type gqlTraceFields struct{ gqlTrace }

var (
	_ graphql.ResponseInterceptor = gqlTrace{}
	_ graphql.FieldInterceptor    = gqlTraceFields{}
)

func (gqlTrace) ExtensionName() string                   { return "ObserveTracing" }
func (gqlTrace) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptResponse spans one response: the whole operation for queries
// and mutations, starting when the server started on the request so that
// parsing and validation count; for subscriptions, one event, including
// the wait for it.
func (g gqlTrace) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	op := operationOf(ctx)
	start := time.Now()
	if !op.start.IsZero() && !op.subscription() {
		start = op.start
	}
	name := op.label()
	if op.name == "" {
		name = op.typ // "query": more telling than "anonymous"
	}
	ctx, span := g.t.tracer.Start(ctx, name, trace.WithTimestamp(start))
	resp := next(ctx)
	if resp == nil {
		// The end-of-stream call that streaming transports (WebSocket,
		// SSE) make after the last response, queries included: there was
		// no response, so the span is dropped by not ending it (spans are
		// exported on End), else each such operation would show twice.
		return nil
	}
	defer span.End()
	if !span.IsRecording() {
		return resp
	}
	// Set at the end rather than passed to Start: an unsampled span (or
	// the no-op provider) then costs no attribute allocations.
	span.SetAttributes(
		attribute.String("graphql.operation.type", op.typ),
		attribute.String("graphql.operation.name", op.name),
	)
	if n := len(resp.Errors); n > 0 {
		span.SetAttributes(attribute.Int("graphql.errors.count", n))
		span.SetStatus(codes.Error, resp.Errors[0].Message)
		for i, e := range resp.Errors {
			if i == maxErrorEvents {
				break
			}
			span.AddEvent("graphql.error", trace.WithAttributes(
				attribute.String("message", e.Message),
				attribute.String("graphql.error.path", e.Path.String()),
				attribute.String("graphql.error.code", errorCode(e)),
			))
		}
	}
	return resp
}

// InterceptField spans resolver fields. It does nothing unless the field
// has a resolver and the operation's span is recording (so unsampled
// requests and the no-op provider pay a check per field, no span).
func (g gqlTraceFields) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || !fc.IsResolver || !trace.SpanFromContext(ctx).IsRecording() {
		return next(ctx)
	}
	ctx, span := g.t.tracer.Start(ctx, fc.Object+"."+fc.Field.Name, trace.WithAttributes(
		attribute.String("graphql.field.name", fc.Field.Name),
		attribute.String("graphql.field.type", fc.Object),
		attribute.String("graphql.field.path", fc.Path().String()),
	))
	defer span.End()
	res, err := next(ctx)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	return res, err
}
