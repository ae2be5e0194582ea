// Contract cases on settling deliveries: ack only after success, a slow
// subscriber not blocking others, and batches settled message by message.

package brokertest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/broker"
)

func testAckAfterSuccess(t *testing.T, b broker.Bus) {
	sub := broker.Subscription{
		Queue: "ack", Exchange: broker.ExchangeDataProcessing, Bindings: []string{"user.data"},
		Backoff: []time.Duration{20 * time.Millisecond},
	}
	// 1. A handler that blocks and then errors: the message must come back.
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	ok := NewCollector(10)
	stop := Start(t, b, sub, func(ctx context.Context, m broker.Message) error {
		if m.Attempt == 1 {
			entered <- struct{}{}
			<-release
			return errors.New("failed after blocking")
		}
		return ok.Handle(ctx, m)
	})
	msg := Msg("user.data")
	publish(t, b, broker.ExchangeDataProcessing, msg)
	select {
	case <-entered:
	case <-time.After(waitTimeout):
		t.Fatal("handler never entered")
	}
	close(release)
	if got := ok.Expect(t, 1)[0]; got.ID != msg.ID || got.Attempt != 2 {
		t.Fatalf("got %s attempt %d, want %s attempt 2", got.ID, got.Attempt, msg.ID)
	}
	stop()

	// 2. A consumer stopped while its handler is blocked: another consumer of
	// the queue must still get the message.
	entered2 := make(chan struct{}, 1)
	stop = Start(t, b, sub, func(ctx context.Context, _ broker.Message) error {
		entered2 <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	})
	msg2 := Msg("user.data")
	publish(t, b, broker.ExchangeDataProcessing, msg2)
	select {
	case <-entered2:
	case <-time.After(waitTimeout):
		t.Fatal("blocking handler never entered")
	}
	stop()
	ok2 := NewCollector(10)
	Start(t, b, sub, ok2.Handle)
	if got := ok2.Expect(t, 1)[0]; got.ID != msg2.ID {
		t.Fatalf("got %s, want %s", got.ID, msg2.ID)
	}
}

func testSlowSubscriber(t *testing.T, b broker.Bus) {
	Start(t, b, broker.Subscription{Queue: "slow", Exchange: broker.ExchangeDataProcessing, Bindings: []string{"user.data"}, Prefetch: 1},
		func(ctx context.Context, _ broker.Message) error {
			<-ctx.Done() // never finishes until the test ends
			return ctx.Err()
		})
	fast := NewCollector(100)
	Start(t, b, broker.Subscription{Queue: "fast", Exchange: broker.ExchangeNotifications, Bindings: []string{"notification.#"}}, fast.Handle)

	// Flood the slow queue from the side; an adapter with bounded buffers
	// may legitimately block this publisher, but nobody else.
	floodCtx, cancelFlood := context.WithCancel(t.Context())
	flooded := make(chan struct{})
	go func() {
		defer close(flooded)
		batch := make([]broker.Message, 300)
		for i := range batch {
			batch[i] = Msg("user.data")
		}
		_ = b.Publish(floodCtx, broker.ExchangeDataProcessing, batch...)
	}()
	defer func() { cancelFlood(); <-flooded }()

	start := time.Now()
	for range 20 {
		publish(t, b, broker.ExchangeNotifications, Msg("notification.email"))
	}
	fast.Expect(t, 20)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("fast queue took %v while another queue was stuck", d)
	}
}

// testBatch checks that ConsumeBatch groups messages published together and
// settles each by its own outcome: one failure in a batch is retried alone
// and dead-lettered after its attempts, the others are acked once.
func testBatch(t *testing.T, b broker.Bus) {
	const n = 20
	var mu sync.Mutex
	calls := map[string]int{}
	maxBatch := 0
	poison := ""
	StartBatch(t, b, broker.Subscription{
		Queue: "batch", Exchange: broker.ExchangeDataProcessing, Bindings: []string{"user.data"},
		Batch: 8, BatchWait: 500 * time.Millisecond, MaxAttempts: 3, Backoff: []time.Duration{10 * time.Millisecond},
	}, func(_ context.Context, msgs []broker.Message) error {
		mu.Lock()
		defer mu.Unlock()
		maxBatch = max(maxBatch, len(msgs))
		errs := make(broker.BatchErrors, len(msgs))
		for i, m := range msgs {
			calls[m.ID]++
			if m.ID == poison {
				errs[i] = fmt.Errorf("cannot process %s (attempt %d)", m.ID, m.Attempt)
			}
		}
		return errs
	})
	msgs := make([]broker.Message, n)
	for i := range msgs {
		msgs[i] = Msg("user.data")
	}
	mu.Lock()
	poison = msgs[5].ID
	mu.Unlock()
	publish(t, b, broker.ExchangeDataProcessing, msgs...)
	WaitDepths(t, b, "batch", func(ready, dlq int) bool { return ready == 0 && dlq == 1 })
	time.Sleep(quiet)
	mu.Lock()
	defer mu.Unlock()
	if maxBatch < 2 || maxBatch > 8 {
		t.Errorf("largest batch %d, want between 2 and 8 (messages published together are grouped, never more than Batch)", maxBatch)
	}
	for _, m := range msgs {
		want := 1
		if m.ID == poison {
			want = 3
		}
		if calls[m.ID] != want {
			t.Errorf("message %s handled %d times, want %d", m.ID, calls[m.ID], want)
		}
	}
}
