package ratelimit

import (
	"context"
	"strconv"
	"testing"
)

func BenchmarkAllowRedis(b *testing.B) {
	rdb := redisClient(b)
	l := newLimiter(b, Config{Rate: 1e9, Burst: 1 << 30, Prefix: testPrefix(b, rdb)}, rdb)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if d, err := l.Allow(ctx, "k"); err != nil || d.Local {
			b.Fatalf("%+v %v", d, err)
		}
	}
}

func BenchmarkAllowLocal(b *testing.B) {
	l := newLimiter(b, Config{Rate: 1e9, Burst: 1 << 30}, nil)
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = "k" + strconv.Itoa(i)
	}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := l.Allow(ctx, keys[i%len(keys)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
