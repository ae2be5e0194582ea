package outbox_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/meridian-graphql/meridian/broker"
	"github.com/meridian-graphql/meridian/broker/brokertest"
	"github.com/meridian-graphql/meridian/broker/inproc"
	"github.com/meridian-graphql/meridian/broker/outbox"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/internal/testlog"
	"github.com/meridian-graphql/meridian/platform/database"
)

// blockingBus is a broker that is away: Publish waits until its context
// ends, as the RabbitMQ adapter waits for a reconnect, and says so on
// entered each time it starts waiting.
type blockingBus struct{ entered chan struct{} }

func (b blockingBus) Publish(ctx context.Context, _ string, _ ...broker.Message) error {
	select {
	case b.entered <- struct{}{}:
	default:
	}
	<-ctx.Done()
	return ctx.Err()
}

// addRows writes n user.created rows to the outbox, as committed mutations
// do; row i has body {"id":i+1}.
func addRows(t *testing.T, db *database.DB, n int) {
	t.Helper()
	w := outbox.NewWriter(db)
	for i := range n {
		if err := w.Add(context.Background(), db.Driver, broker.ExchangeDataProcessing, "user.created", fmt.Appendf(nil, `{"id":%d}`, i+1)); err != nil {
			t.Fatal(err)
		}
	}
}

