package sqlstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/internal/testdb"
)

// benchNow is the reference time of generated events.
var benchNow = time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)

var benchCities = []analytics.Geo{
	{Country: "UA", City: "Kyiv", Lat: 50.4501, Lon: 30.5234},
	{Country: "UA", City: "Lviv", Lat: 49.8397, Lon: 24.0297},
	{Country: "FR", City: "Paris", Lat: 48.8566, Lon: 2.3522},
	{Country: "GB", City: "London", Lat: 51.5074, Lon: -0.1278},
	{Country: "DE", City: "Berlin", Lat: 52.52, Lon: 13.405},
	{Country: "US", City: "New York", Lat: 40.7128, Lon: -74.006},
	{Country: "PL", City: "Warsaw", Lat: 52.2297, Lon: 21.0122},
	{Country: "JP", City: "Tokyo", Lat: 35.6762, Lon: 139.6503},
}

var benchCategories = []string{"books", "music", "games", "garden", "kitchen", "toys", "sports", "tools"}

// genEvents prepares n events spread over the days before benchNow, of all
// default types, by about users users; three in four carry a geo. Their ids
// are ULIDs made at benchNow: one timestamp prefix, random suffixes.
func genEvents(tb testing.TB, rng *rand.Rand, n, days, users int) []analytics.Event {
	return genEventsAt(tb, rng, n, time.Duration(days)*24*time.Hour, benchNow, users)
}

// genEventsAt prepares n events of the window before now, with ULIDs made
// at now.
func genEventsAt(tb testing.TB, rng *rand.Rand, n int, window time.Duration, now time.Time, users int) []analytics.Event {
	tb.Helper()
	types := analytics.DefaultTypes()
	p := analytics.DefaultPolicy()
	out := make([]analytics.Event, n)
	for i := range out {
		ts := now.Add(-time.Duration(rng.Int64N(int64(window))))
		in := analytics.EventInput{UserID: 1 + rng.IntN(users), Type: types[rng.IntN(len(types))], Timestamp: &ts}
		switch in.Type {
		case "purchase":
			in.Metadata = map[string]any{"price": float64(rng.IntN(20000)) / 100, "quantity": float64(1 + rng.IntN(3)),
				"category": benchCategories[rng.IntN(len(benchCategories))], "product_id": fmt.Sprintf("p%d", rng.IntN(5000))}
		case "page_view", "click":
			in.Metadata = map[string]any{"path": fmt.Sprintf("/products/%d", rng.IntN(5000)), "ms": float64(rng.IntN(3000))}
		case "search":
			in.Metadata = map[string]any{"q": fmt.Sprintf("term %d", rng.IntN(1000))}
		}
		if rng.IntN(4) > 0 {
			g := benchCities[rng.IntN(len(benchCities))]
			g.Lat += rng.Float64()*0.2 - 0.1
			g.Lon += rng.Float64()*0.2 - 0.1
			in.Geo = &g
		}
		e, err := p.Prepare(in, now)
		if err != nil {
			tb.Fatalf("prepare: %v", err)
		}
		out[i] = e
	}
	return out
}

