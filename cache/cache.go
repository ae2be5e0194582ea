package cache

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/singleflight"
)

// Config configures a Cache. The zero value is a local-only cache with the
// defaults below.
type Config struct {
	// RedisURL is the shared tier ("redis://host:6379/0"); "" keeps the local
	// tier only (the embedded default).
	RedisURL string
	// Prefix is put before every key, tag set and channel in Redis, e.g.
	// "meridian:".
	Prefix string
	// LocalSize is the most entries the local tier holds (default 10_000).
	LocalSize int
	// Timeout bounds every Redis operation (default 50 ms); it also serves as
	// the dial, read and write timeout of the Redis client.
	Timeout time.Duration
	// Jitter spreads TTLs over ttl × [1-Jitter, 1+Jitter] (default 0.1; a
	// negative value turns jitter off; at most 0.5).
	Jitter float64
	// LocalMaxTTL caps the TTL of the local tier (default 30 s): it is the
	// longest another instance can serve a local copy of an invalidated entry
	// when the invalidation message does not reach it.
	LocalMaxTTL time.Duration
	// BreakerThreshold is how many consecutive Redis failures open the
	// circuit breaker (default 3).
	BreakerThreshold int
	// BreakerCooldown is how long an open breaker skips Redis before probing
	// it again (default 1 s).
	BreakerCooldown time.Duration
	// Redis, when set, is the client of the shared tier (NewRedisClient on
	// RedisURL, which then only names it in logs), owned by the caller: the
	// cache does not close it. Nil: the cache opens one on RedisURL.
	Redis *redis.Client
	// Logger receives the cache's (rate-limited) warnings; nil discards them.
	Logger *slog.Logger
	// Instance is this server's id (random when empty); Run ignores the
	// invalidation messages that carry it.
	Instance string
}

const (
	defaultLocalSize   = 10_000
	defaultTimeout     = 50 * time.Millisecond
	defaultJitter      = 0.1
	maxJitter          = 0.5
	defaultLocalMaxTTL = 30 * time.Second
	defaultThreshold   = 3
	defaultCooldown    = time.Second
	logEvery           = 10 * time.Second
	healthEvery        = 5 * time.Second
	tagKeyPrefix       = "tag:"
	channelName        = "invalidate"
)

// Cache is the two-tier cache. It is safe for concurrent use.
type Cache struct {
	cfg    Config
	log    *slog.Logger
	warn   rateLog // Redis failures
	notice rateLog // breaker recoveries and other infrequent news
	local  *local
	rdb    *redis.Client // nil: local tier only
	// ownsRedis: rdb was opened by New, and Close closes it.
	ownsRedis bool
	script    *redis.Script
	br        breaker
	sf        singleflight.Group
	st        counters
	lat       latencyRing
	fields    sync.Map // field name → *fieldCounter
	pending   pendingTags
	out       *outgoing // tags for Broadcast

	redisUp    atomic.Bool
	subscribed atomic.Bool
	closed     atomic.Bool
	done       chan struct{}
	closeOnce  sync.Once

	// healthEvery is how long Run waits for a message before pinging the
	// subscription (a field so that tests can shorten it).
	healthEvery time.Duration
}

