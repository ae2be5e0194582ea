package httpapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/cache"
	"github.com/meridian-graphql/meridian/httpapi"
	"github.com/meridian-graphql/meridian/internal/fixture"
	"github.com/meridian-graphql/meridian/internal/gqltest"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/platform/database"
)

const testRedis = "redis://127.0.0.1:6379/0"

// newCache is a cache on the real Redis under a prefix of the test's own,
// running its invalidation subscriber.
func newCache(t *testing.T, redisURL, prefix string) *cache.Cache {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c, err := cache.New(ctx, cache.Config{RedisURL: redisURL, Prefix: prefix, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		c.Close()
	})
	return c
}

func prefix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "meridian-test-" + hex.EncodeToString(b) + ":"
}

type countryStats struct {
	Country struct {
		Stats struct{ UserCount int }
	}
}

const aaStats = `{ country(code: "AA") { stats { userCount } } }`

func addUserInAA(t *testing.T, c *gqltest.Client, g *fixture.Grid, name string) {
	t.Helper()
	var a struct{ CreateAddress struct{ ID string } }
	c.MustDo(`mutation($c: ID!) { createAddress(input: {street: "9 New St", cityID: $c}) { id } }`, map[string]any{"c": g.Cities[0].ID}, &a)
	c.MustDo(`mutation($a: ID!, $u: String!, $e: String!) { createUser(input: {username: $u, email: $e, addressID: $a}) { id } }`,
		map[string]any{"a": a.CreateAddress.ID, "u": name, "e": name + "@example.com"}, nil)
}

// TestCachedFieldHitsAndInvalidation: the second read of a cached field runs
// no SQL for it; a write that changes it makes the next read fresh.
func TestCachedFieldHitsAndInvalidation(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		g, err := fixture.NewGrid(context.Background(), db.Client, 2, 2, 3)
		if err != nil {
			t.Fatal(err)
		}
		c := gqltest.Serve(t, httpapi.Deps{DB: db, Auth: gqltest.Grant(auth.Admin), Cache: newCache(t, testRedis, prefix())})
		var d countryStats
		r1 := c.MustDo(aaStats, nil, &d)
		if d.Country.Stats.UserCount != 6 || r1.Extensions.SQLStatements != 2 {
			t.Fatalf("first read: %d users, %d statements", d.Country.Stats.UserCount, r1.Extensions.SQLStatements)
		}
		r2 := c.MustDo(aaStats, nil, &d)
		if d.Country.Stats.UserCount != 6 || r2.Extensions.SQLStatements != 1 {
			t.Errorf("second read: %d users, %d statements (want the stats from the cache)", d.Country.Stats.UserCount, r2.Extensions.SQLStatements)
		}
		addUserInAA(t, c, g, "newcomer")
		c.MustDo(aaStats, nil, &d)
		if d.Country.Stats.UserCount != 7 {
			t.Errorf("after a new user: %d, want 7", d.Country.Stats.UserCount)
		}
		// Stats under a list come from the cache too, in one batch.
		q := `{ countries { edges { node { code stats { userCount cityCount } } } } }`
		c.MustDo(q, nil, nil)
		r := c.MustDo(q, nil, nil)
		if r.Extensions.SQLStatements != 1 {
			t.Errorf("cached list read ran %d statements, want 1 (countries only)", r.Extensions.SQLStatements)
		}
		var st struct {
			CacheStats struct {
				LocalHits, Sets, Invalidations int
				Fields                         []struct {
					Field        string
					Hits, Misses int
				}
			}
		}
		c.MustDo(`{ cacheStats { localHits sets invalidations fields { field hits misses } } }`, nil, &st)
		if st.CacheStats.LocalHits < 3 || st.CacheStats.Invalidations < 1 || len(st.CacheStats.Fields) == 0 || st.CacheStats.Fields[0].Field != "Country.stats" {
			t.Errorf("cacheStats = %+v", st.CacheStats)
		}
	})
}

