package consumers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/broker"
	"github.com/meridian-graphql/meridian/platform/database"
	"github.com/meridian-graphql/meridian/platform/observe"
)

// Queues of the consumer groups: durable, shared by every instance
// (competing consumers), each with its delay queues and dead-letter queue.
const (
	QueueIngest        = "analytics.ingest"
	QueueSignup        = "signup"
	QueueNotifications = "notifications.email"
	QueueRefresh       = "profile.refresh"
)

// Queues lists the consumer queues, the ones an operator can inspect,
// replay and purge.
func Queues() []string {
	return []string{QueueIngest, QueueSignup, QueueNotifications, QueueRefresh}
}

// Message types the consumers read or write besides the outbox's domain
// events ("user.created", "order.created", …).
const (
	// TypeTrack is an analytics event sent through the bus rather than the
	// trackEvent mutation; its body is an event input as JSON.
	TypeTrack = "event.track"
	// TypeUserData is the seed's routing key for user records to validate
	// and enrich; its body has the shape of a user.created body.
	TypeUserData = "user.data"
	// TypeEmail is a notification to render into the log.
	TypeEmail = "notification.email"
)

// Deps are what the consumers work with.
type Deps struct {
	Bus broker.Bus
	DB  *database.DB
	// Events validates and stores analytics events (and tells the cache
	// and live subscriptions); its Store also holds the profiles.
	Events *analytics.Service
	// Cache is this instance's cache (cache.Cache), whose invalidations
	// the consumers carry between instances; nil when there is none.
	Cache Cache
	Log   *slog.Logger
	// Outages counts the messages an outage deferred (nil: each is
	// logged): a database outage is logged as its state changes and a
	// summary per interval, not a line per message and retry.
	Outages *observe.Flood
	Now     func() time.Time
	// Backoff replaces the retry schedule (default 2s, 4s, 8s); tests
	// shorten it.
	Backoff []time.Duration
	// IngestBatch bounds the events stored per insert (default 500).
	IngestBatch int
	// Observe, when set, sees every handled message and its outcome (nil
	// for success), and whether the failure sends it to the dead letters,
	// by the retry policy of its queue's subscription (which the consumers
	// own): the hook for metrics and tests.
	Observe func(queue string, m broker.Message, err error, deadLettered bool)
}

// Consumers runs the consumer groups of one instance.
type Consumers struct {
	d Deps
}

// New returns the consumers over d.
func New(d Deps) *Consumers {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Now == nil {
		d.Now = func() time.Time { return time.Now().UTC() }
	}
	if d.IngestBatch <= 0 {
		d.IngestBatch = 500
	}
	d.Log = d.Log.With("component", "consumers")
	return &Consumers{d: d}
}

// consumer is one subscription and its batch handler.
type consumer struct {
	sub     broker.Subscription
	handler broker.BatchHandler
}

func (c *Consumers) consumers() []consumer {
	return []consumer{
		{broker.Subscription{
			Queue: QueueIngest, Exchange: broker.ExchangeDataProcessing,
			Bindings: []string{TypeTrack, "user.created", "order.created"},
			Batch:    c.d.IngestBatch, BatchWait: 50 * time.Millisecond,
		}, c.ingest},
		{broker.Subscription{
			Queue: QueueSignup, Exchange: broker.ExchangeDataProcessing,
			Bindings: []string{"user.created", TypeUserData},
		}, perMessage(c.signup)},
		{broker.Subscription{
			Queue: QueueNotifications, Exchange: broker.ExchangeNotifications,
			Bindings: []string{"notification.*"},
		}, perMessage(c.notify)},
		{broker.Subscription{
			Queue: QueueRefresh, Exchange: broker.ExchangeDataProcessing,
			Bindings: []string{"order.created", "order.updated", "order.deleted", "user.updated"},
			Batch:    100, BatchWait: 100 * time.Millisecond,
		}, c.refresh},
		{broker.Subscription{
			// Every instance needs every invalidation, so this one is an
			// exclusive queue per instance rather than a shared group.
			Queue: "cache", Exchange: broker.ExchangeDataProcessing, Exclusive: true,
			Bindings: cacheBindings(), Batch: 100, BatchWait: 20 * time.Millisecond, MaxAttempts: 1,
		}, c.invalidate},
	}
}

// perMessage runs h on each message of a batch, settling each by its own
// outcome.
func perMessage(h broker.Handler) broker.BatchHandler {
	return func(ctx context.Context, msgs []broker.Message) error {
		errs := make(broker.BatchErrors, len(msgs))
		for i, m := range msgs {
			errs[i] = h(ctx, m)
		}
		return errs
	}
}

