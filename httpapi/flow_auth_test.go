package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/broker/inproc"
	"github.com/meridian-graphql/meridian/httpapi"
	"github.com/meridian-graphql/meridian/internal/gqltest"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/live"
)

// authServer serves a fresh database with API keys, anonymous callers
// getting anonymous (empty: none), and returns a key per role.
func authServer(t *testing.T, anonymous auth.Role) (*gqltest.Client, map[auth.Role]string) {
	t.Helper()
	deps, keys := authDeps(t, anonymous)
	return gqltest.Serve(t, deps), keys
}

// authDeps are authServer's dependencies (SQLite, API keys, the in-process
// bus and a live hub), for a test to add to before serving them.
func authDeps(t *testing.T, anonymous auth.Role) (httpapi.Deps, map[auth.Role]string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	db := testdb.Open(t, "sqlite")
	keys := auth.NewKeys(db)
	if err := keys.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	out := map[auth.Role]string{}
	for _, r := range []auth.Role{auth.Viewer, auth.Analyst, auth.Admin} {
		_, key, err := keys.Create(ctx, "test "+string(r), r)
		if err != nil {
			t.Fatal(err)
		}
		out[r] = key
	}
	bus := inproc.New(inproc.Options{})
	t.Cleanup(func() { bus.Close() })
	hub := live.New(bus, nil)
	go hub.Run(ctx) //nolint:errcheck // ends with ctx
	return httpapi.Deps{DB: db, Auth: &auth.Authenticator{Keys: keys, Anonymous: anonymous}, Keys: keys, Live: hub}, out
}

// TestRoles: each role reaches what @hasRole grants it and is refused the
// rest with FORBIDDEN; bad credentials get 401 UNAUTHENTICATED; API keys
// created through the API work at once and stop working when revoked.
func TestRoles(t *testing.T) {
	c, keys := authServer(t, auth.Viewer)
	read := `{ viewer { subject role method readOnly } countries(first: 1) { totalCount } }`
	track := `mutation { trackEvent(input: {userId: 1, type: "click"}) { id } }`
	write := `mutation { createCountry(input: {code: "UA", name: "Ukraine", continent: "Europe"}) { id } }`
	admin := `{ cacheStats { localHits } }`
	// Analytics reads: a cached aggregate and an engine score under an
	// entity.
	stats := `{ eventDistribution { type count } }`
	scores := `{ users(first: 1) { edges { node { profile { segment } } } } }`

	var v struct {
		Viewer struct {
			Subject, Role, Method string
			ReadOnly              bool
		}
	}
	c.As(keys[auth.Admin]).MustDo(`mutation { createUser(input: {username: "ann", email: "ann@example.com"}) { id } }`, nil, nil)
	c.MustDo(read, nil, &v)
	if v.Viewer.Role != "VIEWER" || v.Viewer.Method != "anonymous" || !v.Viewer.ReadOnly {
		t.Errorf("anonymous viewer = %+v", v.Viewer)
	}
	type call struct {
		as    string
		query string
		code  string // "" = allowed
	}
	for _, tc := range []call{
		{"", track, "FORBIDDEN"},
		{"", write, "FORBIDDEN"},
		{"", stats, "FORBIDDEN"},
		{keys[auth.Viewer], track, "FORBIDDEN"},
		{keys[auth.Analyst], stats, ""},
		// Served from the cache the analyst just filled, still refused.
		{keys[auth.Viewer], stats, "FORBIDDEN"},
		{keys[auth.Viewer], scores, "FORBIDDEN"},
		{keys[auth.Analyst], track, ""},
		{keys[auth.Analyst], write, "FORBIDDEN"},
		{keys[auth.Analyst], admin, "FORBIDDEN"},
		{"Bearer " + keys[auth.Admin], write, ""},
		{"ApiKey " + keys[auth.Admin], admin, ""},
	} {
		r := c.As(tc.as).Do(tc.query, nil)
		switch {
		case tc.code == "" && len(r.Errors) > 0:
			t.Errorf("%.12s… %s: refused: %+v", tc.as, tc.query, r.Errors[0])
		case tc.code != "" && (len(r.Errors) != 1 || r.Errors[0].Code() != tc.code):
			t.Errorf("%.12s… %s: errors %+v, want %s", tc.as, tc.query, r.Errors, tc.code)
		}
	}
	c.As(keys[auth.Analyst]).MustDo(read, nil, &v)
	if v.Viewer.Role != "ANALYST" || v.Viewer.Method != "api-key" || !strings.HasPrefix(v.Viewer.Subject, "key:") || v.Viewer.ReadOnly {
		t.Errorf("analyst viewer = %+v", v.Viewer)
	}
	// A wrong key is refused before anything runs, not downgraded.
	for _, bad := range []string{"mrd_nope_nope", "Bearer not-a-jwt"} {
		r := c.As(bad).Do(read, nil)
		if r.Status != 401 || len(r.Errors) != 1 || r.Errors[0].Code() != "UNAUTHENTICATED" {
			t.Errorf("%q: status %d, errors %+v", bad, r.Status, r.Errors)
		}
	}
	// Keys made through the API: shown once, usable at once, revocable.
	var created struct {
		CreateAPIKey struct {
			Key    string
			APIKey struct{ ID, Role string }
		}
	}
	c.As(keys[auth.Admin]).MustDo(`mutation { createApiKey(name: "bi", role: ANALYST) { key apiKey { id role } } }`, nil, &created)
	k := created.CreateAPIKey
	if r := c.As(k.Key).Do(track, nil); len(r.Errors) > 0 || k.APIKey.Role != "ANALYST" {
		t.Fatalf("new key: %+v, %+v", k, r.Errors)
	}
	c.As(keys[auth.Admin]).MustDo(`mutation($id: String!) { revokeApiKey(id: $id) }`, map[string]any{"id": k.APIKey.ID}, nil)
	if r := c.As(k.Key).Do(read, nil); r.Status != 401 {
		t.Errorf("revoked key: status %d", r.Status)
	}
	if e := c.As(keys[auth.Admin]).ErrorCode(`mutation { createApiKey(name: "", role: VIEWER) { key } }`, nil); e.Code() != "BAD_USER_INPUT" {
		t.Errorf("empty key name: %q", e.Code())
	}
}

