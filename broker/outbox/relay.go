package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/meridian-graphql/meridian/broker"
	"github.com/meridian-graphql/meridian/platform/database"
	"github.com/meridian-graphql/meridian/platform/observe"
)

// DefaultPublishTimeout bounds one relay pass's publishing when
// WithPublishTimeout does not say otherwise.
const DefaultPublishTimeout = 5 * time.Second

// Relay publishes pending outbox rows.
type Relay struct {
	db       *database.DB
	bus      broker.Publisher
	log      *slog.Logger
	batch    int
	interval time.Duration
	keep     time.Duration
	// publishTimeout bounds the publishing of one pass, and each of its
	// database steps; the lease is a multiple of it.
	publishTimeout time.Duration
	now            func() time.Time
	wake           chan struct{}
	// failing logs failed passes once per outage of the database or the
	// broker, then a summary per interval, not every tick.
	failing *observe.Flood
}

// Option configures a Relay.
type Option func(*Relay)

// WithPublishTimeout bounds how long one pass waits for the broker
// (MERIDIAN_OUTBOX_PUBLISH_TIMEOUT); d <= 0 keeps the default.
func WithPublishTimeout(d time.Duration) Option {
	return func(r *Relay) {
		if d > 0 {
			r.publishTimeout = d
		}
	}
}

// NewRelay returns a relay from db's outbox to bus. It polls every interval
// and at once when Notify is called (after a commit).
func NewRelay(db *database.DB, bus broker.Publisher, log *slog.Logger, opts ...Option) *Relay {
	if log == nil {
		log = slog.Default()
	}
	r := &Relay{db: db, bus: bus, log: log, batch: 500, interval: time.Second, keep: 24 * time.Hour,
		publishTimeout: DefaultPublishTimeout, now: time.Now, wake: make(chan struct{}, 1),
		failing: observe.NewFlood(log, "outbox relay: database or broker", 0)}
	for _, o := range opts {
		o(r)
	}
	return r
}

// lease is how long claimed rows stay out of other relays' reach: the
// claim, the publish and the bookkeeping are each bounded by the publish
// timeout, so a lease outlives its pass unless the process died.
func (r *Relay) lease() time.Duration { return 3 * r.publishTimeout }

// Notify wakes the relay; it never blocks.
func (r *Relay) Notify() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run publishes until ctx ends. A failed pass (the broker away) leaves its
// rows pending and is retried at the next tick or commit. The outage is
// logged as it changes state — a WARN when passes start failing, a summary
// per interval while they do, an INFO when they succeed again — so it does
// not log a line per tick.
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
// sent; it returns how many were sent. It never holds a transaction while
// it talks to the broker: the rows are leased in a short transaction,
// published outside any under the publish timeout, and marked sent — or,
// when the broker is away, handed back pending — in another. Rows of
// several instances' relays never overlap (SKIP LOCKED on PostgreSQL, the
// write lock on SQLite, then the lease).
func (r *Relay) Flush(ctx context.Context) (int, error) {
	cctx, cancel := context.WithTimeout(ctx, r.publishTimeout)
	pending, until, err := r.claim(cctx)
	cancel()
	if err != nil || len(pending) == 0 {
		return 0, err
	}
	// One Publish per exchange keeps the confirms batched; exchanges go in
	// the order of their oldest row, and rows keep their order within one.
	byExchange := map[string][]broker.Message{}
	var order []string
	for _, p := range pending {
		if _, ok := byExchange[p.exchange]; !ok {
			order = append(order, p.exchange)
		}
		byExchange[p.exchange] = append(byExchange[p.exchange], p.msg)
	}
	pctx, cancel := context.WithTimeout(ctx, r.publishTimeout)
	var sent, unsent []string
	var perr error
	for _, ex := range order {
		msgs := byExchange[ex]
		if perr == nil {
			if err := r.bus.Publish(pctx, ex, msgs...); err != nil {
				perr = fmt.Errorf("outbox: publish %d messages to %s: %w", len(msgs), ex, err)
			}
		}
		for _, m := range msgs {
			if perr == nil {
				sent = append(sent, m.ID)
			} else {
				unsent = append(unsent, m.ID)
			}
		}
	}
	cancel()
	// The bookkeeping outlives a shutdown's cancel (bounded on its own):
	// rows published but not marked would be published again, rows not
	// handed back would wait for their lease.
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.publishTimeout)
	defer cancel()
	var merr, rerr error
	if len(sent) > 0 {
		merr = r.markSent(bctx, sent)
	}
	if len(unsent) > 0 {
		rerr = r.release(bctx, unsent, until)
	}
	if err := errors.Join(perr, merr, rerr); err != nil {
		if merr != nil {
			return 0, err
		}
		return len(sent), err
	}
	return len(sent), nil
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
	b, err := ReadBacklog(ctx, r.db)
	return b.Pending, err
}
