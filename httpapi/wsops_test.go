package httpapi_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/broker/inproc"
	"github.com/meridian-graphql/meridian/httpapi"
	"github.com/meridian-graphql/meridian/httpapi/ratelimit"
	"github.com/meridian-graphql/meridian/internal/gqltest"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/live"
)

var wsProtocols = []string{"graphql-transport-ws", "graphql-ws"}

// wsServer serves deps on SQLite with the in-process bus and a live hub,
// to callers who are all admins.
func wsServer(t *testing.T, ctx context.Context, deps httpapi.Deps) *gqltest.Client {
	t.Helper()
	bus := inproc.New(inproc.Options{})
	t.Cleanup(func() { bus.Close() })
	hub := live.New(bus, nil)
	go hub.Run(ctx) //nolint:errcheck // ends with ctx
	deps.DB, deps.Live, deps.Auth = testdb.Open(t, "sqlite"), hub, gqltest.Grant(auth.Admin)
	return gqltest.Serve(t, deps)
}

// TestWebSocketOperationsAreRateLimited: every operation started over a
// socket takes a token from the caller's bucket, as an HTTP request does; a
// refused one gets an error frame with RATE_LIMITED and the socket stays
// open. The upgrade took one of the 5 tokens.
func TestWebSocketOperationsAreRateLimited(t *testing.T) {
	for _, proto := range wsProtocols {
		t.Run(proto, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			l, err := ratelimit.New(ratelimit.Config{Rate: 0.01, Burst: 5}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			c := wsServer(t, ctx, httpapi.Deps{RateLimit: l})
			ws := gqltest.DialWS(t, ctx, c.URL(), proto, nil)
			const ops = 20
			for i := range ops {
				ws.Start(fmt.Sprint(i), `{ __typename }`)
			}
			ran, refused := ws.Finish(ops)
			if ran > 4 || refused[ratelimit.CodeRateLimited] != ops-ran {
				t.Errorf("%d of %d operations ran, refused %v; want at most 4 (the burst less the upgrade) to run and the rest RATE_LIMITED", ran, ops, refused)
			}
			if closed, err := ws.Closed(); closed {
				t.Errorf("the socket closed (%v); a refused operation must leave it open", err)
			}
		})
	}
}

// TestWebSocketOperationsPerSocketAreCapped: a socket runs at most 100
// operations at once (the default of MERIDIAN_WS_MAX_OPERATIONS); the
// 101st gets an error frame and does not run; ending one frees its slot.
func TestWebSocketOperationsPerSocketAreCapped(t *testing.T) {
	for _, proto := range wsProtocols {
		t.Run(proto, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c := wsServer(t, ctx, httpapi.Deps{})
			ws := gqltest.DialWS(t, ctx, c.URL(), proto, nil)
			const limit = 100
			for i := 1; i <= limit+1; i++ {
				ws.Start(fmt.Sprint(i), `subscription { eventTracked { type } }`)
			}
			f, ok := ws.NextWithin(5 * time.Second)
			if !ok || f.ID != fmt.Sprint(limit+1) || f.Type != "error" || f.ErrorCode() != "TOO_MANY_OPERATIONS" {
				t.Fatalf("101st subscription: got %v %s frame for %s: %s, want an error frame with TOO_MANY_OPERATIONS", ok, f.Type, f.ID, f.Payload)
			}
			ws.Stop("1")
			if f := ws.Next(); f.ID != "1" || f.Type != "complete" {
				t.Fatalf("after stopping 1: %s frame for %s: %s", f.Type, f.ID, f.Payload)
			}
			ws.Start("new", `subscription { eventTracked { type } }`)
			// Every live subscription, the new one included, receives
			// the event; the refused one does not exist. Tracking again
			// until the new one has attached.
			seen := map[string]bool{}
			for len(seen) < limit && ctx.Err() == nil {
				f, ok := ws.NextWithin(500 * time.Millisecond)
				if !ok {
					if closed, err := ws.Closed(); closed {
						t.Fatalf("the socket closed: %v", err)
					}
					c.MustDo(`mutation { trackEvent(input: {userId: 1, type: "click"}) { id } }`, nil, nil)
					continue
				}
				if f.Type != "next" && f.Type != "data" {
					t.Fatalf("%s frame for %s: %s", f.Type, f.ID, f.Payload)
				}
				if f.ID == "1" || f.ID == fmt.Sprint(limit+1) {
					t.Fatalf("operation %s is not live but received %s", f.ID, f.Payload)
				}
				seen[f.ID] = true
			}
			if !seen["new"] || len(seen) != limit {
				t.Errorf("%d subscriptions received events (the new one: %v), want %d", len(seen), seen["new"], limit)
			}
		})
	}
}

// TestWebSocketQueriesHaveTheRequestTimeout: a query over a WebSocket ends
// at RequestTimeout with TIMEOUT, as over HTTP. The loaders' wait (2 s)
// makes the query slower than the timeout (300 ms) deterministically.
func TestWebSocketQueriesHaveTheRequestTimeout(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := wsServer(t, ctx, httpapi.Deps{RequestTimeout: 300 * time.Millisecond, LoaderWait: 2 * time.Second})
	var country struct{ CreateCountry struct{ ID string } }
	c.MustDo(`mutation { createCountry(input: {code: "UA", name: "Ukraine", continent: "Europe"}) { id } }`, nil, &country)
	c.MustDo(`mutation($c: ID!) { createCity(input: {name: "Lviv", latitude: 49.84, longitude: 24.03, countryID: $c}) { id } }`, map[string]any{"c": country.CreateCountry.ID}, nil)
	const slow = `{ cities(first: 1) { edges { node { users(first: 1) { totalCount } } } } }`
	if e := c.ErrorCode(slow, nil); e.Code() != "TIMEOUT" {
		t.Fatalf("over HTTP: %s %q, want TIMEOUT (the query is not slow enough for the test)", e.Code(), e.Message)
	}
	for _, proto := range wsProtocols {
		t.Run(proto, func(t *testing.T) {
			ws := gqltest.DialWS(t, ctx, c.URL(), proto, nil)
			ws.Start("q", slow)
			if f := ws.Next(); f.ErrorCode() != "TIMEOUT" {
				t.Errorf("over WebSocket: %s %s, want TIMEOUT", f.Type, f.Payload)
			}
		})
	}
}
