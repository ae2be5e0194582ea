package outbox_test

import (
	"context"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/broker"
	"github.com/meridian-graphql/meridian/broker/inproc"
	"github.com/meridian-graphql/meridian/broker/outbox"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/platform/database"
)

// TestReadBacklog: the pending rows and the oldest one's time, which
// /metrics exports (meridian_outbox_pending, …_oldest_pending_age_seconds);
// nothing pending once the relay has published them.
func TestReadBacklog(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		if err := outbox.Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		if b, err := outbox.ReadBacklog(ctx, db); err != nil || b.Pending != 0 || !b.Oldest.IsZero() {
			t.Fatalf("empty outbox: %+v, %v", b, err)
		}
		before := time.Now().Add(-time.Millisecond)
		w := outbox.NewWriter(db)
		for _, typ := range []string{"user.created", "order.created"} {
			if err := w.Add(ctx, db.Driver, broker.ExchangeDataProcessing, typ, []byte(`{}`)); err != nil {
				t.Fatal(err)
			}
			time.Sleep(5 * time.Millisecond)
		}
		b, err := outbox.ReadBacklog(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if b.Pending != 2 || b.Oldest.Before(before) || b.Oldest.After(before.Add(5*time.Millisecond+time.Second)) {
			t.Fatalf("backlog %+v, want 2 rows, the oldest just after %v", b, before)
		}
		bus := inproc.New(inproc.Options{})
		t.Cleanup(func() { bus.Close() })
		if _, err := outbox.NewRelay(db, bus, nil).Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if b, err := outbox.ReadBacklog(ctx, db); err != nil || b.Pending != 0 || !b.Oldest.IsZero() {
			t.Fatalf("after the relay's pass: %+v, %v", b, err)
		}
	})
}
