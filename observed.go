package main

import (
	"context"

	"github.com/meridian-graphql/meridian/broker"
	"github.com/meridian-graphql/meridian/broker/consumers"
	"github.com/meridian-graphql/meridian/broker/outbox"
	"github.com/meridian-graphql/meridian/cache"
	"github.com/meridian-graphql/meridian/live"
	"github.com/meridian-graphql/meridian/live/fanout"
	"github.com/meridian-graphql/meridian/platform/database"
	"github.com/meridian-graphql/meridian/platform/observe"
)

// observedBus counts what is published, for /metrics.
type observedBus struct {
	broker.Bus
	m *observe.Metrics
}

func (b observedBus) Publish(ctx context.Context, exchange string, msgs ...broker.Message) error {
	err := b.Bus.Publish(ctx, exchange, msgs...)
	b.m.ObservePublish(exchange, len(msgs), err)
	return err
}

// cacheStats adapts the cache's counters to the metrics' shape.
func cacheStats(c *cache.Cache) observe.CacheStats {
	s := c.Stats()
	f := make(map[string]observe.HitsMisses, len(s.Fields))
	for k, v := range s.Fields {
		f[k] = observe.HitsMisses{Hits: v.Hits, Misses: v.Misses}
	}
	return observe.CacheStats{LocalHits: s.LocalHits, LocalMisses: s.LocalMisses, RedisHits: s.RedisHits, RedisMisses: s.RedisMisses,
		Sets: s.Sets, Evictions: s.Evictions, Invalidations: s.Invalidations, RedisErrors: s.RedisErrors, RedisSkipped: s.RedisSkipped, RedisUp: s.RedisUp,
		BreakerOpen: s.BreakerOpen, Fields: f}
}

// liveStats adapts the hub's and the fan-out's counters (fan may be nil)
// to the metrics' shape.
func liveStats(hub *live.Hub, fan *fanout.Registry) func() observe.LiveStats {
	return func() observe.LiveStats {
		st, fs := hub.Stats(), fan.Stats()
		// The hub sees one subscriber per fan-out group; the people are
		// the groups' members.
		return observe.LiveStats{Subscribers: st.Subscribers - fs.Groups + fs.Members, Published: st.Published,
			Dropped: st.Dropped + fs.Dropped, Lost: st.Lost, Groups: fs.Groups, Executions: fs.Executions}
	}
}

// queueDepths reads the consumer queues' depths at each scrape.
func queueDepths(bus broker.Bus) func(context.Context) []observe.QueueDepth {
	admin, ok := bus.(broker.Admin)
	if !ok {
		return nil
	}
	return func(ctx context.Context) []observe.QueueDepth {
		var out []observe.QueueDepth
		for _, q := range consumers.Queues() {
			if r, d, err := admin.Depths(ctx, q); err == nil {
				out = append(out, observe.QueueDepth{Queue: q, Ready: r, DeadLetters: d})
			}
		}
		return out
	}
}

// outboxBacklog reads the outbox's backlog at each scrape.
func outboxBacklog(db *database.DB) func(context.Context) (observe.OutboxBacklog, error) {
	return func(ctx context.Context) (observe.OutboxBacklog, error) {
		b, err := outbox.ReadBacklog(ctx, db)
		return observe.OutboxBacklog{Pending: b.Pending, Oldest: b.Oldest}, err
	}
}