// TestTwoInstancesShareRedis: a write on instance A makes both A and B
// serve the fresh value on their next read.
func TestTwoInstancesShareRedis(t *testing.T) {
	db := testdb.Open(t, "postgres")
	g, err := fixture.NewGrid(context.Background(), db.Client, 1, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	p := prefix()
	a := gqltest.Serve(t, httpapi.Deps{DB: db, Auth: gqltest.Grant(auth.Admin), Cache: newCache(t, testRedis, p)})
	b := gqltest.Serve(t, httpapi.Deps{DB: db, Auth: gqltest.Grant(auth.Admin), Cache: newCache(t, testRedis, p)})
	var d countryStats
	for _, c := range []*gqltest.Client{a, b, b} {
		if c.MustDo(aaStats, nil, &d); d.Country.Stats.UserCount != 2 {
			t.Fatalf("before: %d", d.Country.Stats.UserCount)
		}
	}
	addUserInAA(t, a, g, "fresh")
	if a.MustDo(aaStats, nil, &d); d.Country.Stats.UserCount != 3 {
		t.Errorf("A after its own write: %d, want 3", d.Country.Stats.UserCount)
	}
	// B drops its local entry when the invalidation message arrives.
	deadline := time.Now().Add(3 * time.Second)
	for {
		b.MustDo(aaStats, nil, &d)
		if d.Country.Stats.UserCount == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("B still serves %d users 3 s after the write on A", d.Country.Stats.UserCount)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRedisDownKeepsAnswering: with Redis unreachable, cached fields are
// answered from the source (and the local tier), never an error.
func TestRedisDownKeepsAnswering(t *testing.T) {
	db := testdb.Open(t, "sqlite")
	g, err := fixture.NewGrid(context.Background(), db.Client, 1, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	c := gqltest.Serve(t, httpapi.Deps{DB: db, Auth: gqltest.Grant(auth.Admin), Cache: newCache(t, "redis://127.0.0.1:1/0", prefix())})
	var d countryStats
	start := time.Now()
	for range 5 {
		if c.MustDo(aaStats, nil, &d); d.Country.Stats.UserCount != 2 {
			t.Fatalf("users = %d", d.Country.Stats.UserCount)
		}
	}
	addUserInAA(t, c, g, "offline")
	if c.MustDo(aaStats, nil, &d); d.Country.Stats.UserCount != 3 {
		t.Errorf("after a write with Redis down: %d, want 3", d.Country.Stats.UserCount)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("8 requests took %s with Redis down", el)
	}
	var st struct{ CacheStats struct{ RedisUp bool } }
	c.MustDo(`{ cacheStats { redisUp } }`, nil, &st)
	if st.CacheStats.RedisUp {
		t.Error("cacheStats says Redis is up")
	}
}

func TestCacheControlAndPersistedQueries(t *testing.T) {
	db := testdb.Open(t, "sqlite")
	c := gqltest.Serve(t, httpapi.Deps{DB: db, Auth: gqltest.Grant(auth.Admin), Cache: newCache(t, testRedis, prefix())})
	post := func(body map[string]any) (*http.Response, map[string]any) {
		b, _ := json.Marshal(body)
		res, err := http.Post(c.URL()+"/query", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return res, out
	}
	for q, want := range map[string]string{
		`{ userStats { total } eventDistribution { type } }`: "public, max-age=30",
		`{ userStats { total } countries { totalCount } }`:   "no-store",
		`mutation { trackEvents(inputs: []) { inserted } }`:  "no-store",
	} {
		res, out := post(map[string]any{"query": q})
		if got := res.Header.Get("Cache-Control"); got != want {
			t.Errorf("%s: Cache-Control %q, want %q (%v)", q, got, want, out["errors"])
		}
	}
	_, out := post(map[string]any{"query": `{ userStats { total } }`})
	if cc, ok := out["extensions"].(map[string]any)["cacheControl"].(map[string]any); !ok || len(cc["hints"].([]any)) != 1 {
		t.Errorf("extensions.cacheControl = %v", out["extensions"])
	}

	q := `{ userStats { total } }`
	sum := sha256.Sum256([]byte(q))
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
	_, out = post(map[string]any{"extensions": ext})
	if errs, _ := out["errors"].([]any); len(errs) != 1 || errs[0].(map[string]any)["message"] != "PersistedQueryNotFound" {
		t.Fatalf("unknown hash: %v", out)
	}
	if _, out = post(map[string]any{"query": q, "extensions": ext}); out["errors"] != nil {
		t.Fatalf("register: %v", out["errors"])
	}
	if _, out = post(map[string]any{"extensions": ext}); out["errors"] != nil || out["data"] == nil {
		t.Fatalf("by hash: %v", out)
	}
}

// TestResultCacheOff: with NoResultCache (MERIDIAN_RESULT_CACHE=false) a
// @cached field resolves on every read, running its SQL each time.
func TestResultCacheOff(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		if _, err := fixture.NewGrid(context.Background(), db.Client, 2, 2, 3); err != nil {
			t.Fatal(err)
		}
		c := gqltest.Serve(t, httpapi.Deps{DB: db, Auth: gqltest.Grant(auth.Admin), Cache: newCache(t, testRedis, prefix()), NoResultCache: true})
		for i := 1; i <= 2; i++ {
			var d countryStats
			r := c.MustDo(aaStats, nil, &d)
			if d.Country.Stats.UserCount != 6 || r.Extensions.SQLStatements != 2 {
				t.Fatalf("read %d: %d users, %d statements (want 6 users and the stats resolved: 2 statements)", i, d.Country.Stats.UserCount, r.Extensions.SQLStatements)
			}
		}
	})
}
