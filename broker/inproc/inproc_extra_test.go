package inproc_test

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/broker"
	"github.com/meridian-graphql/meridian/broker/brokertest"
	"github.com/meridian-graphql/meridian/broker/inproc"
)

func TestDeadLettersInspectable(t *testing.T) {
	b := inproc.New(inproc.Options{Logger: slog.New(slog.DiscardHandler)})
	defer b.Close()
	brokertest.Start(t, b, broker.Subscription{Queue: "q", Exchange: broker.ExchangeDataProcessing, Bindings: []string{"user.data"}},
		func(context.Context, broker.Message) error { return broker.Permanent(errors.New("bad json")) })
	m := brokertest.Msg("user.data")
	if err := b.Publish(t.Context(), broker.ExchangeDataProcessing, m); err != nil {
		t.Fatal(err)
	}
	brokertest.WaitDepths(t, b, "q", func(_, dlq int) bool { return dlq == 1 })
	dl := b.DeadLetters("q")
	if len(dl) != 1 || dl[0].Message.ID != m.ID || dl[0].Err != "permanent: bad json" {
		t.Fatalf("dead letters = %+v", dl)
	}
}

// TestCloseWaitsAndLeaksNothing closes the bus with a running consumer, a
// pending retry timer and a blocked handler, and checks every goroutine is
// gone when Close returns.
func TestCloseWaitsAndLeaksNothing(t *testing.T) {
	before := runtime.NumGoroutine()
	b := inproc.New(inproc.Options{Logger: slog.New(slog.DiscardHandler)})
	consumed := make(chan error, 1)
	entered := make(chan struct{}, 2)
	go func() {
		consumed <- b.Consume(context.Background(), broker.Subscription{
			Queue: "q", Exchange: broker.ExchangeDataProcessing, Bindings: []string{"user.data"},
			Backoff: []time.Duration{time.Hour}, // a retry timer that would outlive the bus
		}, func(ctx context.Context, m broker.Message) error {
			entered <- struct{}{}
			if m.ID == "block" {
				<-ctx.Done()
				return ctx.Err()
			}
			return errors.New("retry later")
		})
	}()
	// Wait until the queue exists before publishing.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, _, err := b.Depths(t.Context(), "q"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("queue never declared")
		}
		time.Sleep(time.Millisecond)
	}
	for _, id := range []string{"retry", "block"} {
		m := brokertest.Msg("user.data")
		m.ID = id
		if err := b.Publish(t.Context(), broker.ExchangeDataProcessing, m); err != nil {
			t.Fatal(err)
		}
	}
	<-entered
	<-entered
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-consumed; !errors.Is(err, broker.ErrClosed) {
		t.Fatalf("Consume after Close = %v, want ErrClosed", err)
	}
	if err := b.Publish(t.Context(), broker.ExchangeDataProcessing, brokertest.Msg("user.data")); !errors.Is(err, broker.ErrClosed) {
		t.Fatalf("Publish after Close = %v, want ErrClosed", err)
	}
	// Goroutines from the test itself may take a moment to exit.
	for i := 0; runtime.NumGoroutine() > before && i < 100; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("goroutines: %d before, %d after Close", before, n)
	}
}
