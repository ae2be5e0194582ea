package cache

import (
	"context"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"
)

// Stats are a Cache's counters since New.
type Stats struct {
	// LocalHits and LocalMisses count lookups of the local tier (a key of
	// GetMany counts once).
	LocalHits, LocalMisses int64
	// RedisHits and RedisMisses count keys looked up in Redis that answered.
	RedisHits, RedisMisses int64
	// Sets counts values stored (by Set and by Do).
	Sets int64
	// Evictions counts local entries removed for size or because their TTL
	// ended.
	Evictions int64
	// Invalidations counts tags invalidated on this instance: by its own
	// Invalidate calls and by messages from other instances.
	Invalidations int64
	// RedisErrors counts failed or timed-out Redis calls (and lost
	// subscriptions).
	RedisErrors int64
	// RedisSkipped counts Redis calls skipped while the circuit breaker was
	// open.
	RedisSkipped int64
	// RedisUp: the last Redis call succeeded and the breaker is closed.
	RedisUp bool
	// BreakerOpen: the circuit breaker skips Redis (BreakerThreshold
	// consecutive failures, and no probe has succeeded since).
	BreakerOpen bool
	// Subscribed: Run holds the invalidation subscription.
	Subscribed bool
	// Broadcasts counts the coalesced sends of Broadcast that succeeded;
	// BroadcastErrors the failed ones (retried).
	Broadcasts, BroadcastErrors int64
	// RedisLatencyP50 and RedisLatencyP99 are over the last 512 Redis calls.
	RedisLatencyP50, RedisLatencyP99 time.Duration
	// Fields are hits and misses per GraphQL field ("Type.field"), for
	// lookups whose ctx was tagged by WithField.
	Fields map[string]FieldStats
}

// FieldStats are the hits and misses of one field.
type FieldStats struct{ Hits, Misses int64 }

// Stats returns the counters since New.
func (c *Cache) Stats() Stats {
	p50, p99 := c.lat.percentiles()
	s := Stats{
		LocalHits:       c.st.localHits.Load(),
		LocalMisses:     c.st.localMisses.Load(),
		RedisHits:       c.st.redisHits.Load(),
		RedisMisses:     c.st.redisMisses.Load(),
		Sets:            c.st.sets.Load(),
		Evictions:       c.st.evictions.Load(),
		Invalidations:   c.st.invalidations.Load(),
		RedisErrors:     c.st.redisErrors.Load(),
		RedisSkipped:    c.st.redisSkipped.Load(),
		RedisUp:         c.rdb != nil && !c.closed.Load() && c.redisUp.Load() && !c.br.isOpen(),
		BreakerOpen:     c.rdb != nil && c.br.isOpen(),
		Subscribed:      c.subscribed.Load(),
		Broadcasts:      c.st.broadcasts.Load(),
		BroadcastErrors: c.st.broadcastErrors.Load(),
		RedisLatencyP50: p50,
		RedisLatencyP99: p99,
		Fields:          map[string]FieldStats{},
	}
	c.fields.Range(func(k, v any) bool {
		fc := v.(*fieldCounter)
		s.Fields[k.(string)] = FieldStats{Hits: fc.hits.Load(), Misses: fc.misses.Load()}
		return true
	})
	return s
}

type counters struct {
	localHits, localMisses, redisHits, redisMisses atomic.Int64
	sets, evictions, invalidations                 atomic.Int64
	redisErrors, redisSkipped                      atomic.Int64
	broadcasts, broadcastErrors                    atomic.Int64
}

type fieldKey struct{}

// WithField tags ctx with the GraphQL field ("Country.stats") being resolved,
// so that Get, GetLocal, GetMany and Do count its hits and misses. Field names
// should come from the schema (a bounded set): each distinct name keeps a
// counter for the life of the Cache.
func WithField(ctx context.Context, field string) context.Context {
	return context.WithValue(ctx, fieldKey{}, field)
}

type fieldCounter struct{ hits, misses atomic.Int64 }

func (f *fieldCounter) hit() {
	if f != nil {
		f.hits.Add(1)
	}
}

