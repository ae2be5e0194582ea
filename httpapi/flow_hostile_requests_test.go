package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/httpapi"
	"github.com/meridian-graphql/meridian/httpapi/limits"
	"github.com/meridian-graphql/meridian/httpapi/ratelimit"
	"github.com/meridian-graphql/meridian/internal/gqltest"
	"github.com/meridian-graphql/meridian/internal/testdb"
)

// TestHostileQueries: abusive requests are refused before they run, with
// their code and no data — a query past the production limits (package
// limits tests each limit on the real schema; here the depth and the
// introspection switch show the server applies them), a fragment cycle, a document that does not parse, and a
// body over the size limit — and the server still answers a normal query.
func TestHostileQueries(t *testing.T) {
	cfg := limits.DefaultConfig() // production: introspection off, depth 12
	c := gqltest.Serve(t, httpapi.Deps{DB: testdb.Open(t, "sqlite"), Auth: gqltest.Grant(auth.Viewer), Limits: &cfg, MaxBodyBytes: 64 << 10})

	// countries → cities → country → cities → …: 4 levels per round trip.
	deep := "code"
	for range 4 {
		deep = "cities(first: 1) { edges { node { country { " + deep + " } } } }"
	}
	deep = "{ countries(first: 1) { edges { node { " + deep + " } } } }"
	for name, tc := range map[string]struct{ query, code string }{
		"deep nesting":    {deep, "QUERY_TOO_DEEP"},
		"introspection":   {`{ __schema { types { name } } }`, "INTROSPECTION_DISABLED"},
		"fragment cycle":  {`query { countries(first: 1) { ...A } } fragment A on CountryConnection { totalCount ...B } fragment B on CountryConnection { ...A }`, "GRAPHQL_VALIDATION_FAILED"},
		"malformed query": {`{ countries(first: 1) { totalCount `, "GRAPHQL_PARSE_FAILED"},
	} {
		r := c.Do(tc.query, nil)
		if len(r.Errors) == 0 || r.Errors[0].Code() != tc.code || r.Data != nil && string(r.Data) != "null" {
			t.Errorf("%s: status %d, data %s, errors %+v; want %s and no data", name, r.Status, r.Data, r.Errors, tc.code)
		}
	}
	// A body over the limit is refused without being read to the end.
	big := `{"query": "{ countries(first: 1) { totalCount } }", "variables": {"x": "` + strings.Repeat("a", 70<<10) + `"}}`
	res, err := http.Post(c.URL()+"/query", "application/json", strings.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct{ Errors []gqltest.Error }
	_ = json.NewDecoder(res.Body).Decode(&out)
	if res.StatusCode != http.StatusRequestEntityTooLarge || len(out.Errors) == 0 || out.Errors[0].Code() != "PAYLOAD_TOO_LARGE" {
		t.Errorf("oversized body: status %d, errors %+v", res.StatusCode, out.Errors)
	}
	// The same server still answers a normal query.
	c.MustDo(`{ countries(first: 1) { totalCount } }`, nil, nil)
}

// TestRateLimit: a caller over its burst gets 429 RATE_LIMITED with
// Retry-After; another caller is not affected. The test client plays a
// trusted proxy: anonymous callers are told apart by X-Forwarded-For.
func TestRateLimit(t *testing.T) {
	l, err := ratelimit.New(ratelimit.Config{Rate: 0.5, Burst: 3}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := gqltest.Serve(t, httpapi.Deps{DB: testdb.Open(t, "sqlite"), Auth: gqltest.Grant(auth.Viewer), RateLimit: l, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	post := func(forwarded string) *http.Response {
		body, _ := json.Marshal(map[string]any{"query": "{ countries(first: 1) { totalCount } }"})
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, c.URL()+"/query", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if forwarded != "" {
			req.Header.Set("X-Forwarded-For", forwarded)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	for i := range 3 {
		res := post("198.51.100.1")
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("request %d: %d", i+1, res.StatusCode)
		}
	}
	// Another client behind the proxy has its own bucket; the first one
	// cannot escape its own by writing an address into the header.
	for _, other := range []string{"198.51.100.2", ""} {
		res := post(other)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("client %q: %d", other, res.StatusCode)
		}
	}
	res := post("203.0.113.5, 198.51.100.1")
	defer res.Body.Close()
	var out struct{ Errors []gqltest.Error }
	_ = json.NewDecoder(res.Body).Decode(&out)
	if res.StatusCode != 429 || res.Header.Get("Retry-After") == "" || len(out.Errors) != 1 || out.Errors[0].Code() != "RATE_LIMITED" {
		t.Errorf("over the burst: %d, Retry-After %q, %+v", res.StatusCode, res.Header.Get("Retry-After"), out.Errors)
	}
}

// TestSlowBody: a client that sends its headers and then drips the body
// (slowloris) is cut off at the request timeout instead of holding a
// handler for as long as it likes.
func TestSlowBody(t *testing.T) {
	const timeout = 300 * time.Millisecond
	c := gqltest.Serve(t, httpapi.Deps{DB: testdb.Open(t, "sqlite"), Auth: gqltest.Grant(auth.Viewer), RequestTimeout: timeout})
	conn, err := net.Dial("tcp", strings.TrimPrefix(c.URL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	fmt.Fprintf(conn, "POST /query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.ReadAll(conn) // until the server answers and closes, or gives up on us
	}()
	for i := 0; i < 100; i++ {
		select {
		case <-done:
			if el := time.Since(start); el > 10*timeout {
				t.Errorf("connection held for %v", el)
			}
			return
		case <-time.After(50 * time.Millisecond):
			_, _ = conn.Write([]byte(" "))
		}
	}
	t.Fatalf("a dripping client held the handler for %v", time.Since(start))
}
