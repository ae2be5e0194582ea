package consumers_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/broker"
	"github.com/meridian-graphql/meridian/broker/consumers"
	"github.com/meridian-graphql/meridian/cache"
)

// cacheInstance is one instance's cache and consumers over bus, with no
// Redis: only the bus can tell it of the others' invalidations.
type cacheInstance struct {
	cache *cache.Cache
	obs   *observer
}

func startCacheInstance(t *testing.T, bus broker.Bus) *cacheInstance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c, err := cache.New(ctx, cache.Config{})
	if err != nil {
		t.Fatal(err)
	}
	in := &cacheInstance{cache: c, obs: &observer{}}
	cs := consumers.New(consumers.Deps{Bus: bus, Cache: c, Log: logger(), Observe: in.obs.observe})
	ready := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := cs.Run(ctx, func() { close(ready) }); err != nil {
			t.Errorf("consumers: %v", err)
		}
	})
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		_ = c.Close()
	})
	select {
	case <-ready:
	case <-time.After(15 * time.Second):
		t.Fatal("consumers not attached after 15s")
	}
	return in
}

// invalidations are the cache.invalidate messages the instance's cache
// queue handled.
func (in *cacheInstance) invalidations() []delivery {
	var out []delivery
	for _, d := range in.obs.of("cache", "") {
		if d.msg.Type == consumers.TypeInvalidate {
			out = append(out, d)
		}
	}
	return out
}

// TestInvalidationReachesOtherInstanceOverBus: without Redis, an
// invalidation of "events" on instance B (what storing tracked events
// does) drops A's local entries of the tag through RabbitMQ; a burst of
// 100 invalidations travels as a few coalesced messages, not 100; B skips
// its own broadcasts; a malformed one is dead-lettered, not retried.
func TestInvalidationReachesOtherInstanceOverBus(t *testing.T) {
	buses := openRabbit(t, 2)
	a := startCacheInstance(t, buses[0])
	b := startCacheInstance(t, buses[1])
	ctx := context.Background()
	a.cache.Set(ctx, "dist", []byte("old"), time.Minute, []string{"events"})
	a.cache.Set(ctx, "geo", []byte("kept"), time.Minute, []string{"geo"})

	b.cache.Invalidate(ctx, "events")
	waitFor(t, 10*time.Second, "A to drop its events entry", func() bool {
		_, ok := a.cache.GetLocal(ctx, "dist")
		return !ok
	})
	if _, ok := a.cache.GetLocal(ctx, "geo"); !ok {
		t.Error("A dropped an entry of a tag nobody invalidated")
	}
	waitFor(t, 10*time.Second, "B's own broadcast back on its queue", func() bool { return len(b.invalidations()) == 1 })
	if n := b.cache.Stats().Invalidations; n != 1 {
		t.Errorf("B counted %d invalidations; want 1 (its own broadcast is skipped)", n)
	}

	before := len(a.invalidations())
	a.cache.Set(ctx, "dist", []byte("old"), time.Minute, []string{"events"})
	for range 100 {
		b.cache.Invalidate(ctx, "events") // one per committed batch of events
	}
	waitFor(t, 10*time.Second, "A to drop its events entry again", func() bool {
		_, ok := a.cache.GetLocal(ctx, "dist")
		return !ok
	})
	time.Sleep(100 * time.Millisecond) // let any straggler arrive
	n := len(a.invalidations()) - before
	t.Logf("100 invalidations on B reached A as %d bus messages", n)
	if n < 1 || n > 10 {
		t.Errorf("100 invalidations travelled as %d messages; want a few coalesced ones", n)
	}

	bad := broker.Message{ID: "inv-bad", Type: consumers.TypeInvalidate, SchemaVersion: 1, Body: []byte("{")}
	if err := buses[1].Publish(ctx, broker.ExchangeDataProcessing, bad); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the malformed invalidation handled", func() bool { return len(a.obs.of("cache", "inv-bad")) == 1 })
	if d := a.obs.of("cache", "inv-bad")[0]; !broker.IsPermanent(d.err) {
		t.Errorf("malformed invalidation: err = %v; want a permanent error", d.err)
	}
}
