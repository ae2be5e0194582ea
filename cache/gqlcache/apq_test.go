package gqlcache_test

import (
	"context"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"

	"github.com/meridian-graphql/meridian/cache"
	"github.com/meridian-graphql/meridian/cache/gqlcache"
)

// Add only stages a query on its operation; the commit extension stores it.
// (That the commit runs after the limits is tested on the real server by
// TestAttackPersistedQueriesOnlyAfterLimits.)
func TestAPQStoresOnlyOnCommit(t *testing.T) {
	ctx := context.Background()
	c, err := cache.New(ctx, cache.Config{LocalSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	apq := gqlcache.APQ{C: c, MaxBytes: 100}
	commit := apq.Commit().(graphql.OperationContextMutator)

	apq.Add(ctx, "h0", "{ a }")
	if _, ok := apq.Get(ctx, "h0"); ok {
		t.Errorf("Add outside an operation stored the query")
	}

	for name, tc := range map[string]struct {
		query  string
		stored bool
	}{"small": {"{ a }", true}, "over MaxBytes": {"{ a } #" + strings.Repeat("x", 100), false}} {
		oc := &graphql.OperationContext{}
		octx := graphql.WithOperationContext(ctx, oc)
		apq.Add(octx, name, tc.query)
		if _, ok := apq.Get(ctx, name); ok {
			t.Errorf("%s: Add stored the query before the commit", name)
		}
		if err := commit.MutateOperationContext(octx, oc); err != nil {
			t.Fatalf("%s: commit: %v", name, err)
		}
		if got, ok := apq.Get(ctx, name); ok != tc.stored || (ok && got != tc.query) {
			t.Errorf("%s: after commit Get = %q, %v; want stored %v", name, got, ok, tc.stored)
		}
	}
}
