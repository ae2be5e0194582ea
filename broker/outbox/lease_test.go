package outbox

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/broker"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/platform/database"
)

// recordingBus keeps what was published.
type recordingBus struct {
	mu   sync.Mutex
	msgs []broker.Message
}

func (b *recordingBus) Publish(_ context.Context, _ string, msgs ...broker.Message) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.msgs = append(b.msgs, msgs...)
	return nil
}

// TestLeaseOfADeadRelayRunsOut: rows claimed by a relay that died before it
// published are left alone while its lease lasts, then published by
// another relay under the same ids.
func TestLeaseOfADeadRelayRunsOut(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		if err := Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		w := NewWriter(db)
		for range 3 {
			if err := w.Add(ctx, db.Driver, broker.ExchangeDataProcessing, "user.created", []byte(`{}`)); err != nil {
				t.Fatal(err)
			}
		}
		dead := NewRelay(db, &recordingBus{}, nil)
		claimed, _, err := dead.claim(ctx)
		if err != nil || len(claimed) != 3 {
			t.Fatalf("claim = %d rows, %v", len(claimed), err)
		}
		bus := &recordingBus{}
		other := NewRelay(db, bus, nil)
		if n, err := other.Flush(ctx); err != nil || n != 0 {
			t.Fatalf("flush during the lease = %d, %v; want 0 (the rows are leased)", n, err)
		}
		if n, err := other.Pending(ctx); err != nil || n != 3 {
			t.Fatalf("pending during the lease = %d, %v; want 3", n, err)
		}
		other.now = func() time.Time { return time.Now().Add(other.lease() + time.Second) }
		if n, err := other.Flush(ctx); err != nil || n != 3 {
			t.Fatalf("flush after the lease ran out = %d, %v; want 3", n, err)
		}
		for i, m := range bus.msgs {
			if m.ID != claimed[i].msg.ID {
				t.Errorf("message %d = %s, want %s (same ids, same order)", i, m.ID, claimed[i].msg.ID)
			}
		}
	})
}

// TestMigrateAddsTheLeaseColumn: an outbox created before leases and trace
// headers, in a database made before versioned migrations, gets its
// claimed_until and headers columns when the migrations adopt the database
// (catching it up to the baseline), keeps its rows, and relays them,
// without headers.
func TestMigrateAddsTheLeaseColumn(t *testing.T) {
	for _, backend := range testdb.Backends() {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			db := testdb.OpenEmpty(t, backend)
			old := `CREATE TABLE outbox (id TEXT PRIMARY KEY, exchange TEXT NOT NULL, type TEXT NOT NULL, body TEXT NOT NULL,
			occurred_at BIGINT NOT NULL, correlation_id TEXT NOT NULL DEFAULT '', schema_version INTEGER NOT NULL DEFAULT 1, sent_at BIGINT)`
			if _, err := db.Driver.ExecContext(ctx, old); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Driver.ExecContext(ctx, db.Rebind(`INSERT INTO outbox (id, exchange, type, body, occurred_at) VALUES (?, ?, ?, ?, ?)`),
				"01OLD", broker.ExchangeDataProcessing, "user.created", `{}`, time.Now().UnixMilli()); err != nil {
				t.Fatal(err)
			}
			for range 2 { // twice: the second run has nothing to do
				if err := Migrate(ctx, db); err != nil {
					t.Fatal(err)
				}
			}
			bus := &recordingBus{}
			if n, err := NewRelay(db, bus, nil).Flush(ctx); err != nil || n != 1 || bus.msgs[0].ID != "01OLD" {
				t.Fatalf("flush of the old row = %d, %v, %+v", n, err, bus.msgs)
			}
			if h := bus.msgs[0].Headers; h != nil {
				t.Errorf("the old row was relayed with headers %v", h)
			}
		})
	}
}
