package httpapi_test

// Fuzz targets for the HTTP surface: the GraphQL endpoint (any body, any
// content type, any method, with and without credentials), automatic
// persisted queries, and the export endpoint with its parameter decoder.
// The handler is the real one on a small SQLite fixture, driven through
// httptest.NewRecorder (no network) so that each input costs a few ms.
//
//	go test -run '^$' -fuzz '^FuzzQueryEndpoint$' -fuzztime 60s ./httpapi/

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/analytics/engine"
	"github.com/meridian-graphql/meridian/analytics/sqlstore"
	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/broker/consumers"
	"github.com/meridian-graphql/meridian/broker/inproc"
	"github.com/meridian-graphql/meridian/httpapi"
	"github.com/meridian-graphql/meridian/httpapi/limits"
	"github.com/meridian-graphql/meridian/internal/fixture"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/live"
	"github.com/meridian-graphql/meridian/platform/database"
)

// fuzzAPI is the handler under fuzzing and what was put in its database.
type fuzzAPI struct {
	h            http.Handler
	db           *database.DB
	events       analytics.Store
	adminKey     string
	viewerKey    string
	userIDs      []int
	eventsStored []analytics.Event
}

// fuzzStart of the tracked fixture events: a fixed day, so that the export
// target can check its ranges against known timestamps.
var fuzzStart = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

// newFuzzAPI builds the handler once per fuzz worker: SQLite with a 2×2×2
// grid (8 users, orders, one product), a few tracked events, API keys, the
// production query limits, an authenticator whose anonymous callers are
// admins (everything reachable), and a short loader wait.
func newFuzzAPI(f *testing.F) *fuzzAPI {
	ctx := context.Background()
	db := testdb.Open(f, fuzzBackend())
	g, err := fixture.NewGrid(ctx, db.Client, 2, 2, 2)
	if err != nil {
		f.Fatal(err)
	}
	events, err := sqlstore.New(ctx, db)
	if err != nil {
		f.Fatal(err)
	}
	keys := auth.NewKeys(db)
	if err := keys.Migrate(ctx); err != nil {
		f.Fatal(err)
	}
	_, admin, err := keys.Create(ctx, "fuzz-admin", auth.Admin)
	if err != nil {
		f.Fatal(err)
	}
	_, viewer, err := keys.Create(ctx, "fuzz-viewer", auth.Viewer)
	if err != nil {
		f.Fatal(err)
	}
	lim := limits.DefaultConfig() // production: introspection off
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	bus := inproc.New(inproc.Options{Logger: quiet})
	f.Cleanup(func() { _ = bus.Close() }) // after the consumers stop: cleanups run last-in first-out
	eng, err := engine.New(engine.Config{Client: db.Client, Events: events, Log: quiet})
	if err != nil {
		f.Fatal(err)
	}
	hub := live.New(bus, quiet)
	deps := httpapi.Deps{
		DB:             db,
		Events:         events,
		Bus:            bus,
		Live:           hub,
		Engine:         eng,
		Keys:           keys,
		Auth:           &auth.Authenticator{Keys: keys, Anonymous: auth.Admin, AnonymousWrites: true, Log: quiet},
		Limits:         &lim,
		Logger:         quiet,
		LoaderWait:     time.Millisecond,
		RequestTimeout: 2 * time.Second,
		MaxBodyBytes:   1 << 20,
	}
	// The live hub and the bus consumers run as in the server, so that the
	// subscription and queue-administration fields have what they need.
	runCtx, stop := context.WithCancel(ctx)
	f.Cleanup(stop)
	go func() { _ = hub.Run(runCtx) }()
	if err := consumers.Migrate(ctx, db); err != nil {
		f.Fatal(err)
	}
	attached := make(chan struct{})
	go func() {
		_ = consumers.New(consumers.Deps{Bus: bus, DB: db, Events: deps.EventService(), Log: quiet}).
			Run(runCtx, func() { close(attached) })
	}()
	<-attached
	api := &fuzzAPI{h: httpapi.NewHandler(deps), db: db, events: events, adminKey: admin, viewerKey: viewer}
	for _, u := range g.Users {
		api.userIDs = append(api.userIDs, u.ID)
	}
	// Tracked events: every type, both countries, a purchase per user,
	// spread over two weeks.
	var in []analytics.EventInput
	types := analytics.DefaultTypes()
	for i, uid := range api.userIDs {
		for k, typ := range types {
			at := fuzzStart.Add(time.Duration(i*len(types)+k) * 7 * time.Hour)
			id := fmt.Sprintf("fx-%d-%d", i, k)
			e := analytics.EventInput{ID: &id, UserID: uid, Type: typ, Timestamp: &at,
				Geo: &analytics.Geo{Country: []string{"AA", "AB"}[i%2], City: fmt.Sprintf("C%d", i%2), Lat: 50 + float64(i), Lon: 30 + float64(k)}}
			if typ == "purchase" {
				e.Metadata = map[string]any{"price": 9.99, "quantity": float64(i + 1), "category": "books"}
			}
			in = append(in, e)
		}
	}
	svc := deps.EventService()
	svc.Now = func() time.Time { return fuzzStart.AddDate(0, 1, 0) }
	res, _, err := svc.Track(ctx, in)
	if err != nil {
		f.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			f.Fatalf("fixture event refused: %v", r.Err)
		}
		api.eventsStored = append(api.eventsStored, *r.Event)
	}
	return api
}

