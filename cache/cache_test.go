package cache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/internal/testredis"
)

var bg = context.Background()

// 1. Hits and misses of both tiers are counted; TTLs end in both tiers.
func TestHitsMissesAndTTL(t *testing.T) {
	p := testPrefix(t)
	r := rawRedis(t)
	a := newTestCache(t, Config{RedisURL: redisURL(), Prefix: p, Instance: "a"})
	b := newTestCache(t, Config{RedisURL: redisURL(), Prefix: p, Instance: "b"})

	if _, ok := a.Get(bg, "k"); ok {
		t.Fatal("hit before any Set")
	}
	a.Set(bg, "k", []byte("v1"), 200*time.Millisecond, nil)
	if v, ok := a.Get(bg, "k"); !ok || string(v) != "v1" {
		t.Fatalf("a.Get = %q, %v", v, ok)
	}
	pttl := r.PTTL(bg, p+"k").Val()
	if pttl < 150*time.Millisecond || pttl > 220*time.Millisecond {
		t.Errorf("Redis PTTL = %v, want within 200ms ±10%%", pttl)
	}
	// b has nothing locally: Redis answers and fills b's local tier.
	if v, ok := b.Get(bg, "k"); !ok || string(v) != "v1" {
		t.Fatalf("b.Get = %q, %v", v, ok)
	}
	if v, ok := b.Get(bg, "k"); !ok || string(v) != "v1" {
		t.Fatalf("b.Get (local) = %q, %v", v, ok)
	}
	sa, sb := a.Stats(), b.Stats()
	if sa.LocalHits != 1 || sa.LocalMisses != 1 || sa.RedisHits != 0 || sa.RedisMisses != 1 || sa.Sets != 1 {
		t.Errorf("a stats = %+v", sa)
	}
	if sb.LocalHits != 1 || sb.LocalMisses != 1 || sb.RedisHits != 1 || sb.RedisMisses != 0 {
		t.Errorf("b stats = %+v", sb)
	}
	if !sa.RedisUp || sa.RedisErrors != 0 || sa.RedisLatencyP50 <= 0 || sa.RedisLatencyP99 < sa.RedisLatencyP50 {
		t.Errorf("a Redis health = up %v, errors %d, p50 %v, p99 %v", sa.RedisUp, sa.RedisErrors, sa.RedisLatencyP50, sa.RedisLatencyP99)
	}

	time.Sleep(300 * time.Millisecond)
	for _, c := range []*Cache{a, b} {
		if v, ok := c.Get(bg, "k"); ok {
			t.Errorf("%s: Get after the TTL = %q", c.cfg.Instance, v)
		}
	}
	if n := r.Exists(bg, p+"k").Val(); n != 0 {
		t.Error("the key is still in Redis after its TTL")
	}
	if s := a.Stats(); s.LocalMisses != 2 || s.RedisMisses != 2 {
		t.Errorf("a stats after expiry = %+v", s)
	}
}

// The local copy made from a Redis hit lives no longer than the Redis value.
func TestLocalCopyKeepsRedisExpiry(t *testing.T) {
	p := testPrefix(t)
	a := newTestCache(t, Config{RedisURL: redisURL(), Prefix: p, Jitter: -1})
	b := newTestCache(t, Config{RedisURL: redisURL(), Prefix: p, Jitter: -1})
	a.Set(bg, "k", []byte("v"), 300*time.Millisecond, nil)
	time.Sleep(200 * time.Millisecond)
	if _, ok := b.Get(bg, "k"); !ok {
		t.Fatal("b: Redis miss before the TTL")
	}
	time.Sleep(150 * time.Millisecond)
	if _, ok := b.local.get("k"); ok {
		t.Error("b's local copy outlived the Redis value")
	}
}

// The local tier keeps a value at most LocalMaxTTL; Redis keeps it for ttl.
func TestLocalMaxTTL(t *testing.T) {
	p := testPrefix(t)
	c := newTestCache(t, Config{RedisURL: redisURL(), Prefix: p, LocalMaxTTL: 100 * time.Millisecond})
	c.Set(bg, "k", []byte("v"), 10*time.Second, nil)
	if _, ok := c.local.get("k"); !ok {
		t.Fatal("not in the local tier")
	}
	time.Sleep(150 * time.Millisecond)
	if _, ok := c.local.get("k"); ok {
		t.Fatal("local copy outlived LocalMaxTTL")
	}
	if v, ok := c.Get(bg, "k"); !ok || string(v) != "v" {
		t.Fatalf("Get = %q, %v (want the Redis value)", v, ok)
	}
	if s := c.Stats(); s.RedisHits != 1 {
		t.Errorf("RedisHits = %d, want 1", s.RedisHits)
	}
}