// New returns a cache configured by cfg. It connects to Redis lazily: an
// unreachable Redis is logged, not returned (the local tier works and the
// breaker keeps probing); only a malformed RedisURL is an error.
func New(ctx context.Context, cfg Config) (*Cache, error) {
	if cfg.LocalSize <= 0 {
		cfg.LocalSize = defaultLocalSize
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultTimeout
	}
	switch {
	case cfg.Jitter == 0:
		cfg.Jitter = defaultJitter
	case cfg.Jitter < 0:
		cfg.Jitter = 0
	case cfg.Jitter > maxJitter:
		cfg.Jitter = maxJitter
	}
	if cfg.LocalMaxTTL <= 0 {
		cfg.LocalMaxTTL = defaultLocalMaxTTL
	}
	if cfg.BreakerThreshold <= 0 {
		cfg.BreakerThreshold = defaultThreshold
	}
	if cfg.BreakerCooldown <= 0 {
		cfg.BreakerCooldown = defaultCooldown
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Instance == "" {
		var b [8]byte
		_, _ = rand.Read(b[:]) // never fails (crypto/rand panics rather than return an error)
		cfg.Instance = hex.EncodeToString(b[:])
	}
	log := cfg.Logger.With("component", "cache", "instance", cfg.Instance)
	c := &Cache{
		cfg:         cfg,
		log:         log,
		warn:        rateLog{logger: log, every: logEvery},
		notice:      rateLog{logger: log, every: logEvery},
		done:        make(chan struct{}),
		out:         newOutgoing(),
		healthEvery: healthEvery,
		br:          breaker{threshold: int64(cfg.BreakerThreshold), cooldown: cfg.BreakerCooldown},
	}
	l, err := newLocal(cfg.LocalSize, &c.st.evictions)
	if err != nil {
		return nil, fmt.Errorf("cache: local tier: %w", err)
	}
	c.local = l
	if cfg.RedisURL == "" {
		return c, nil
	}
	c.rdb, c.ownsRedis = cfg.Redis, cfg.Redis == nil
	if c.ownsRedis {
		if c.rdb, err = NewRedisClient(cfg.RedisURL, cfg.Timeout); err != nil {
			c.local.close()
			return nil, err
		}
	}
	c.script = redis.NewScript(invalidateScript)
	// One bounded ping so that RedisUp is meaningful from the start; its
	// failure is only logged.
	c.redisOp(ctx, "ping", func(ctx context.Context) error { return c.rdb.Ping(ctx).Err() })
	if !c.redisUp.Load() {
		log.Warn("cache: Redis unreachable at start; serving from the local tier until it answers", "redis", redactURL(cfg.RedisURL))
	}
	return c, nil
}

// Get returns the value of key: from the local tier, else from Redis (filling
// the local tier). The returned slice is shared: do not modify it.
func (c *Cache) Get(ctx context.Context, key string) ([]byte, bool) {
	fc := c.fieldOf(ctx)
	if v, ok := c.local.get(key); ok {
		c.st.localHits.Add(1)
		fc.hit()
		return v, true
	}
	c.st.localMisses.Add(1)
	v, ok := c.redisGet(ctx, key)
	if ok {
		fc.hit()
	} else {
		fc.miss()
	}
	return v, ok
}

// GetLocal returns the value of key from the local tier only, never touching
// Redis. A hit is counted (LocalHits and the field's hits); a miss is not,
// because the caller goes on to Get or GetMany, which count it.
func (c *Cache) GetLocal(ctx context.Context, key string) ([]byte, bool) {
	v, ok := c.local.get(key)
	if ok {
		c.st.localHits.Add(1)
		c.fieldOf(ctx).hit()
	}
	return v, ok
}

// GetMany returns the values found for keys (absent keys are missing from the
// map): the local tier first, then ONE Redis MGET for the misses, whose hits
// fill the local tier. The returned slices are shared: do not modify them.
func (c *Cache) GetMany(ctx context.Context, keys []string) map[string][]byte {
	out := make(map[string][]byte, len(keys))
	fc := c.fieldOf(ctx)
	var misses []string
	var seen map[string]struct{}
	for _, k := range keys {
		if _, dup := out[k]; dup {
			continue
		}
		if seen != nil {
			if _, dup := seen[k]; dup {
				continue
			}
		}
		if v, ok := c.local.get(k); ok {
			c.st.localHits.Add(1)
			fc.hit()
			out[k] = v
			continue
		}
		c.st.localMisses.Add(1)
		if seen == nil {
			seen = make(map[string]struct{}, len(keys))
		}
		seen[k] = struct{}{}
		misses = append(misses, k)
	}
	if len(misses) == 0 {
		return out
	}
	found := c.redisGetMany(ctx, misses)
	for _, k := range misses {
		if v, ok := found[k]; ok {
			out[k] = v
			fc.hit()
		} else {
			fc.miss()
		}
	}
	return out
}

// Set stores val under key in both tiers for ttl (jittered), tagged with
// tags. A ttl ≤ 0 stores nothing. Redis trouble only skips the Redis write.
func (c *Cache) Set(ctx context.Context, key string, val []byte, ttl time.Duration, tags []string) {
	if ttl <= 0 {
		return
	}
	c.set(ctx, key, bytes.Clone(val), c.jitter(ttl), normTags(tags))
}

// set stores an owned value with an already jittered ttl and normalised tags.
func (c *Cache) set(ctx context.Context, key string, val []byte, ttl time.Duration, tags []string) {
	if val == nil {
		val = []byte{}
	}
	c.st.sets.Add(1)
	expireAt := time.Now().Add(ttl)
	c.local.set(key, val, min(ttl, c.cfg.LocalMaxTTL), tags)
	c.redisSet(ctx, key, val, ttl, expireAt, tags)
}

// Do returns the value of key, computing and storing it (for ttl, tagged with
// tags) on a miss. Concurrent misses of one key on this instance run compute
// once and share its result. compute's error is returned, and nothing is
// cached. compute runs with ctx's values but not its cancellation (other
// callers may be waiting for it); a caller whose ctx ends stops waiting and
// gets ctx's error. A panic in compute is returned as an error.
func (c *Cache) Do(ctx context.Context, key string, ttl time.Duration, tags []string, compute func(context.Context) ([]byte, error)) ([]byte, error) {
	if v, ok := c.Get(ctx, key); ok {
		return v, nil
	}
	return c.Fill(ctx, key, ttl, tags, compute)
}

// Fill is Do without the first lookup, for callers that already looked the
// key up themselves (gqlcache reads list elements in one batched MGET):
// concurrent fills of one key compute once, and the value is stored in both
// tiers unless one of its tags was invalidated meanwhile.
func (c *Cache) Fill(ctx context.Context, key string, ttl time.Duration, tags []string, compute func(context.Context) ([]byte, error)) ([]byte, error) {
	tags = normTags(tags)
	ch := c.sf.DoChan(key, func() (any, error) {
		// A flight that has just ended may have filled the local tier.
		if v, ok := c.local.get(key); ok {
			return v, nil
		}
		cctx := context.WithoutCancel(ctx)
		seq := c.local.seqNow()
		v, err := safeCompute(cctx, key, compute)
		if err != nil {
			return nil, err
		}
		if ttl <= 0 {
			return v, nil
		}
		v = bytes.Clone(v)
		if v == nil {
			v = []byte{}
		}
		ttl := c.jitter(ttl)
		// Not cached when one of the tags was invalidated while compute ran:
		// the value may predate the write behind the invalidation.
		if !c.local.setUnlessInvalidated(key, v, min(ttl, c.cfg.LocalMaxTTL), tags, seq) {
			return v, nil
		}
		c.st.sets.Add(1)
		c.redisSet(cctx, key, v, ttl, time.Now().Add(ttl), tags)
		if c.rdb != nil && c.local.invalidatedSince(seq, tags) {
			// The invalidation may have run in Redis before this write:
			// take it back.
			c.redisDel(cctx, key)
		}
		return v, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		b, _ := r.Val.([]byte)
		return b, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("cache: waiting for %q: %w", key, ctx.Err())
	}
}

func safeCompute(ctx context.Context, key string, compute func(context.Context) ([]byte, error)) (v []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cache: compute of %q panicked: %v\n%s", key, r, debug.Stack())
		}
	}()
	v, err = compute(ctx)
	if err != nil {
		return nil, err
	}
	return v, nil
}

