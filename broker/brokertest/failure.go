// Contract cases on failed deliveries: retries with growing backoff,
// dead-letter replay and purge, permanent failures, and outages that must
// not spend attempts.

package brokertest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/broker"
)

func testRetry(t *testing.T, b broker.Bus) {
	type seen struct {
		attempt int
		at      time.Time
	}
	var mu sync.Mutex
	var log []seen
	done := make(chan struct{})
	backoff := []time.Duration{100 * time.Millisecond, 300 * time.Millisecond}
	Start(t, b, broker.Subscription{
		Queue: "retry", Exchange: broker.ExchangeDataProcessing, Bindings: []string{"user.data"},
		MaxAttempts: 3, Backoff: backoff,
	}, func(_ context.Context, m broker.Message) error {
		mu.Lock()
		defer mu.Unlock()
		log = append(log, seen{m.Attempt, time.Now()})
		if m.Attempt < 3 {
			return fmt.Errorf("transient failure on attempt %d", m.Attempt)
		}
		close(done)
		return nil
	})
	publish(t, b, broker.ExchangeDataProcessing, Msg("user.data"))
	select {
	case <-done:
	case <-time.After(waitTimeout):
		t.Fatal("message never succeeded")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(log) != 3 || log[0].attempt != 1 || log[1].attempt != 2 || log[2].attempt != 3 {
		t.Fatalf("attempts = %+v, want 1,2,3", log)
	}
	for i, want := range backoff {
		// Allow a little timer slack below the nominal delay.
		if gap := log[i+1].at.Sub(log[i].at); gap < want-10*time.Millisecond {
			t.Errorf("delay before attempt %d = %v, want >= %v", i+2, gap, want)
		}
	}
	WaitDepths(t, b, "retry", func(ready, dlq int) bool { return ready == 0 && dlq == 0 })
}

func testDeadLetterReplay(t *testing.T, b broker.Bus) {
	var failing atomic.Bool
	failing.Store(true)
	var calls atomic.Int32
	ok := NewCollector(10)
	Start(t, b, broker.Subscription{
		Queue: "dlq", Exchange: broker.ExchangeDataProcessing, Bindings: []string{"user.data"},
		Backoff: []time.Duration{20 * time.Millisecond, 40 * time.Millisecond}, // MaxAttempts defaults to 3
	}, func(ctx context.Context, m broker.Message) error {
		calls.Add(1)
		if failing.Load() {
			return errors.New("always failing")
		}
		return ok.Handle(ctx, m)
	})
	msg := Msg("user.data")
	publish(t, b, broker.ExchangeDataProcessing, msg)
	WaitDepths(t, b, "dlq", func(_, dlq int) bool { return dlq == 1 })
	time.Sleep(quiet) // nothing further may be delivered once dead-lettered
	if n := calls.Load(); n != 3 {
		t.Fatalf("handler called %d times before dead-lettering, want 3", n)
	}

	failing.Store(false)
	n, err := admin(t, b).ReplayDeadLetters(t.Context(), "dlq", 0)
	if err != nil || n != 1 {
		t.Fatalf("ReplayDeadLetters = %d, %v; want 1", n, err)
	}
	got := ok.Expect(t, 1)[0]
	if got.ID != msg.ID || got.Attempt != 1 {
		t.Fatalf("replayed message = %s attempt %d, want %s attempt 1", got.ID, got.Attempt, msg.ID)
	}
	WaitDepths(t, b, "dlq", func(ready, dlq int) bool { return ready == 0 && dlq == 0 })

	// Purge: dead-letter two more and drop them.
	failing.Store(true)
	publish(t, b, broker.ExchangeDataProcessing, Msg("user.data"), Msg("user.data"))
	WaitDepths(t, b, "dlq", func(_, dlq int) bool { return dlq == 2 })
	n, err = admin(t, b).PurgeDeadLetters(t.Context(), "dlq")
	if err != nil || n != 2 {
		t.Fatalf("PurgeDeadLetters = %d, %v; want 2", n, err)
	}
	WaitDepths(t, b, "dlq", func(_, dlq int) bool { return dlq == 0 })
}

func testPermanent(t *testing.T, b broker.Bus) {
	var calls atomic.Int32
	Start(t, b, broker.Subscription{
		Queue: "perm", Exchange: broker.ExchangeDataProcessing, Bindings: []string{"user.data"},
		MaxAttempts: 5, Backoff: []time.Duration{10 * time.Millisecond},
	}, func(_ context.Context, m broker.Message) error {
		calls.Add(1)
		return broker.Permanent(fmt.Errorf("malformed %s", m.ID))
	})
	publish(t, b, broker.ExchangeDataProcessing, Msg("user.data"))
	WaitDepths(t, b, "perm", func(_, dlq int) bool { return dlq == 1 })
	time.Sleep(quiet)
	if n := calls.Load(); n != 1 {
		t.Fatalf("permanent failure handled %d times, want 1", n)
	}
}

// testUnavailable: a dependency outage longer than the whole backoff
// schedule must not dead-letter a good message. Unavailable failures are
// retried with growing delays (capped at the last step) and leave Attempt
// alone.
func testUnavailable(t *testing.T, b broker.Bus) {
	const outage = 4 // failed deliveries before the dependency is back
	var mu sync.Mutex
	var times []time.Time
	var seen []broker.Message
	done := make(chan struct{})
	Start(t, b, broker.Subscription{
		Queue: "unavail", Exchange: broker.ExchangeDataProcessing, Bindings: []string{"user.data"},
		MaxAttempts: 3, Backoff: []time.Duration{20 * time.Millisecond, 80 * time.Millisecond},
	}, func(_ context.Context, m broker.Message) error {
		mu.Lock()
		defer mu.Unlock()
		times = append(times, time.Now())
		seen = append(seen, m)
		if len(times) <= outage {
			return broker.Unavailable(errors.New("store restarting"))
		}
		close(done)
		return nil
	})
	publish(t, b, broker.ExchangeDataProcessing, Msg("user.data"))
	select {
	case <-done:
	case <-time.After(waitTimeout):
		t.Fatal("message not handled after the outage")
	}
	WaitDepths(t, b, "unavail", func(ready, dlq int) bool { return ready == 0 && dlq == 0 })
	time.Sleep(quiet)
	mu.Lock()
	defer mu.Unlock()
	if len(times) != outage+1 {
		t.Fatalf("handled %d times, want %d", len(times), outage+1)
	}
	want := []time.Duration{20 * time.Millisecond, 80 * time.Millisecond, 80 * time.Millisecond, 80 * time.Millisecond}
	for i, w := range want {
		if gap := times[i+1].Sub(times[i]); gap < w {
			t.Errorf("retry %d came after %v, want at least %v", i+1, gap, w)
		}
		if m := seen[i+1]; m.Attempt != 1 || m.Deferrals != i+1 {
			t.Errorf("delivery %d: attempt %d, deferrals %d; want 1 and %d", i+2, m.Attempt, m.Deferrals, i+1)
		}
	}
}
