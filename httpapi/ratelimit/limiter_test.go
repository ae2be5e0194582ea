package ratelimit

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/meridian-graphql/meridian/internal/testredis"
)

func TestRedisBurstThenRefuse(t *testing.T) {
	rdb := redisClient(t)
	prefix := testPrefix(t, rdb)
	l := newLimiter(t, Config{Rate: 1, Burst: 3, Prefix: prefix}, rdb)

	for i := range 3 {
		d := allow(t, l, "k")
		if !d.Allowed || d.Local || d.Limit != 3 || d.Remaining != 2-i || d.RetryAfter != 0 {
			t.Fatalf("request %d: %+v, want allowed by Redis with %d left", i+1, d, 2-i)
		}
	}
	d := allow(t, l, "k")
	if d.Allowed || d.Local || d.Remaining != 0 {
		t.Fatalf("request 4: %+v, want refused by Redis", d)
	}
	// Almost a whole token is missing at 1 token/s.
	if d.RetryAfter < 900*time.Millisecond || d.RetryAfter > time.Second {
		t.Errorf("RetryAfter = %v, want just under 1s", d.RetryAfter)
	}
	// Another key has its own bucket.
	if d := allow(t, l, "other"); !d.Allowed {
		t.Errorf("other key: %+v, want allowed", d)
	}
	// The bucket expires once it would be full again: 3 s + 1 s slack.
	ttl, err := rdb.PTTL(context.Background(), prefix+"k").Result()
	if err != nil || ttl <= 0 || ttl > 4*time.Second {
		t.Errorf("PTTL = %v, %v; want in (0, 4s]", ttl, err)
	}
}

func TestRedisRefill(t *testing.T) {
	rdb := redisClient(t)
	l := newLimiter(t, Config{Rate: 20, Burst: 2, Prefix: testPrefix(t, rdb)}, rdb)

	allow(t, l, "k")
	allow(t, l, "k")
	d := allow(t, l, "k")
	if d.Allowed {
		t.Fatalf("third request allowed: %+v", d)
	}
	if d.RetryAfter <= 0 || d.RetryAfter > 50*time.Millisecond {
		t.Fatalf("RetryAfter = %v, want at most 50ms at 20 tokens/s", d.RetryAfter)
	}
	time.Sleep(d.RetryAfter + 20*time.Millisecond)
	if d := allow(t, l, "k"); !d.Allowed {
		t.Fatalf("after RetryAfter: %+v, want allowed", d)
	}
	// Refill stops at the burst.
	time.Sleep(300 * time.Millisecond) // 6 tokens' worth
	for i := range 3 {
		if d := allow(t, l, "k"); d.Allowed != (i < 2) {
			t.Errorf("request %d after a long pause: %+v; want only 2 allowed", i+1, d)
		}
	}
}

func TestRedisBucketSharedByInstances(t *testing.T) {
	rdb1, rdb2 := redisClient(t), redisClient(t)
	cfg := Config{Rate: 0.001, Burst: 4, Prefix: testPrefix(t, rdb1)}
	a, b := newLimiter(t, cfg, rdb1), newLimiter(t, cfg, rdb2)

	for i, l := range []*Limiter{a, b, a, b} {
		if d := allow(t, l, "k"); !d.Allowed || d.Remaining != 3-i {
			t.Fatalf("request %d: %+v, want allowed with %d left", i+1, d, 3-i)
		}
	}
	for _, l := range []*Limiter{a, b} {
		if d := allow(t, l, "k"); d.Allowed || d.Local {
			t.Errorf("past the shared burst: %+v, want refused by Redis", d)
		}
	}
}

// Many concurrent requests from two instances take exactly the burst: the
// script refills and takes atomically.
func TestRedisConcurrentRequestsTakeExactlyTheBurst(t *testing.T) {
	rdb1, rdb2 := redisClient(t), redisClient(t)
	// A long timeout: this test is about atomicity, and 200 requests queue
	// for the connection pools.
	cfg := Config{Rate: 0.001, Burst: 50, Prefix: testPrefix(t, rdb1), Timeout: 5 * time.Second}
	limiters := []*Limiter{newLimiter(t, cfg, rdb1), newLimiter(t, cfg, rdb2)}

	var allowed, local atomic.Int64
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			d, err := limiters[i%2].Allow(context.Background(), "k")
			if err != nil {
				t.Error(err)
				return
			}
			if d.Allowed {
				allowed.Add(1)
			}
			if d.Local {
				local.Add(1)
			}
		})
	}
	wg.Wait()
	if allowed.Load() != 50 || local.Load() != 0 {
		t.Errorf("allowed %d (local %d) of 200, want exactly 50, all by Redis", allowed.Load(), local.Load())
	}
}

