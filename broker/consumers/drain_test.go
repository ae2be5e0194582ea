package consumers_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/analytics/sqlstore"
	"github.com/meridian-graphql/meridian/broker"
	"github.com/meridian-graphql/meridian/broker/consumers"
	"github.com/meridian-graphql/meridian/internal/testdb"
)

// heldStore is the real event store with its inserts held at a gate: the
// test stops the consumers while a batch is inside its handler.
type heldStore struct {
	*sqlstore.Store
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func (s *heldStore) Insert(ctx context.Context, evs []analytics.Event) (int, error) {
	s.once.Do(func() { close(s.entered) })
	<-s.release
	return s.Store.Insert(ctx, evs)
}

// TestStopFinishesBatchInHand stops the consumers (RunUntil's stop, as the
// server's shutdown does) while an ingest batch is inside its handler, on
// RabbitMQ: the batch must finish, be stored and acked, and not come back
// to the next instance. Before, the stop cancelled the handler's context,
// the insert failed and the message was handed back for another instance
// to do again.
func TestStopFinishesBatchInHand(t *testing.T) {
	bus := openRabbit(t, 1)[0]
	db := testdb.Open(t, "postgres")
	ctx := context.Background()
	real, err := sqlstore.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if err := consumers.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	held := &heldStore{Store: real, entered: make(chan struct{}), release: make(chan struct{})}
	obs := &observer{}
	cs := consumers.New(consumers.Deps{Bus: bus, DB: db, Events: &analytics.Service{Store: held, Policy: analytics.DefaultPolicy()}, Log: logger(), Observe: obs.observe})
	stop, stopNow := context.WithCancel(ctx)
	hard, cancelHard := context.WithTimeout(ctx, 20*time.Second)
	defer cancelHard()
	ready, done := make(chan struct{}), make(chan error, 1)
	go func() { done <- cs.RunUntil(stop, hard, func() { close(ready) }) }()
	<-ready

	at := time.Now().UTC().Add(-time.Minute)
	if err := bus.Publish(ctx, broker.ExchangeDataProcessing, trackMessage("held", 1, at)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-held.entered:
	case <-time.After(15 * time.Second):
		t.Fatal("the message never reached the store")
	}
	stopNow()
	time.AfterFunc(200*time.Millisecond, func() { close(held.release) }) // the insert goes on after the stop
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("RunUntil did not return after its stop")
	}
	first := obs.of(consumers.QueueIngest, "msg-held")
	if len(first) != 1 || first[0].err != nil {
		var errs []error
		for _, d := range first {
			errs = append(errs, d.err)
		}
		t.Fatalf("the batch in hand at the stop: handled %d times, errors %v; want once without error", len(first), errs)
	}

	// The next instance gets a sentinel published after it, and not the
	// message again: queues are FIFO, a handed-back message comes first.
	next := &observer{}
	cs2 := consumers.New(consumers.Deps{Bus: bus, DB: db, Events: &analytics.Service{Store: real, Policy: analytics.DefaultPolicy()}, Log: logger(), Observe: next.observe})
	ctx2, cancel2 := context.WithCancel(ctx)
	ready2, done2 := make(chan struct{}), make(chan error, 1)
	go func() { done2 <- cs2.Run(ctx2, func() { close(ready2) }) }()
	defer func() { cancel2(); <-done2 }()
	<-ready2
	if err := bus.Publish(ctx, broker.ExchangeDataProcessing, trackMessage("sentinel", 1, at)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "the sentinel is handled", func() bool { return len(next.of(consumers.QueueIngest, "msg-sentinel")) > 0 })
	again := next.of(consumers.QueueIngest, "msg-held")
	t.Logf("message in hand at the stop: handled %d, redelivered to the next instance %d", len(first), len(again))
	if len(again) != 0 {
		t.Errorf("the message in hand at the stop came back to the next instance %d times", len(again))
	}
}
