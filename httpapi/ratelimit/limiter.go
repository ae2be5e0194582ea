package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Limiter decides whether a key may make a request. It is safe for
// concurrent use.
type Limiter struct {
	cfg    Config
	rdb    redis.UniversalClient // nil: local buckets only
	script *redis.Script
	local  *local
	log    *slog.Logger

	// epoch anchors skipUntil to the monotonic clock, so a wall-clock jump
	// cannot keep Redis switched off.
	epoch time.Time
	// skipUntil is, in nanoseconds since epoch, when Redis may be tried
	// again after a failure; 0 while Redis is healthy.
	skipUntil atomic.Int64
}

// New returns a Limiter using rdb for shared buckets; rdb may be nil, for
// local buckets only. log (nil: discard) hears when Redis goes away and
// comes back, once each.
func New(cfg Config, rdb redis.UniversalClient, log *slog.Logger) (*Limiter, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	loc, err := newLocal(cfg)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Limiter{
		cfg:    cfg,
		rdb:    rdb,
		script: newScript(),
		local:  loc,
		log:    log,
		epoch:  time.Now(),
	}, nil
}

// ErrExceedsBurst is returned for a request of more tokens than a bucket
// holds, which could never be allowed.
var ErrExceedsBurst = errors.New("ratelimit: more tokens requested than the burst")

// Allow takes one token from key's bucket.
func (l *Limiter) Allow(ctx context.Context, key string) (Decision, error) {
	return l.AllowN(ctx, key, 1)
}

// AllowN takes n tokens from key's bucket, all or none.
//
// Redis trouble is not an error: the local bucket decides instead, with
// Decision.Local set. AllowN fails only for n outside 1..Burst, or when ctx
// ends while Redis is being asked — the caller is gone then, and a Redis
// that was merely not waited for is not counted as a failure.
func (l *Limiter) AllowN(ctx context.Context, key string, n int) (Decision, error) {
	if n < 1 || n > l.cfg.Burst {
		return Decision{}, fmt.Errorf("%w: %d tokens, burst %d", ErrExceedsBurst, n, l.cfg.Burst)
	}
	return l.decide(ctx, key, n, true)
}

// Peek reports whether key could make a request now, taking nothing: for
// limits on what happens after the request (failed logins, say), which
// are checked before it and charged only when it fails.
func (l *Limiter) Peek(ctx context.Context, key string) (Decision, error) {
	return l.decide(ctx, key, 1, false)
}

// decide asks Redis, or the local bucket when Redis is away, for n tokens
// of key's bucket, taking them when take is set.
func (l *Limiter) decide(ctx context.Context, key string, n int, take bool) (Decision, error) {
	if !l.tryRedis() {
		return l.local.allow(key, n, time.Now(), take), nil
	}
	d, err := l.allowRedis(ctx, key, n, take)
	if err == nil {
		l.redisUp()
		return d, nil
	}
	if ctx.Err() != nil {
		// The caller gave up, which says nothing about Redis: no backoff.
		return Decision{}, fmt.Errorf("ratelimit: %w", ctx.Err())
	}
	l.redisDown(err)
	return l.local.allow(key, n, time.Now(), take), nil
}

// tryRedis reports whether to ask Redis. After a failure it answers no
// until Backoff has passed, then lets exactly one caller probe (moving the
// deadline forward for the others) so that a dead Redis costs one timeout
// per Backoff, not one per request.
func (l *Limiter) tryRedis() bool {
	if l.rdb == nil {
		return false
	}
	until := l.skipUntil.Load()
	if until == 0 {
		return true
	}
	now := int64(time.Since(l.epoch))
	if now < until {
		return false
	}
	return l.skipUntil.CompareAndSwap(until, now+int64(l.cfg.Backoff))
}

// redisDown switches Redis off for Backoff, logging the first failure of
// an outage.
func (l *Limiter) redisDown(err error) {
	was := l.skipUntil.Swap(int64(time.Since(l.epoch)) + int64(l.cfg.Backoff))
	if was == 0 {
		l.log.Warn("ratelimit: Redis unavailable, limiting per instance",
			"err", err, "retryIn", l.cfg.Backoff)
	}
}

// redisUp marks Redis healthy, logging the end of an outage.
func (l *Limiter) redisUp() {
	if l.skipUntil.Load() != 0 && l.skipUntil.Swap(0) != 0 {
		l.log.Info("ratelimit: Redis is back, limiting shared again")
	}
}
