package main

// The attack suite: what the running production server promises a caller
// who means it harm. Each test starts the real server (run, as `meridian`
// starts with MERIDIAN_ENV=production on PostgreSQL, Redis and RabbitMQ)
// and attacks it from outside over TCP, the way the reports of issue 12
// did. Read the test names top to bottom as the list of promises.

import (
	"net/http"
	"strings"
	"testing"

	"meridian/auth"
)

// TestAttackBaseline: the production server starts, refuses callers
// without credentials and serves each role's key.
func TestAttackBaseline(t *testing.T) {
	s := startProduction(t, nil)
	if r := s.gql(t, "", `{ countries(first: 1) { totalCount } }`, nil); r.Status != http.StatusUnauthorized || r.Code() != "UNAUTHENTICATED" {
		t.Errorf("anonymous query: %d %s, want 401 UNAUTHENTICATED", r.Status, r.Code())
	}
	for _, role := range []auth.Role{auth.Viewer, auth.Analyst, auth.Admin} {
		r := s.gql(t, s.Keys[role], `{ viewer { role } countries(first: 1) { totalCount } }`, nil)
		if r.Status != http.StatusOK || len(r.Errors) > 0 {
			t.Errorf("%s: %d %s", role, r.Status, r.Data)
		}
	}
}

// ---- 1. authentication never depends on a header the client picks ----

// ---- 2. export: role, rate limit, deadlines, strict parameters, safe CSV ----

// ---- 3. slow clients: every request body is read under a deadline ----

// ---- 4. persisted queries: only what passed every limit is stored ----

// TestAttackPersistedQueriesOnlyAfterLimits: a query sent with its hash is
// stored only once it parsed, validated and passed every limit, and only up
// to a size cap. The report stored 1 MiB cost-refused queries for 24 h in
// Redis and in the local tier; the hash-only follow-up proves neither tier
// holds them (the local tier answers first).
func TestAttackPersistedQueriesOnlyAfterLimits(t *testing.T) {
	env := map[string]string{}
	rd := withRedisPrefix(t, env)
	s := startProduction(t, env)
	key := s.Keys[auth.Analyst]
	pad := func(q string, n int) string { return q + "\n# " + strings.Repeat("x", n) }

	refused := map[string]struct{ query, code string }{
		"cost-refused, 1 MiB": {pad(`{ countries(first: 1000) { edges { node { cities(first: 1000) { edges { node { id } } } } } } }`, 1<<20-4096), "QUERY_TOO_COMPLEX"},
		"depth-refused":       {"{ countries(first: 1) { edges { node { " + strings.Repeat("cities(first: 1) { edges { node { country { ", 4) + "id" + strings.Repeat(" }", 19) + " }", "QUERY_TOO_DEEP"},
		"token-refused":       {"{ " + strings.Repeat("__typename ", 6000) + "}", "TOO_MANY_TOKENS"},
		"invalid":             {`{ noSuchField }`, "GRAPHQL_VALIDATION_FAILED"},
	}
	for name, c := range refused {
		t.Run(name, func(t *testing.T) {
			h := apqHash(c.query)
			if r := s.query(t, key, apqBody(c.query, h)); r.Code() != c.code {
				t.Fatalf("query with hash: %d %s %s, want %s", r.Status, r.Code(), r.Data, c.code)
			}
			if apqStored(t, rd, h) {
				t.Errorf("a query refused with %s was stored in Redis", c.code)
			}
			if r := s.query(t, key, apqBody("", h)); r.Code() != "PERSISTED_QUERY_NOT_FOUND" {
				t.Errorf("hash only: %d %s, want PERSISTED_QUERY_NOT_FOUND (the refused query was persisted)", r.Status, r.Code())
			}
		})
	}

	t.Run("valid query is persisted and served by hash", func(t *testing.T) {
		q := `{ countries(first: 2) { totalCount } }`
		h := apqHash(q)
		if r := s.query(t, key, apqBody(q, h)); len(r.Errors) > 0 || r.Status != http.StatusOK {
			t.Fatalf("query with hash: %d %s", r.Status, r.Data)
		}
		if !apqStored(t, rd, h) {
			t.Errorf("a valid query was not stored")
		}
		if r := s.query(t, key, apqBody("", h)); len(r.Errors) > 0 || !strings.Contains(string(r.Data), "totalCount") {
			t.Errorf("hash only: %d %s %s", r.Status, r.Code(), r.Data)
		}
	})

	t.Run("valid query over the size cap runs but is not stored", func(t *testing.T) {
		q := pad(`{ countries(first: 1) { totalCount } }`, 100_000)
		h := apqHash(q)
		if r := s.query(t, key, apqBody(q, h)); len(r.Errors) > 0 {
			t.Fatalf("query with hash: %d %s", r.Status, r.Code())
		}
		if apqStored(t, rd, h) {
			t.Errorf("a %d-byte query was stored", len(q))
		}
		if r := s.query(t, key, apqBody("", h)); r.Code() != "PERSISTED_QUERY_NOT_FOUND" {
			t.Errorf("hash only: %d %s, want PERSISTED_QUERY_NOT_FOUND", r.Status, r.Code())
		}
	})

	t.Run("anonymous callers store nothing", func(t *testing.T) {
		q := `{ countries(first: 3) { totalCount } }`
		h := apqHash(q)
		if r := s.query(t, "", apqBody(q, h)); r.Status != http.StatusUnauthorized {
			t.Fatalf("anonymous: %d, want 401", r.Status)
		}
		if apqStored(t, rd, h) {
			t.Errorf("an anonymous, refused request stored its query")
		}
	})
}

