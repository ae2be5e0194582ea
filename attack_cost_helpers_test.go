package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/internal/testredis"
)

// apqHash is the sha256 hash that automatic persisted queries name a query by.
func apqHash(query string) string {
	b := sha256.Sum256([]byte(query))
	return hex.EncodeToString(b[:])
}

// apqBody is a request body sending query (or, when query is "", only the
// hash) with the persistedQuery extension for hash.
func apqBody(query, hash string) map[string]any {
	body := map[string]any{"extensions": map[string]any{
		"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash},
	}}
	if query != "" {
		body["query"] = query
	}
	return body
}

// attackRedis is the Redis of one attack server: the client and the key
// prefix the server was started with (MERIDIAN_CACHE_PREFIX).
type attackRedis struct {
	rdb    *redis.Client
	prefix string
}

// withRedisPrefix returns a Redis client and a key prefix of the test's own
// and adds the prefix to env, so that the test can look at what the server
// stored.
func withRedisPrefix(t *testing.T, env map[string]string) *attackRedis {
	t.Helper()
	r := &attackRedis{rdb: testredis.Client(t)}
	r.prefix = testredis.Prefix(t, r.rdb, "attack-apq")
	env["MERIDIAN_CACHE_PREFIX"] = r.prefix
	return r
}

// apqStored reports whether the server with the cache prefix stored a
// persisted query under hash in Redis (gqlcache.APQ's key is "apq:"+hash).
func apqStored(t *testing.T, s *attackRedis, hash string) bool {
	t.Helper()
	n, err := s.rdb.Exists(context.Background(), s.prefix+"apq:"+hash).Result()
	if err != nil {
		t.Fatalf("redis EXISTS: %v", err)
	}
	return n > 0
}

// countryIDs returns the node ids of the seeded countries, repeated until
// there are n of them: ids, not their number, are what nodes(ids:) costs.
func countryIDs(t *testing.T, s *prodServer, n int) []string {
	t.Helper()
	r := s.gql(t, s.Keys[auth.Analyst], `{ countries(first: 100) { edges { node { id } } } }`, nil)
	var data struct {
		Countries struct {
			Edges []struct {
				Node struct{ ID string }
			}
		}
	}
	if err := json.Unmarshal(r.Data, &data); err != nil || len(data.Countries.Edges) == 0 {
		t.Fatalf("countries: %v %s", err, r.Data)
	}
	ids := make([]string, 0, n)
	for len(ids) < n {
		for _, e := range data.Countries.Edges {
			if len(ids) < n {
				ids = append(ids, e.Node.ID)
			}
		}
	}
	return ids
}

// ofTypeQuery is an introspection query with depth nested ofType levels.
func ofTypeQuery(depth int) string {
	return `{ __type(name: "User") { name ` + strings.Repeat("ofType { name ", depth) + strings.Repeat("} ", depth) + `} }`
}

// quoteIDs writes ids as a GraphQL list literal.
func quoteIDs(ids []string) string {
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = fmt.Sprintf("%q", id)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
