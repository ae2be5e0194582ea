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

// TestAttackUpgradeHeaderIsNoCredential: an Upgrade: websocket header is
// not a credential. Without credentials (anonymous access off) every
// request that is not a real WebSocket handshake on /query is refused;
// a real handshake is upgraded and authenticates in connection_init.
func TestAttackUpgradeHeaderIsNoCredential(t *testing.T) {
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

// ---- 5. WebSocket: every operation is counted, bounded and timed ----

// ---- 6. cost: list arguments count by their length; introspection is bounded ----

// ---- 7. lower: caching headers, failed logins, metrics, production defaults, suggestions, list caps, cursor errors ----

// ---- 8. GraphQL over HTTP: application/json for */* and no Accept ----

// ---- 9. seeding 100k users (see seed/) ----
