package main

// The attack suite: what the running production server promises a caller
// who means it harm. Each test starts the real server (run, as `meridian`
// starts with MERIDIAN_ENV=production on PostgreSQL, Redis and RabbitMQ)
// and attacks it from outside over TCP, the way the reports of issue 12
// did. Read the test names top to bottom as the list of promises.

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"meridian/auth"
	"meridian/internal/gqltest"
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

// TestAttackWebSocketOperationsAreRateLimited: the report ran 1,000
// operations over one socket, the upgrade the only request counted. Each
// subscribe (graphql-transport-ws) or start (graphql-ws) now takes a token
// from the bucket of the caller that connection_init authenticated, the
// one its HTTP requests use: a burst of 10 runs 10 of 50, the rest get an
// error frame with RATE_LIMITED on a socket that stays open, and the
// caller's next HTTP request is refused too.
func TestAttackWebSocketOperationsAreRateLimited(t *testing.T) {
	s := startProduction(t, map[string]string{"MERIDIAN_RATE_LIMIT": "0.1", "MERIDIAN_RATE_BURST": "10"})
	for proto, role := range map[string]auth.Role{"graphql-transport-ws": auth.Analyst, "graphql-ws": auth.Admin} {
		t.Run(proto, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			// The upgrade carries no credential (it counts against the
			// address); connection_init names the caller.
			ws := gqltest.DialWS(t, ctx, s.URL, proto, map[string]any{"Authorization": s.Keys[role]})
			const ops = 50
			for i := range ops {
				ws.Start(fmt.Sprint(i), `{ viewer { role } }`)
			}
			ran, refused := ws.Finish(ops)
			if ran > 10 || refused["RATE_LIMITED"] != ops-ran {
				t.Errorf("%d of %d operations ran, refused %v; want at most the burst of 10 to run and the rest RATE_LIMITED", ran, ops, refused)
			}
			if closed, err := ws.Closed(); closed {
				t.Errorf("the socket closed (%v); refusing an operation must leave it open", err)
			}
			if r := s.gql(t, s.Keys[role], `{ viewer { role } }`, nil); r.Status != http.StatusTooManyRequests {
				t.Errorf("HTTP after the socket's burst: %d %s, want 429: the socket's operations count in the caller's own bucket", r.Status, r.Code())
			}
		})
	}
}

// TestAttackWebSocketSubscriptionsPerSocketAreCapped: the report held 3,000
// liveMetrics subscriptions on one socket (RSS 83 → 276 MB). A socket runs
// at most MERIDIAN_WS_MAX_OPERATIONS (default 100) operations at once: the
// 101st gets an error frame with TOO_MANY_OPERATIONS and does not run, the
// others keep streaming, and ending one frees its slot.
func TestAttackWebSocketSubscriptionsPerSocketAreCapped(t *testing.T) {
	s := startProduction(t, map[string]string{"MERIDIAN_RATE_BURST": "1000"})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ws := gqltest.DialWS(t, ctx, s.URL, "graphql-transport-ws", map[string]any{"Authorization": s.Keys[auth.Analyst]})
	const limit = 100
	const live = `subscription { liveMetrics(windowSeconds: 10, intervalSeconds: 1) { total } }`
	for i := 1; i <= limit+1; i++ {
		ws.Start(fmt.Sprint(i), live)
	}
	over := fmt.Sprint(limit + 1)
	streaming := map[string]bool{}
	deadline := time.Now().Add(10 * time.Second)
	for refused := false; !refused; {
		f, ok := ws.NextWithin(time.Until(deadline))
		switch {
		case !ok:
			t.Fatalf("no error frame for subscription %s within 10 s (%d others streaming)", over, len(streaming))
		case f.ID == over && f.Type == "error" && f.ErrorCode() == "TOO_MANY_OPERATIONS":
			refused = true
		case f.ID == over || f.Last():
			t.Fatalf("%s frame for %s: %s", f.Type, f.ID, f.Payload)
		default:
			streaming[f.ID] = true
		}
	}
	ws.Stop("1")
	ws.Start("again", live)
	// The others keep streaming; the refused one never does; the new one
	// runs in the slot 1 left.
	for !streaming["again"] {
		f := ws.Next()
		switch {
		case f.ID == over:
			t.Fatalf("the refused subscription runs: %s %s", f.Type, f.Payload)
		case f.ID == "1" && f.Type == "complete":
		case f.Last():
			t.Fatalf("%s frame for %s: %s", f.Type, f.ID, f.Payload)
		case f.ID != "1":
			streaming[f.ID] = true
		}
	}
}

// TestAttackWebSocketQueriesHaveTheRequestTimeout: a query over a socket
// had no deadline at all. It now ends at MERIDIAN_REQUEST_TIMEOUT with
// TIMEOUT, as over HTTP, while a subscription on the same socket lives on.
// A loader wait of 3 s makes the query slower than the 500 ms timeout on
// any machine; the same query over HTTP shows it.
func TestAttackWebSocketQueriesHaveTheRequestTimeout(t *testing.T) {
	s := startProduction(t, map[string]string{"MERIDIAN_REQUEST_TIMEOUT": "500ms", "MERIDIAN_LOADER_WAIT": "3s"})
	key := s.Keys[auth.Analyst]
	const slow = `{ cities(first: 1) { edges { node { users(first: 1) { totalCount } } } } }`
	if r := s.gql(t, key, slow, nil); r.Code() != "TIMEOUT" {
		t.Fatalf("over HTTP: %d %s %s, want TIMEOUT (the query is not slow enough for the test)", r.Status, r.Code(), r.Data)
	}
	for _, proto := range []string{"graphql-transport-ws", "graphql-ws"} {
		t.Run(proto, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			ws := gqltest.DialWS(t, ctx, s.URL, proto, map[string]any{"Authorization": key})
			ws.Start("live", `subscription { liveMetrics(windowSeconds: 10, intervalSeconds: 1) { total } }`)
			ws.Start("q", slow)
			timedOut := false
			for liveAfter := false; !timedOut || !liveAfter; {
				f := ws.Next()
				switch {
				case f.ID == "q" && f.Last():
					if !timedOut {
						t.Fatalf("the query ended without TIMEOUT")
					}
				case f.ID == "q":
					if f.ErrorCode() != "TIMEOUT" {
						t.Fatalf("over WebSocket: %s %s, want TIMEOUT", f.Type, f.Payload)
					}
					timedOut = true
				case f.ID == "live" && f.Last():
					t.Fatalf("the subscription ended: %s %s", f.Type, f.Payload)
				case f.ID == "live":
					liveAfter = timedOut
				}
			}
		})
	}
}

// ---- 6. cost: list arguments count by their length; introspection is bounded ----

// ---- 7. lower: caching headers, failed logins, metrics, production defaults, suggestions, list caps, cursor errors ----

// ---- 8. GraphQL over HTTP: application/json for */* and no Accept ----

// ---- 9. seeding 100k users (see seed/) ----
