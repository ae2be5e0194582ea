package main

// The attack suite: what the running production server promises a caller
// who means it harm. Each test starts the real server (run, as `meridian`
// starts with MERIDIAN_ENV=production on PostgreSQL, Redis and RabbitMQ)
// and attacks it from outside over TCP, the way the reports of issue 12
// did. Read the test names top to bottom as the list of promises. Every
// server is private (its own database, key prefix and vhost), so the tests
// run in parallel.

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/httpapi/ratelimit"
	"github.com/meridian-graphql/meridian/internal/gqltest"
	"github.com/meridian-graphql/meridian/platform/apperr"
)

// TestAttackBaseline: the production server starts, refuses callers
// without credentials and serves each role's key.
func TestAttackBaseline(t *testing.T) {
	t.Parallel()
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

// TestAttackUpgradeHeaderIsNoCredential: an Upgrade: websocket header is
// not a credential. Without credentials (anonymous access off) every
// request that is not a real WebSocket handshake on /query is refused;
// a real handshake is upgraded and authenticates in connection_init.
func TestAttackUpgradeHeaderIsNoCredential(t *testing.T) {
	t.Parallel()
	s := startProduction(t, nil)
	fake := []string{"Upgrade", "websocket", "Connection", "Upgrade"}
	for _, path := range []string{"/export/events", "/export/events?format=csv", "/query?query=%7Bcountries(first%3A1)%7BtotalCount%7D%7D"} {
		if res, body := s.get(t, path, fake...); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s with Upgrade: websocket, no credentials: %d %.200s, want 401", path, res.StatusCode, body)
		}
	}
	// A handshake's headers on a request that is no handshake (POST).
	if res, body := s.request(t, http.MethodPost, "/query", `{"query":"{ countries(first: 1) { totalCount } }"}`,
		append(fake, "Content-Type", "application/json", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version", "13")...); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("POST /query with Upgrade: websocket, no credentials: %d %.200s, want 401", res.StatusCode, body)
	}
	// A complete handshake, but on the export.
	if res, body := s.get(t, "/export/events", append(fake, "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version", "13")...); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("WebSocket handshake on /export/events without credentials: %d %.200s, want 401", res.StatusCode, body)
	}
	// A real handshake on /query is the WebSocket transport's (a query in
	// its URL is not run), and connection_init decides.
	for _, path := range []string{"/query", "/query?query=%7Bcountries(first%3A1)%7BtotalCount%7D%7D"} {
		if acked, code := s.wsInit(t, path, nil); acked || code != 4403 {
			t.Errorf("WebSocket on %s, connection_init without credentials: acked %v, close %d, want 4403", path, acked, code)
		}
		if acked, code := s.wsInit(t, path, map[string]any{"Authorization": s.Keys[auth.Analyst]}); !acked {
			t.Errorf("WebSocket on %s, connection_init with an analyst key: close %d, want connection_ack", path, code)
		}
	}
}

// ---- 2. export: role, rate limit, deadlines, strict parameters, safe CSV ----