// fuzzContentTypes are the request content types the endpoint target
// chooses from.
var fuzzContentTypes = []string{
	"application/json",
	"application/json; charset=utf-8",
	"",
	"text/plain",
	"application/x-www-form-urlencoded",
	"multipart/form-data; boundary=xyz",
	"application/graphql",
	"application/json; charset=latin1",
}

// fuzzRequest builds the request of one input. method: 0 POST with body as
// the body; 1 GET with body as the query parameter; 2 GET with body as the
// raw query string; 3 another method. auth: 0 none (anonymous, an admin
// here), 1 the admin key, 2 the viewer key, 3 a credential that does not
// verify.
func (a *fuzzAPI) fuzzRequest(method, ctype, cred uint8, body []byte) *http.Request {
	var r *http.Request
	switch method % 4 {
	case 0:
		r = httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
	case 1:
		r = httptest.NewRequest(http.MethodGet, "/query?query="+url.QueryEscape(string(body)), nil)
	case 2:
		r = httptest.NewRequest(http.MethodGet, "/query", nil)
		r.URL.RawQuery = string(body)
	default:
		m := []string{http.MethodPut, http.MethodOptions, http.MethodDelete, http.MethodPatch, http.MethodHead}[int(ctype)%5]
		r = httptest.NewRequest(m, "/query", bytes.NewReader(body))
	}
	if ct := fuzzContentTypes[int(ctype)%len(fuzzContentTypes)]; ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	switch cred % 4 {
	case 1:
		r.Header.Set("Authorization", "Bearer "+a.adminKey)
	case 2:
		r.Header.Set("X-API-Key", a.viewerKey)
	case 3:
		r.Header.Set("Authorization", "Bearer mrd_nope_nope")
	}
	return r
}