func TestJitter(t *testing.T) {
	c := newTestCache(t, Config{})
	ttl := time.Second
	lo, hi := ttl, ttl
	for range 5000 {
		d := c.jitter(ttl)
		if d < 900*time.Millisecond || d > 1100*time.Millisecond {
			t.Fatalf("jitter(%v) = %v, outside ±10%%", ttl, d)
		}
		lo, hi = min(lo, d), max(hi, d)
	}
	if lo > 920*time.Millisecond || hi < 1080*time.Millisecond {
		t.Errorf("jitter spread only over [%v, %v]", lo, hi)
	}
	off := newTestCache(t, Config{Jitter: -1})
	if d := off.jitter(ttl); d != ttl {
		t.Errorf("Jitter -1: %v, want %v", d, ttl)
	}

	// The TTLs in Redis are jittered alike.
	p := testPrefix(t)
	r := rawRedis(t)
	rc := newTestCache(t, Config{RedisURL: redisURL(), Prefix: p, Jitter: 0.2})
	distinct := map[time.Duration]bool{}
	for i := range 20 {
		k := fmt.Sprint("k", i)
		rc.Set(bg, k, []byte("v"), 100*time.Second, nil)
		d := r.PTTL(bg, p+k).Val()
		if d < 79*time.Second || d > 120*time.Second {
			t.Errorf("PTTL %v outside 100s ±20%%", d)
		}
		distinct[d.Truncate(100*time.Millisecond)] = true
	}
	if len(distinct) < 5 {
		t.Errorf("only %d distinct TTLs over 20 Sets", len(distinct))
	}
}

// 2. GetMany: the local tier, then one MGET for all the misses.
func TestGetManyOneMGET(t *testing.T) {
	p := testPrefix(t)
	a := newTestCache(t, Config{RedisURL: redisURL(), Prefix: p})
	b := newTestCache(t, Config{RedisURL: redisURL(), Prefix: p})
	h := &cmdCounter{}
	b.rdb.AddHook(h)
	for i := range 5 {
		a.Set(bg, fmt.Sprint("k", i), []byte(fmt.Sprint("v", i)), time.Minute, []string{"t"})
	}
	if _, ok := b.Get(bg, "k0"); !ok { // k0 now in b's local tier
		t.Fatal("b.Get(k0) missed")
	}
	before := b.Stats()
	h.reset()
	keys := []string{"k0", "k1", "k2", "k3", "k4", "k5", "k1"}
	got := b.GetMany(bg, keys)
	if names := h.names(); len(names) != 1 || names[0] != "mget" {
		t.Fatalf("commands = %v, want one mget", names)
	}
	if args := h.cmds[0].Args(); len(args) != 6 { // mget k1..k5
		t.Errorf("MGET args = %v, want the 5 local misses", args)
	}
	if len(got) != 5 {
		t.Errorf("GetMany = %d values, want 5", len(got))
	}
	for i := range 5 {
		if k := fmt.Sprint("k", i); string(got[k]) != fmt.Sprint("v", i) {
			t.Errorf("%s = %q", k, got[k])
		}
	}
	after := b.Stats()
	if d := after.LocalHits - before.LocalHits; d != 1 {
		t.Errorf("local hits +%d, want +1", d)
	}
	if d := after.RedisHits - before.RedisHits; d != 4 {
		t.Errorf("Redis hits +%d, want +4", d)
	}
	if d := after.RedisMisses - before.RedisMisses; d != 1 {
		t.Errorf("Redis misses +%d, want +1", d)
	}
	// The hits filled the local tier (and its tag index): only the absent
	// key goes to Redis now.
	h.reset()
	got = b.GetMany(bg, keys)
	if names := h.names(); len(names) != 1 || len(h.cmds[0].Args()) != 2 {
		t.Errorf("second GetMany sent %v", names)
	}
	if len(got) != 5 {
		t.Errorf("second GetMany = %d values", len(got))
	}
	if n := b.local.tagged("t"); n != 5 {
		t.Errorf("b's local index holds %d keys of tag t, want 5", n)
	}
	h.reset()
	if got := b.GetMany(bg, []string{"k1", "k2"}); len(got) != 2 || len(h.names()) != 0 {
		t.Errorf("all-local GetMany: %d values, commands %v", len(got), h.names())
	}
}

