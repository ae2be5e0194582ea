package bustrace_test

import (
	"context"
	"log/slog"
	"testing"

	"go.opentelemetry.io/otel/trace/noop"

	"github.com/meridian-graphql/meridian/broker"
	"github.com/meridian-graphql/meridian/broker/brokertest"
	"github.com/meridian-graphql/meridian/broker/bustrace"
	"github.com/meridian-graphql/meridian/broker/inproc"
)

// BenchmarkRoundTrip: one message published and handled on the
// in-process bus, bare and wrapped on the no-op provider (the app with
// tracing off): the price of carrying trace context when nothing records.
func BenchmarkRoundTrip(b *testing.B) {
	for _, wrapped := range []bool{false, true} {
		name := "bare"
		if wrapped {
			name = "wrapped-noop"
		}
		b.Run(name, func(b *testing.B) {
			var bus broker.Bus = inproc.New(inproc.Options{Logger: slog.New(slog.DiscardHandler)})
			b.Cleanup(func() { _ = bus.Close() })
			if wrapped {
				bus = bustrace.Wrap(bus, noop.NewTracerProvider(), bustrace.SystemInproc)
			}
			done := make(chan struct{}, 1)
			ctx, cancel := context.WithCancel(context.Background())
			ready := make(chan struct{})
			go func() {
				_ = bus.Consume(ctx, broker.Subscription{Queue: "bench", Exchange: broker.ExchangeDataProcessing, Bindings: []string{"user.created"},
					Ready: func() { close(ready) }}, func(context.Context, broker.Message) error { done <- struct{}{}; return nil })
			}()
			<-ready
			b.Cleanup(cancel)
			m := brokertest.Msg("user.created")
			b.ReportAllocs()
			for b.Loop() {
				if err := bus.Publish(ctx, broker.ExchangeDataProcessing, m); err != nil {
					b.Fatal(err)
				}
				<-done
			}
		})
	}
}
