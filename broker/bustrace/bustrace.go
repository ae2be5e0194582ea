// Package bustrace traces the bus and carries trace context across it.
//
// A message carries the W3C trace context of the operation that caused it
// in its broker.Headers ("traceparent", "tracestate", "baggage"), which
// the adapters deliver as they are (RabbitMQ: AMQP string headers). Wrap
// puts a PRODUCER span around every message published ("publish
// data_processing") and a CONSUMER span around every handler call
// ("process signup"), with the messaging semantic conventions' attributes.
//
// The parent of a publish span is the context the message already carries
// when it has one — the outbox stores the mutation's context with the row
// (Inject) and the relay publishes it later, from a loop of its own — else
// the caller's. The span's own context then replaces the message's
// headers, so the consumer's span is the child of the publish span: one
// trace runs from the mutation through the relay to every consumer. A
// batch of several messages cannot have several parents: its span starts
// a trace of its own, linked to each message's publish span.
//
// With the no-op provider (tracing off) no span records, but a trace
// context that came in with a request still travels with its messages;
// messages without one pass through untouched.
package bustrace

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/meridian-graphql/meridian/broker"
)

const tracerName = "github.com/meridian-graphql/meridian/broker/bustrace"

// Values of messaging.system: RabbitMQ's from the semantic conventions,
// and the in-process bus's own.
const (
	SystemRabbitMQ = "rabbitmq"
	SystemInproc   = "inproc"
)

// Inject returns the propagation headers of ctx — its span's trace context
// and its baggage — or nil when it has neither.
func Inject(ctx context.Context) broker.Headers {
	if !trace.SpanContextFromContext(ctx).IsValid() && baggage.FromContext(ctx).Len() == 0 {
		return nil
	}
	h := broker.Headers{}
	w3c{}.Inject(ctx, h)
	if len(h) == 0 {
		return nil
	}
	return h
}

// Extract returns ctx with the trace context and baggage that h carries;
// ctx as it is when h carries none.
func Extract(ctx context.Context, h broker.Headers) context.Context {
	if len(h) == 0 {
		return ctx
	}
	return w3c{}.Extract(ctx, h)
}

// spanContextOf is the span context that h carries, invalid when none.
func spanContextOf(h broker.Headers) trace.SpanContext {
	if len(h) == 0 {
		return trace.SpanContext{}
	}
	return trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(), h))
}

// w3c is the W3C trace context and baggage propagator, the same as the
// HTTP middleware's (observe.Tracing), without the composite's allocation.
type w3c struct{}

var _ propagation.TextMapPropagator = w3c{}

func (w3c) Inject(ctx context.Context, c propagation.TextMapCarrier) {
	propagation.TraceContext{}.Inject(ctx, c)
	propagation.Baggage{}.Inject(ctx, c)
}

func (w3c) Extract(ctx context.Context, c propagation.TextMapCarrier) context.Context {
	return propagation.Baggage{}.Extract(propagation.TraceContext{}.Extract(ctx, c), c)
}

func (w3c) Fields() []string {
	return append(propagation.TraceContext{}.Fields(), propagation.Baggage{}.Fields()...)
}

// Bus is a broker.Bus whose publishes and handlers are traced.
type Bus struct {
	broker.Bus
	tracer trace.Tracer
	system string
	// off: tp is the no-op provider. Messages and contexts without trace
	// context then pass straight through, costing nothing.
	off bool
	// publishNames are the span names of the topology's exchanges, made
	// once rather than per message.
	publishNames map[string]string
}

// Wrap traces b on tp; system is the messaging.system attribute
// (SystemRabbitMQ, SystemInproc).
func Wrap(b broker.Bus, tp trace.TracerProvider, system string) *Bus {
	names := map[string]string{}
	for _, ex := range broker.Exchanges() {
		names[ex] = "publish " + ex
	}
	_, off := tp.(noop.TracerProvider)
	return &Bus{Bus: b, tracer: tp.Tracer(tracerName), system: system, off: off, publishNames: names}
}

// untraced reports whether tracing is off and neither ctx nor any of msgs
// carries a trace context, so that there is nothing to do.
func (b *Bus) untraced(ctx context.Context, msgs ...broker.Message) bool {
	if !b.off || trace.SpanContextFromContext(ctx).IsValid() || baggage.FromContext(ctx).Len() > 0 {
		return false
	}
	for _, m := range msgs {
		if len(m.Headers) > 0 {
			return false
		}
	}
	return true
}

// Publish publishes msgs, each under a PRODUCER span whose context replaces
// the message's headers.
func (b *Bus) Publish(ctx context.Context, exchange string, msgs ...broker.Message) error {
	if b.untraced(ctx, msgs...) {
		return b.Bus.Publish(ctx, exchange, msgs...)
	}
	name, ok := b.publishNames[exchange]
	if !ok {
		name = "publish " + exchange
	}
	out := make([]broker.Message, len(msgs))
	spans := make([]trace.Span, len(msgs))
	for i, m := range msgs {
		sctx, span := b.tracer.Start(Extract(ctx, m.Headers), name, trace.WithSpanKind(trace.SpanKindProducer))
		if span.IsRecording() {
			span.SetAttributes(b.publishAttrs(exchange, m)...)
		}
		if h := Inject(sctx); h != nil {
			m.Headers = merge(m.Headers, h)
		}
		out[i], spans[i] = m, span
	}
	err := b.Bus.Publish(ctx, exchange, out...)
	for _, span := range spans {
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}
	return err
}