// TestAttackExport: the export is an analyst's, rate-limited like /query,
// refuses parameters it does not know or cannot parse, cuts a client that
// stops reading, and writes CSV that a spreadsheet does not run.
func TestAttackExport(t *testing.T) {
	t.Parallel()
	s := startProduction(t, map[string]string{"MERIDIAN_RATE_LIMIT": "1", "MERIDIAN_RATE_BURST": "20", "MERIDIAN_EXPORT_IDLE_TIMEOUT": "2s", "MERIDIAN_READ_TIMEOUT": "1s"})
	const tiny = "/export/events?user=1&format=csv"
	t.Run("roles", func(t *testing.T) {
		if res, body := s.get(t, tiny, "Authorization", s.Keys[auth.Viewer]); res.StatusCode != http.StatusForbidden {
			t.Errorf("viewer: %d %.200s, want 403", res.StatusCode, body)
		}
		if res, body := s.get(t, tiny); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("anonymous: %d %.200s, want 401", res.StatusCode, body)
		}
		if res, body := s.get(t, tiny, "Authorization", s.Keys[auth.Analyst]); res.StatusCode != http.StatusOK {
			t.Errorf("analyst: %d %.200s, want 200", res.StatusCode, body)
		}
	})
	t.Run("rate limit", func(t *testing.T) {
		limited := 0
		for range 30 {
			if res, _ := s.get(t, tiny, "Authorization", s.Keys[auth.Admin]); res.StatusCode == http.StatusTooManyRequests {
				limited++
			}
		}
		if limited == 0 {
			t.Errorf("30 exports at once with a burst of 20: none answered 429")
		}
	})
	t.Run("parameters", func(t *testing.T) {
		many := "/export/events?format=csv" + repeat("&type=click", 10_001)
		for _, path := range []string{"/export/events?from=%zz", "/export/events?format=csv&usr=1", "/export/events?format=csv;user=1", many} {
			res, body := s.get(t, path, "Authorization", s.Keys[auth.Analyst])
			if res.StatusCode != http.StatusBadRequest {
				t.Errorf("GET %.80s: %d %.200s, want 400", path, res.StatusCode, body)
			}
		}
	})
	t.Run("CSV formulas", func(t *testing.T) {
		r := s.gql(t, s.Keys[auth.Analyst], `mutation { trackEvent(input: {id: "-2-3", userId: 4242, type: "click",
			metadata: {note: "=1+1"}, geo: {country: "ES", city: "=HYPERLINK(\"http://evil.example\")", lon: -3.7, lat: 40.4}}) { id } }`, nil)
		if r.Status != http.StatusOK || len(r.Errors) > 0 {
			t.Fatalf("trackEvent: %d %s %v", r.Status, r.Data, r.Errors)
		}
		res, body := s.get(t, "/export/events?user=4242&format=csv", "Authorization", s.Keys[auth.Analyst])
		if res.StatusCode != http.StatusOK {
			t.Fatalf("export: %d %s", res.StatusCode, body)
		}
		rows := csvRows(t, body)
		if len(rows) != 2 {
			t.Fatalf("export of user 4242: %q", rows)
		}
		row := rows[1]
		if row[0] != "'-2-3" || row[5] != `'=HYPERLINK("http://evil.example")` {
			t.Errorf("formula cells not neutralised: id %q, city %q", row[0], row[5])
		}
		if row[6] != "-3.7" || row[7] != "40.4" {
			t.Errorf("numeric cells changed: lon %q, lat %q", row[6], row[7])
		}
	})
	addEvents(t, s, 5151, 40_000)
	t.Run("client that stops reading", func(t *testing.T) {
		n, whole, _ := s.exportOverSmallWindow(t, s.Keys[auth.Analyst], "/export/events?user=5151", 5*second, 64<<10, 0)
		if whole {
			t.Errorf("a client that read nothing for 5 s (idle cutoff 2 s) got the whole export (%d bytes)", n)
		}
	})
	t.Run("slow reader", func(t *testing.T) {
		n, whole, took := s.exportOverSmallWindow(t, s.Keys[auth.Analyst], "/export/events?user=5151", 0, 16<<10, 5*millisecond)
		if !whole || took < 2*second {
			t.Errorf("a client reading slowly: %d bytes in %v, whole %v; want the whole export over more than the idle cutoff of 2 s", n, took, whole)
		}
	})
}

// ---- 3. slow clients: every request body is read under a deadline ----

// TestAttackSlowClients: a body dripped a byte at a time, with or without
// Accept: text/event-stream and without credentials, is cut at the read
// timeout on both listeners; an idle keep-alive connection is closed; a
// subscription stream, once its request is read, outlives the timeout.
func TestAttackSlowClients(t *testing.T) {
	t.Parallel()
	s := startProduction(t, map[string]string{"MERIDIAN_READ_TIMEOUT": "2s", "MERIDIAN_IDLE_TIMEOUT": "2s"})
	const limit = 6 * second // the read timeout, and room for a loaded machine
	for _, c := range []struct {
		name, addr, head string
		n                int
	}{
		{"POST /query", s.Addr, "POST /query HTTP/1.1\r\nHost: meridian", 100},
		{"POST /query as SSE", s.Addr, "POST /query HTTP/1.1\r\nHost: meridian\r\nAccept: text/event-stream", 100},
		{"GET /export/events", s.Addr, "GET /export/events HTTP/1.1\r\nHost: meridian", 20},
		{"metrics listener", s.MetricsAddr, "GET /metrics HTTP/1.1\r\nHost: meridian", 20},
	} {
		t.Run(c.name, func(t *testing.T) {
			closed, longest := slowBodies(t, c.addr, c.head, c.n, limit)
			if closed != c.n {
				t.Errorf("%d connections dripping a body: %d closed by the server within %v (longest %v)", c.n, closed, limit, longest)
			}
			t.Logf("%d dripping connections closed, the last after %v", closed, longest)
		})
	}
	t.Run("idle keep-alive", func(t *testing.T) {
		c := rawRequest(t, s.Addr, "GET /healthz HTTP/1.1\r\nHost: meridian\r\n")
		took, got, closed := closedAfter(c, limit)
		if statusOf(got) != "200" || !closed {
			t.Errorf("keep-alive connection after one answer: closed %v after %v, read %q; want it closed within %v", closed, took, got, limit)
		}
	})
	t.Run("subscription outlives the read timeout", func(t *testing.T) {
		lines := s.sse(t, s.Keys[auth.Analyst], `subscription { eventTracked(filter: {types: ["signup"]}) { type userId } }`)
		wait(3 * second) // past the read timeout of 2 s
		r := s.gql(t, s.Keys[auth.Analyst], `mutation { trackEvent(input: {userId: 4343, type: "signup"}) { id } }`, nil)
		if r.Status != http.StatusOK || len(r.Errors) > 0 {
			t.Fatalf("trackEvent: %d %s", r.Status, r.Data)
		}
		if l, ok := next(lines, limit); !ok || !contains(l, `"userId":"4343"`) {
			t.Errorf("SSE stream 3 s after it opened: %q (open %v), want the event", l, ok)
		}
	})
}