// With Redis on a closed port every call falls back at once, still limits,
// and only the first call in each backoff period tries Redis.
func TestFallbackWhenRedisIsDown(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { _ = rdb.Close() })
	var cmds cmdCounter
	rdb.AddHook(&cmds)
	l := newLimiter(t, Config{Rate: 0.001, Burst: 2, Backoff: 200 * time.Millisecond}, rdb)

	for i := range 3 {
		start := time.Now()
		d := allow(t, l, "k")
		if el := time.Since(start); el > 100*time.Millisecond {
			t.Errorf("request %d took %v with Redis down", i+1, el)
		}
		if !d.Local || d.Allowed != (i < 2) {
			t.Fatalf("request %d: %+v, want a local decision, allowed for the first 2", i+1, d)
		}
	}
	if n := cmds.n.Load(); n != 1 {
		t.Errorf("%d Redis commands, want 1: Redis must be skipped after a failure", n)
	}

	time.Sleep(250 * time.Millisecond) // past the backoff: one probe
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() { allow(t, l, "k") })
	}
	wg.Wait()
	if n := cmds.n.Load(); n != 2 {
		t.Errorf("%d Redis commands after the backoff, want 2: one probe, not one per request", n)
	}
}

// A Redis that accepts connections but never answers must not hold the
// request beyond Config.Timeout, even with a client that ignores context
// deadlines (go-redis's default) and would wait 3 s.
func TestFallbackWhenRedisHangs(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: blackHole(t), MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	l := newLimiter(t, Config{Rate: 0.001, Burst: 1}, rdb)

	start := time.Now()
	d := allow(t, l, "k")
	if el := time.Since(start); el > 100*time.Millisecond {
		t.Errorf("Allow took %v with Redis hanging; want about the 50 ms timeout", el)
	}
	if !d.Allowed || !d.Local {
		t.Errorf("decision %+v, want allowed locally", d)
	}
}

func TestLocalOnly(t *testing.T) {
	l := newLimiter(t, Config{Rate: 2, Burst: 2}, nil)
	for i := range 2 {
		if d := allow(t, l, "k"); !d.Allowed || !d.Local || d.Remaining != 1-i || d.Limit != 2 {
			t.Fatalf("request %d: %+v", i+1, d)
		}
	}
	d := allow(t, l, "k")
	if d.Allowed || d.RetryAfter <= 400*time.Millisecond || d.RetryAfter > 500*time.Millisecond {
		t.Fatalf("request 3: %+v, want refused for about 500ms at 2 tokens/s", d)
	}
	time.Sleep(d.RetryAfter + 20*time.Millisecond)
	if d := allow(t, l, "k"); !d.Allowed {
		t.Errorf("after RetryAfter: %+v, want allowed", d)
	}
}

func TestLocalBucketsAreBounded(t *testing.T) {
	l := newLimiter(t, Config{Rate: 0.001, Burst: 1, LocalKeys: 2}, nil)
	allow(t, l, "a")
	if d := allow(t, l, "a"); d.Allowed {
		t.Fatal("a: second request allowed")
	}
	allow(t, l, "b")
	allow(t, l, "c") // evicts a, the least recently used
	if n := l.local.buckets.Len(); n != 2 {
		t.Errorf("%d local buckets, want 2", n)
	}
	if d := allow(t, l, "a"); !d.Allowed {
		t.Errorf("a after eviction: %+v, want a fresh bucket", d)
	}
}