// Invalidate drops every entry carrying any of tags, in both tiers, on this
// instance at once and on the others through Run (Redis pub/sub) and
// Broadcast (the bus). When Redis cannot be reached the Redis part is
// queued and retried by Run.
func (c *Cache) Invalidate(ctx context.Context, tags ...string) {
	tags = normTags(tags)
	if len(tags) == 0 {
		return
	}
	c.st.invalidations.Add(int64(len(tags)))
	c.local.invalidateTags(tags)
	// Every invalidation also goes to the other instances over the bus
	// (Broadcast), whether Redis is up or not: Redis pub/sub is the fast
	// route, this one keeps them consistent without it.
	if lost := c.out.add(tags); lost > 0 {
		c.log.Error("cache: too many invalidations waiting for the bus; other instances may serve stale local entries until their TTL", "lost", lost)
	}
	if c.rdb == nil {
		return
	}
	all := c.pending.takeWith(tags)
	// The write that caused the invalidation has happened: finish it even if
	// the caller is gone (Timeout still bounds it).
	if !c.redisInvalidate(context.WithoutCancel(ctx), all) {
		c.queue(all)
	}
}

// Close releases the Redis connections and stops Run. The local tier keeps
// answering afterwards; Redis is no longer used.
func (c *Cache) Close() error {
	var err error
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		close(c.done)
		c.redisUp.Store(false)
		if c.rdb != nil && c.ownsRedis {
			if e := c.rdb.Close(); e != nil {
				err = fmt.Errorf("cache: close redis client: %w", e)
			}
		}
		c.local.close()
	})
	return err
}

// jitter returns ttl × [1-Jitter, 1+Jitter], at least a millisecond.
func (c *Cache) jitter(ttl time.Duration) time.Duration {
	if c.cfg.Jitter > 0 {
		f := 1 + c.cfg.Jitter*(2*mrand.Float64()-1)
		ttl = time.Duration(float64(ttl) * f)
	}
	return max(ttl, time.Millisecond)
}

// normTags drops empty and repeated tags; the result is a fresh slice.
func normTags(tags []string) []string {
	if len(tags) == 0 {
		return nil
	}
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		if t == "" {
			continue
		}
		dup := false
		for _, o := range out {
			if o == t {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// InvalidateLocal drops this instance's in-process entries carrying any of
// tags, leaving Redis alone: for invalidations another instance already
// made in Redis and that reach this one by another route (the bus).
func (c *Cache) InvalidateLocal(tags ...string) {
	tags = normTags(tags)
	if len(tags) == 0 {
		return
	}
	c.st.invalidations.Add(int64(len(tags)))
	c.local.invalidateTags(tags)
}
