package outbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace"

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

// TestOutboxCarriesTraceContext: the trace context of the mutation that
// wrote an event is stored with its row and relayed in the message's
// headers, with the mutation's span as the parent to be; an event written
// outside any trace is relayed without headers.
func TestOutboxCarriesTraceContext(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		if err := outbox.Migrate(t.Context(), db); err != nil {
			t.Fatal(err)
		}
		st := store.New(db.Client, store.Config{Outbox: outbox.NewWriter(db)})
		bus := inproc.New(inproc.Options{})
		t.Cleanup(func() { bus.Close() })
		got := brokertest.NewCollector(10)
		brokertest.Start(t, bus, broker.Subscription{Queue: "signups", Exchange: broker.ExchangeDataProcessing, Bindings: []string{"user.created"}}, got.Handle)

		sc := trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: trace.TraceID{0xa1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
			SpanID:  trace.SpanID{0xb1, 2, 3, 4, 5, 6, 7, 8}, TraceFlags: trace.FlagsSampled,
		})
		ctx := trace.ContextWithSpanContext(t.Context(), sc)
		if _, err := st.CreateUser(ctx, ent.CreateUserInput{Username: "traced", Email: "traced@example.com"}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateUser(t.Context(), ent.CreateUserInput{Username: "untraced", Email: "untraced@example.com"}); err != nil {
			t.Fatal(err)
		}
		// The relay's own context carries no trace: the rows' do.
		if n, err := outbox.NewRelay(db, bus, nil).Flush(context.Background()); err != nil || n != 2 {
			t.Fatalf("flush = %d, %v", n, err)
		}
		for _, m := range got.Expect(t, 2) {
			traced := strings.Contains(string(m.Body), `"traced"`)
			tp := m.Headers["traceparent"]
			switch {
			case traced && tp != "00-"+sc.TraceID().String()+"-"+sc.SpanID().String()+"-01":
				t.Errorf("traced event relayed with traceparent %q, want the mutation's %s/%s", tp, sc.TraceID(), sc.SpanID())
			case !traced && m.Headers != nil:
				t.Errorf("untraced event relayed with headers %v", m.Headers)
			}
		}
	})
}