// oldestFirst lists the outbox ids in the order the relay promises to
// publish them: by when they were written (milliseconds), then by id.
func oldestFirst(t *testing.T, db *database.DB) []string {
	t.Helper()
	rows, err := db.Driver.QueryContext(context.Background(), `SELECT id FROM outbox ORDER BY occurred_at, id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// assertNoOpenTransaction fails when the database has a transaction open
// besides the test's own: on PostgreSQL a session "idle in transaction", on
// SQLite a held write lock (BEGIN IMMEDIATE on a connection that does not
// wait fails at once with SQLITE_BUSY).
func assertNoOpenTransaction(t *testing.T, db *database.DB) {
	t.Helper()
	ctx := context.Background()
	if db.Dialect == dialect.Postgres {
		rows, err := db.Driver.QueryContext(ctx, `SELECT state, extract(epoch FROM now() - state_change)::float8, left(query, 120) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var state, q string
			var secs float64
			if err := rows.Scan(&state, &secs, &q); err != nil {
				t.Fatal(err)
			}
			t.Errorf("a session is %q for %.1f s while the relay waits for the broker: %s", state, secs, q)
		}
		return
	}
	var seq int
	var name, file string
	rows, err := db.Driver.QueryContext(ctx, `PRAGMA database_list`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() && name != "main" {
		if err := rows.Scan(&seq, &name, &file); err != nil {
			t.Fatal(err)
		}
	}
	rows.Close()
	other, err := sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Errorf("the SQLite write lock is held while the relay waits for the broker: %v", err)
		return
	}
	if _, err := conn.ExecContext(ctx, `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
}

// TestRelayPassEndsAtThePublishDeadline: with the broker away, a relay pass
// waits for it no longer than its publish timeout, holds no transaction
// (nor SQLite's write lock) while it waits, and hands its rows back: they
// stay pending, unleased, and the next pass to a broker that is back sends
// them, in the order they were written.
func TestRelayPassEndsAtThePublishDeadline(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		if err := outbox.Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		addRows(t, db, 3)
		away := blockingBus{entered: make(chan struct{}, 1)}
		relay := outbox.NewRelay(db, away, nil, outbox.WithPublishTimeout(time.Second))
		// The test's own bound: a pass that ignores its deadline must not
		// hang the suite.
		fctx, cancel := context.WithCancel(ctx)
		defer cancel()
		type result struct {
			n   int
			err error
		}
		done := make(chan result, 1)
		go func() {
			n, err := relay.Flush(fctx)
			done <- result{n, err}
		}()
		select {
		case <-away.entered:
		case <-time.After(10 * time.Second):
			t.Fatal("the relay never published")
		}
		assertNoOpenTransaction(t, db)
		var res result
		select {
		case res = <-done:
		case <-time.After(10 * time.Second):
			cancel()
			<-done
			t.Fatal("the pass did not end at its 1 s publish deadline (still waiting after 10 s)")
		}
		if !errors.Is(res.err, context.DeadlineExceeded) || res.n != 0 {
			t.Fatalf("pass to a broker that is away = %d, %v; want 0 and a deadline error", res.n, res.err)
		}
		if n, err := relay.Pending(ctx); err != nil || n != 3 {
			t.Fatalf("pending after the failed pass = %d, %v; want 3", n, err)
		}
		var leased int
		rows, err := db.Driver.QueryContext(ctx, `SELECT COUNT(*) FROM outbox WHERE claimed_until IS NOT NULL`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			if err := rows.Scan(&leased); err != nil {
				t.Fatal(err)
			}
		}
		rows.Close()
		if leased != 0 {
			t.Errorf("%d rows still leased after the failed pass; want them handed back", leased)
		}

		bus := inproc.New(inproc.Options{})
		t.Cleanup(func() { bus.Close() })
		got := brokertest.NewCollector(10)
		brokertest.Start(t, bus, broker.Subscription{Queue: "signups", Exchange: broker.ExchangeDataProcessing, Bindings: []string{"user.created"}}, got.Handle)
		back := outbox.NewRelay(db, bus, nil)
		if n, err := back.Flush(ctx); err != nil || n != 3 {
			t.Fatalf("pass after the broker came back = %d, %v; want 3", n, err)
		}
		order := oldestFirst(t, db)
		for i, m := range got.Expect(t, 3) {
			if m.ID != order[i] {
				t.Errorf("message %d = %s, want %s (oldest first)", i, m.ID, order[i])
			}
		}
		if n, _ := relay.Pending(ctx); n != 0 {
			t.Errorf("pending after the broker came back = %d", n)
		}
	})
}

// countingBus records how often each message id was published.
type countingBus struct {
	mu   sync.Mutex
	seen map[string]int
}

func (b *countingBus) Publish(_ context.Context, _ string, msgs ...broker.Message) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range msgs {
		b.seen[m.ID]++
	}
	return nil
}

// TestRelaysShareRowsWithoutOverlap: relays of several instances flushing
// the same outbox at once publish every row exactly once.
func TestRelaysShareRowsWithoutOverlap(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		if err := outbox.Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		const rows = 300
		addRows(t, db, rows)
		bus := &countingBus{seen: map[string]int{}}
		var wg sync.WaitGroup
		var failed atomic.Value
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := outbox.NewRelay(db, bus, nil)
				for {
					n, err := r.Flush(ctx)
					if err != nil {
						failed.Store(err)
						return
					}
					if n == 0 {
						return
					}
				}
			}()
		}
		wg.Wait()
		if err, _ := failed.Load().(error); err != nil {
			t.Fatal(err)
		}
		if len(bus.seen) != rows {
			t.Errorf("%d distinct rows published, want %d", len(bus.seen), rows)
		}
		for id, n := range bus.seen {
			if n != 1 {
				t.Errorf("row %s published %d times", id, n)
			}
		}
	})
}

// switchBus fails while down is set and publishes to nowhere otherwise.
type switchBus struct {
	down  atomic.Bool
	calls atomic.Int64
}

func (b *switchBus) Publish(context.Context, string, ...broker.Message) error {
	b.calls.Add(1)
	if b.down.Load() {
		return errors.New("broker away")
	}
	return nil
}

// TestRelayLogsAnOutageOnce: passes failing one after another log one WARN
// when the outage starts and one INFO when publishing works again, not a
// line per pass (observe.Flood).
func TestRelayLogsAnOutageOnce(t *testing.T) {
	db := testdb.Open(t, "sqlite")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := outbox.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	addRows(t, db, 1)
	logs := &testlog.Buffer{}
	bus := &switchBus{}
	bus.down.Store(true)
	relay := outbox.NewRelay(db, bus, slog.New(slog.NewTextHandler(logs, nil)))
	stopped := make(chan struct{})
	go func() { defer close(stopped); relay.Run(ctx) }()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for end := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatalf("timed out waiting for %s\n%s", what, logs)
			}
			relay.Notify()
		}
	}
	waitFor("five failed passes", func() bool { return bus.calls.Load() >= 5 })
	bus.down.Store(false)
	waitFor("the row to be sent", func() bool { n, _ := relay.Pending(ctx); return n == 0 })
	// The recovery is told once passes have succeeded for a second (the
	// Flood's settle time): the next ticks.
	waitFor("the recovery logged", func() bool { return logs.Count("level=INFO", "reachable again") > 0 })
	cancel()
	<-stopped
	if n := logs.Count("level=WARN"); n != 1 {
		t.Errorf("%d WARN lines for one outage of %d failed passes, want 1:\n%s", n, bus.calls.Load()-1, logs)
	}
	if n := logs.Count("level=INFO", "reachable again"); n != 1 {
		t.Errorf("%d INFO lines on recovery, want 1:\n%s", n, logs)
	}
}
