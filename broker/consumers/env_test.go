package consumers_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/analytics/sqlstore"
	"github.com/meridian-graphql/meridian/broker"
	"github.com/meridian-graphql/meridian/broker/consumers"
	"github.com/meridian-graphql/meridian/broker/outbox"
	"github.com/meridian-graphql/meridian/internal/testbus"
	"github.com/meridian-graphql/meridian/live"
	"github.com/meridian-graphql/meridian/platform/database"
	"github.com/meridian-graphql/meridian/store"
)

// delivery is one handled message as the Observe hook saw it.
type delivery struct {
	queue     string
	msg       broker.Message
	err       error
	at        time.Time
	attempt   int
	deferrals int
	dead      bool // the consumers said the failure dead-letters it
}

// observer records every handled message.
type observer struct {
	mu  sync.Mutex
	all []delivery
}

func (o *observer) observe(queue string, m broker.Message, err error, dead bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.all = append(o.all, delivery{queue: queue, msg: m, err: err, at: time.Now(), attempt: m.Attempt, deferrals: m.Deferrals, dead: dead})
}

// of returns the deliveries of queue, optionally only those of message id.
func (o *observer) of(queue, id string) []delivery {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []delivery
	for _, d := range o.all {
		if d.queue == queue && (id == "" || d.msg.ID == id) {
			out = append(out, d)
		}
	}
	return out
}

// env is one server instance's worth of wiring: database, event store,
// store with outbox, relay, live hub and consumers over a bus.
type env struct {
	db     *database.DB
	events *sqlstore.Store
	store  *store.Store
	relay  *outbox.Relay
	hub    *live.Hub
	obs    *observer
}

func logger() *slog.Logger { return testbus.Logger() }

// start wires an instance over db and bus and waits until its consumers are
// attached; everything stops at cleanup.
func start(t *testing.T, db *database.DB, bus broker.Bus, backoff []time.Duration) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	events, err := sqlstore.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if err := outbox.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := consumers.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	e := &env{db: db, events: events, relay: outbox.NewRelay(db, bus, logger()), hub: live.New(bus, logger()), obs: &observer{}}
	e.store = store.New(db.Client, store.Config{Outbox: outbox.NewWriter(db)})
	svc := &analytics.Service{Store: events, Policy: analytics.DefaultPolicy(), OnStored: func(_ context.Context, evs []analytics.Event) { e.hub.Stored(evs) }}
	cs := consumers.New(consumers.Deps{Bus: bus, DB: db, Events: svc, Log: logger(), Backoff: backoff, Observe: e.obs.observe})
	ready := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := cs.Run(ctx, func() { close(ready) }); err != nil {
			t.Errorf("consumers: %v", err)
		}
	}()
	go func() {
		defer wg.Done()
		_ = e.hub.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	select {
	case <-ready:
	case <-time.After(15 * time.Second):
		t.Fatal("consumers not attached after 15s")
	}
	return e
}

// eventually polls cond until it holds or 30 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	waitFor(t, 30*time.Second, what, cond)
}

// waitFor polls cond until it holds or within passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// count runs a COUNT query.
func count(t *testing.T, db *database.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.SQL().QueryRowContext(context.Background(), db.Rebind(q), args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}