// ---- 4. persisted queries: only what passed every limit is stored ----

// TestAttackPersistedQueriesOnlyAfterLimits: a query sent with its hash is
// stored only once it parsed, validated and passed every limit, and only up
// to a size cap. The report stored 1 MiB cost-refused queries for 24 h in
// Redis and in the local tier; the hash-only follow-up proves neither tier
// holds them (the local tier answers first).
func TestAttackPersistedQueriesOnlyAfterLimits(t *testing.T) {
	t.Parallel()
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

// TestAttackWebSocketOperationsAreRateLimited: the report ran 1,000
// operations over one socket, the upgrade the only request counted. Each
// subscribe (graphql-transport-ws) or start (graphql-ws) now takes a token
// from the bucket of the caller that connection_init authenticated, the
// one its HTTP requests use: a burst of 10 runs 10 of 50, the rest get an
// error frame with RATE_LIMITED on a socket that stays open, and the
// caller's next HTTP request is refused too.
func TestAttackWebSocketOperationsAreRateLimited(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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
	t.Parallel()
	// The loader wait makes the read slow; compiled reads use no loader.
	s := startProduction(t, map[string]string{"MERIDIAN_REQUEST_TIMEOUT": "500ms", "MERIDIAN_LOADER_WAIT": "3s", "MERIDIAN_COMPILED_READS": "false"})
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

// TestAttackCostCountsListArguments: nodes(ids:) is costed by the number of
// ids, whether they come literally or in a variable (the report fetched
// 60,381 users under 1,000 ids, costed as 100), and introspection obeys the
// depth limit (40 nested ofType passed).
func TestAttackCostCountsListArguments(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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

// 7b. Failed authentications are limited per client address: past the
// burst, a credential from that address is refused with 429 before it is
// looked up. The proof that no lookup ran: each verified-and-failed key
// logs one "security: authentication failed" line, so there are exactly
// burst of them for 40 attempts. The block is on the address, not the key:
// a good key from the blocked address waits too (telling it apart would
// take the very lookup the limit saves), while another address is served.
func TestAttackFailedAuthenticationsAreLimited(t *testing.T) {
	t.Parallel()
	const burst = 5
	s := startProduction(t, map[string]string{
		"MERIDIAN_TRUSTED_PROXIES":          "127.0.0.1",
		"MERIDIAN_AUTH_FAILURES_PER_MINUTE": "1",
		"MERIDIAN_AUTH_FAILURE_BURST":       strconv.Itoa(burst),
	})
	const attacker, bystander = "203.0.113.7", "198.51.100.9"
	q := `{ viewer { role } }`
	refused := 0
	for i := range 40 {
		r := s.queryFrom(t, attacker, forgedKey(i), q)
		switch {
		case i < burst && r.Status != http.StatusUnauthorized:
			t.Fatalf("bad key %d: %d %s, want 401 within the burst", i, r.Status, r.Code())
		case i >= burst && (r.Status != http.StatusTooManyRequests || r.Code() != ratelimit.CodeRateLimited || r.Header.Get("Retry-After") == ""):
			t.Fatalf("bad key %d: %d %s Retry-After %q, want 429 RATE_LIMITED with Retry-After", i, r.Status, r.Code(), r.Header.Get("Retry-After"))
		case r.Status == http.StatusTooManyRequests:
			refused++
		}
	}
	if n := s.Logs.Count("security: authentication failed"); n != burst {
		t.Errorf("%d keys were looked up and failed, want %d (the burst): the rest must be refused before the lookup", n, burst)
	}
	if r := s.queryFrom(t, attacker, s.Keys[auth.Viewer], q); r.Status != http.StatusTooManyRequests {
		t.Errorf("good key from the blocked address: %d, want 429 until its bucket refills", r.Status)
	}
	if r := s.queryFrom(t, bystander, s.Keys[auth.Viewer], q); r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Errorf("good key from another address: %d %s, want 200", r.Status, r.Code())
	}
	// Successes are not counted: many good requests from a fresh address.
	for i := range 3 * burst {
		if r := s.queryFrom(t, "198.51.100.10", s.Keys[auth.Analyst], q); r.Status != http.StatusOK {
			t.Fatalf("good request %d: %d, want 200 (successes never use the failure budget)", i, r.Status)
		}
	}
	t.Logf("%d of 40 bad keys refused before the lookup", refused)
}

// 7c. /metrics (queue depths, cache stats) is never public in production:
// the server refuses to start with neither a listener of its own nor a
// token, and with a token it answers only the bearer of it.
func TestAttackMetricsNeedTokenOrOwnListener(t *testing.T) {
	t.Parallel()
	err := runProductionConfig(t, map[string]string{"MERIDIAN_METRICS_ADDR": ""})
	if err == nil || !strings.Contains(err.Error(), "MERIDIAN_METRICS_TOKEN") {
		t.Errorf("production without MERIDIAN_METRICS_ADDR or a token: run returned %v, want a refusal naming MERIDIAN_METRICS_TOKEN", err)
	}
	const token = "metrics-token-for-the-attack-suite"
	s := startProduction(t, map[string]string{"MERIDIAN_METRICS_ADDR": "", "MERIDIAN_METRICS_TOKEN": token})
	for _, h := range [][]string{nil, {"Authorization", "Bearer wrong"}, {"Authorization", token}} {
		if res, _ := s.get(t, "/metrics", h...); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET /metrics with %q: %d, want 401", h, res.StatusCode)
		}
	}
	res, body := s.get(t, "/metrics", "Authorization", "Bearer "+token)
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "meridian_") {
		t.Errorf("GET /metrics with the token: %d %.200s, want 200 and the metrics", res.StatusCode, body)
	}
	// With a listener of its own as well, the token is asked there too.
	own := startProduction(t, map[string]string{"MERIDIAN_METRICS_TOKEN": token})
	for cred, want := range map[string]int{"": http.StatusUnauthorized, "Bearer wrong": http.StatusUnauthorized, "Bearer " + token: http.StatusOK} {
		req, err := http.NewRequest(http.MethodGet, "http://"+own.MetricsAddr+"/metrics", nil)
		if err != nil {
			t.Fatal(err)
		}
		if cred != "" {
			req.Header.Set("Authorization", cred)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET metrics listener: %v", err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("GET /metrics on its own listener with %q: %d, want %d", cred, res.StatusCode, want)
		}
	}
}