// fuzzCheckResponse asserts what every answer of /query must satisfy:
// no 5xx, a JSON body when the content type says JSON, and a code in
// extensions.code of every error — and none of them INTERNAL_SERVER_ERROR,
// which the presenter gives only to unexpected failures.
func fuzzCheckResponse(t *testing.T, req string, res *http.Response, body []byte) {
	t.Helper()
	if res.StatusCode >= 500 {
		t.Fatalf("status %d for %s\nresponse: %.2000s", res.StatusCode, req, body)
	}
	mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	isJSON := mt == "application/json" || mt == "application/graphql-response+json"
	var out struct {
		Data   json.RawMessage  `json:"data"`
		Errors []map[string]any `json:"errors"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&out); err != nil || dec.More() {
		if isJSON {
			t.Fatalf("status %d, %s, body is not one JSON object (%v) for %s\nresponse: %.2000s", res.StatusCode, mt, err, req, body)
		}
		return // not JSON, and not said to be
	}
	// A GraphQL error body is checked whatever its content type says.
	for _, e := range out.Errors {
		ext, _ := e["extensions"].(map[string]any)
		code, _ := ext["code"].(string)
		if code == "" {
			t.Fatalf("status %d: error without extensions.code for %s\nerror: %v", res.StatusCode, req, e)
		}
		if code == "INTERNAL_SERVER_ERROR" {
			t.Fatalf("status %d: INTERNAL_SERVER_ERROR for %s\nerror: %v", res.StatusCode, req, e)
		}
		if msg, _ := e["message"].(string); msg == "" {
			t.Fatalf("status %d: error without a message for %s\nerror: %v", res.StatusCode, req, e)
		}
	}
	if isJSON && res.StatusCode == http.StatusOK && out.Data == nil && len(out.Errors) == 0 {
		t.Fatalf("status 200 with neither data nor errors for %s\nresponse: %.2000s", req, body)
	}
}

func fuzzDescribe(r *http.Request, body []byte) string {
	return fmt.Sprintf("%s %s (Content-Type %q, Authorization %v, X-API-Key %v) body %q",
		r.Method, r.URL.String(), r.Header.Get("Content-Type"), r.Header.Get("Authorization") != "", r.Header.Get("X-API-Key") != "", body)
}

func fuzzServe(h http.Handler, r *http.Request) (*http.Response, []byte) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

// fuzzOps are real operations of the API (from the tests in this package)
// and hostile ones; FuzzQueryEndpoint and FuzzPersistedQuery seed from them.
func fuzzOps() []struct {
	q    string
	vars string
} {
	deep := "{ countries(first: 1) { edges { node { " + strings.Repeat("cities(first: 1) { edges { node { country { ", 6) +
		"code" + strings.Repeat(" } } } }", 6) + " } } } }"
	var frags strings.Builder
	frags.WriteString("{ countries(first: 2) { edges { node { ...F0 } } } }")
	for i := range 10 {
		next := "code"
		if i < 9 {
			next = fmt.Sprintf("...F%d", i+1)
		}
		fmt.Fprintf(&frags, " fragment F%d on Country { cities(first: 2) { edges { node { country { %s } } } } }", i, next)
	}
	var aliases strings.Builder
	aliases.WriteString("{")
	for i := range 60 {
		fmt.Fprintf(&aliases, " a%d: userStats { total }", i)
	}
	aliases.WriteString(" }")
	return []struct {
		q    string
		vars string
	}{
		{`{ countries(first: 1) { totalCount } }`, ``},
		{`{ viewer { subject role method } countries(first: 1) { totalCount } }`, ``},
		{`{ user(username: "u0_0_0") { email totalSpent lastActiveAt orders { totalCount edges { node { amount } } } } country(code: "AA") { code name } }`, ``},
		{`query($u: String!, $a: String) { user(username: $u) { events(first: 5, after: $a) { edges { cursor node { type timestamp metadata geo { lat lon } } } pageInfo { hasNextPage endCursor } } } }`, `{"u": "u0_0_0", "a": null}`},
		{`{ user(username: "u0_0_0") { events(after: "garbage") { edges { cursor } } } }`, ``},
		{`{ cities(first: 12) { edges { node { name country { code cities(first: 3) { edges { node { name } } } } } } } }`, ``},
		{`{ cities(first: 12, orderBy: {field: NAME}) { edges { node { name users(first: 2) { edges { node { username } } } } } } }`, ``},
		{`{ cities(where: {nameContains: "%_\\"}) { totalCount } }`, ``},
		{`{ countries { edges { node { code stats { userCount cityCount avgTotalSpent totalRevenue } } } } }`, ``},
		{`{ countries(after: "bm90LWEtY3Vyc29y") { totalCount } }`, ``},
		{`{ countries(first: 1) { pageInfo { endCursor } edges { cursor } } }`, ``},
		{`query($c: Cursor) { countries(first: 1, after: $c) { totalCount } }`, `{"c": "gqFp0wAAAAAAAAAB"}`},
		{`{ countries(first: 1, orderBy: {field: NAME}, after: "gqFpAaF2qUNvdW50cnkgMA") { edges { node { code } } } }`, ``},
		{`{ users(first: 1, orderBy: {field: CREATED_AT}, after: "gqFpAaF2ww") { edges { node { username } } } }`, ``},
		{`{ countries(first: 1, orderBy: {field: NAME}, after: "gqFpAaF2gaFhAQ") { edges { node { code } } } }`, ``},
		{`{ cities(last: 1, orderBy: {field: POPULATION}, before: "gqFpAaF2kgEC") { edges { node { name } } } }`, ``},
		{`subscription { eventTracked { id } }`, ``},
		{`{ countries(first: -1) { totalCount } }`, ``},
		{`{ countries(first: 1000000000) { totalCount } }`, ``},
		{`{ countries(first: 2147483648) { totalCount } }`, ``},
		{`{ countries(first: 1000) { edges { node { cities(first: 1000) { edges { node { users(first: 1000) { totalCount } } } } } } } }`, ``},
		{`{ users(first: 1, last: 1) { totalCount } }`, ``},
		{`{ orders(first: 50) { edges { node { amount user { username address { city { name } } } product { sku } } } } }`, ``},
		{`{ node(id: 123456) { id } nodes(ids: [1, 2, 4294967297]) { id } }`, ``},
		{`{ userStats { total active avgSpent totalSpent } registrationCohorts(period: MONTH, periods: 6) { start signups retained revenue } }`, ``},
		{`{ registrationCohorts(period: DAY, periods: 100000000) { start } }`, ``},
		{`{ usersByCountry(limit: 10) { users country { code name } } }`, ``},
		{`{ usersRankedByActivity(limit: 50) { rank user { username } } highValueUsers { totalSpent } }`, ``},
		{`{ eventDistribution { type count } }`, ``},
		{`{ eventDistribution(from: "2026-02-01T00:00:00Z", to: "2026-01-01T00:00:00Z") { type } }`, ``},
		{`{ eventDistribution(from: "0001-01-01T00:00:00Z", to: "9999-12-31T23:59:59Z") { type count } }`, ``},
		{`{ eventsNear(lon: 30.5, lat: 50.4, radiusKm: 500) { distanceKm event { id } } }`, ``},
		{`{ eventsNear(lon: 0, lat: 90, radiusKm: 500, limit: 1000) { distanceKm } }`, ``},
		{`{ eventsNear(lon: 190, lat: 0, radiusKm: 5) { distanceKm } }`, ``},
		{`{ retention(period: DAY, intervals: 3, from: "2026-01-01T00:00:00Z") { cohortSize } }`, ``},
		{`{ retention(period: WEEK, intervals: 1000000, from: "2000-01-01T00:00:00Z") { cohortSize } }`, ``},
		{`{ userActivity(limit: 5) { events user { username } } }`, ``},
		{`{ usersByInterest(interest: "go", limit: 0) { username } profile(username: "u0_0_0") { email } }`, ``},
		{`{ notifications(last: 0) { id } }`, ``},
		{`{ segmentReport { segment users } modelStatus { fittedAt } }`, ``},
		{`{ users(first: 1) { edges { node { profile { segment } recommendations(limit: 3) { score } } } } }`, ``},
		{`{ cacheStats { localHits sets } busQueues { queue } }`, ``},
		{`{ __schema { types { name } } }`, ``},
		{`{ __type(name: "Query") { name } __typename }`, ``},
		{`{ nope }`, ``},
		{`{ countries(first: 1) { totalCount `, ``},
		{`query A { userStats { total } } query B { userStats { total } }`, ``},
		{`mutation { trackEvent(input: {userId: 1, type: "click"}) { id } }`, ``},
		{`mutation($in: [TrackEventInput!]!) { trackEvents(inputs: $in) { inserted rejected results { error { code field } } } }`,
			`{"in": [{"userId": 1, "type": "purchase", "metadata": {"price": 1e308, "quantity": 10}}, {"userId": 2, "type": "click", "geo": {"lat": 90, "lon": 180, "country": "ua"}}, {"userId": 1, "type": "teleport"}]}`},
		{`mutation { createCountry(input: {code: "UA", name: "Ukraine", continent: "Europe"}) { id } }`, ``},
		{`mutation { createUser(input: {username: "newbie", email: "A <a@example.com>"}) { id } }`, ``},
		{`mutation($in: [ImportUserInput!]!) { importUsers(input: $in) { imported failed errors { index code field } } }`, `{"in": [{"username": "x"}, {}]}`},
		{`mutation { upsertProfile(input: {username: "u0_0_0", email: "nope", interests: ["GO", "go"]}) { username } }`, ``},
		{`mutation { updateMetrics(username: "u0_0_0", metrics: {score: 1e308}) { metrics } }`, ``},
		{`mutation { createApiKey(name: "k", role: VIEWER) { key } revokeApiKey(id: "nope") }`, ``},
		{`mutation { replayDeadLetters(queue: "signup", max: -1) purgeDeadLetters(queue: "x") }`, ``},
		{`mutation($o: ID!) { updateOrder(id: $o, input: {quantity: 2147483647}) { amount } }`, `{"o": 1}`},
		{`mutation { refitModels { fittedAt } }`, ``},
		{deep, ``},
		{frags.String(), ``},
		{aliases.String(), ``},
		{`query { countries(first: 1) { ...A } } fragment A on CountryConnection { totalCount ...B } fragment B on CountryConnection { ...A }`, ``},
		{`query($n: Int) { countries(first: $n) { totalCount } }`, `{"n": "ten"}`},
		{`query($n: Int!) { countries(first: $n) { totalCount } }`, `{}`},
		{`query($t: Time) { eventDistribution(from: $t) { type } }`, `{"t": "yesterday"}`},
		{`query($m: Map) { __typename }`, `{"m": [1]}`},
	}
}

// FuzzQueryEndpoint sends arbitrary requests to /query: any body, one of
// several content types, POST, GET (as the query parameter or as the whole
// query string) or another method, anonymous or with a key. Properties:
// the handler never panics and never answers 5xx; a JSON response is one
// JSON object; each error has a message and an extensions.code, and no code
// is INTERNAL_SERVER_ERROR; a 200 carries data or errors.
//
// testdata/fuzz/FuzzQueryEndpoint/ holds hand-made inputs and, named bug-*,
// inputs that once broke a property; every go test reruns them.
func FuzzQueryEndpoint(f *testing.F) {
	api := newFuzzAPI(f)
	for i, op := range fuzzOps() {
		body := map[string]any{"query": op.q}
		if op.vars != "" {
			body["variables"] = json.RawMessage(op.vars)
		}
		b, _ := json.Marshal(body)
		f.Add(uint8(0), uint8(0), uint8(i%3), b)
		if i%5 == 0 {
			f.Add(uint8(1), uint8(0), uint8(0), []byte(op.q))
		}
	}
	for _, s := range []struct {
		method, ctype, cred uint8
		body                string
	}{
		{0, 0, 0, `{`},
		{0, 0, 0, ``},
		{0, 0, 0, `[]`},
		{0, 0, 0, `null`},
		{0, 0, 0, `{"query": 1}`},
		{0, 0, 0, `{"query": "{ userStats { total } }", "variables": []}`},
		{0, 0, 0, `{"query": "{ userStats { total } }", "operationName": "Nope"}`},
		{0, 0, 0, `{"query": "{ userStats { total } }"} trailing`},
		{0, 0, 0, `[{"query": "{ userStats { total } }"}]`},
		{0, 0, 0, `{"query": "{ userStats { total } }", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "abc"}}}`},
		{0, 0, 0, `{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "abc"}}}`},
		{0, 0, 0, `{"extensions": {"persistedQuery": {"version": 2}}}`},
		{0, 1, 1, `{"query": "mutation { createApiKey(name: \"k\", role: ADMIN) { key } }"}`},
		{0, 0, 2, `{"query": "mutation { createApiKey(name: \"k\", role: ADMIN) { key } }"}`},
		{0, 0, 3, `{"query": "{ userStats { total } }"}`},
		{2, 0, 0, `query=%7B+userStats+%7B+total+%7D+%7D&variables=%7B%7D`},
		{2, 0, 0, `extensions={"persistedQuery":{"version":1,"sha256Hash":"` + fuzzSHA("{ userStats { total } }") + `"}}`},
		{0, 2, 0, `{"query": "{ userStats { total } }"}`},
		{0, 3, 0, `{"query": "{ userStats { total } }"}`},
		{0, 4, 0, `query=%7B+userStats+%7B+total+%7D+%7D`},
		{0, 5, 0, "--xyz\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{}\r\n--xyz--\r\n"},
		{0, 6, 0, `{ userStats { total } }`},
		{0, 7, 0, `{"query": "{ userStats { total } }"}`},
		{1, 0, 0, `mutation { refitModels { fittedAt } }`},
		{1, 0, 0, `subscription { eventTracked { id } }`},
		{2, 0, 0, `query=%7B+userStats+%7B+total+%7D+%7D&variables=%5B`},
		{2, 0, 0, `query=%7B+userStats+%7B+total+%7D+%7D&extensions=%7B%22persistedQuery%22%3A1%7D`},
		{2, 0, 0, `query=%ZZ`},
		{2, 0, 0, ``},
		{3, 0, 0, `{"query": "{ userStats { total } }"}`},
		{3, 1, 0, ``},
		{3, 4, 0, `{"query": "{ userStats { total } }"}`},
	} {
		f.Add(s.method, s.ctype, s.cred, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, method, ctype, cred uint8, body []byte) {
		r := api.fuzzRequest(method, ctype, cred, body)
		res, b := fuzzServe(api.h, r)
		fuzzCheckResponse(t, fuzzDescribe(r, body), res, b)
	})
}

func fuzzSHA(q string) string {
	s := sha256.Sum256([]byte(q))
	return hex.EncodeToString(s[:])
}

// FuzzPersistedQuery exercises automatic persisted queries (gqlgen's APQ
// over gqlcache.APQ): a query registered under a hash that is not its
// SHA-256 is refused and never stored; a hash alone is answered from the
// cache only when that exact query was registered under it, and then
// exactly as the query itself is; an unknown hash is PERSISTED_QUERY_NOT_FOUND.
func FuzzPersistedQuery(f *testing.F) {
	api := newFuzzAPI(f)
	for _, op := range fuzzOps()[:12] {
		f.Add(op.q, fuzzSHA(op.q), true, uint8(0))
		f.Add(op.q, fuzzSHA(op.q), false, uint8(1))
	}
	f.Add("{ userStats { total } }", "abc", true, uint8(0))
	f.Add("{ userStats { total } }", strings.ToUpper(fuzzSHA("{ userStats { total } }")), true, uint8(0))
	f.Add("{ userStats { total } }", fuzzSHA("{ userStats { total } }")+" ", true, uint8(0))
	f.Add("{ userStats { total } }", "", true, uint8(1))
	f.Add("", fuzzSHA(""), true, uint8(0))
	f.Add("{ userStats { total } }", "../../etc/passwd", false, uint8(0))
	f.Add("{ userStats { total } }", "apq:*", false, uint8(1))
	f.Fuzz(func(t *testing.T, q, hash string, register bool, method uint8) {
		if len(q) > 4096 {
			return
		}
		post := func(body map[string]any) (*http.Response, []byte, string) {
			b, _ := json.Marshal(body)
			var r *http.Request
			if method%2 == 0 {
				r = httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(b))
				r.Header.Set("Content-Type", "application/json")
			} else {
				v := url.Values{}
				for k, x := range body {
					if s, ok := x.(string); ok {
						v.Set(k, s)
					} else {
						j, _ := json.Marshal(x)
						v.Set(k, string(j))
					}
				}
				r = httptest.NewRequest(http.MethodGet, "/query?"+v.Encode(), nil)
			}
			res, out := fuzzServe(api.h, r)
			desc := fuzzDescribe(r, b)
			fuzzCheckResponse(t, desc, res, out)
			return res, out, desc
		}
		ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}
		valid := hash == fuzzSHA(q)
		if register {
			_, out, desc := post(map[string]any{"query": q, "extensions": ext})
			if !valid && fuzzHasData(out) {
				t.Fatalf("query sent with a hash that is not its SHA-256 was executed: %s → %s", desc, out)
			}
		}
		res, out, desc := post(map[string]any{"extensions": ext})
		codes := fuzzCodes(out)
		hit := !fuzzHasCode(codes, "PERSISTED_QUERY_NOT_FOUND")
		if hit && !(register && valid) && hash != "" {
			// Another input of this worker may have registered the same
			// hash; only a hash that is some query's SHA-256 can be a hit.
			if len(hash) != 64 || strings.ToLower(hash) != hash {
				t.Fatalf("hash %q that no query hashes to was served from the APQ cache: %s → %d %s", hash, desc, res.StatusCode, out)
			}
		}
		if register && valid && hit {
			_, direct, _ := post(map[string]any{"query": q})
			if !fuzzSameResult(direct, out) {
				t.Fatalf("APQ answer differs from the query's:\nquery %q\ndirect %s\napq    %s", q, direct, out)
			}
		}
	})
}

func fuzzCodes(body []byte) []string {
	var out struct {
		Errors []struct {
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	_ = json.Unmarshal(body, &out)
	var codes []string
	for _, e := range out.Errors {
		c, _ := e.Extensions["code"].(string)
		codes = append(codes, c)
	}
	return codes
}

// fuzzHasData reports a response whose data is present and not null: the
// operation ran.
func fuzzHasData(body []byte) bool {
	var out struct {
		Data json.RawMessage `json:"data"`
	}
	return json.Unmarshal(body, &out) == nil && len(out.Data) > 0 && string(out.Data) != "null"
}

func fuzzHasCode(codes []string, want ...string) bool {
	for _, c := range codes {
		for _, w := range want {
			if c == w {
				return true
			}
		}
	}
	return false
}

// fuzzSameResult compares two responses without their per-request
// extensions (statement counts, durations, cache hints).
func fuzzSameResult(a, b []byte) bool {
	var x, y struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	if !bytes.Equal(x.Data, y.Data) || len(x.Errors) != len(y.Errors) {
		return false
	}
	for i := range x.Errors {
		if x.Errors[i].Message != y.Errors[i].Message || x.Errors[i].Extensions["code"] != y.Errors[i].Extensions["code"] {
			return false
		}
	}
	return true
}

// fuzzBackend is the database of the fuzz targets: SQLite unless
// MERIDIAN_FUZZ_BACKEND names another testdb backend ("postgres").
func fuzzBackend() string {
	if b := os.Getenv("MERIDIAN_FUZZ_BACKEND"); b != "" {
		return b
	}
	return "sqlite"
}
