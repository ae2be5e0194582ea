package engine_test

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/meridian-graphql/meridian/analytics/engine"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/seed"
)

// BenchmarkRefit100k refits over MERIDIAN_BENCH_USERS demo users (default
// 100,000, orders only, no events) on PostgreSQL and reports each step:
// loading, fitting, scoring and segmenting every user, training the
// recommender.
func BenchmarkRefit100k(b *testing.B) {
	users := 100000
	if n, err := strconv.Atoi(os.Getenv("MERIDIAN_BENCH_USERS")); err == nil && n > 0 {
		users = n
	}
	ctx := context.Background()
	db := testdb.Open(b, "postgres")
	if _, err := seed.Generate(ctx, db.Client, seed.Options{Users: users, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	e, err := engine.New(engine.Config{Client: db.Client})
	if err != nil {
		b.Fatal(err)
	}
	var p engine.Phases
	for b.Loop() {
		if _, err := e.Refit(ctx); err != nil {
			b.Fatal(err)
		}
		p = e.LastPhases()
	}
	b.ReportMetric(float64(e.Status().ScoredUsers), "users")
	b.ReportMetric(p.Load.Seconds()*1000, "load-ms")
	b.ReportMetric(p.Fit.Seconds()*1000, "fit-ms")
	b.ReportMetric(p.Score.Seconds()*1000, "score-ms")
	b.ReportMetric(p.Recommender.Seconds()*1000, "recs-ms")
}
