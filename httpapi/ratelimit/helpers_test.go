package ratelimit

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/meridian-graphql/meridian/internal/testredis"
)

func redisAddr() string { return testredis.Addr() }

func redisClient(t testing.TB) *redis.Client { return testredis.Client(t) }

func testPrefix(t testing.TB, c *redis.Client) string { return testredis.Prefix(t, c, "ratelimit:") }

func newLimiter(t testing.TB, cfg Config, rdb redis.UniversalClient) *Limiter {
	t.Helper()
	l, err := New(cfg, rdb, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return l
}

// allow calls l.Allow and fails the test on an error.
func allow(t testing.TB, l *Limiter, key string) Decision {
	t.Helper()
	d, err := l.Allow(context.Background(), key)
	if err != nil {
		t.Fatalf("Allow: %v", err)
	}
	return d
}

// cmdCounter is a go-redis hook counting the commands sent.
type cmdCounter struct{ n atomic.Int64 }

func (h *cmdCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *cmdCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}

func (h *cmdCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func blackHole(t testing.TB) string { return testredis.BlackHole(t) }
