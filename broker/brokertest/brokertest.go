// Package brokertest is the contract suite every broker adapter must pass.
// Keeping one suite is what lets the in-process adapter stand in for
// RabbitMQ: if a behaviour matters to the application it is asserted here,
// against both.
//
// Tested by the adapters it checks: broker/inproc's and broker/rabbit's
// tests run it.
package brokertest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/broker"
)

// Timeouts are generous because RabbitMQ under -race on a loaded CI box is
// slow; passing tests never wait for them.
const (
	waitTimeout = 10 * time.Second
	// quiet is how long we watch for messages that must not arrive.
	quiet = 300 * time.Millisecond
)

// Run runs the contract suite. open must return a fresh, isolated bus (its
// own queue/exchange namespace) and arrange for its cleanup; the suite closes
// the bus itself as well, so Close must be idempotent. The bus must also
// implement broker.Admin.
func Run(t *testing.T, open func(t *testing.T) broker.Bus) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b broker.Bus)
	}{
		{"DirectRouting", testDirect},
		{"TopicWildcards", testTopic},
		{"FanoutToTwoSubscribers", testFanout},
		{"RetryWithGrowingBackoff", testRetry},
		{"DeadLetterReplayPurge", testDeadLetterReplay},
		{"PermanentGoesToDLQAtOnce", testPermanent},
		{"AckOnlyAfterSuccess", testAckAfterSuccess},
		{"SlowSubscriberDoesNotBlockOthers", testSlowSubscriber},
		{"BatchSettlesEachMessage", testBatch},
		{"UnavailableRetriesWithoutSpendingAttempts", testUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := open(t)
			t.Cleanup(func() { _ = b.Close() })
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			if err := b.Ping(ctx); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			tc.fn(t, b)
		})
	}
}

// NewID returns a random message ID.
func NewID() string { return rand.Text() }

// Msg builds a message of type typ with a fresh ID.
func Msg(typ string) broker.Message {
	return broker.Message{
		ID:            NewID(),
		Type:          typ,
		OccurredAt:    time.Now().UTC().Round(time.Microsecond),
		SchemaVersion: 1,
		CorrelationID: "corr-" + NewID()[:8],
		Body:          []byte(`{"k":"v"}`),
	}
}

// Start runs Consume in the background, waits until the subscription is
// attached (Subscription.Ready) and stops it at cleanup. The returned
// function stops it early and waits for Consume to return.
func Start(t *testing.T, b broker.Bus, sub broker.Subscription, h broker.Handler) (stop func()) {
	t.Helper()
	return start(t, sub, func(ctx context.Context, sub broker.Subscription) error { return b.Consume(ctx, sub, h) })
}

// StartBatch is Start for ConsumeBatch.
func StartBatch(t *testing.T, b broker.Bus, sub broker.Subscription, h broker.BatchHandler) (stop func()) {
	t.Helper()
	return start(t, sub, func(ctx context.Context, sub broker.Subscription) error { return b.ConsumeBatch(ctx, sub, h) })
}

func start(t *testing.T, sub broker.Subscription, consume func(context.Context, broker.Subscription) error) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	var once sync.Once
	sub.Ready = func() { once.Do(func() { close(ready) }) }
	done := make(chan error, 1)
	go func() { done <- consume(ctx, sub) }()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("Consume(%s) returned before ready: %v", sub.Queue, err)
	case <-time.After(waitTimeout):
		cancel()
		t.Fatalf("Consume(%s) not ready after %v", sub.Queue, waitTimeout)
	}
	var stopOnce sync.Once
	stop = func() {
		stopOnce.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil && !errors.Is(err, broker.ErrClosed) {
					t.Errorf("Consume(%s): %v", sub.Queue, err)
				}
			case <-time.After(waitTimeout):
				t.Errorf("Consume(%s) did not return after cancel", sub.Queue)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// Collector is a handler that records every message it acks.
type Collector struct{ C chan broker.Message }

// NewCollector returns a collector with room for n messages.
func NewCollector(n int) *Collector { return &Collector{C: make(chan broker.Message, n)} }

// Handle implements broker.Handler.
func (c *Collector) Handle(_ context.Context, m broker.Message) error {
	c.C <- m
	return nil
}

// Expect waits for n messages.
func (c *Collector) Expect(t *testing.T, n int) []broker.Message {
	t.Helper()
	var out []broker.Message
	deadline := time.After(waitTimeout)
	for len(out) < n {
		select {
		case m := <-c.C:
			out = append(out, m)
		case <-deadline:
			t.Fatalf("got %d of %d messages after %v", len(out), n, waitTimeout)
		}
	}
	return out
}

// ExpectNone asserts that nothing more arrives for a short while.
func (c *Collector) ExpectNone(t *testing.T) {
	t.Helper()
	select {
	case m := <-c.C:
		t.Fatalf("unexpected message %s (%s)", m.ID, m.Type)
	case <-time.After(quiet):
	}
}

func publish(t *testing.T, b broker.Bus, exchange string, msgs ...broker.Message) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	if err := b.Publish(ctx, exchange, msgs...); err != nil {
		t.Fatalf("Publish(%s): %v", exchange, err)
	}
}