// 7d. Production refuses a limit switched off (0 is "no limit"), and says
// loudly at start that introspection is on when it was turned on.
func TestAttackProductionRefusesZeroLimits(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"MERIDIAN_MAX_DEPTH", "MERIDIAN_MAX_COST", "MERIDIAN_MAX_TOKENS", "MERIDIAN_MAX_ALIASES", "MERIDIAN_RATE_LIMIT", "MERIDIAN_AUTH_FAILURES_PER_MINUTE"} {
		err := runProductionConfig(t, map[string]string{name: "0"})
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("production with %s=0: run returned %v, want a refusal naming %s", name, err, name)
		}
	}
	s := startProduction(t, map[string]string{"MERIDIAN_INTROSPECTION": "true"})
	if n := s.Logs.Count(`"level":"WARN"`, "security: introspection is on in production"); n != 1 {
		t.Errorf("%d start-up warnings about introspection, want 1:\n%s", n, s.Logs)
	}
}

// 7e. Bad input is refused plainly, naming the argument, and leaks
// nothing of the schema or the server's internals.
func TestAttackBadInputLeaksNothing(t *testing.T) {
	t.Parallel()
	s := startProduction(t, nil)
	t.Run("no field suggestions without introspection", func(t *testing.T) {
		r := s.gql(t, s.Keys[auth.Viewer], `{ countrys(first: 1) { totalCount } }`, nil)
		if len(r.Errors) == 0 || r.Code() != "GRAPHQL_VALIDATION_FAILED" {
			t.Fatalf("misspelt field: %d %s, want a validation error", r.Status, r.Code())
		}
		if m := r.Errors[0].Message; strings.Contains(m, "Did you mean") {
			t.Errorf("message %q suggests fields while introspection is off", m)
		}
	})
	t.Run("a list argument over its bound is BAD_USER_INPUT", func(t *testing.T) {
		// Distinct (repeats may be merged), short: ~560 KB of JSON, under
		// the 1 MiB body limit.
		types := make([]string, 70_000)
		for i := range types {
			types[i] = strconv.FormatInt(int64(i), 36)
		}
		r := s.gql(t, s.Keys[auth.Analyst], `query($t: [String!]) { eventDistribution(filter: {types: $t}) { type count } }`, map[string]any{"t": types})
		if r.Code() != string(apperr.BadUserInput) {
			t.Fatalf("70,000 types: %d %s %v, want BAD_USER_INPUT", r.Status, r.Code(), r.Errors)
		}
		if m := r.Errors[0].Message; !strings.Contains(m, "types") || !strings.Contains(m, "100") {
			t.Errorf("message %q, want it to name the argument and the bound of 100", m)
		}
		// A where-filter list of ent's generated inputs is bounded too.
		ids := make([]int, 101)
		r = s.gql(t, s.Keys[auth.Viewer], `query($ids: [ID!]) { countries(first: 1, where: {idIn: $ids}) { totalCount } }`, map[string]any{"ids": ids})
		if r.Code() != string(apperr.BadUserInput) || !strings.Contains(r.Errors[0].Message, "idIn") {
			t.Errorf("101 idIn: %d %s %v, want BAD_USER_INPUT naming idIn", r.Status, r.Code(), r.Errors)
		}
	})
	t.Run("a forged cursor is refused without the decoder's words", func(t *testing.T) {
		r := s.gql(t, s.Keys[auth.Viewer], `query($c: Cursor) { countries(first: 1, after: $c) { totalCount } }`, map[string]any{"c": forgedCursor})
		if r.Code() != string(apperr.BadUserInput) {
			t.Fatalf("forged cursor: %d %s %v, want BAD_USER_INPUT", r.Status, r.Code(), r.Errors)
		}
		if m := r.Errors[0].Message; strings.Contains(strings.ToLower(m), "msgpack") || !strings.Contains(m, "after") {
			t.Errorf("message %q, want it to name the argument and not the decoder", m)
		}
	})
}

