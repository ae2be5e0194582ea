package httpapi_test

import (
	"context"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"

	"github.com/meridian-graphql/meridian/analytics/engine"
	"github.com/meridian-graphql/meridian/analytics/sqlstore"
	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/httpapi"
	"github.com/meridian-graphql/meridian/internal/gqltest"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/seed"
)

// benchUsers is the demo size of the engine benchmarks (MERIDIAN_BENCH_USERS,
// default 10,000; make bench sets 100,000).
func benchUsers(b *testing.B) int {
	if n, err := strconv.Atoi(os.Getenv("MERIDIAN_BENCH_USERS")); err == nil && n > 0 {
		return n
	}
	return 10000
}

// engineServer seeds the demo with its events into PostgreSQL and serves
// it with a fitted engine.
func engineServer(b *testing.B, users int) (*httptest.Server, *engine.Engine) {
	ctx := context.Background()
	db := testdb.Open(b, "postgres")
	events, err := sqlstore.New(ctx, db)
	if err != nil {
		b.Fatal(err)
	}
	opts := seed.Options{Users: users, Seed: 1}
	if _, err := seed.Generate(ctx, db.Client, opts); err != nil {
		b.Fatal(err)
	}
	if _, err := seed.Events(ctx, db.Client, events, opts); err != nil {
		b.Fatal(err)
	}
	eng, err := engine.New(engine.Config{Client: db.Client, Events: events})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := eng.Refit(ctx); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.NewHandler(httpapi.Deps{DB: db, Auth: gqltest.Grant(auth.Admin), Events: events, Engine: eng}))
	b.Cleanup(srv.Close)
	return srv, eng
}

// BenchmarkRefit: load every user, order and activity, fit BG/NBD,
// Gamma-Gamma and the churn calibration, score and segment every user,
// train the recommender — the whole refitModels.
func BenchmarkRefit(b *testing.B) {
	_, eng := engineServer(b, benchUsers(b))
	b.ResetTimer()
	for b.Loop() {
		if _, err := eng.Refit(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(eng.Status().ScoredUsers), "users")
}

// BenchmarkProfiles1000: one query for 1,000 users' profiles (warm: the
// fit is done), end to end over HTTP.
func BenchmarkProfiles1000(b *testing.B) {
	srv, _ := engineServer(b, max(benchUsers(b)/10, 1000))
	q := `{ users(first: 1000) { edges { node { id profile { segment segmentReason engagementScore churnProbability pAlive expectedPurchases(days: 30) nextPurchaseInDays ltv confidence } } } } }`
	post(b, srv.URL, q)
	b.ResetTimer()
	var stmts int64
	for b.Loop() {
		stmts = post(b, srv.URL, q)
	}
	b.ReportMetric(float64(stmts), "stmts/op")
}
