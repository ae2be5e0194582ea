package outbox

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"meridian/broker"
	"meridian/database"
	"meridian/observe"
)

// Relay publishes pending outbox rows.
type Relay struct {
	db       *database.DB
	bus      broker.Publisher
	log      *slog.Logger
	batch    int
	interval time.Duration
	keep     time.Duration
	wake     chan struct{}
	// failing logs failed passes once per outage of the database or the
	// broker, then a summary per interval, not every tick.
	failing *observe.Flood
}

// NewRelay returns a relay from db's outbox to bus. It polls every interval
// and at once when Notify is called (after a commit).
func NewRelay(db *database.DB, bus broker.Publisher, log *slog.Logger) *Relay {
	if log == nil {
		log = slog.Default()
	}
	return &Relay{db: db, bus: bus, log: log, batch: 500, interval: time.Second, keep: 24 * time.Hour, wake: make(chan struct{}, 1),
		failing: observe.NewFlood(log, "outbox relay: database or broker", 0)}
}

// Notify wakes the relay; it never blocks.
func (r *Relay) Notify() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run publishes until ctx ends. A failed pass (the broker away) is logged
// and retried at the next tick: the rows stay pending, nothing is lost.
func (r *Relay) Run(ctx context.Context) {
	t := time.NewTicker(r.interval)
	defer t.Stop()
	lastPrune := time.Now()
	for {
		for {
			n, err := r.Flush(ctx)
			if err != nil {
				if ctx.Err() == nil {
					r.failing.Fail(ctx, "passes (the rows stay pending)", err)
				}
				break
			}
			r.failing.OK(ctx)
			if n < r.batch {
				break
			}
		}
		if time.Since(lastPrune) > time.Hour {
			if err := r.Prune(ctx); err != nil && ctx.Err() == nil {
				r.log.WarnContext(ctx, "outbox prune failed", "error", err)
			}
			lastPrune = time.Now()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-r.wake:
		}
	}
}

// Flush publishes one batch of pending rows, oldest first, and marks them
// sent; it returns how many. On PostgreSQL the rows are locked with SKIP
// LOCKED, so several instances relay different rows.
func (r *Relay) Flush(ctx context.Context) (int, error) {
	tx, err := r.db.Driver.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("outbox: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	q := `SELECT id, exchange, type, body, occurred_at, correlation_id, schema_version FROM outbox WHERE sent_at IS NULL ORDER BY occurred_at, id LIMIT ?`
	if r.db.Dialect == dialect.Postgres {
		q += " FOR UPDATE SKIP LOCKED"
	}
	var rows entsql.Rows
	if err := tx.Query(ctx, r.db.Rebind(q), []any{r.batch}, &rows); err != nil {
		return 0, fmt.Errorf("outbox: read pending: %w", err)
	}
	var pending []row
	for rows.Next() {
		var (
			rw       row
			body     string
			occurred int64
		)
		if err := rows.Scan(&rw.msg.ID, &rw.exchange, &rw.msg.Type, &body, &occurred, &rw.msg.CorrelationID, &rw.msg.SchemaVersion); err != nil {
			rows.Close()
			return 0, fmt.Errorf("outbox: scan: %w", err)
		}
		rw.msg.Body = []byte(body)
		rw.msg.OccurredAt = time.UnixMilli(occurred).UTC()
		pending = append(pending, rw)
	}
	if err := rows.Close(); err != nil {
		return 0, fmt.Errorf("outbox: read pending: %w", err)
	}
	if len(pending) == 0 {
		return 0, tx.Commit()
	}
	// One Publish per exchange keeps the confirms batched.
	byExchange := map[string][]broker.Message{}
	var order []string
	for _, p := range pending {
		if _, ok := byExchange[p.exchange]; !ok {
			order = append(order, p.exchange)
		}
		byExchange[p.exchange] = append(byExchange[p.exchange], p.msg)
	}
	for _, ex := range order {
		if err := r.bus.Publish(ctx, ex, byExchange[ex]...); err != nil {
			return 0, fmt.Errorf("outbox: publish to %s: %w", ex, err)
		}
	}
	ids := make([]any, 0, len(pending)+1)
	ids = append(ids, time.Now().UnixMilli())
	for _, p := range pending {
		ids = append(ids, p.msg.ID)
	}
	mark := `UPDATE outbox SET sent_at = ? WHERE id IN (?` + strings.Repeat(", ?", len(pending)-1) + `)`
	if err := tx.Exec(ctx, r.db.Rebind(mark), ids, nil); err != nil {
		return 0, fmt.Errorf("outbox: mark sent: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("outbox: commit: %w", err)
	}
	return len(pending), nil
}

// Prune deletes rows sent longer ago than the keep window.
func (r *Relay) Prune(ctx context.Context) error {
	q := r.db.Rebind(`DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < ?`)
	if _, err := r.db.Driver.ExecContext(ctx, q, time.Now().Add(-r.keep).UnixMilli()); err != nil {
		return fmt.Errorf("outbox: prune: %w", err)
	}
	return nil
}

// Pending counts rows not yet published (for tests and admin queries).
func (r *Relay) Pending(ctx context.Context) (int, error) {
	rows, err := r.db.Driver.QueryContext(ctx, `SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL`)
	if err != nil {
		return 0, fmt.Errorf("outbox: count: %w", err)
	}
	defer rows.Close()
	n := 0
	if rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return 0, err
		}
	}
	return n, rows.Err()
}