// 3. Do: singleflight; errors are returned and not cached.
func TestDoSingleflight(t *testing.T) {
	p := testPrefix(t)
	r := rawRedis(t)
	c := newTestCache(t, Config{RedisURL: redisURL(), Prefix: p})
	var calls atomic.Int32
	start := make(chan struct{})
	var wg sync.WaitGroup
	results := make([][]byte, 50)
	errs := make([]error, 50)
	for i := range 50 {
		wg.Go(func() {
			<-start
			results[i], errs[i] = c.Do(bg, "k", time.Minute, []string{"t"}, func(ctx context.Context) ([]byte, error) {
				calls.Add(1)
				time.Sleep(100 * time.Millisecond)
				return []byte("computed"), nil
			})
		})
	}
	close(start)
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("compute ran %d times, want 1", n)
	}
	for i := range 50 {
		if errs[i] != nil || string(results[i]) != "computed" {
			t.Fatalf("caller %d: %q, %v", i, results[i], errs[i])
		}
	}
	if r.Exists(bg, p+"k").Val() != 1 {
		t.Error("the computed value is not in Redis")
	}
	// Cached now: no compute.
	if v, err := c.Do(bg, "k", time.Minute, nil, func(context.Context) ([]byte, error) {
		t.Error("compute ran for a cached key")
		return nil, nil
	}); err != nil || string(v) != "computed" {
		t.Errorf("Do on a hit = %q, %v", v, err)
	}

	boom := errors.New("boom")
	var ecalls atomic.Int32
	fail := func(context.Context) ([]byte, error) { ecalls.Add(1); return nil, boom }
	for range 2 {
		if _, err := c.Do(bg, "e", time.Minute, nil, fail); !errors.Is(err, boom) {
			t.Errorf("Do error = %v, want boom", err)
		}
	}
	if ecalls.Load() != 2 {
		t.Errorf("failing compute ran %d times, want 2 (errors are not cached)", ecalls.Load())
	}
	if _, ok := c.Get(bg, "e"); ok || r.Exists(bg, p+"e").Val() != 0 {
		t.Error("a failed compute left a value")
	}

	_, err := c.Do(bg, "p", time.Minute, nil, func(context.Context) ([]byte, error) { panic("kaboom") })
	if err == nil || !strings.Contains(err.Error(), "panicked: kaboom") {
		t.Errorf("Do with a panicking compute = %v", err)
	}
}