// ---- 8. GraphQL over HTTP: application/json for */* and no Accept ----

// TestAttackHTTPMediaTypes: graphql-http's audit (47DE, 80D8) — a client
// that sends Accept: */* or no Accept gets application/json, where every
// well-formed request is 200 (a validation error too); a client that asks
// for application/graphql-response+json still gets it, with 400 for a
// request error. Run the whole audit with make audit-http.
func TestAttackHTTPMediaTypes(t *testing.T) {
	t.Parallel()
	s := startProduction(t, nil)
	const (
		jsonType  = "application/json; charset=utf-8"
		grType    = "application/graphql-response+json; charset=utf-8"
		ok        = `{"query":"{ __typename }"}`
		invalid   = `{"query":"{ nope }"}`
		malformed = `{"query":"{"}`
	)
	cases := []struct {
		accept, body string
		status       int
		ctype, code  string
	}{
		{"*/*", ok, 200, jsonType, ""},
		{"", ok, 200, jsonType, ""},
		{"application/graphql-response+json", ok, 200, grType, ""},
		{"application/json", ok, 200, jsonType, ""},
		{"*/*", invalid, 200, jsonType, "GRAPHQL_VALIDATION_FAILED"},
		{"", invalid, 200, jsonType, "GRAPHQL_VALIDATION_FAILED"},
		{"application/graphql-response+json", invalid, 400, grType, "GRAPHQL_VALIDATION_FAILED"},
		{"application/graphql-response+json, */*;q=0.8", invalid, 400, grType, "GRAPHQL_VALIDATION_FAILED"},
		{"", malformed, 200, jsonType, "GRAPHQL_PARSE_FAILED"},
		{"application/graphql-response+json", malformed, 400, grType, "GRAPHQL_PARSE_FAILED"},
	}
	for _, c := range cases {
		status, ctype, r := s.postAccept(t, s.Keys[auth.Viewer], c.accept, c.body)
		if status != c.status || ctype != c.ctype || r.Code() != c.code {
			t.Errorf("Accept %q, %s: %d %q %q, want %d %q %q", c.accept, c.body, status, ctype, r.Code(), c.status, c.ctype, c.code)
		}
		if c.code == "" && (len(r.Errors) > 0 || string(r.Data) != `{"__typename":"Query"}`) {
			t.Errorf("Accept %q: data %s errors %v", c.accept, r.Data, r.Errors)
		}
		if status == 400 && r.Data != nil {
			t.Errorf("Accept %q, %s: a 400 carries data %s", c.accept, c.body, r.Data)
		}
	}
}

// ---- 9. seeding 100k users (see seed/) ----
