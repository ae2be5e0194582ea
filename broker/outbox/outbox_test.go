package outbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/meridian-graphql/meridian/broker"
	"github.com/meridian-graphql/meridian/broker/brokertest"
	"github.com/meridian-graphql/meridian/broker/inproc"
	"github.com/meridian-graphql/meridian/broker/outbox"
	"github.com/meridian-graphql/meridian/ent"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/platform/database"
	"github.com/meridian-graphql/meridian/store"
)

type failingBus struct{ broker.Publisher }

func (failingBus) Publish(context.Context, string, ...broker.Message) error {
	return errors.New("broker away")
}

// TestMutationsPublishThroughTheOutbox: a committed mutation's event is in
// the outbox exactly when the change is; the relay publishes it with the
// entity in the body; a broker failure leaves it pending, and the next pass
// delivers it.
func TestMutationsPublishThroughTheOutbox(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		if err := outbox.Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		notified := 0
		st := store.New(db.Client, store.Config{Outbox: outbox.NewWriter(db), Committed: func() { notified++ }})
		bus := inproc.New(inproc.Options{})
		t.Cleanup(func() { bus.Close() })
		got := brokertest.NewCollector(10)
		brokertest.Start(t, bus, broker.Subscription{Queue: "signups", Exchange: broker.ExchangeDataProcessing, Bindings: []string{"user.created"}}, got.Handle)

		relay := outbox.NewRelay(db, bus, nil)
		if _, err := st.CreateUser(ctx, ent.CreateUserInput{Username: "olena", Email: "olena@example.com"}); err != nil {
			t.Fatal(err)
		}
		// Refused: nothing written, no event.
		if _, err := st.CreateUser(ctx, ent.CreateUserInput{Username: "olena", Email: "again@example.com"}); err == nil {
			t.Fatal("duplicate username accepted")
		}
		if n, err := relay.Pending(ctx); err != nil || n != 1 {
			t.Fatalf("pending = %d, %v; want 1", n, err)
		}
		if notified != 1 {
			t.Errorf("Committed ran %d times, want 1", notified)
		}

		// Broker away: the row stays pending.
		if _, err := outbox.NewRelay(db, failingBus{}, nil).Flush(ctx); err == nil {
			t.Fatal("flush to a failing broker succeeded")
		}
		if n, _ := relay.Pending(ctx); n != 1 {
			t.Fatalf("pending after a failed publish = %d, want 1", n)
		}
		if n, err := relay.Flush(ctx); err != nil || n != 1 {
			t.Fatalf("flush = %d, %v", n, err)
		}
		msgs := got.Expect(t, 1)
		var u struct{ Username string }
		if err := json.Unmarshal(msgs[0].Body, &u); err != nil || u.Username != "olena" || msgs[0].Type != "user.created" || msgs[0].SchemaVersion != outbox.SchemaVersion {
			t.Errorf("message = %+v (%s)", msgs[0], msgs[0].Body)
		}
		if n, _ := relay.Pending(ctx); n != 0 {
			t.Errorf("pending after flush = %d", n)
		}
		if n, err := relay.Flush(ctx); err != nil || n != 0 {
			t.Errorf("second flush = %d, %v; want nothing to send", n, err)
		}
		got.ExpectNone(t)
	})
}