// TestReadOnlyDemo: the development default — anonymous callers with the
// analyst's reads and no writes — reads analytics, is told to authenticate
// for any mutation (nothing is written), and a key still writes.
func TestReadOnlyDemo(t *testing.T) {
	c, keys := authServer(t, auth.Analyst)
	c.MustDo(`{ eventDistribution { type count } userStats { total } }`, nil, nil)
	for _, m := range []string{
		`mutation { trackEvent(input: {userId: 1, type: "click"}) { id } }`,
		`mutation { upsertProfile(input: {username: "ann"}) { username } }`,
	} {
		r := c.Do(m, nil)
		if len(r.Errors) != 1 || r.Errors[0].Code() != "UNAUTHENTICATED" {
			t.Errorf("%s: errors %+v, want UNAUTHENTICATED", m, r.Errors)
		}
	}
	var d struct{ EventDistribution []struct{ Count int } }
	c.MustDo(`{ eventDistribution { count } }`, nil, &d)
	if len(d.EventDistribution) != 0 {
		t.Errorf("a refused mutation stored events: %+v", d.EventDistribution)
	}
	c.As(keys[auth.Analyst]).MustDo(`mutation { trackEvent(input: {userId: 1, type: "click"}) { id } }`, nil, nil)
}

// TestNoAnonymousAccess: with anonymous access off, requests without
// credentials get 401 and subscriptions must authenticate in
// connection_init — a bad or missing credential closes the socket with
// 4403, a good one subscribes.
func TestNoAnonymousAccess(t *testing.T) {
	c, keys := authServer(t, "")
	if r := c.Do(`{ countries(first: 1) { totalCount } }`, nil); r.Status != 401 || len(r.Errors) != 1 || r.Errors[0].Code() != "UNAUTHENTICATED" {
		t.Errorf("anonymous query: status %d, %+v", r.Status, r.Errors)
	}
	c.As(keys[auth.Viewer]).MustDo(`{ countries(first: 1) { totalCount } }`, nil, nil)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dial := func(payload map[string]any) (*websocket.Conn, error) {
		conn, _, err := websocket.Dial(ctx, strings.Replace(c.URL(), "http", "ws", 1)+"/query", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
		if err != nil {
			return nil, err
		}
		msg := map[string]any{"type": "connection_init"}
		if payload != nil {
			msg["payload"] = payload
		}
		if err := wsjson.Write(ctx, conn, msg); err != nil {
			return nil, err
		}
		var ack struct{ Type string }
		if err := wsjson.Read(ctx, conn, &ack); err != nil {
			return conn, err
		}
		if ack.Type != "connection_ack" {
			return conn, errors.New("got " + ack.Type)
		}
		return conn, nil
	}
	for name, payload := range map[string]map[string]any{
		"no payload":  nil,
		"wrong key":   {"Authorization": "Bearer mrd_nope_nope"},
		"garbage jwt": {"authToken": "x.y.z"},
	} {
		conn, err := dial(payload)
		if conn != nil {
			defer conn.CloseNow()
		}
		if err == nil {
			t.Errorf("%s: connection acknowledged", name)
			continue
		}
		// The server sends an error message first, then closes with 4403.
		for err != nil && websocket.CloseStatus(err) == -1 && conn != nil {
			var m map[string]any
			err = wsjson.Read(ctx, conn, &m)
		}
		if got := websocket.CloseStatus(err); got != 4403 {
			t.Errorf("%s: close status %d (%v), want 4403", name, got, err)
		}
	}
	conn, err := dial(map[string]any{"Authorization": "Bearer " + keys[auth.Analyst]})
	if err != nil {
		t.Fatalf("valid key: %v", err)
	}
	defer conn.CloseNow()
	if err := wsjson.Write(ctx, conn, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": `subscription { eventTracked { type } }`}}); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		for {
			var m struct{ Type string }
			if err := wsjson.Read(ctx, conn, &m); err != nil {
				got <- err.Error()
				return
			}
			if m.Type == "next" || m.Type == "error" {
				got <- m.Type
				return
			}
		}
	}()
	for i := 0; ; i++ {
		c.As(keys[auth.Analyst]).MustDo(`mutation { trackEvent(input: {userId: 1, type: "click"}) { id } }`, nil, nil)
		select {
		case typ := <-got:
			if typ != "next" {
				t.Fatalf("subscription got %s", typ)
			}
			return
		case <-time.After(200 * time.Millisecond):
			if i > 25 {
				t.Fatal("no event on the authenticated subscription")
			}
		}
	}
}

