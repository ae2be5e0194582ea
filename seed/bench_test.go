package seed

import (
	"context"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/internal/testdb"
)

// BenchmarkGenerate100k measures the documented performance target: 100,000
// users (about 390,000 orders) must seed PostgreSQL in under a minute. It
// runs only with -bench, e.g.
//
//	go test ./seed/ -run '^$' -bench Generate100k -benchtime 1x
//
// Each iteration seeds a fresh database; creating it is not timed. The
// sqlite sub-benchmark is there for comparison.
func BenchmarkGenerate100k(b *testing.B) {
	for _, backend := range testdb.Backends() {
		b.Run(backend, func(b *testing.B) {
			ctx := context.Background()
			var sum Summary
			for range b.N {
				b.StopTimer()
				db := testdb.Open(b, backend)
				b.StartTimer()
				var err error
				sum, err = Generate(ctx, db.Client, Options{Users: 100_000, Seed: 1, Now: testNow()})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(sum.Users+sum.Orders)/b.Elapsed().Seconds()*float64(b.N), "rows/s")
			b.Logf("%s: %+v", backend, sum)
			if backend == "postgres" && sum.Took > time.Minute {
				b.Errorf("seeding 100k users took %v, the target is under a minute", sum.Took)
			}
		})
	}
}
