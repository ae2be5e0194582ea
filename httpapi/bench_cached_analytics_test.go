package httpapi_test

import (
	"context"
	"net/http/httptest"
	"sort"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/analytics/sqlstore"
	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/cache"
	"github.com/meridian-graphql/meridian/httpapi"
	"github.com/meridian-graphql/meridian/internal/gqltest"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/seed"
)

// BenchmarkCachedAnalytics compares two analytics fields over the
// 100,000-user demo data on PostgreSQL uncached (their tags invalidated
// before every request) and cached (in-process hits), end to end over HTTP,
// and reports both medians and the speed-up.
func BenchmarkCachedAnalytics(b *testing.B) {
	db := testdb.Open(b, "postgres")
	if _, err := seed.Generate(context.Background(), db.Client, seed.Options{Users: 100000, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	events, err := sqlstore.New(context.Background(), db)
	if err != nil {
		b.Fatal(err)
	}
	c, err := cache.New(context.Background(), cache.Config{RedisURL: testRedis, Prefix: prefix()})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	srv := httptest.NewServer(httpapi.NewHandler(httpapi.Deps{DB: db, Auth: gqltest.Grant(auth.Analyst), Events: events, Cache: c}))
	defer srv.Close()
	const q = `{ userStats { total active avgSpent totalSpent } registrationCohorts(period: MONTH, periods: 6) { start signups retained revenue } }`
	median := func(d []time.Duration) time.Duration {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return d[len(d)/2]
	}
	var uncached, cached []time.Duration
	for b.Loop() {
		b.StopTimer()
		c.Invalidate(context.Background(), "users", "orders")
		b.StartTimer()
		start := time.Now()
		post(b, srv.URL, q)
		uncached = append(uncached, time.Since(start))
		start = time.Now()
		post(b, srv.URL, q)
		cached = append(cached, time.Since(start))
	}
	u, h := median(uncached), median(cached)
	b.ReportMetric(float64(u.Microseconds())/1000, "uncached-p50-ms")
	b.ReportMetric(float64(h.Microseconds())/1000, "cached-p50-ms")
	b.ReportMetric(float64(u)/float64(h), "speedup-x")
}
