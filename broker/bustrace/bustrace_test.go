package bustrace_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/meridian-graphql/meridian/broker"
	"github.com/meridian-graphql/meridian/broker/brokertest"
	"github.com/meridian-graphql/meridian/broker/bustrace"
	"github.com/meridian-graphql/meridian/broker/inproc"
)

func recorder(t *testing.T) (*tracetest.SpanRecorder, *sdktrace.TracerProvider) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return rec, tp
}

func newBus(t *testing.T, tp trace.TracerProvider) *bustrace.Bus {
	b := inproc.New(inproc.Options{Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(func() { _ = b.Close() })
	return bustrace.Wrap(b, tp, bustrace.SystemInproc)
}

// ended waits until the recorder holds a span named name, and returns it.
func ended(t *testing.T, rec *tracetest.SpanRecorder, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, s := range rec.Ended() {
			if s.Name() == name {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no span %q ended; have %v", name, names(rec.Ended()))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func names(spans []sdktrace.ReadOnlySpan) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Name()
	}
	return out
}

func attr(s sdktrace.ReadOnlySpan, key string) attribute.Value {
	for _, kv := range s.Attributes() {
		if string(kv.Key) == key {
			return kv.Value
		}
	}
	return attribute.Value{}
}

func linked(s sdktrace.ReadOnlySpan, sc trace.SpanContext) bool {
	for _, l := range s.Links() {
		if l.SpanContext.TraceID() == sc.TraceID() && l.SpanContext.SpanID() == sc.SpanID() {
			return true
		}
	}
	return false
}

// TestOutboxMessageJoinsItsTrace: a message carrying the context of the
// operation that wrote it (as the outbox stores it), published later from
// a context of its own (the relay's), is published under a PRODUCER span
// that is the child of that operation, and handled under a CONSUMER span
// that is the child of the producer span, in whose context the handler
// runs.
func TestOutboxMessageJoinsItsTrace(t *testing.T) {
	rec, tp := recorder(t)
	b := newBus(t, tp)
	handled := make(chan trace.SpanContext, 1)
	brokertest.Start(t, b, broker.Subscription{Queue: "signup", Exchange: broker.ExchangeDataProcessing, Bindings: []string{"user.created"}},
		func(ctx context.Context, _ broker.Message) error {
			handled <- trace.SpanContextFromContext(ctx)
			return nil
		})

	mctx, mutation := tp.Tracer("test").Start(context.Background(), "mutation")
	m := brokertest.Msg("user.created")
	m.Headers = bustrace.Inject(mctx)
	mutation.End()
	relayCtx, relay := tp.Tracer("test").Start(context.Background(), "relay pass") // another trace
	if err := b.Publish(relayCtx, broker.ExchangeDataProcessing, m); err != nil {
		t.Fatal(err)
	}
	relay.End()
	var inHandler trace.SpanContext
	select {
	case inHandler = <-handled:
	case <-time.After(5 * time.Second):
		t.Fatal("not handled")
	}

	pub := ended(t, rec, "publish data_processing")
	proc := ended(t, rec, "process signup")
	if pub.SpanKind() != trace.SpanKindProducer || proc.SpanKind() != trace.SpanKindConsumer {
		t.Errorf("kinds %v, %v; want producer, consumer", pub.SpanKind(), proc.SpanKind())
	}
	if pub.Parent().SpanID() != mutation.SpanContext().SpanID() || pub.SpanContext().TraceID() != mutation.SpanContext().TraceID() {
		t.Errorf("publish span's parent %v, want the mutation %v", pub.Parent(), mutation.SpanContext())
	}
	if proc.Parent().SpanID() != pub.SpanContext().SpanID() || !proc.Parent().IsRemote() || proc.SpanContext().TraceID() != pub.SpanContext().TraceID() {
		t.Errorf("process span's parent %v, want the publish span %v", proc.Parent(), pub.SpanContext())
	}
	if !linked(proc, pub.SpanContext()) {
		t.Errorf("process span does not link the publish span")
	}
	if inHandler.SpanID() != proc.SpanContext().SpanID() {
		t.Errorf("handler ran in span %v, want the process span %v", inHandler.SpanID(), proc.SpanContext().SpanID())
	}
	for key, want := range map[string]string{
		"messaging.system": "inproc", "messaging.destination.name": "data_processing", "messaging.message.id": m.ID,
		"messaging.operation.type": "send", "meridian.message.type": "user.created",
	} {
		if got := attr(pub, key).AsString(); got != want {
			t.Errorf("publish span %s = %q, want %q", key, got, want)
		}
	}
	for key, want := range map[string]string{
		"messaging.consumer.group.name": "signup", "messaging.operation.type": "process", "messaging.message.id": m.ID,
	} {
		if got := attr(proc, key).AsString(); got != want {
			t.Errorf("process span %s = %q, want %q", key, got, want)
		}
	}
}

// TestPublishUnderCallerSpan: a message with no context of its own is
// published as a child of the caller's span, and the caller's message is
// left as it was.
func TestPublishUnderCallerSpan(t *testing.T) {
	rec, tp := recorder(t)
	b := newBus(t, tp)
	ctx, parent := tp.Tracer("test").Start(context.Background(), "request")
	m := brokertest.Msg("user.created")
	if err := b.Publish(ctx, broker.ExchangeAnalytics, m); err != nil {
		t.Fatal(err)
	}
	parent.End()
	if m.Headers != nil {
		t.Errorf("the caller's message was changed: %v", m.Headers)
	}
	pub := ended(t, rec, "publish analytics")
	if pub.Parent().SpanID() != parent.SpanContext().SpanID() {
		t.Errorf("parent %v, want the request %v", pub.Parent(), parent.SpanContext())
	}
}

// TestBatchLinksEveryMessage: a batch of messages from two traces is
// handled under one CONSUMER span that links both publish spans and
// belongs to neither trace; a failure in it marks the span.
func TestBatchLinksEveryMessage(t *testing.T) {
	rec, tp := recorder(t)
	b := newBus(t, tp)
	sizes := make(chan int, 4)
	brokertest.StartBatch(t, b, broker.Subscription{
		Queue: "ingest", Exchange: broker.ExchangeDataProcessing, Bindings: []string{"event.track"},
		Batch: 2, BatchWait: 2 * time.Second, MaxAttempts: 1,
	}, func(_ context.Context, msgs []broker.Message) error {
		sizes <- len(msgs)
		return broker.BatchErrors{nil, broker.Permanent(errors.New("bad event"))}
	})
	var parents []trace.SpanContext
	var msgs []broker.Message
	for range 2 {
		ctx, s := tp.Tracer("test").Start(context.Background(), "track")
		m := brokertest.Msg("event.track")
		m.Headers = bustrace.Inject(ctx)
		s.End()
		parents, msgs = append(parents, s.SpanContext()), append(msgs, m)
	}
	if err := b.Publish(context.Background(), broker.ExchangeDataProcessing, msgs...); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-sizes:
		if n != 2 {
			t.Fatalf("batch of %d, want 2", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("not handled")
	}
	proc := ended(t, rec, "process ingest")
	var pubs []sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.Name() == "publish data_processing" {
			pubs = append(pubs, s)
		}
	}
	if len(pubs) != 2 {
		t.Fatalf("%d publish spans, want one per message", len(pubs))
	}
	for _, p := range pubs {
		if !linked(proc, p.SpanContext()) {
			t.Errorf("process span does not link publish span %v", p.SpanContext())
		}
		if proc.SpanContext().TraceID() == p.SpanContext().TraceID() {
			t.Errorf("the batch's span joined the trace of one of its messages")
		}
	}
	if got := attr(proc, "messaging.batch.message_count").AsInt64(); got != 2 {
		t.Errorf("batch.message_count = %d, want 2", got)
	}
	if proc.Status().Code != codes.Error || attr(proc, "error.type").AsString() != "permanent" {
		t.Errorf("status %v, error.type %q; want an error, permanent", proc.Status(), attr(proc, "error.type").AsString())
	}
}

// TestContextTravelsWithTracingOff: with the no-op provider nothing is
// recorded, yet the trace context a request came with reaches the
// handler (for its log lines).
func TestContextTravelsWithTracingOff(t *testing.T) {
	b := newBus(t, noop.NewTracerProvider())
	handled := make(chan trace.SpanContext, 1)
	brokertest.Start(t, b, broker.Subscription{Queue: "signup", Exchange: broker.ExchangeDataProcessing, Bindings: []string{"user.created"}},
		func(ctx context.Context, _ broker.Message) error {
			handled <- trace.SpanContextFromContext(ctx)
			return nil
		})
	in := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		SpanID:  trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8}, TraceFlags: trace.FlagsSampled, Remote: true,
	})
	ctx := trace.ContextWithRemoteSpanContext(context.Background(), in)
	if err := b.Publish(ctx, broker.ExchangeDataProcessing, brokertest.Msg("user.created")); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-handled:
		if got.TraceID() != in.TraceID() {
			t.Errorf("handler's trace %v, want the request's %v", got.TraceID(), in.TraceID())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("not handled")
	}
}

// TestInjectExtractEmpty: a context without a trace gives no headers, and
// no headers leave a context as it is.
func TestInjectExtractEmpty(t *testing.T) {
	ctx := context.Background()
	if h := bustrace.Inject(ctx); h != nil {
		t.Errorf("Inject(no trace) = %v, want nil", h)
	}
	if got := bustrace.Extract(ctx, nil); got != ctx {
		t.Error("Extract(nil) changed the context")
	}
}
