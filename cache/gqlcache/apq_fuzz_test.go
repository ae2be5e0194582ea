package gqlcache_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/cache"
	"github.com/meridian-graphql/meridian/cache/gqlcache"
)

// FuzzAPQ stores a persisted query under a client hash and reads hashes
// back from the local cache tier. A stored query is read back unchanged
// under its own hash; another hash (a prefix, a case change, a suffix)
// misses; and persisted queries never meet the cache's other keys — a
// field entry stored under the same text as the hash is not served as a
// query. (gqlgen checks that the hash is the query's SHA-256 before Add;
// that check is fuzzed end to end by httpapi's FuzzPersistedQuery.)
// Store is the write Commit makes once an operation passed the limits.
func FuzzAPQ(f *testing.F) {
	sum := func(q string) string { s := sha256.Sum256([]byte(q)); return hex.EncodeToString(s[:]) }
	q := "{ userStats { total } }"
	f.Add(sum(q), q, sum(q)[:63])
	f.Add(sum(q), q, sum(q)+" ")
	f.Add("", "", "apq:")
	f.Add("abc", "query", "ABC")
	f.Add("a:b", "q", "a")
	f.Add("\x00", "\xff", "")
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, hash, query, other string) {
		c, err := cache.New(ctx, cache.Config{LocalSize: 64})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		apq := gqlcache.APQ{C: c}
		if got, ok := apq.Get(ctx, hash); ok {
			t.Fatalf("empty cache answered hash %q with %q", hash, got)
		}
		// A non-APQ entry whose key is the hash itself.
		c.Set(ctx, hash, []byte("not a query"), time.Minute, nil)
		if got, ok := apq.Get(ctx, hash); ok {
			t.Fatalf("hash %q served the cache entry %q that is not a persisted query", hash, got)
		}
		apq.Store(ctx, hash, query)
		got, ok := apq.Get(ctx, hash)
		if !ok || got != query {
			t.Fatalf("Add(%q, %q) then Get = %q, %v", hash, query, got, ok)
		}
		if other != hash {
			if got, ok := apq.Get(ctx, other); ok {
				t.Fatalf("hash %q answered with %q, stored under %q", other, got, hash)
			}
		}
	})
}