func (f *fieldCounter) miss() {
	if f != nil {
		f.misses.Add(1)
	}
}

// fieldOf returns the counter of ctx's field, nil when untagged.
func (c *Cache) fieldOf(ctx context.Context) *fieldCounter {
	name, _ := ctx.Value(fieldKey{}).(string)
	if name == "" {
		return nil
	}
	if v, ok := c.fields.Load(name); ok {
		return v.(*fieldCounter)
	}
	v, _ := c.fields.LoadOrStore(name, &fieldCounter{})
	return v.(*fieldCounter)
}

const latencySamples = 512

// latencyRing keeps the durations of the last latencySamples Redis calls.
type latencyRing struct {
	n   atomic.Uint64
	buf [latencySamples]atomic.Int64
}

func (r *latencyRing) record(d time.Duration) {
	i := r.n.Add(1) - 1
	r.buf[i%latencySamples].Store(int64(d))
}

func (r *latencyRing) percentiles() (p50, p99 time.Duration) {
	n := min(r.n.Load(), latencySamples)
	if n == 0 {
		return 0, 0
	}
	s := make([]int64, n)
	for i := range s {
		s[i] = r.buf[i].Load()
	}
	slices.Sort(s)
	at := func(p uint64) time.Duration { return time.Duration(s[(n-1)*p/100]) }
	return at(50), at(99)
}

// breaker skips Redis for cooldown after threshold consecutive failures; then
// one call at a time probes it, and a success closes it.
type breaker struct {
	threshold int64
	cooldown  time.Duration
	failures  atomic.Int64
	openUntil atomic.Int64 // unix ns; 0: closed
	probing   atomic.Bool
}

// allow reports whether a call may go to Redis, and whether it is the probe
// of an open breaker (which must then report success, failure or neutral).
func (b *breaker) allow() (ok, probe bool) {
	until := b.openUntil.Load()
	if until == 0 {
		return true, false
	}
	if time.Now().UnixNano() < until {
		return false, false
	}
	if b.probing.CompareAndSwap(false, true) {
		return true, true
	}
	return false, false
}

// success closes the breaker; it reports whether it was open.
func (b *breaker) success(probe bool) (closed bool) {
	b.failures.Store(0)
	if b.openUntil.Load() != 0 {
		closed = b.openUntil.Swap(0) != 0
	}
	if probe {
		b.probing.Store(false)
	}
	return closed
}

// failure counts a failure; it reports whether the breaker (re)opened.
func (b *breaker) failure(probe bool) (opened bool) {
	now := time.Now()
	if probe {
		b.openUntil.Store(now.Add(b.cooldown).UnixNano())
		b.probing.Store(false)
		return true
	}
	if b.failures.Add(1) >= b.threshold && b.openUntil.Load() == 0 {
		return b.openUntil.CompareAndSwap(0, now.Add(b.cooldown).UnixNano())
	}
	return false
}

// neutral ends a call that says nothing about Redis (the caller gave up).
func (b *breaker) neutral(probe bool) {
	if probe {
		b.probing.Store(false)
	}
}

func (b *breaker) isOpen() bool { return b.openUntil.Load() != 0 }

// rateLog logs at most once per every; the calls it drops are counted and
// reported with the next record.
type rateLog struct {
	logger     *slog.Logger
	every      time.Duration
	last       atomic.Int64
	suppressed atomic.Int64
}

func (r *rateLog) warn(msg string, args ...any) { r.log(slog.LevelWarn, msg, args...) }
func (r *rateLog) info(msg string, args ...any) { r.log(slog.LevelInfo, msg, args...) }

func (r *rateLog) log(level slog.Level, msg string, args ...any) {
	now := time.Now().UnixNano()
	last := r.last.Load()
	if (last != 0 && now-last < int64(r.every)) || !r.last.CompareAndSwap(last, now) {
		r.suppressed.Add(1)
		return
	}
	if n := r.suppressed.Swap(0); n > 0 {
		args = append(args, "suppressed", n)
	}
	r.logger.Log(context.Background(), level, msg, args...)
}
