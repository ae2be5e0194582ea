// The helpers the contract cases share (the exported ones serve the
// adapters' own tests too): message builders, background consumers, the
// Collector, publish and the Depths poll.

package brokertest

import (
	"context"
	"crypto/rand"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/broker"
)

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