// Run consumes until ctx ends, and broadcasts this instance's cache
// invalidations to the other instances meanwhile. ready, if set, runs once
// every consumer is attached to its queue, so that messages published
// afterwards reach them. It returns nil when ctx ends, or the first
// consumer's failure. A batch in progress when ctx ends sees its context
// end too (the adapters then hand its messages back); RunUntil lets it
// finish.
func (c *Consumers) Run(ctx context.Context, ready func()) error {
	return c.RunUntil(ctx, ctx, ready)
}

// RunUntil is Run for a graceful stop: when stop ends, the consumers take
// no more messages, but a batch already being handled runs to its end and
// is settled (acked) before RunUntil returns; its handler's context ends
// only with hard, which bounds that wait. Without it the batch would be
// cancelled mid-way and redelivered to another instance, maybe after its
// events were stored.
func (c *Consumers) RunUntil(stop, hard context.Context, ready func()) error {
	ctx := stop
	cs := c.consumers()
	var attached sync.WaitGroup
	attached.Add(len(cs))
	errc := make(chan error, len(cs))
	ctx, cancel := context.WithCancel(ctx)
	var bg sync.WaitGroup
	defer func() { cancel(); bg.Wait() }()
	if c.d.Cache != nil {
		b := newBroadcaster(c.d.Bus, c.d.Cache.Instance())
		bg.Go(func() { c.d.Cache.Broadcast(ctx, b.send) })
	}
	for _, cn := range cs {
		sub := cn.sub
		sub.Backoff = c.d.Backoff
		var once sync.Once
		sub.Ready = func() { once.Do(attached.Done) }
		h := finishing(stop, hard, c.observed(sub, cn.handler))
		go func() {
			err := c.d.Bus.ConsumeBatch(ctx, sub, h)
			if err != nil && !errors.Is(err, broker.ErrClosed) && ctx.Err() == nil {
				err = fmt.Errorf("consumer %s: %w", sub.Queue, err)
			} else {
				err = nil
			}
			errc <- err
		}()
	}
	if ready != nil {
		go func() {
			attached.Wait()
			if ctx.Err() == nil {
				ready()
			}
		}()
	}
	var first error
	for range cs {
		if err := <-errc; err != nil && first == nil {
			first = err
			cancel()
		}
	}
	return first
}

// finishing runs h under a context that keeps the values of the adapter's
// (stop's, and the consumer span of bustrace) but ends only with hard,
// whatever the adapter's context does (it ends with stop).
func finishing(stop, hard context.Context, h broker.BatchHandler) broker.BatchHandler {
	if stop == hard {
		return h
	}
	return func(actx context.Context, msgs []broker.Message) error {
		ctx, cancel := context.WithCancel(context.WithoutCancel(actx))
		defer cancel()
		defer context.AfterFunc(hard, cancel)()
		return h(ctx, msgs)
	}
}

// observed reports every message's outcome to Deps.Observe and the log.
func (c *Consumers) observed(sub broker.Subscription, h broker.BatchHandler) broker.BatchHandler {
	queue, policy := sub.Queue, sub.WithDefaults()
	return func(ctx context.Context, msgs []broker.Message) error {
		err := h(ctx, msgs)
		errs := broker.Outcomes(len(msgs), err)
		for i, m := range msgs {
			switch {
			case errs[i] == nil:
				// Every queue but the cache's reads or writes the
				// database: its success ends an outage.
				if queue != "cache" {
					c.d.Outages.OK(ctx)
				}
			case c.d.Outages != nil && broker.IsUnavailable(errs[i]) && !broker.IsPermanent(errs[i]):
				// Deferred until the database is back, without spending
				// an attempt: counted, not logged one by one.
				c.d.Outages.Fail(ctx, "messages deferred", errs[i])
			default:
				c.d.Log.WarnContext(ctx, "message failed", "queue", queue, "id", m.ID, "type", m.Type, "attempt", m.Attempt, "err", errs[i])
			}
			if c.d.Observe != nil {
				_, _, dead := policy.Retry(m, errs[i])
				c.d.Observe(queue, m, errs[i], errs[i] != nil && dead)
			}
		}
		return err
	}
}

// outage classifies a database failure: the database refusing the data
// itself (analytics.ErrRefused from the event store; a PostgreSQL data
// exception, integrity violation or program limit, say a NUL in a text or
// an index row too big) is the message's fault and permanent — retrying it
// for ever would stall its queue — while anything else is an outage to
// wait out (broker.Unavailable), an unclassified error too: a missing
// table during a migration passes.
func outage(err error) error {
	var pe *pgconn.PgError
	if errors.Is(err, analytics.ErrRefused) || (errors.As(err, &pe) && analytics.RefusedSQLState(pe.Code)) {
		return broker.Permanent(err)
	}
	return broker.Unavailable(err)
}