// TestNilAuthGrantsNothing: a handler built without an authenticator fails
// closed. An admin mutation over HTTP is refused with 401 UNAUTHENTICATED —
// without credentials, with a made-up one, and with a real admin key, since
// no Authenticator means none is verified — and writes nothing; admin
// queries, plain reads and the export are refused the same way.
func TestNilAuthGrantsNothing(t *testing.T) {
	ctx := context.Background()
	db := testdb.Open(t, "sqlite")
	keys := auth.NewKeys(db)
	if err := keys.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	_, admin, err := keys.Create(ctx, "admin", auth.Admin)
	if err != nil {
		t.Fatal(err)
	}
	c := gqltest.Serve(t, httpapi.Deps{DB: db, Keys: keys})
	create := `mutation { createCountry(input: {code: "UA", name: "Ukraine", continent: "Europe"}) { id } }`
	for _, call := range []struct{ as, query string }{
		{"", create},
		{"Bearer mrd_nope_nope", create},
		{admin, create},
		{"Bearer " + admin, create},
		{"", `{ cacheStats { localHits } }`},
		{"", `{ countries(first: 1) { totalCount } }`},
	} {
		r := c.As(call.as).Do(call.query, nil)
		if r.Status != http.StatusUnauthorized || len(r.Errors) != 1 || r.Errors[0].Code() != "UNAUTHENTICATED" || r.Data != nil {
			t.Errorf("%.12s… %s: status %d, data %s, errors %+v; want 401 UNAUTHENTICATED", call.as, call.query, r.Status, r.Data, r.Errors)
		}
	}
	if n := db.Client.Country.Query().CountX(ctx); n != 0 {
		t.Errorf("a refused createCountry stored %d countries", n)
	}
	res, err := http.Get(c.URL() + "/export/events")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("export without an authenticator: status %d, want 401", res.StatusCode)
	}
}
