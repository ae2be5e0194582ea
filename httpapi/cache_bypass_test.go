package httpapi_test

import (
	"context"
	"testing"

	"github.com/meridian-graphql/meridian/httpapi"
	"github.com/meridian-graphql/meridian/internal/fixture"
	"github.com/meridian-graphql/meridian/internal/gqltest"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/platform/database"
)

// TestResultCacheOff: with NoResultCache (MERIDIAN_RESULT_CACHE=false) a
// @cached field resolves on every read, running its SQL each time.
func TestResultCacheOff(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		if _, err := fixture.NewGrid(context.Background(), db.Client, 2, 2, 3); err != nil {
			t.Fatal(err)
		}
		c := gqltest.Serve(t, httpapi.Deps{DB: db, Cache: newCache(t, testRedis, prefix()), NoResultCache: true})
		for i := 1; i <= 2; i++ {
			var d countryStats
			r := c.MustDo(aaStats, nil, &d)
			if d.Country.Stats.UserCount != 6 || r.Extensions.SQLStatements != 2 {
				t.Fatalf("read %d: %d users, %d statements (want 6 users and the stats resolved: 2 statements)", i, d.Country.Stats.UserCount, r.Extensions.SQLStatements)
			}
		}
	})
}
