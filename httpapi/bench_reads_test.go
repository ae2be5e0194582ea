package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/analytics/sqlstore"
	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/httpapi"
	"github.com/meridian-graphql/meridian/internal/fixture"
	"github.com/meridian-graphql/meridian/internal/gqltest"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/platform/database"
	"github.com/meridian-graphql/meridian/seed"
)

// benchServer serves db with the production loader wait; resolvers true
// sends every read through the resolvers (no compiled reads).
func benchServer(b *testing.B, db *database.DB, resolvers bool) *httptest.Server {
	events, err := sqlstore.New(context.Background(), db)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.NewHandler(httpapi.Deps{DB: db, Auth: gqltest.Grant(auth.Analyst), Events: events, NoCompiledReads: resolvers}))
	b.Cleanup(srv.Close)
	return srv
}

// post runs one query and returns the statements the server reported.
func post(b *testing.B, url, query string) int64 {
	body, _ := json.Marshal(map[string]any{"query": query})
	res, err := http.Post(url+"/query", "application/json", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Errors     []any
		Extensions struct{ SQLStatements int64 }
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		b.Fatal(err)
	}
	if len(out.Errors) > 0 {
		b.Fatalf("errors: %v", out.Errors[:1])
	}
	return out.Extensions.SQLStatements
}

// BenchmarkFourLevelQuery: countries → cities → users → address over
// 10 × 20 × 10 rows on PostgreSQL, end to end through HTTP: compiled into
// one statement (the default), and through the resolvers.
func BenchmarkFourLevelQuery(b *testing.B) {
	db := testdb.Open(b, "postgres")
	if _, err := fixture.NewGrid(context.Background(), db.Client, 10, 20, 10); err != nil {
		b.Fatal(err)
	}
	analyze(b, db)
	bothPaths(b, db, fourLevels)
}

// analyze gives the planner the statistics a live database has (this
// machine's PostgreSQL runs without autovacuum; the seed analyzes too).
func analyze(b *testing.B, db *database.DB) {
	if _, err := db.Driver.ExecContext(context.Background(), "ANALYZE"); err != nil {
		b.Fatal(err)
	}
}

// bothPaths times query compiled (sqlread) and through the resolvers.
func bothPaths(b *testing.B, db *database.DB, query string) {
	for _, path := range []struct {
		name      string
		resolvers bool
	}{{"compiled", false}, {"resolvers", true}} {
		b.Run(path.name, func(b *testing.B) {
			srv := benchServer(b, db, path.resolvers)
			var stmts int64
			for b.Loop() {
				stmts += post(b, srv.URL, query)
			}
			b.ReportMetric(float64(stmts)/float64(b.N), "stmts/op")
		})
	}
}

// BenchmarkCountryStats100k: every country's stats over the 100,000-user
// demo data set on PostgreSQL (one GROUP BY for all countries).
func BenchmarkCountryStats100k(b *testing.B) {
	db := testdb.Open(b, "postgres")
	start := time.Now()
	if _, err := seed.Generate(context.Background(), db.Client, seed.Options{Users: 100000, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded 100,000 users in %s", time.Since(start).Round(time.Millisecond))
	srv := benchServer(b, db, false)
	const q = `{ countries(first: 1000) { edges { node { code stats { userCount cityCount avgTotalSpent totalRevenue } } } } }`
	var stmts int64
	b.ResetTimer()
	for b.Loop() {
		stmts += post(b, srv.URL, q)
	}
	b.ReportMetric(float64(stmts)/float64(b.N), "stmts/op")
}

// BenchmarkUserLookup: W2 of issue 14, a user by username → address →
// city → country, compiled and through the resolvers.
func BenchmarkUserLookup(b *testing.B) {
	db := testdb.Open(b, "postgres")
	if _, err := fixture.NewGrid(context.Background(), db.Client, 10, 20, 10); err != nil {
		b.Fatal(err)
	}
	analyze(b, db)
	bothPaths(b, db, `{ user(username: "u3_7_2") { username email address { street city { name country { name code } } } } }`)
}
