package rabbit

import (
	"context"
	"maps"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/meridian-graphql/meridian/broker"
	"github.com/meridian-graphql/meridian/broker/bustrace"
)

// TestTableCarrierRoundTrip: a trace context and baggage injected into an
// AMQP table come back out of it the same, as string headers under their
// W3C names, and the adapter's own x- headers can neither be overwritten
// nor read through the carrier.
func TestTableCarrierRoundTrip(t *testing.T) {
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
		SpanID:     trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
		TraceFlags: trace.FlagsSampled,
		Remote:     true,
	})
	member, err := baggage.NewMember("tenant", "acme")
	if err != nil {
		t.Fatal(err)
	}
	bag, err := baggage.New(member)
	if err != nil {
		t.Fatal(err)
	}
	ctx := baggage.ContextWithBaggage(trace.ContextWithRemoteSpanContext(context.Background(), sc), bag)
	prop := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

	table := amqp.Table{headerAttempt: int64(2)}
	prop.Inject(ctx, TableCarrier(table))
	if got, want := table["traceparent"], "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"; got != want {
		t.Errorf("traceparent header %v, want %q", got, want)
	}
	out := prop.Extract(context.Background(), TableCarrier(table))
	if got := trace.SpanContextFromContext(out); !got.Equal(sc) {
		t.Errorf("extracted %v, want %v", got, sc)
	}
	if got := baggage.FromContext(out).Member("tenant").Value(); got != "acme" {
		t.Errorf("baggage tenant = %q, want acme", got)
	}

	c := TableCarrier(table)
	c.Set(headerAttempt, "99")
	c.Set("X-Attempt", "99")
	if table[headerAttempt] != int64(2) || table["X-Attempt"] != nil {
		t.Errorf("the carrier wrote over the adapter's headers: %v", table)
	}
	for _, k := range c.Keys() {
		if k == headerAttempt {
			t.Errorf("Keys lists %s", k)
		}
	}
}

// TestMessageHeadersRoundTrip: a message's headers go through the wire
// format (encode, then decode as a delivery) unchanged and beside the
// adapter's own, so that the consumer extracts the publisher's span; a
// message without headers comes back without.
func TestMessageHeadersRoundTrip(t *testing.T) {
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		SpanID:  trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8}, TraceFlags: trace.FlagsSampled,
	})
	h := bustrace.Inject(trace.ContextWithSpanContext(context.Background(), sc))
	m := broker.Message{ID: "m1", Type: "user.created", Attempt: 3, SchemaVersion: 1, Headers: h, Body: []byte(`{}`)}
	p := encode(m)
	got := decode(amqp.Delivery{Headers: p.Headers, MessageId: p.MessageId, Type: p.Type, Body: p.Body})
	if !maps.Equal(got.Headers, h) {
		t.Errorf("headers %v, want %v", got.Headers, h)
	}
	if got.Attempt != 3 {
		t.Errorf("attempt %d, want 3", got.Attempt)
	}
	if ext := trace.SpanContextFromContext(bustrace.Extract(context.Background(), got.Headers)); ext.TraceID() != sc.TraceID() || ext.SpanID() != sc.SpanID() {
		t.Errorf("extracted %v, want %v", ext, sc)
	}

	p = encode(broker.Message{ID: "m2", Type: "user.created"})
	if got := decode(amqp.Delivery{Headers: p.Headers}); got.Headers != nil {
		t.Errorf("a message without headers came back with %v", got.Headers)
	}
}
