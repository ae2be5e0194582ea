package main

// The attack suite: what the running production server promises a caller
// who means it harm. Each test starts the real server (run, as `meridian`
// starts with MERIDIAN_ENV=production on PostgreSQL, Redis and RabbitMQ)
// and attacks it from outside over TCP, the way the reports of issue 12
// did. Read the test names top to bottom as the list of promises.

import (
	"net/http"
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

// ---- 5. WebSocket: every operation is counted, bounded and timed ----

// ---- 6. cost: list arguments count by their length; introspection is bounded ----

// ---- 7. lower: caching headers, failed logins, metrics, production defaults, suggestions, list caps, cursor errors ----

// ---- 8. GraphQL over HTTP: application/json for */* and no Accept ----

// ---- 9. seeding 100k users (see seed/) ----
