package observe

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
)

// GraphQL returns the gqlgen extension recording operation latency, errors
// and SQL statements per operation: srv.Use(m.GraphQL()).
//
// It is a response interceptor only. Errors are attributed to their schema
// field from the error's path once the response is complete, which costs
// nothing on the (many) fields that do not fail, where a field interceptor
// would run on every field of every response.
func (m *Metrics) GraphQL() graphql.HandlerExtension { return gqlMetrics{m} }

type gqlMetrics struct{ m *Metrics }

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = gqlMetrics{}

func (gqlMetrics) ExtensionName() string                   { return "ObserveMetrics" }
func (gqlMetrics) Validate(graphql.ExecutableSchema) error { return nil }

func (g gqlMetrics) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	start := time.Now()
	resp := next(ctx)
	if resp == nil {
		return nil // end of a stream: nothing was answered
	}
	m := g.m
	op := operationOf(ctx)
	if len(resp.Errors) > 0 {
		def := op.definition()
		for _, e := range resp.Errors {
			m.gqlErrors.WithLabelValues(errorField(def, e), m.codes.admit(errorCode(e))).Inc()
		}
	}
	if op.subscription() {
		// Each event of a subscription passes here; its "duration" would be
		// the wait for the event, and its statements belong to that event.
		return resp
	}
	name := m.ops.admit(op.label())
	observe(ctx, m.opDuration.WithLabelValues(name, op.typ), op.since(start).Seconds())
	if m.statementsOf != nil {
		m.sqlStatements.WithLabelValues(name, op.typ).Observe(float64(m.statementsOf(ctx)))
	}
	return resp
}

// observe records v, with the trace id as an exemplar when the request is
// sampled, so that a latency spike on a dashboard links to a trace.
func observe(ctx context.Context, o prometheus.Observer, v float64) {
	if sc := trace.SpanContextFromContext(ctx); sc.IsSampled() {
		if eo, ok := o.(prometheus.ExemplarObserver); ok {
			eo.ObserveWithExemplar(v, prometheus.Labels{"trace_id": sc.TraceID().String()})
			return
		}
	}
	o.Observe(v)
}
