package consumers_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/analytics/sqlstore"
	"github.com/meridian-graphql/meridian/broker"
	"github.com/meridian-graphql/meridian/broker/consumers"
	"github.com/meridian-graphql/meridian/broker/inproc"
	"github.com/meridian-graphql/meridian/internal/fixture"
	"github.com/meridian-graphql/meridian/internal/testdb"
)

// fuzzBackend is the database of the fuzz targets: SQLite unless
// MERIDIAN_FUZZ_BACKEND names another testdb backend ("postgres").
func fuzzBackend() string {
	if b := os.Getenv("MERIDIAN_FUZZ_BACKEND"); b != "" {
		return b
	}
	return "sqlite"
}

// fuzzOutcomes collects what the Observe hook saw, by message id.
type fuzzOutcomes struct {
	mu   sync.Mutex
	seen map[string][]fuzzOutcome
	wake chan struct{}
}

type fuzzOutcome struct {
	queue   string
	attempt int
	err     error
}

func (o *fuzzOutcomes) observe(queue string, m broker.Message, err error, _ bool) {
	o.mu.Lock()
	o.seen[m.ID] = append(o.seen[m.ID], fuzzOutcome{queue, m.Attempt, err})
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// wait returns the first-attempt outcome of id on queue.
func (o *fuzzOutcomes) wait(id, queue string, within time.Duration) (fuzzOutcome, bool) {
	deadline := time.After(within)
	for {
		o.mu.Lock()
		for _, x := range o.seen[id] {
			if x.queue == queue && x.attempt == 1 {
				o.mu.Unlock()
				return x, true
			}
		}
		o.mu.Unlock()
		select {
		case <-o.wake:
		case <-time.After(5 * time.Millisecond):
		case <-deadline:
			return fuzzOutcome{}, false
		}
	}
}

// fuzzMessageTypes are the routing keys the target publishes, with their
// exchange and the queue whose outcome it checks.
var fuzzMessageTypes = []struct{ typ, exchange, queue string }{
	{consumers.TypeTrack, broker.ExchangeDataProcessing, consumers.QueueIngest},
	{"user.created", broker.ExchangeDataProcessing, consumers.QueueIngest},
	{"order.created", broker.ExchangeDataProcessing, consumers.QueueIngest},
	{consumers.TypeUserData, broker.ExchangeDataProcessing, consumers.QueueSignup},
	{consumers.TypeEmail, broker.ExchangeNotifications, consumers.QueueNotifications},
	{"order.updated", broker.ExchangeDataProcessing, consumers.QueueRefresh},
	{"user.updated", broker.ExchangeDataProcessing, consumers.QueueRefresh},
}

// FuzzConsumeMessage publishes one message of a consumed type with a fuzzed
// body on an in-process bus to the running consumers (over a small
// fixture), and reads the first attempt's outcome through Deps.Observe.
// Properties: the consumers never panic and handle every message within
// 10 s; no body makes a handler report broker.Unavailable (the outage
// class, retried for ever without spending attempts) while the database is
// up — else one bad message would stall its queue; and an event.track
// message is stored exactly when the ingest's decoding (strict JSON into
// analytics.EventInput, the message id as default event id) and
// Policy.Prepare accept it.
func FuzzConsumeMessage(f *testing.F) {
	ctx, cancel := context.WithCancel(context.Background())
	f.Cleanup(cancel)
	db := testdb.Open(f, fuzzBackend())
	g, err := fixture.NewGrid(ctx, db.Client, 1, 1, 2)
	if err != nil {
		f.Fatal(err)
	}
	events, err := sqlstore.New(ctx, db)
	if err != nil {
		f.Fatal(err)
	}
	if err := consumers.Migrate(ctx, db); err != nil {
		f.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	bus := inproc.New(inproc.Options{Logger: quiet})
	f.Cleanup(func() { _ = bus.Close() })
	policy := analytics.DefaultPolicy()
	obs := &fuzzOutcomes{seen: map[string][]fuzzOutcome{}, wake: make(chan struct{}, 1)}
	cs := consumers.New(consumers.Deps{
		Bus: bus, DB: db, Log: quiet, Observe: obs.observe,
		Events:  &analytics.Service{Store: events, Policy: policy},
		Backoff: []time.Duration{time.Millisecond},
	})
	ready, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		_ = cs.Run(ctx, func() { close(ready) })
	}()
	f.Cleanup(func() { cancel(); <-done })
	select {
	case <-ready:
	case <-time.After(15 * time.Second):
		f.Fatal("consumers not attached after 15s")
	}

	uid, oid := g.Users[0].ID, 1
	now := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
	for _, s := range []struct {
		kind uint8
		body string
	}{
		{0, fmt.Sprintf(`{"userId": %d, "type": "page_view"}`, uid)},
		{0, fmt.Sprintf(`{"id": "e-1", "userId": %d, "type": "purchase", "timestamp": %q, "metadata": {"price": 9.99, "quantity": 2, "category": "books"}, "geo": {"country": "ua", "city": "Kyiv", "lat": 50.45, "lon": 30.52}}`, uid, now)},
		{0, `{"userId": 1, "type": "page_view"`},
		{0, `{"userId": 1, "type": "no_such_type"}`},
		{0, `{"userId": 1, "type": "click"} {"userId": 2}`},
		{0, `{"userId": 1, "type": "purchase", "metadata": {"price": 1e308, "quantity": 10}}`},
		{0, `{"userId": 1, "type": "search", "metadata": {"q": "\u0000"}}`},
		{0, `{"userId": 1, "type": "click", "geo": {"city": "a\u0000b", "lat": 0, "lon": 0}}`},
		{0, `{"userId": 1, "type": "click", "metadata": {"category": "\ud800"}}`},
		{0, `null`},
		{1, fmt.Sprintf(`{"id": %d, "username": "u", "email": "u@example.com", "created_at": %q}`, uid, now)},
		{1, `{"id": 0}`}, {1, `{"id": 999999, "created_at": "0001-01-01T00:00:00Z"}`},
		{2, fmt.Sprintf(`{"id": %d, "quantity": 2, "amount": 10, "created_at": %q, "user_id": %d, "product_id": %d}`, oid, now, uid, g.Product.ID)},
		{2, `{"id": 1, "quantity": -5, "amount": 1e308, "user_id": 1, "product_id": 0}`},
		{2, `{"id": 1, "quantity": 0, "amount": -1, "user_id": 1, "product_id": 1, "created_at": "9999-12-31T23:59:59Z"}`},
		{3, fmt.Sprintf(`{"id": %d}`, uid)}, {3, `{"id": -1}`}, {3, `{"id": 123456789}`}, {3, `[]`},
		{4, `{"template": "welcome", "to": "a@example.com", "userId": 1, "data": {"username": "olena", "city": "Kyiv"}}`},
		{4, `{"template": "nope", "to": "a@example.com"}`},
		{4, `{"template": "welcome", "to": "Olena <a@example.com>"}`},
		{4, `{"template": "welcome", "to": "a@example.com", "userId": 999999}`},
		{5, fmt.Sprintf(`{"id": %d, "user_id": %d}`, oid, uid)},
		{6, fmt.Sprintf(`{"id": %d}`, uid)},
		{6, `{"id": "x"}`},
	} {
		f.Add(s.kind, []byte(s.body))
	}
	var execs int
	f.Fuzz(func(t *testing.T, kind uint8, body []byte) {
		if execs++; execs%200 == 0 {
			for _, q := range consumers.Queues() {
				_, _ = bus.PurgeDeadLetters(ctx, q)
			}
		}
		mt := fuzzMessageTypes[int(kind)%len(fuzzMessageTypes)]
		id := "fz-" + rand.Text()
		m := broker.Message{ID: id, Type: mt.typ, OccurredAt: time.Now(), Body: body}
		if err := bus.Publish(ctx, mt.exchange, m); err != nil {
			t.Fatalf("publish: %v", err)
		}
		got, ok := obs.wait(id, mt.queue, 10*time.Second)
		if !ok {
			t.Fatalf("%s message %q not handled by %s within 10s", mt.typ, body, mt.queue)
		}
		obs.mu.Lock()
		all := obs.seen[id]
		obs.mu.Unlock()
		for _, x := range all {
			if x.err != nil && broker.IsUnavailable(x.err) {
				t.Fatalf("%s message %q: %s reports an outage for a bad message (retried for ever): %v", mt.typ, body, x.queue, x.err)
			}
		}
		if mt.typ == consumers.TypeTrack {
			in, derr := analytics.DecodeEventInput(body)
			wantOK := derr == nil
			if wantOK {
				if in.ID == nil || *in.ID == "" {
					in.ID = &id
				}
				_, err := policy.Prepare(in, time.Now())
				wantOK = err == nil
			}
			if (got.err == nil) != wantOK {
				t.Fatalf("track message %q: ingest outcome %v, but decoding and Prepare accept it: %v", body, got.err, wantOK)
			}
		}
	})
}