// Do does not cache what was computed while one of its tags was invalidated.
func TestDoSkipsCachingAcrossInvalidation(t *testing.T) {
	c := newTestCache(t, Config{RedisURL: redisURL(), Prefix: testPrefix(t)})
	v, err := c.Do(bg, "k", time.Minute, []string{"users"}, func(ctx context.Context) ([]byte, error) {
		c.Invalidate(ctx, "users") // a write lands while computing
		return []byte("maybe stale"), nil
	})
	if err != nil || string(v) != "maybe stale" {
		t.Fatalf("Do = %q, %v", v, err)
	}
	if _, ok := c.Get(bg, "k"); ok {
		t.Error("cached a value computed across an invalidation of its tag")
	}
	// An invalidation of an unrelated tag does not prevent caching.
	if _, err := c.Do(bg, "k2", time.Minute, []string{"users"}, func(ctx context.Context) ([]byte, error) {
		c.Invalidate(ctx, "events")
		return []byte("fine"), nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get(bg, "k2"); !ok {
		t.Error("an unrelated invalidation prevented caching")
	}
}

// A caller that gives up stops waiting; the compute finishes for the others
// and is cached.
func TestDoCallerGivesUp(t *testing.T) {
	c := newTestCache(t, Config{})
	ctx, cancel := context.WithTimeout(bg, 30*time.Millisecond)
	defer cancel()
	done := make(chan struct{})
	_, err := c.Do(ctx, "k", time.Minute, nil, func(ctx context.Context) ([]byte, error) {
		defer close(done)
		time.Sleep(150 * time.Millisecond)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return []byte("v"), nil
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Do = %v, want the caller's deadline", err)
	}
	<-done
	eventually(t, time.Second, "value cached after the caller left", func() bool {
		_, ok := c.Get(bg, "k")
		return ok
	})
}

// 4. Invalidate by tag, both tiers.
func TestInvalidateByTag(t *testing.T) {
	p := testPrefix(t)
	r := rawRedis(t)
	c := newTestCache(t, Config{RedisURL: redisURL(), Prefix: p})
	fresh := func() *Cache { return newTestCache(t, Config{RedisURL: redisURL(), Prefix: p}) }
	c.Set(bg, "a", []byte("A"), time.Minute, []string{"t1"})
	c.Set(bg, "b", []byte("B"), time.Minute, []string{"t1", "t2"})
	c.Set(bg, "c", []byte("C"), time.Minute, []string{"t2"})
	c.Set(bg, "d", []byte("D"), time.Minute, []string{"t3"})
	if r.Exists(bg, p+"tag:t2").Val() != 1 || r.ZCard(bg, p+"tag:t1").Val() != 2 {
		t.Fatal("tag sets not written")
	}
	if ttl := r.PTTL(bg, p+"tag:t1").Val(); ttl < 50*time.Second {
		t.Errorf("tag set TTL %v, want ≥ its members'", ttl)
	}

	c.Invalidate(bg, "t2")
	check := func(present, absent []string) {
		t.Helper()
		f := fresh() // sees Redis only
		for _, k := range present {
			if _, ok := c.Get(bg, k); !ok {
				t.Errorf("%s: gone from the local tier", k)
			}
			if _, ok := f.Get(bg, k); !ok {
				t.Errorf("%s: gone from Redis", k)
			}
		}
		for _, k := range absent {
			if _, ok := c.local.get(k); ok {
				t.Errorf("%s: still in the local tier", k)
			}
			if r.Exists(bg, p+k).Val() != 0 {
				t.Errorf("%s: still in Redis", k)
			}
			if _, ok := c.Get(bg, k); ok {
				t.Errorf("%s: Get hits", k)
			}
		}
	}
	check([]string{"a", "d"}, []string{"b", "c"})
	if r.Exists(bg, p+"tag:t2").Val() != 0 {
		t.Error("tag set t2 still in Redis")
	}
	if n := c.local.tagged("t2"); n != 0 {
		t.Errorf("local index of t2 holds %d keys", n)
	}
	if n := c.local.tagged("t1"); n != 1 {
		t.Errorf("local index of t1 holds %d keys, want 1 (a)", n)
	}

	c.Invalidate(bg, "t1", "nonexistent")
	check([]string{"d"}, []string{"a"})
	if s := c.Stats(); s.Invalidations != 3 {
		t.Errorf("Invalidations = %d, want 3", s.Invalidations)
	}
}

// A key re-set without a tag is no longer dropped by that tag (locally), and
// a value set after an invalidation survives it.
func TestRetaggedKey(t *testing.T) {
	c := newTestCache(t, Config{})
	c.Set(bg, "k", []byte("1"), time.Minute, []string{"old"})
	c.Set(bg, "k", []byte("2"), time.Minute, []string{"new"})
	if c.local.tagged("old") != 0 || c.local.tagged("new") != 1 {
		t.Errorf("index after re-tagging: old %d, new %d", c.local.tagged("old"), c.local.tagged("new"))
	}
	c.Invalidate(bg, "old")
	if v, ok := c.Get(bg, "k"); !ok || string(v) != "2" {
		t.Errorf("Get = %q, %v", v, ok)
	}
	c.Invalidate(bg, "new")
	if _, ok := c.Get(bg, "k"); ok {
		t.Error("still there after invalidating its tag")
	}
}

// 5. Two instances: an invalidation on A reaches B's local tier.
func TestCrossInstanceInvalidation(t *testing.T) {
	p := testPrefix(t)
	a := newTestCache(t, Config{RedisURL: redisURL(), Prefix: p, Instance: "A"})
	b := newTestCache(t, Config{RedisURL: redisURL(), Prefix: p, Instance: "B"})
	runCache(t, a)
	runCache(t, b)
	eventually(t, 2*time.Second, "both subscribed", func() bool {
		return a.Stats().Subscribed && b.Stats().Subscribed
	})
	a.Set(bg, "k", []byte("v"), time.Minute, []string{"country:42"})
	a.Set(bg, "other", []byte("o"), time.Minute, []string{"country:7"})
	for _, k := range []string{"k", "other"} {
		if _, ok := b.Get(bg, k); !ok {
			t.Fatalf("b.Get(%s) missed", k)
		}
	}
	if _, ok := b.local.get("k"); !ok {
		t.Fatal("b's local tier not filled")
	}
	start := time.Now()
	a.Invalidate(bg, "country:42")
	eventually(t, 2*time.Second, "B's local entry dropped", func() bool {
		_, ok := b.local.get("k")
		return !ok
	})
	t.Logf("invalidation reached B in %v", time.Since(start))
	if _, ok := b.Get(bg, "k"); ok {
		t.Error("b.Get hits after the invalidation")
	}
	if _, ok := b.local.get("other"); !ok {
		t.Error("an entry of another tag was dropped")
	}
	if n := b.Stats().Invalidations; n != 1 {
		t.Errorf("B Invalidations = %d, want 1", n)
	}
	time.Sleep(50 * time.Millisecond) // A's own message has arrived too
	if n := a.Stats().Invalidations; n != 1 {
		t.Errorf("A Invalidations = %d, want 1 (its own message ignored)", n)
	}
}

// 6a. Redis unreachable from the start.
func TestRedisUnreachable(t *testing.T) {
	var logs countingHandler
	c := newTestCache(t, Config{RedisURL: "redis://127.0.0.1:1/0", Timeout: 50 * time.Millisecond, Logger: slog.New(&logs)})
	runCache(t, c)
	start := time.Now()
	for i := range 20 {
		if _, ok := c.Get(bg, fmt.Sprint("k", i)); ok {
			t.Fatal("hit with no Redis")
		}
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("20 Gets took %v with Redis down", d)
	}
	c.Set(bg, "k", []byte("v"), time.Minute, []string{"t"})
	if v, ok := c.Get(bg, "k"); !ok || string(v) != "v" {
		t.Errorf("local tier: %q, %v", v, ok)
	}
	v, err := c.Do(bg, "d", time.Minute, nil, func(context.Context) ([]byte, error) { return []byte("x"), nil })
	if err != nil || string(v) != "x" {
		t.Errorf("Do = %q, %v", v, err)
	}
	if got := c.GetMany(bg, []string{"k", "d", "none"}); len(got) != 2 {
		t.Errorf("GetMany = %v", got)
	}
	c.Invalidate(bg, "t")
	if _, ok := c.Get(bg, "k"); ok {
		t.Error("local invalidation did not happen")
	}
	s := c.Stats()
	if s.RedisErrors == 0 || s.RedisSkipped == 0 || s.RedisUp {
		t.Errorf("stats = %+v", s)
	}
	if n := logs.count("failed"); n != 1 {
		t.Errorf("%d failure warnings logged, want 1 (rate-limited)", n)
	}
}

func TestMalformedURL(t *testing.T) {
	if _, err := New(bg, Config{RedisURL: "http://nope"}); err == nil {
		t.Error("New accepted a malformed RedisURL")
	}
}

// Every call fails (breaker never opens): still one warning per 10 s.
func TestWarningsRateLimited(t *testing.T) {
	var logs countingHandler
	c := newTestCache(t, Config{RedisURL: "redis://127.0.0.1:1/0", BreakerThreshold: 1 << 30, Logger: slog.New(&logs)})
	for range 30 {
		c.Get(bg, "k")
	}
	if s := c.Stats(); s.RedisErrors < 30 {
		t.Errorf("RedisErrors = %d, want ≥ 30", s.RedisErrors)
	}
	if n := logs.count("failed"); n != 1 {
		t.Errorf("%d warnings logged, want 1", n)
	}
}

// 6b. Redis goes away mid-run and comes back.
func TestRedisGoesAwayAndComesBack(t *testing.T) {
	p := testPrefix(t)
	r := rawRedis(t)
	px := newProxy(t)
	c := newTestCache(t, Config{RedisURL: px.URL(), Prefix: p, Timeout: 100 * time.Millisecond, BreakerCooldown: 200 * time.Millisecond})
	c.healthEvery = 200 * time.Millisecond
	direct := newTestCache(t, Config{RedisURL: redisURL(), Prefix: p})
	runCache(t, c)
	eventually(t, 2*time.Second, "subscribed", func() bool { return c.Stats().Subscribed })
	c.Set(bg, "k1", []byte("v1"), time.Minute, nil)
	c.Set(bg, "kx", []byte("x"), time.Minute, []string{"tagx"})
	if r.Exists(bg, p+"k1", p+"kx").Val() != 2 {
		t.Fatal("values not written through the proxy")
	}

	px.Down()
	c.Set(bg, "k2", []byte("v2"), time.Minute, nil)
	if _, ok := c.Get(bg, "k2"); !ok {
		t.Error("local tier lost k2 with Redis down")
	}
	start := time.Now()
	for i := range 20 {
		c.Get(bg, fmt.Sprint("absent", i))
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("20 Gets took %v with Redis down", d)
	}
	// Invalidated while Redis is away: queued, retried when it is back.
	c.Invalidate(bg, "tagx")
	if _, ok := c.Get(bg, "kx"); ok {
		t.Error("kx still served locally")
	}
	s := c.Stats()
	if s.RedisErrors == 0 || s.RedisUp {
		t.Errorf("stats with Redis down = %+v", s)
	}

	px.Up()
	direct.Set(bg, "k3", []byte("v3"), time.Minute, nil)
	hits := c.Stats().RedisHits
	eventually(t, 5*time.Second, "Redis hits resume", func() bool {
		v, ok := c.Get(bg, "k3")
		return ok && string(v) == "v3" && c.Stats().RedisHits > hits
	})
	if !c.Stats().RedisUp {
		t.Error("RedisUp false after recovery")
	}
	eventually(t, 5*time.Second, "queued invalidation applied in Redis", func() bool {
		return r.Exists(bg, p+"kx").Val() == 0
	})
	eventually(t, 5*time.Second, "resubscribed", func() bool { return c.Stats().Subscribed })
}

// 7. No Redis at all.
func TestLocalOnly(t *testing.T) {
	c := newTestCache(t, Config{})
	runCache(t, c)
	ctx := WithField(bg, "Query.x")
	c.Set(ctx, "a", []byte("A"), 150*time.Millisecond, []string{"t"})
	c.Set(ctx, "b", []byte("B"), time.Minute, []string{"u"})
	if v, ok := c.Get(ctx, "a"); !ok || string(v) != "A" {
		t.Errorf("Get = %q, %v", v, ok)
	}
	if got := c.GetMany(ctx, []string{"a", "b", "c"}); len(got) != 2 {
		t.Errorf("GetMany = %v", got)
	}
	v, err := c.Do(ctx, "c", time.Minute, []string{"t"}, func(context.Context) ([]byte, error) { return []byte("C"), nil })
	if err != nil || string(v) != "C" {
		t.Errorf("Do = %q, %v", v, err)
	}
	c.Invalidate(ctx, "u")
	if _, ok := c.Get(ctx, "b"); ok {
		t.Error("b survived its tag's invalidation")
	}
	time.Sleep(200 * time.Millisecond)
	if _, ok := c.Get(ctx, "a"); ok {
		t.Error("a outlived its TTL")
	}
	s := c.Stats()
	if s.RedisUp || s.RedisErrors != 0 || s.RedisHits != 0 || s.RedisMisses != 0 || s.RedisSkipped != 0 || s.RedisLatencyP99 != 0 {
		t.Errorf("stats = %+v", s)
	}
	if s.LocalHits != 3 || s.Sets != 3 {
		t.Errorf("LocalHits %d, Sets %d; want 3, 3", s.LocalHits, s.Sets)
	}
}

// 8. Hits and misses per field.
func TestFieldStats(t *testing.T) {
	c := newTestCache(t, Config{RedisURL: redisURL(), Prefix: testPrefix(t)})
	country := WithField(bg, "Country.stats")
	city := WithField(bg, "City.stats")
	c.Get(country, "k")                                                                                  // miss
	c.Set(country, "k", []byte("v"), time.Minute, nil)                                                   //
	c.Get(country, "k")                                                                                  // hit
	c.GetLocal(country, "k")                                                                             // hit
	c.GetLocal(country, "nope")                                                                          // not counted
	c.GetMany(country, []string{"k", "nope"})                                                            // hit, miss
	c.Do(country, "k", time.Minute, nil, func(context.Context) ([]byte, error) { return nil, nil })      // hit
	c.Do(city, "j", time.Minute, nil, func(context.Context) ([]byte, error) { return []byte("j"), nil }) // miss
	c.Get(city, "j")                                                                                     // hit
	c.Get(bg, "k")                                                                                       // untagged
	s := c.Stats().Fields
	if got, want := s["Country.stats"], (FieldStats{Hits: 4, Misses: 2}); got != want {
		t.Errorf("Country.stats = %+v, want %+v", got, want)
	}
	if got, want := s["City.stats"], (FieldStats{Hits: 1, Misses: 1}); got != want {
		t.Errorf("City.stats = %+v, want %+v", got, want)
	}
	if len(s) != 2 {
		t.Errorf("fields = %v", s)
	}
}

// Tag sets prune members whose values expired and outlive their longest member.
func TestTagSetPruning(t *testing.T) {
	p := testPrefix(t)
	r := rawRedis(t)
	c := newTestCache(t, Config{RedisURL: redisURL(), Prefix: p, Jitter: -1})
	c.Set(bg, "short", []byte("s"), 100*time.Millisecond, []string{"t"})
	c.Set(bg, "long", []byte("l"), 20*time.Second, []string{"t"})
	if ttl := r.PTTL(bg, p+"tag:t").Val(); ttl < 20*time.Second {
		t.Errorf("tag set TTL %v < longest member's", ttl)
	}
	time.Sleep(150 * time.Millisecond)
	c.Set(bg, "other", []byte("o"), time.Second, []string{"t"})
	if members := r.ZRange(bg, p+"tag:t", 0, -1).Val(); len(members) != 2 {
		t.Errorf("tag set members = %v, want long and other", members)
	}
	if ttl := r.PTTL(bg, p+"tag:t").Val(); ttl < 19*time.Second {
		t.Errorf("a shorter member shortened the set's TTL to %v", ttl)
	}
}

// Local entries leave the tag index when they expire or are evicted.
func TestLocalIndexCleanedOnExpiryAndEviction(t *testing.T) {
	c := newTestCache(t, Config{LocalSize: 10})
	c.Set(bg, "e", []byte("e"), 50*time.Millisecond, []string{"exp"})
	for i := range 200 {
		c.Set(bg, fmt.Sprint("k", i), []byte("v"), time.Minute, []string{"many"})
	}
	time.Sleep(100 * time.Millisecond)
	eventually(t, 3*time.Second, "index cleaned", func() bool {
		c.local.c.CleanUp()
		return c.local.tagged("exp") == 0 && c.local.tagged("many") <= 10
	})
	if s := c.Stats(); s.Evictions < 190 {
		t.Errorf("Evictions = %d, want ≥ 190", s.Evictions)
	}
}

func TestBreaker(t *testing.T) {
	b := breaker{threshold: 3, cooldown: 50 * time.Millisecond}
	for range 2 {
		b.failure(false)
	}
	if ok, _ := b.allow(); !ok {
		t.Fatal("open before the threshold")
	}
	if !b.failure(false) {
		t.Fatal("third failure did not open")
	}
	if ok, _ := b.allow(); ok {
		t.Fatal("open breaker allowed a call")
	}
	time.Sleep(60 * time.Millisecond)
	ok, probe := b.allow()
	if !ok || !probe {
		t.Fatal("no probe after the cooldown")
	}
	if ok, _ := b.allow(); ok {
		t.Fatal("two probes at once")
	}
	b.failure(true)
	if ok, _ := b.allow(); ok {
		t.Fatal("failed probe did not reopen")
	}
	time.Sleep(60 * time.Millisecond)
	_, probe = b.allow()
	b.neutral(probe)
	ok, probe = b.allow()
	if !ok || !probe {
		t.Fatal("neutral probe blocked the next one")
	}
	if !b.success(probe) || b.isOpen() {
		t.Fatal("successful probe did not close")
	}
	if ok, probe := b.allow(); !ok || probe {
		t.Fatal("closed breaker refused")
	}
}

func TestValueEncoding(t *testing.T) {
	exp := time.UnixMilli(time.Now().Add(time.Minute).UnixMilli())
	for _, tags := range [][]string{nil, {"a"}, {"country:42", "events", ""}} {
		for _, val := range [][]byte{{}, []byte("hello"), bytes.Repeat([]byte{0, 1, 2}, 1000)} {
			r, err := decodeValue(encodeValue(val, tags, exp))
			if err != nil || !bytes.Equal(r.val, val) || !r.expireAt.Equal(exp) || len(r.tags) != len(tags) {
				t.Errorf("round trip of %d bytes, tags %v: %+v, %v", len(val), tags, r, err)
			}
		}
	}
	for _, bad := range [][]byte{nil, []byte("plain"), {formatV1, 0, 0, 0, 0, 0, 0, 0, 0, 5, 1}} {
		if _, err := decodeValue(bad); err == nil {
			t.Errorf("decoded %q", bad)
		}
	}
}

// countingHandler counts log records by message substring.
type countingHandler struct {
	mu   sync.Mutex
	msgs []string
}

func (h *countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.msgs = append(h.msgs, r.Message)
	h.mu.Unlock()
	return nil
}
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countingHandler) WithGroup(string) slog.Handler      { return h }
func (h *countingHandler) count(sub string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, m := range h.msgs {
		if strings.Contains(m, sub) {
			n++
		}
	}
	return n
}

// 9. Benchmarks.
func BenchmarkGetLocalHit(b *testing.B) {
	c := newTestCache(b, Config{RedisURL: redisURL(), Prefix: testPrefix(b)})
	c.Set(bg, "k", []byte("value"), time.Minute, []string{"t"})
	ctx := WithField(bg, "Bench.local")
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := c.Get(ctx, "k"); !ok {
			b.Fatal("miss")
		}
	}
}

func BenchmarkGetRedisHit(b *testing.B) {
	c := newTestCache(b, Config{RedisURL: redisURL(), Prefix: testPrefix(b)})
	c.Set(bg, "k", bytes.Repeat([]byte("v"), 256), time.Minute, []string{"t"})
	ctx := WithField(bg, "Bench.redis")
	b.ReportAllocs()
	for b.Loop() {
		c.local.c.Invalidate("k") // force the Redis tier
		if _, ok := c.Get(ctx, "k"); !ok {
			b.Fatal("miss")
		}
	}
	if s := c.Stats(); s.RedisErrors != 0 {
		b.Fatalf("%d Redis errors", s.RedisErrors)
	}
}

// A Redis that accepts connections and never answers: every call is bounded
// by Timeout, and the breaker soon skips it altogether.
func TestRedisBlackhole(t *testing.T) {
	addr := testredis.BlackHole(t)
	start := time.Now()
	c := newTestCache(t, Config{RedisURL: "redis://" + addr + "/0", Timeout: 50 * time.Millisecond})
	if d := time.Since(start); d > 300*time.Millisecond {
		t.Errorf("New took %v", d)
	}
	start = time.Now()
	for i := range 20 {
		c.Set(bg, fmt.Sprint("k", i), []byte("v"), time.Minute, []string{"t"})
		if _, ok := c.Get(bg, fmt.Sprint("k", i)); !ok {
			t.Fatal("local tier missed")
		}
		c.Get(bg, "absent")
	}
	c.Invalidate(bg, "t")
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("60 calls took %v with a silent Redis", d)
	}
	if s := c.Stats(); s.RedisErrors == 0 || s.RedisSkipped == 0 || s.RedisUp {
		t.Errorf("stats = %+v", s)
	}
}