// ---- 5. WebSocket: every operation is counted, bounded and timed ----

// ---- 6. cost: list arguments count by their length; introspection is bounded ----

// TestAttackCostCountsListArguments: nodes(ids:) is costed by the number of
// ids, whether they come literally or in a variable (the report fetched
// 60,381 users under 1,000 ids, costed as 100), and introspection obeys the
// depth limit (40 nested ofType passed).
func TestAttackCostCountsListArguments(t *testing.T) {
	s := startProduction(t, map[string]string{"MERIDIAN_INTROSPECTION": "true", "MERIDIAN_MAX_COST": "50000", "MERIDIAN_MAX_DEPTH": "15"})
	key := s.Keys[auth.Analyst]
	// Per id: 1 + cities 1 + edges 1 + 5 × (node, users, edges + 10 × (node, id, username)) = 168.
	const sel = `... on Country { cities(first: 5) { edges { node { users(first: 10) { edges { node { id username } } } } } } }`
	ids := countryIDs(t, s, 1000)

	t.Run("1,000 literal ids", func(t *testing.T) {
		r := s.gql(t, key, `{ nodes(ids: `+quoteIDs(ids)+`) { id `+sel+` } }`, nil)
		if r.Code() != "QUERY_TOO_COMPLEX" {
			t.Errorf("%d %s, want QUERY_TOO_COMPLEX (%d bytes of data)", r.Status, r.Code(), len(r.Data))
		}
	})
	t.Run("1,000 ids in a variable", func(t *testing.T) {
		r := s.gql(t, key, `query($ids: [ID!]!) { nodes(ids: $ids) { id `+sel+` } }`, map[string]any{"ids": ids})
		if r.Code() != "QUERY_TOO_COMPLEX" {
			t.Errorf("%d %s, want QUERY_TOO_COMPLEX (%d bytes of data)", r.Status, r.Code(), len(r.Data))
		}
	})
	t.Run("a few ids still run", func(t *testing.T) {
		r := s.gql(t, key, `query($ids: [ID!]!) { nodes(ids: $ids) { id `+sel+` } }`, map[string]any{"ids": ids[:3]})
		if len(r.Errors) > 0 || r.Status != http.StatusOK {
			t.Errorf("%d %s %v", r.Status, r.Code(), r.Errors)
		}
	})
	t.Run("41 nested ofType", func(t *testing.T) {
		r := s.gql(t, key, ofTypeQuery(40), nil)
		if r.Code() != "QUERY_TOO_DEEP" {
			t.Errorf("%d %s, want QUERY_TOO_DEEP", r.Status, r.Code())
		}
	})
	t.Run("the introspection GraphiQL sends still runs", func(t *testing.T) {
		// graphql-js's getIntrospectionQuery nests ofType 9 deep under
		// __schema { types { fields { args { type: depth 15.
		q := `{ __schema { types { fields { args { type { name ` + strings.Repeat("ofType { name ", 9) + strings.Repeat("} ", 9) + `} } } } } }`
		if r := s.gql(t, key, q, nil); len(r.Errors) > 0 {
			t.Errorf("%d %s %v", r.Status, r.Code(), r.Errors)
		}
	})
}

// ---- 7. lower: caching headers, failed logins, metrics, production defaults, suggestions, list caps, cursor errors ----

// 7a. caching headers
// TestAttackCacheHeadersPrivate: an answer that depends on who asks (here a
// @hasRole(ANALYST) field read with an analyst's key) is never marked public
// for shared caches, and every answer varies on the credential headers.
func TestAttackCacheHeadersPrivate(t *testing.T) {
	s := startProduction(t, nil)
	for _, cred := range []string{s.Keys[auth.Analyst], "Bearer " + s.Keys[auth.Analyst]} {
		r := s.gql(t, cred, `{ userStats { total } }`, nil)
		if len(r.Errors) > 0 {
			t.Fatalf("userStats: %v", r.Errors)
		}
		if cc := r.Header.Get("Cache-Control"); !strings.HasPrefix(cc, "private") {
			t.Errorf("Cache-Control %q, want private", cc)
		}
		vary := strings.Join(r.Header.Values("Vary"), ",")
		for _, h := range []string{"Authorization", "X-API-Key"} {
			if !strings.Contains(vary, h) {
				t.Errorf("Vary %q lacks %s", vary, h)
			}
		}
	}
}

// ---- 8. GraphQL over HTTP: application/json for */* and no Accept ----

// ---- 9. seeding 100k users (see seed/) ----
