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

// TestAttackHTTPMediaTypes: graphql-http's audit (47DE, 80D8) — a client
// that sends Accept: */* or no Accept gets application/json, where every
// well-formed request is 200 (a validation error too); a client that asks
// for application/graphql-response+json still gets it, with 400 for a
// request error. Run the whole audit with make audit-http.
func TestAttackHTTPMediaTypes(t *testing.T) {
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
