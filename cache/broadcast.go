package cache

import (
	"context"
	"sync"
	"time"
)

// Broadcasting an invalidation over a route that does not depend on Redis
// (the bus: consumers owns the wire format and the per-instance queue).
const (
	// broadcastEvery is the shortest interval between two sends: the first
	// invalidation after a quiet spell goes out at once, the ones that
	// follow within it go out together, so a burst of tracked events costs
	// at most one message per interval rather than one per event.
	broadcastEvery = 10 * time.Millisecond
	// broadcastTimeout bounds one send (a broker outage must not hold the
	// loop); broadcastRetry is the wait after a failed one.
	broadcastTimeout = 5 * time.Second
	broadcastRetry   = time.Second
)

// outgoing collects the tags this instance invalidated until Broadcast
// sends them. Tags added while a send is under way go out in the next one,
// deduplicated: a set, bounded like the Redis queue.
type outgoing struct {
	mu    sync.Mutex
	on    bool // a Broadcast loop runs; without one nothing is kept
	tags  []string
	set   map[string]struct{}
	ready chan struct{} // capacity 1: "tags are waiting"
}

func newOutgoing() *outgoing {
	return &outgoing{set: make(map[string]struct{}), ready: make(chan struct{}, 1)}
}

// add keeps tags for the next send (when a Broadcast loop runs) and wakes
// the loop; it reports how many tags did not fit.
func (o *outgoing) add(tags []string) (lost int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.on {
		return 0
	}
	for _, t := range tags {
		if _, ok := o.set[t]; ok {
			continue
		}
		if len(o.tags) >= maxPending {
			lost++
			continue
		}
		o.set[t] = struct{}{}
		o.tags = append(o.tags, t)
	}
	if len(o.tags) > 0 {
		select {
		case o.ready <- struct{}{}:
		default: // already signalled
		}
	}
	return lost
}

// take empties the set and returns its tags in the order they came.
func (o *outgoing) take() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := o.tags
	o.tags = nil
	clear(o.set)
	return out
}

// setOn starts or stops keeping tags; stopping drops what was kept.
func (o *outgoing) setOn(on bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.on = on
	if !on {
		o.tags = nil
		clear(o.set)
	}
}

// Broadcast hands every tag this instance invalidates (Invalidate, not
// InvalidateLocal) to send, for the other instances to drop their local
// entries by a route that works while Redis is down. It blocks until ctx
// ends or the cache is closed; run it once per Cache.
//
// Sends are coalesced: one send carries every tag invalidated since the
// previous one, and sends are at least broadcastEvery apart (the first
// after a quiet spell goes at once). A failed send is retried with its
// tags (after broadcastRetry) together with the newer ones. Nothing here
// is durable: a send lost with the process costs the other instances
// staleness bounded by LocalMaxTTL, the backstop of every route.
func (c *Cache) Broadcast(ctx context.Context, send func(ctx context.Context, tags []string) error) {
	c.out.setOn(true)
	defer c.out.setOn(false)
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.done:
			return
		case <-c.out.ready:
		}
		if !sleepCtx(ctx, c.done, broadcastEvery-time.Since(last)) {
			return
		}
		tags := c.out.take()
		if len(tags) == 0 {
			continue
		}
		last = time.Now()
		sctx, cancel := context.WithTimeout(ctx, broadcastTimeout)
		err := send(sctx, tags)
		cancel()
		if err == nil {
			c.st.broadcasts.Add(1)
			continue
		}
		c.st.broadcastErrors.Add(1)
		c.warn.warn("cache: broadcasting invalidations failed; retrying", "err", err, "tags", tags, "retryIn", broadcastRetry)
		c.out.add(tags)
		if !sleepCtx(ctx, c.done, broadcastRetry) {
			return
		}
	}
}

// sleepCtx waits d (nothing when d ≤ 0); false when ctx ended or done
// closed first.
func sleepCtx(ctx context.Context, done <-chan struct{}, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-done:
		return false
	}
}

// Instance is this cache's instance id: the one its invalidation messages
// carry, so that receivers can skip their own.
func (c *Cache) Instance() string { return c.cfg.Instance }