// BenchmarkInsert inserts batches of 10,000 new events (analytics.MaxBatch)
// into a table already holding some, and reports events/s, for two kinds of
// batches:
//
//   - live: what tracking sends — timestamps within the last minute, ids
//     (ULIDs) generated as time goes on, so that the ts and id index inserts
//     land at the right edge of the B-trees;
//   - spread: timestamps spread over 90 days and random ids, as in a
//     backfill or BenchmarkDistribution1M — every index insert is at a
//     random place, and each batch touches thousands of rollup rows (the
//     worst case).
func BenchmarkInsert(b *testing.B) {
	for _, backend := range testdb.Backends() {
		for _, mode := range []string{"live", "spread"} {
			b.Run(backend+"/"+mode, func(b *testing.B) {
				ctx := context.Background()
				s := open(b, testdb.Open(b, backend))
				rng := rand.New(rand.NewPCG(1, 2))
				batch := func(i int) []analytics.Event {
					if mode == "live" {
						return genEventsAt(b, rng, analytics.MaxBatch, time.Minute, benchNow.Add(time.Duration(i)*time.Minute), 20000)
					}
					return genEvents(b, rng, analytics.MaxBatch, 90, 20000)
				}
				if _, err := s.Insert(ctx, batch(-1)); err != nil {
					b.Fatal(err)
				}
				batches := make([][]analytics.Event, b.N)
				for i := range batches {
					batches[i] = batch(i)
				}
				b.ResetTimer()
				start := time.Now()
				for i := range b.N {
					n, err := s.Insert(ctx, batches[i])
					if err != nil || n != analytics.MaxBatch {
						b.Fatalf("Insert = %d, %v", n, err)
					}
				}
				b.ReportMetric(float64(b.N*analytics.MaxBatch)/time.Since(start).Seconds(), "events/s")
			})
		}
	}
}

// BenchmarkDistribution1M loads 1,000,000 events (90 days, 9 types, ~20,000
// users), then times the analytics queries over 30 days whose edges are not
// midnights, so that EventDistribution reads both the rollup and raw
// events. Run with -bench Distribution1M (about a minute per backend).
func BenchmarkDistribution1M(b *testing.B) {
	for _, backend := range testdb.Backends() {
		b.Run(backend, func(b *testing.B) {
			ctx := context.Background()
			db := testdb.Open(b, backend)
			s := open(b, db)
			rng := rand.New(rand.NewPCG(3, 4))
			start := time.Now()
			const total = 1_000_000
			var gen time.Duration
			for range total / analytics.MaxBatch {
				g := time.Now()
				batch := genEvents(b, rng, analytics.MaxBatch, 90, 20000)
				gen += time.Since(g)
				if _, err := s.Insert(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			load := time.Since(start) - gen
			// The steady state of a table: planner statistics and, on
			// PostgreSQL, the visibility map that index-only scans need —
			// what autovacuum (which also vacuums insert-only tables) or
			// PRAGMA optimize provide in production.
			maintain := "ANALYZE"
			if db.Dialect == "postgres" {
				maintain = "VACUUM ANALYZE"
			}
			if _, err := db.SQL().ExecContext(ctx, maintain); err != nil {
				b.Fatal(err)
			}
			b.Logf("%s: loaded %d events in %v (%.0f events/s, generation excluded)", backend, total, load.Round(time.Millisecond), total/load.Seconds())
			r := analytics.Range{From: benchNow.AddDate(0, 0, -30).Add(7 * time.Hour), To: benchNow.Add(-5 * time.Hour)}
			for _, q := range []struct {
				name string
				run  func() error
			}{
				{"EventDistribution", func() error { _, err := s.EventDistribution(ctx, r, analytics.Filter{}); return err }},
				{"EventDistributionUA", func() error {
					_, err := s.EventDistribution(ctx, r, analytics.Filter{Country: "UA", Types: []string{"click", "purchase"}})
					return err
				}},
				{"PurchaseByCategory", func() error { _, err := s.PurchaseAnalytics(ctx, r, analytics.ByCategory); return err }},
				{"PurchaseByDay", func() error { _, err := s.PurchaseAnalytics(ctx, r, analytics.ByDay); return err }},
				{"UserActivityTop20", func() error { _, err := s.UserActivity(ctx, r, analytics.Filter{}, 20); return err }},
				{"UserEvents100Users", func() error {
					ids := make([]int, 100)
					for i := range ids {
						ids[i] = 1 + i*200
					}
					_, err := s.UserEvents(ctx, analytics.UserEventsQuery{UserIDs: ids, Limit: 20})
					return err
				}},
			} {
				b.Run(q.name, func(b *testing.B) {
					for b.Loop() {
						if err := q.run(); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}