func admin(t *testing.T, b broker.Bus) broker.Admin {
	t.Helper()
	a, ok := b.(broker.Admin)
	if !ok {
		t.Fatalf("%T does not implement broker.Admin", b)
	}
	return a
}

// WaitDepths polls Depths until cond holds.
func WaitDepths(t *testing.T, b broker.Bus, queue string, cond func(ready, dlq int) bool) {
	t.Helper()
	a := admin(t, b)
	deadline := time.Now().Add(waitTimeout)
	var ready, dlq int
	var err error
	for time.Now().Before(deadline) {
		ready, dlq, err = a.Depths(t.Context(), queue)
		if err == nil && cond(ready, dlq) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("Depths(%s) = ready %d, dlq %d, err %v: condition not met after %v", queue, ready, dlq, err, waitTimeout)
}

func types(ms []broker.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Type
	}
	slices.Sort(out)
	return out
}

func testDirect(t *testing.T, b broker.Bus) {
	c := NewCollector(10)
	Start(t, b, broker.Subscription{Queue: "direct", Exchange: broker.ExchangeDataProcessing, Bindings: []string{"user.data"}}, c.Handle)

	want := Msg("user.data")
	publish(t, b, broker.ExchangeDataProcessing, Msg("user.other"), want)
	got := c.Expect(t, 1)[0]
	c.ExpectNone(t)

	// The envelope must survive the trip field by field.
	if got.ID != want.ID || got.Type != want.Type || !got.OccurredAt.Equal(want.OccurredAt) ||
		got.SchemaVersion != want.SchemaVersion || got.CorrelationID != want.CorrelationID ||
		got.Attempt != 1 || !bytes.Equal(got.Body, want.Body) {
		t.Fatalf("envelope changed:\n got %+v\nwant %+v (Attempt 1)", got, want)
	}
}

func testTopic(t *testing.T, b broker.Bus) {
	email := NewCollector(10)
	any := NewCollector(10)
	Start(t, b, broker.Subscription{Queue: "email", Exchange: broker.ExchangeNotifications, Bindings: []string{"notification.email"}}, email.Handle)
	Start(t, b, broker.Subscription{Queue: "all", Exchange: broker.ExchangeNotifications, Bindings: []string{"notification.*"}}, any.Handle)

	publish(t, b, broker.ExchangeNotifications,
		Msg("notification.email"), Msg("notification.sms"), Msg("notification.email.daily"), Msg("user.created"))

	if got := types(email.Expect(t, 1)); !slices.Equal(got, []string{"notification.email"}) {
		t.Errorf("notification.email queue got %v", got)
	}
	if got := types(any.Expect(t, 2)); !slices.Equal(got, []string{"notification.email", "notification.sms"}) {
		t.Errorf("notification.* queue got %v", got)
	}
	email.ExpectNone(t)
	any.ExpectNone(t)
}

func testFanout(t *testing.T, b broker.Bus) {
	c1, c2 := NewCollector(10), NewCollector(10)
	sub := broker.Subscription{Queue: "live", Exchange: broker.ExchangeAnalytics, Exclusive: true}
	Start(t, b, sub, c1.Handle)
	Start(t, b, sub, c2.Handle)

	msgs := []broker.Message{Msg("event.tracked"), Msg("event.tracked"), Msg("stats.updated")}
	publish(t, b, broker.ExchangeAnalytics, msgs...)
	for i, c := range []*Collector{c1, c2} {
		got := c.Expect(t, len(msgs))
		for j := range msgs {
			if got[j].ID != msgs[j].ID {
				t.Errorf("subscriber %d message %d: got %s want %s", i+1, j, got[j].ID, msgs[j].ID)
			}
		}
		c.ExpectNone(t)
	}
}

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