func TestCloseStopsRun(t *testing.T) {
	for _, url := range []string{"", redisURL()} {
		c, err := New(bg, Config{RedisURL: url, Prefix: "meridian-test:close:"})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { c.Run(bg); close(done) }()
		time.Sleep(20 * time.Millisecond)
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			t.Fatalf("Run (RedisURL %q) did not return after Close", url)
		}
		c.Set(bg, "k", []byte("v"), time.Minute, nil) // still usable, locally
		if _, ok := c.Get(bg, "k"); !ok {
			t.Error("local tier unusable after Close")
		}
		if s := c.Stats(); s.RedisUp || s.RedisErrors != 0 {
			t.Errorf("after Close: %+v", s)
		}
	}
}

// Concurrent writes, reads and invalidations never leave a local entry that
// its tags' index does not know of (which would make it survive an
// invalidation).
func TestLocalIndexInvariantUnderConcurrency(t *testing.T) {
	c := newTestCache(t, Config{LocalSize: 200})
	tagsets := [][]string{{"a"}, {"b"}, {"a", "b"}, {"c"}, nil}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				k := fmt.Sprint("k", (g*7+i)%50)
				switch i % 5 {
				case 0, 1:
					c.Set(bg, k, []byte("v"), time.Minute, tagsets[(g+i)%len(tagsets)])
				case 2, 3:
					c.Get(bg, k)
				case 4:
					c.Invalidate(bg, tagsets[i%3]...)
				}
			}
		})
	}
	wg.Wait()
	c.local.c.CleanUp()
	c.local.mu.Lock()
	defer c.local.mu.Unlock()
	for k, e := range c.local.c.All() {
		for _, tag := range e.tags {
			if c.local.byTag[tag][k] != e {
				t.Errorf("entry %s with tag %s is not indexed", k, tag)
			}
		}
	}
}

// A quiet subscription is kept alive by pings, not torn down.
func TestQuietSubscriptionStays(t *testing.T) {
	c := newTestCache(t, Config{RedisURL: redisURL(), Prefix: testPrefix(t)})
	c.healthEvery = 50 * time.Millisecond
	runCache(t, c)
	eventually(t, 2*time.Second, "subscribed", func() bool { return c.Stats().Subscribed })
	c.Set(bg, "k", []byte("v"), time.Minute, nil)
	time.Sleep(400 * time.Millisecond)
	if s := c.Stats(); !s.Subscribed || s.RedisErrors != 0 {
		t.Errorf("after a quiet spell: subscribed %v, errors %d", s.Subscribed, s.RedisErrors)
	}
	if _, ok := c.local.get("k"); !ok {
		t.Error("the local tier was purged: the subscription was re-established")
	}
}