// Redis goes away and comes back: the limiter falls back, logs it once,
// and returns to Redis after the backoff.
func TestRecoversWhenRedisReturns(t *testing.T) {
	redisClient(t) // skip without Redis
	p := testredis.NewProxy(t)
	rdb := redis.NewClient(&redis.Options{Addr: p.Addr(), MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	var logs bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))
	cfg := Config{Rate: 100, Burst: 100, Prefix: testPrefix(t, redisClient(t)), Backoff: 100 * time.Millisecond}
	l, err := New(cfg, rdb, log)
	if err != nil {
		t.Fatal(err)
	}

	if d := allow(t, l, "k"); d.Local {
		t.Fatalf("with Redis up: %+v, want a Redis decision", d)
	}
	p.Down()
	for range 5 {
		if d := allow(t, l, "k"); !d.Local || !d.Allowed {
			t.Fatalf("with Redis down: %+v, want allowed locally", d)
		}
	}
	p.Up()
	time.Sleep(150 * time.Millisecond)
	if d := allow(t, l, "k"); d.Local {
		t.Fatalf("with Redis back after the backoff: %+v, want a Redis decision", d)
	}

	mu.Lock()
	out := logs.String()
	mu.Unlock()
	if strings.Count(out, "Redis unavailable") != 1 || strings.Count(out, "Redis is back") != 1 {
		t.Errorf("logs, want one outage and one recovery:\n%s", out)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (w lockedWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(b)
}

// A caller that gives up is not a Redis failure.
func TestCanceledContextDoesNotTripTheBreaker(t *testing.T) {
	rdb := redisClient(t)
	l := newLimiter(t, Config{Rate: 1, Burst: 5, Prefix: testPrefix(t, rdb)}, rdb)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Allow(ctx, "k"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Allow(canceled) error = %v, want context.Canceled", err)
	}
	if d := allow(t, l, "k"); d.Local {
		t.Errorf("next request: %+v, want a Redis decision", d)
	}
}

func TestAllowNValidation(t *testing.T) {
	l := newLimiter(t, Config{Rate: 1, Burst: 3}, nil)
	for _, n := range []int{0, -1, 4} {
		if _, err := l.AllowN(context.Background(), "k", n); !errors.Is(err, ErrExceedsBurst) {
			t.Errorf("AllowN(%d) error = %v, want ErrExceedsBurst", n, err)
		}
	}
	if d, err := l.AllowN(context.Background(), "k", 3); err != nil || !d.Allowed || d.Remaining != 0 {
		t.Errorf("AllowN(3) = %+v, %v; want the whole burst", d, err)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	for _, cfg := range []Config{
		{Rate: 0, Burst: 1},
		{Rate: -1, Burst: 1},
		{Rate: 1, Burst: 0},
		{Rate: 1, Burst: 1, Timeout: -time.Second},
	} {
		if _, err := New(cfg, nil, nil); err == nil {
			t.Errorf("New(%+v) succeeded, want an error", cfg)
		}
	}
	l := newLimiter(t, Config{Rate: 1, Burst: 1}, nil)
	if l.cfg.Prefix != DefaultPrefix || l.cfg.Timeout != DefaultTimeout || l.cfg.Backoff != DefaultBackoff || l.cfg.LocalKeys != DefaultLocalKeys {
		t.Errorf("defaults not applied: %+v", l.cfg)
	}
}

// Peek looks without taking, and a key never seen costs no bucket, in
// Redis or locally.
func TestPeek(t *testing.T) {
	rdb := redisClient(t)
	prefix := testPrefix(t, rdb)
	for name, l := range map[string]*Limiter{
		"redis": newLimiter(t, Config{Rate: 0.001, Burst: 2, Prefix: prefix}, rdb),
		"local": newLimiter(t, Config{Rate: 0.001, Burst: 2}, nil),
	} {
		t.Run(name, func(t *testing.T) {
			for range 3 {
				if d, err := l.Peek(context.Background(), name); err != nil || !d.Allowed || d.Remaining != 2 {
					t.Fatalf("Peek on a fresh key: %+v, %v", d, err)
				}
			}
			if n, _ := rdb.Exists(context.Background(), prefix+name).Result(); n != 0 || l.local.buckets.Len() != 0 {
				t.Errorf("Peek created a bucket (redis %d, local %d)", n, l.local.buckets.Len())
			}
			allow(t, l, name)
			allow(t, l, name)
			d, err := l.Peek(context.Background(), name)
			if err != nil || d.Allowed || d.RetryAfter <= 0 {
				t.Errorf("Peek on an empty bucket: %+v, %v, want refused with a wait", d, err)
			}
			if d := allow(t, l, name); d.Allowed {
				t.Errorf("Allow after Peek: %+v, want still refused", d)
			}
		})
	}
}
