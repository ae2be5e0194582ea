package sqlstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"meridian/analytics"
	"meridian/internal/testdb"
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
// default types, by about users users; three in four carry a geo. The ids
// are ULIDs (Prepare's default) unless prefix is set.
func genEvents(tb testing.TB, rng *rand.Rand, n, days, users int) []analytics.Event {
	return genEventsAt(tb, rng, n, time.Duration(days)*24*time.Hour, benchNow, users)
}

// genEventsAt prepares n events of the window before now.
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
// into a table already holding some, and reports events/s.
func BenchmarkInsert(b *testing.B) {
	for _, backend := range testdb.Backends() {
		b.Run(backend, func(b *testing.B) {
			ctx := context.Background()
			s := open(b, testdb.Open(b, backend))
			rng := rand.New(rand.NewPCG(1, 2))
			if _, err := s.Insert(ctx, genEvents(b, rng, analytics.MaxBatch, 90, 20000)); err != nil {
				b.Fatal(err)
			}
			batches := make([][]analytics.Event, b.N)
			for i := range batches {
				if os.Getenv("RECENT") != "" {
					batches[i] = genEventsAt(b, rng, analytics.MaxBatch, time.Minute, benchNow.Add(time.Duration(i)*time.Minute), 20000)
				} else {
					batches[i] = genEvents(b, rng, analytics.MaxBatch, 90, 20000)
				}
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