// merge returns the headers of a message with the propagation headers h
// over them, in a new map: the caller's is left alone.
func merge(old, h broker.Headers) broker.Headers {
	if len(old) == 0 {
		return h
	}
	out := make(broker.Headers, len(old)+len(h))
	for k, v := range old {
		out[k] = v
	}
	for k, v := range h {
		out[k] = v
	}
	return out
}

func (b *Bus) publishAttrs(exchange string, m broker.Message) []attribute.KeyValue {
	attrs := []attribute.KeyValue{
		attribute.String("messaging.system", b.system),
		attribute.String("messaging.operation.type", "send"),
		attribute.String("messaging.operation.name", "publish"),
		attribute.String("messaging.destination.name", exchange),
		attribute.String("messaging.message.id", m.ID),
		attribute.Int("messaging.message.body.size", len(m.Body)),
	}
	return append(attrs, b.messageAttrs(m)...)
}

// messageAttrs are the attributes of one message that both sides record.
func (b *Bus) messageAttrs(m broker.Message) []attribute.KeyValue {
	var attrs []attribute.KeyValue
	if b.system == SystemRabbitMQ {
		attrs = append(attrs, attribute.String("messaging.rabbitmq.destination.routing_key", m.Type))
	} else {
		attrs = append(attrs, attribute.String("meridian.message.type", m.Type))
	}
	if m.CorrelationID != "" {
		attrs = append(attrs, attribute.String("messaging.message.conversation_id", m.CorrelationID))
	}
	return attrs
}

// Consume runs h under a CONSUMER span per message.
func (b *Bus) Consume(ctx context.Context, sub broker.Subscription, h broker.Handler) error {
	p := b.process(sub)
	one := func(ctx context.Context, msgs []broker.Message) error { return h(ctx, msgs[0]) }
	return b.Bus.Consume(ctx, sub, func(ctx context.Context, m broker.Message) error {
		if b.untraced(ctx, m) {
			return h(ctx, m)
		}
		return p(ctx, []broker.Message{m}, one)
	})
}

// ConsumeBatch runs h under a CONSUMER span per batch.
func (b *Bus) ConsumeBatch(ctx context.Context, sub broker.Subscription, h broker.BatchHandler) error {
	p := b.process(sub)
	return b.Bus.ConsumeBatch(ctx, sub, func(ctx context.Context, msgs []broker.Message) error {
		return p(ctx, msgs, h)
	})
}

// process returns the tracing of sub's handler calls. One message: the
// span is the child of its publish span (and links it, as the conventions
// ask), and its baggage comes along. Several: the span links every
// message's publish span and has no parent from any of them.
func (b *Bus) process(sub broker.Subscription) func(context.Context, []broker.Message, broker.BatchHandler) error {
	dest := sub.Queue
	if dest == "" {
		dest = sub.Exchange
	}
	name := "process " + dest
	return func(ctx context.Context, msgs []broker.Message, h broker.BatchHandler) error {
		if b.untraced(ctx, msgs...) {
			return h(ctx, msgs)
		}
		opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindConsumer)}
		for _, m := range msgs {
			if sc := spanContextOf(m.Headers); sc.IsValid() {
				opts = append(opts, trace.WithLinks(trace.Link{SpanContext: sc}))
			}
		}
		if len(msgs) == 1 {
			ctx = Extract(ctx, msgs[0].Headers)
		}
		ctx, span := b.tracer.Start(ctx, name, opts...)
		defer span.End()
		err := h(ctx, msgs)
		if span.IsRecording() {
			b.processAttrs(span, sub, msgs, err)
		}
		return err
	}
}

func (b *Bus) processAttrs(span trace.Span, sub broker.Subscription, msgs []broker.Message, err error) {
	span.SetAttributes(
		attribute.String("messaging.system", b.system),
		attribute.String("messaging.operation.type", "process"),
		attribute.String("messaging.operation.name", "process"),
		attribute.String("messaging.destination.name", sub.Exchange),
	)
	if sub.Queue != "" && !sub.Exclusive {
		span.SetAttributes(attribute.String("messaging.consumer.group.name", sub.Queue))
	}
	if len(msgs) == 1 {
		m := msgs[0]
		span.SetAttributes(attribute.String("messaging.message.id", m.ID), attribute.Int("meridian.message.attempt", m.Attempt))
		span.SetAttributes(b.messageAttrs(m)...)
	} else {
		span.SetAttributes(attribute.Int("messaging.batch.message_count", len(msgs)))
	}
	failed, first := 0, error(nil)
	for _, e := range broker.Outcomes(len(msgs), err) {
		if e != nil {
			if first == nil {
				first = e
			}
			failed++
		}
	}
	if failed == 0 {
		return
	}
	span.RecordError(first)
	span.SetAttributes(attribute.String("error.type", errorType(first)))
	msg := first.Error()
	if len(msgs) > 1 {
		msg = fmt.Sprintf("%d of %d messages failed; first: %v", failed, len(msgs), first)
	}
	span.SetStatus(codes.Error, msg)
}

// errorType classifies a handler's failure by what the bus does with it.
func errorType(err error) string {
	switch {
	case broker.IsPermanent(err):
		return "permanent"
	case broker.IsUnavailable(err):
		return "unavailable"
	}
	return "retry"
}
