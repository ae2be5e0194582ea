package main

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meridian-graphql/meridian/cache"
	"github.com/meridian-graphql/meridian/internal/testredis"
	"github.com/meridian-graphql/meridian/platform/observe"
)

// cacheMetrics are metrics over c, as openMetrics builds them.
func cacheMetrics(t *testing.T, c *cache.Cache) *observe.Metrics {
	t.Helper()
	m, err := observe.NewMetrics(nil, observe.MetricsOptions{Sources: observe.Sources{
		Cache: func() observe.CacheStats { return cacheStats(c) },
	}})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// samples gathers reg into `name{label="value",…}` → value, labels sorted
// by name, for the families named.
func samples(t *testing.T, reg prometheus.Gatherer, names ...string) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := map[string]float64{}
	for _, f := range families {
		if !want[f.GetName()] {
			continue
		}
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+`="`+l.GetValue()+`"`)
			}
			sort.Strings(labels)
			key := f.GetName()
			if len(labels) > 0 {
				key += "{" + strings.Join(labels, ",") + "}"
			}
			switch {
			case m.GetCounter() != nil:
				out[key] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[key] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

func wantSamples(t *testing.T, got map[string]float64, want map[string]float64) {
	t.Helper()
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v; all: %v", k, g, ok, v, got)
		}
	}
}

// TestCacheHitsAndMissesAreCounters: a miss then a hit through the real
// cache show in meridian_cache_hits_total and meridian_cache_misses_total
// by tier, as counters, so that rate() over them gives the recent hit
// ratio: in process alone, and with Redis behind it (the second instance
// misses locally and hits in Redis, then hits locally).
func TestCacheHitsAndMissesAreCounters(t *testing.T) {
	ctx := context.Background()
	names := []string{"meridian_cache_hits_total", "meridian_cache_misses_total", "meridian_cache_breaker_open", "meridian_cache_redis_up"}

	t.Run("in-process", func(t *testing.T) {
		c, err := cache.New(ctx, cache.Config{})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		m := cacheMetrics(t, c)
		if _, ok := c.Get(ctx, "k"); ok {
			t.Fatal("hit in an empty cache")
		}
		c.Set(ctx, "k", []byte("v"), time.Minute, nil)
		if _, ok := c.Get(ctx, "k"); !ok {
			t.Fatal("miss after Set")
		}
		got := samples(t, m.Registry(), names...)
		wantSamples(t, got, map[string]float64{
			`meridian_cache_hits_total{tier="local"}`:   1,
			`meridian_cache_misses_total{tier="local"}`: 1,
			`meridian_cache_hits_total{tier="redis"}`:   0,
			`meridian_cache_misses_total{tier="redis"}`: 0,
			`meridian_cache_breaker_open`:               0,
		})
		families, _ := m.Registry().Gather()
		for _, f := range families {
			if strings.HasPrefix(f.GetName(), "meridian_cache_") && strings.HasSuffix(f.GetName(), "_total") && f.GetType().String() != "COUNTER" {
				t.Errorf("%s is a %s, want a counter", f.GetName(), f.GetType())
			}
		}
	})

	t.Run("redis", func(t *testing.T) {
		rdb := testredis.Client(t)
		prefix := testredis.Prefix(t, rdb, "observed")
		open := func() *cache.Cache {
			c, err := cache.New(ctx, cache.Config{RedisURL: testredis.URL(), Prefix: prefix, Timeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = c.Close() })
			return c
		}
		a, b := open(), open()
		m := cacheMetrics(t, b)
		if _, ok := b.Get(ctx, "k"); ok {
			t.Fatal("hit before any Set")
		}
		a.Set(ctx, "k", []byte("v"), time.Minute, nil)
		for i := range 2 { // from Redis, then from the local copy it left
			if _, ok := b.Get(ctx, "k"); !ok {
				t.Fatalf("lookup %d after the other instance's Set missed", i+1)
			}
		}
		wantSamples(t, samples(t, m.Registry(), names...), map[string]float64{
			`meridian_cache_misses_total{tier="local"}`: 2,
			`meridian_cache_misses_total{tier="redis"}`: 1,
			`meridian_cache_hits_total{tier="redis"}`:   1,
			`meridian_cache_hits_total{tier="local"}`:   1,
			`meridian_cache_breaker_open`:               0,
			`meridian_cache_redis_up`:                   1,
		})
	})
}

// TestCacheBreakerOpenGauge: once Redis failures open the breaker,
// meridian_cache_breaker_open is 1 (the "cache breaker open" alert).
func TestCacheBreakerOpenGauge(t *testing.T) {
	ctx := context.Background()
	c, err := cache.New(ctx, cache.Config{RedisURL: "redis://127.0.0.1:1/0", BreakerThreshold: 1, BreakerCooldown: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	m := cacheMetrics(t, c)
	c.Get(ctx, "k") // Redis refuses: the breaker opens
	wantSamples(t, samples(t, m.Registry(), "meridian_cache_breaker_open", "meridian_cache_redis_up"), map[string]float64{
		`meridian_cache_breaker_open`: 1,
		`meridian_cache_redis_up`:     0,
	})
}
