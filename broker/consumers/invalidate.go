package consumers

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"sync/atomic"

	"github.com/meridian-graphql/meridian/broker"
	"github.com/meridian-graphql/meridian/store"
)

// TypeInvalidate is the routing key of a cache invalidation broadcast by
// one instance to the `cache` queue of every instance; its body is an
// invalidation.
const TypeInvalidate = "cache.invalidate"

// Cache is what the consumers need of the cache (cache.Cache): they carry
// its invalidations between instances over the bus.
type Cache interface {
	// Instance names this instance in the invalidations it sends.
	Instance() string
	// InvalidateLocal drops this instance's in-process entries of tags.
	InvalidateLocal(tags ...string)
	// Broadcast hands send this instance's invalidations, coalesced, until
	// ctx ends.
	Broadcast(ctx context.Context, send func(ctx context.Context, tags []string) error)
}

// invalidation is the body of a TypeInvalidate message.
type invalidation struct {
	Instance string   `json:"instance"`
	Tags     []string `json:"tags"`
}

// broadcaster publishes this instance's cache invalidations on the bus.
//
// Published directly, not through the outbox: tracked events are stored
// outside any relational transaction (the event store may be MongoDB), so
// there is no transaction to add an outbox row to, and a durable row per
// invalidation would cost a write per tracked batch for little. A lost
// broadcast (the process dies between the commit and the send, or the
// broker stays away longer than the retries) costs only staleness on the
// other instances, bounded by their local tier's TTL (LocalMaxTTL, 30 s):
// the backstop of every invalidation route. Domain writes also reach the
// `cache` queue durably as outbox domain events.
type broadcaster struct {
	bus      broker.Publisher
	instance string
	prefix   string // unique per process: message ids never repeat
	n        atomic.Int64
}

func newBroadcaster(bus broker.Publisher, instance string) *broadcaster {
	return &broadcaster{bus: bus, instance: instance, prefix: "inv-" + rand.Text()[:12]}
}

// send publishes one invalidation of tags.
func (b *broadcaster) send(ctx context.Context, tags []string) error {
	body, err := json.Marshal(invalidation{Instance: b.instance, Tags: tags})
	if err != nil {
		return fmt.Errorf("encode invalidation: %w", err)
	}
	m := broker.Message{ID: fmt.Sprintf("%s-%d", b.prefix, b.n.Add(1)), Type: TypeInvalidate, SchemaVersion: 1, Body: body}
	if err := b.bus.Publish(ctx, broker.ExchangeDataProcessing, m); err != nil {
		return fmt.Errorf("publish invalidation of %v: %w", tags, err)
	}
	return nil
}

// invalidate drops this instance's local cache entries that another
// instance's write made stale. Two kinds of message reach it: the
// invalidations other instances broadcast (every tag, tracked events
// included) and the outbox's domain events (whose tags store.TagsOf
// gives). Redis pub/sub carries the same news when Redis is up; this path
// does not depend on Redis, so instances that run without it (or while it
// is down) still converge without waiting for TTLs. Dropping a tag twice
// only costs a refill (from Redis when it is up), so the duplicates are
// harmless; this instance's own broadcasts are skipped, since Invalidate
// already dropped its local entries.
func (c *Consumers) invalidate(_ context.Context, msgs []broker.Message) error {
	if c.d.Cache == nil {
		return nil
	}
	errs := make(broker.BatchErrors, len(msgs))
	seen := map[string]bool{}
	var tags []string
	add := func(ts []string) {
		for _, t := range ts {
			if t != "" && !seen[t] {
				seen[t] = true
				tags = append(tags, t)
			}
		}
	}
	for i, m := range msgs {
		if m.Type != TypeInvalidate {
			add(store.TagsOf(m.Type))
			continue
		}
		var inv invalidation
		if err := json.Unmarshal(m.Body, &inv); err != nil {
			errs[i] = broker.Permanent(fmt.Errorf("decode invalidation %s: %w", m.ID, err))
			continue
		}
		if inv.Instance != c.d.Cache.Instance() {
			add(inv.Tags)
		}
	}
	if len(tags) > 0 {
		c.d.Cache.InvalidateLocal(tags...)
	}
	return errs
}

// cacheBindings are the routing keys of the per-instance `cache` queue:
// the broadcast invalidations and every domain event the outbox publishes.
func cacheBindings() []string {
	out := []string{TypeInvalidate}
	for _, e := range []string{"country", "city", "address", "user", "product", "order"} {
		for _, a := range []string{"created", "updated", "deleted"} {
			out = append(out, e+"."+a)
		}
	}
	return out
}
