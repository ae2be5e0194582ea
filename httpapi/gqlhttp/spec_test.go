package gqlhttp

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

const (
	ctGraphQL = "application/graphql-response+json; charset=utf-8"
	ctJSON    = "application/json; charset=utf-8"

	acceptGraphQL = "application/graphql-response+json"
	acceptJSON    = "application/json"

	origin      = "https://app.example"
	otherOrigin = "https://evil.example"
)

// request is one HTTP request to the fixture. Content-Type defaults to
// application/json for POST; a header given as "" is left out.
type request struct {
	method string
	query  string // URL query, for GET
	header map[string]string
	body   string
}

func post(body string, header ...string) request {
	return request{method: http.MethodPost, body: body, header: pairs(header)}
}

func get(query string, header ...string) request {
	return request{method: http.MethodGet, query: query, header: pairs(header)}
}

func pairs(kv []string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// urlQuery encodes GET parameters: name, value, name, value...
func urlQuery(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v.Encode()
}

func (f *fixture) do(t testing.TB, rq request) response {
	t.Helper()
	var body io.Reader
	if rq.body != "" {
		body = strings.NewReader(rq.body)
	}
	target := f.URL + "/query"
	if rq.query != "" {
		target += "?" + rq.query
	}
	req, err := http.NewRequest(rq.method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	if rq.method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range rq.header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	res, err := f.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{res, b}
}

// specCase is one rule of the spec (or of this API's policy) and the
// request that shows it.
type specCase struct {
	rule    string
	fixture string // "" default Config, else a key of the fixtures map
	req     request
	status  int
	ctype   string            // exact Content-Type, "" unchecked
	header  map[string]string // exact header values; "-" means absent
	code    string            // extensions.code of the first error
	data    string            // "absent", "null", "object", "" unchecked
	errors  string            // "none", "some", "" unchecked
	body    string            // exact body, "" unchecked
	// executes is how many mutations the request ran: every case checks
	// it, so that a refused request is shown not to have executed.
	executes int64
}

func TestSpec(t *testing.T) {
	fixtures := map[string]*fixture{
		"": newFixture(t, Config{}),
		"cors": newFixture(t, Config{
			AllowedOrigins: []string{origin, "https://Other.Example/"}, AllowCredentials: true, MaxAge: 10 * time.Minute,
		}),
		"wildcard": newFixture(t, Config{AllowedOrigins: []string{"*"}, AllowCredentials: true}),
		"mixed":    newFixture(t, Config{AllowedOrigins: []string{"*", origin}, AllowCredentials: true}),
	}
	hello := `{"query":"{ hello }"}`
	mutation := `{"query":"mutation { bump }"}`
	refused401 := `{"errors":[{"message":"refused 401","extensions":{"code":"REFUSED_401"}}]}` + "\n"
	cases := []specCase{
		// Media types and Accept (spec: Body, Legacy watershed).
		{rule: "accepts application/graphql-response+json and answers with it", req: post(hello, "Accept", acceptGraphQL),
			status: 200, ctype: ctGraphQL, data: "object", errors: "none"},
		{rule: "accepts application/json and answers with it", req: post(hello, "Accept", acceptJSON),
			status: 200, ctype: ctJSON, data: "object", errors: "none"},
		// Without Accept, or with wildcards only, the answer is application/json:
		// the spec lets servers assume it after the watershed, graphql-http's
		// audit (80D8, 47DE) asks for it, and it is the type every client reads.
		{rule: "no Accept: assumes application/json", req: post(hello),
			status: 200, ctype: ctJSON, data: "object"},
		{rule: "no Accept: a validation failure is 200 as application/json", req: post(`{"query":"{ nope }"}`),
			status: 200, ctype: ctJSON, code: "GRAPHQL_VALIDATION_FAILED"},
		{rule: "an empty Accept is no Accept", req: post(hello, "Accept", " , "),
			status: 200, ctype: ctJSON},
		{rule: "*/*: application/json", req: post(hello, "Accept", "*/*"),
			status: 200, ctype: ctJSON},
		{rule: "*/*: a validation failure is 200", req: post(`{"query":"{ nope }"}`, "Accept", "*/*"),
			status: 200, ctype: ctJSON, code: "GRAPHQL_VALIDATION_FAILED"},
		{rule: "application/*: application/json", req: post(hello, "Accept", "application/*"),
			status: 200, ctype: ctJSON},
		{rule: "GET without Accept: application/json", req: get(urlQuery("query", "{ hello }")),
			status: 200, ctype: ctJSON, data: "object"},
		{rule: "graphql-response+json beside a wildcard keeps graphql-response+json",
			req:    post(`{"query":"{ nope }"}`, "Accept", "application/graphql-response+json, */*;q=0.8"),
			status: 400, ctype: ctGraphQL, code: "GRAPHQL_VALIDATION_FAILED", data: "absent"},
		{rule: "the spec's recommended Accept gets graphql-response+json",
			req:    post(hello, "Accept", "application/graphql-response+json; charset=utf-8, application/json; charset=utf-8"),
			status: 200, ctype: ctGraphQL},
		{rule: "the highest q-value wins", req: post(hello, "Accept", "application/graphql-response+json;q=0.5, application/json"),
			status: 200, ctype: ctJSON},
		{rule: "at equal q the first listed wins", req: post(hello, "Accept", "application/json, application/graphql-response+json"),
			status: 200, ctype: ctJSON},
		{rule: "a named type beats a wildcard of equal q", req: post(hello, "Accept", "*/*, application/json"),
			status: 200, ctype: ctJSON},
		{rule: "q=0 refuses a type", req: post(hello, "Accept", "application/graphql-response+json;q=0, */*"),
			status: 200, ctype: ctJSON},
		{rule: "other types alongside a supported one are ignored", req: post(hello, "Accept", "text/html, application/json;q=0.1"),
			status: 200, ctype: ctJSON},
		{rule: "neither type acceptable: 406", req: post(hello, "Accept", "text/html"),
			status: 406, ctype: ctJSON, code: "NOT_ACCEPTABLE", data: "absent"},
		{rule: "a non-UTF-8 charset is not acceptable: 406", req: post(hello, "Accept", "application/json; charset=iso-8859-1"),
			status: 406, code: "NOT_ACCEPTABLE"},
		{rule: "406 on GET too, and nothing runs", req: get(urlQuery("query", "{ hello }"), "Accept", "text/html"),
			status: 406, code: "NOT_ACCEPTABLE"},
		{rule: "406 before a mutation runs", req: post(mutation, "Accept", "image/png"),
			status: 406, code: "NOT_ACCEPTABLE"},

		// Methods (spec: Request, GET).
		{rule: "POST runs queries", req: post(hello), status: 200, data: "object"},
		{rule: "POST runs mutations", req: post(mutation), status: 200, data: "object", executes: 1},
		{rule: "GET runs queries", req: get(urlQuery("query", "{ hello }"), "Accept", acceptGraphQL), status: 200, ctype: ctGraphQL, data: "object"},
		{rule: "GET mutation: 405 with Allow: POST, not executed (graphql-response+json)",
			req:    get(urlQuery("query", "mutation { bump }"), "Accept", acceptGraphQL),
			status: 405, ctype: ctGraphQL, header: map[string]string{"Allow": "POST"}, code: "METHOD_NOT_ALLOWED", data: "absent"},
		{rule: "GET mutation: 405 with Allow: POST, not executed (application/json)",
			req:    get(urlQuery("query", "mutation { bump }"), "Accept", acceptJSON),
			status: 405, ctype: ctJSON, header: map[string]string{"Allow": "POST"}, code: "METHOD_NOT_ALLOWED"},
		{rule: "GET chooses the mutation by operationName: 405",
			req:    get(urlQuery("query", "query Q { hello } mutation M { bump }", "operationName", "M")),
			status: 405, header: map[string]string{"Allow": "POST"}},
		{rule: "GET may choose the query of a document with a mutation",
			req:    get(urlQuery("query", "query Q { hello } mutation M { bump }", "operationName", "Q")),
			status: 200, data: "object"},
		{rule: "GET subscription: 405", req: get(urlQuery("query", "subscription { tick }")),
			status: 405, header: map[string]string{"Allow": "POST"}},
		{rule: "PUT: 405 with Allow", req: request{method: http.MethodPut, body: hello},
			status: 405, header: map[string]string{"Allow": "GET, POST, OPTIONS"}, code: "METHOD_NOT_ALLOWED"},
		{rule: "DELETE: 405 with Allow", req: request{method: http.MethodDelete},
			status: 405, header: map[string]string{"Allow": "GET, POST, OPTIONS"}},
		{rule: "PATCH: 405 with Allow", req: request{method: http.MethodPatch, body: mutation},
			status: 405, header: map[string]string{"Allow": "GET, POST, OPTIONS"}},
		{rule: "HEAD: 405 with Allow", req: request{method: http.MethodHead},
			status: 405, header: map[string]string{"Allow": "GET, POST, OPTIONS"}},
		{rule: "OPTIONS without CORS: 204 with Allow", req: request{method: http.MethodOptions},
			status: 204, header: map[string]string{"Allow": "GET, POST, OPTIONS", "Access-Control-Allow-Origin": "-"}},

		// POST Content-Type (spec: POST).
		{rule: "application/json; charset=utf-8 is accepted", req: post(hello, "Content-Type", "application/json; charset=utf-8"),
			status: 200, data: "object"},
		{rule: "the charset is case-insensitive", req: post(hello, "Content-Type", "application/json; charset=UTF-8"),
			status: 200, data: "object"},
		{rule: "no Content-Type: 415", req: post(hello, "Content-Type", ""),
			status: 415, ctype: ctJSON, code: "UNSUPPORTED_MEDIA_TYPE", data: "absent"},
		{rule: "415 is in the client's accepted type", req: post(hello, "Content-Type", "", "Accept", acceptGraphQL),
			status: 415, ctype: ctGraphQL, code: "UNSUPPORTED_MEDIA_TYPE"},
		{rule: "text/plain: 415, the mutation does not run", req: post(mutation, "Content-Type", "text/plain"),
			status: 415, code: "UNSUPPORTED_MEDIA_TYPE"},
		{rule: "form posts: 415", req: post("query=mutation%7Bbump%7D", "Content-Type", "application/x-www-form-urlencoded"),
			status: 415},
		{rule: "application/graphql-response+json is a response type only: 415",
			req: post(hello, "Content-Type", "application/graphql-response+json"), status: 415},
		{rule: "application/graphql: 415", req: post("{ hello }", "Content-Type", "application/graphql"), status: 415},
		{rule: "another charset: 415", req: post(hello, "Content-Type", "application/json; charset=iso-8859-1"),
			status: 415, code: "UNSUPPORTED_MEDIA_TYPE"},
		{rule: "an SSE request must send JSON too: 415", req: post(`{"query":"subscription { tick }"}`, "Accept", "text/event-stream", "Content-Type", "text/plain"),
			status: 415},
		{rule: "an unreadable Content-Type: 415", req: post(hello, "Content-Type", "application/json; ="), status: 415},

		// Well-formed requests (spec: Request Parameters, JSON Encoding):
		// 400 under both media types, and nothing runs.
		{rule: "JSON parsing failure: 400 (graphql-response+json)", req: post(`{"query":`, "Accept", acceptGraphQL),
			status: 400, ctype: ctGraphQL, code: "BAD_REQUEST", data: "absent"},
		{rule: "JSON parsing failure: 400 (application/json)", req: post(`{"query":`, "Accept", acceptJSON),
			status: 400, ctype: ctJSON, code: "BAD_REQUEST", data: "absent"},
		{rule: "NONSENSE: 400", req: post("NONSENSE"), status: 400, code: "BAD_REQUEST"},
		{rule: "empty body: 400", req: post(""), status: 400, code: "BAD_REQUEST"},
		{rule: "trailing bytes after the object: 400, the mutation does not run", req: post(mutation + ` {"query":"{ hello }"}`),
			status: 400, code: "BAD_REQUEST"},
		{rule: "a batch (array) body: 400", req: post(`[` + hello + `]`), status: 400, code: "BAD_REQUEST"},
		{rule: "a string body: 400", req: post(`"{ hello }"`), status: 400, code: "BAD_REQUEST"},
		{rule: "null body: 400", req: post(`null`), status: 400, code: "BAD_REQUEST"},
		{rule: "missing query: 400 (graphql-response+json)", req: post(`{"qeury":"{ hello }"}`, "Accept", acceptGraphQL),
			status: 400, code: "BAD_REQUEST"},
		{rule: "missing query: 400 (application/json)", req: post(`{"qeury":"{ hello }"}`, "Accept", acceptJSON),
			status: 400, ctype: ctJSON, code: "BAD_REQUEST"},
		{rule: "null query: 400", req: post(`{"query":null}`), status: 400, code: "BAD_REQUEST"},
		{rule: "object query: 400", req: post(`{"query":{"obj":"ect"}}`), status: 400, code: "BAD_REQUEST"},
		{rule: "number query: 400", req: post(`{"query":0}`, "Accept", acceptJSON), status: 400, code: "BAD_REQUEST"},
		{rule: "boolean query: 400", req: post(`{"query":false}`), status: 400, code: "BAD_REQUEST"},
		{rule: "array query: 400", req: post(`{"query":["array"]}`), status: 400, code: "BAD_REQUEST"},
		{rule: "object operationName: 400", req: post(`{"query":"{ hello }","operationName":{"obj":"ect"}}`),
			status: 400, code: "BAD_REQUEST"},
		{rule: "number operationName: 400", req: post(`{"query":"{ hello }","operationName":0}`, "Accept", acceptJSON),
			status: 400, code: "BAD_REQUEST"},
		{rule: "string variables: 400", req: post(`{"query":"{ hello }","variables":"{}"}`), status: 400, code: "BAD_REQUEST"},
		{rule: "array variables: 400 (application/json)", req: post(`{"query":"query Q ($i:Int!) { find(id: $i) }","variables":[7]}`, "Accept", acceptJSON),
			status: 400, code: "BAD_REQUEST"},
		{rule: "number variables: 400", req: post(`{"query":"{ hello }","variables":0}`), status: 400, code: "BAD_REQUEST"},
		{rule: "string extensions: 400", req: post(`{"query":"{ hello }","extensions":"x"}`), status: 400, code: "BAD_REQUEST"},
		{rule: "array extensions: 400", req: post(`{"query":"{ hello }","extensions":[]}`), status: 400, code: "BAD_REQUEST"},
		{rule: "null variables, operationName and extensions are omitted ones",
			req:    post(`{"query":"{ hello }","variables":null,"operationName":null,"extensions":null}`),
			status: 200, data: "object", errors: "none"},
		{rule: "map variables and extensions and a string operationName",
			req:    post(`{"query":"query Q($id: Int!) { find(id: $id) }","operationName":"Q","variables":{"id":7},"extensions":{"some":"value"}}`),
			status: 200, data: "object", errors: "none"},
		{rule: "unknown members are ignored", req: post(`{"query":"{ hello }","other":1}`), status: 200, data: "object"},
		{rule: "a persisted query (APQ) may leave out the query: it reaches gqlgen",
			req:    post(`{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"0000000000000000000000000000000000000000000000000000000000000000"}}}`, "Accept", acceptGraphQL),
			status: 400, code: "PERSISTED_QUERY_NOT_FOUND", data: "absent"},
		{rule: "an APQ miss under application/json is 200", req: post(`{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"0000000000000000000000000000000000000000000000000000000000000000"}}}`, "Accept", acceptJSON),
			status: 200, code: "PERSISTED_QUERY_NOT_FOUND"},
		{rule: "GET without query: 400", req: get(urlQuery("operationName", "Q"), "Accept", acceptGraphQL), status: 400, ctype: ctGraphQL, code: "BAD_REQUEST", data: "absent"},
		{rule: "GET without query: 400 (application/json)", req: get("", "Accept", acceptJSON), status: 400, ctype: ctJSON, code: "BAD_REQUEST"},
		{rule: "GET variables not JSON: 400", req: get(urlQuery("query", "{ hello }", "variables", "{id:1")), status: 400, code: "BAD_REQUEST"},
		{rule: "GET variables not an object: 400", req: get(urlQuery("query", "query Q ($i:Int!) { find(id: $i) }", "variables", "[7]")),
			status: 400, code: "BAD_REQUEST"},
		{rule: "GET extensions not an object: 400", req: get(urlQuery("query", "{ hello }", "extensions", `"x"`)), status: 400, code: "BAD_REQUEST"},
		{rule: "GET with JSON variables", req: get(urlQuery("query", "query Q($id: Int!) { find(id: $id) }", "variables", `{"id":7}`)),
			status: 200, data: "object", errors: "none"},
		{rule: "GET with null variables and empty extensions", req: get(urlQuery("query", "{ hello }", "variables", "null", "extensions", "")),
			status: 200, data: "object", errors: "none"},
		{rule: "GET with a malformed URL query: 400", req: get("query=%zz"), status: 400, code: "BAD_REQUEST"},

		// Status codes of GraphQL errors (spec: Status Codes).
		{rule: "document parsing failure: 400 (graphql-response+json), no data entry", req: post(`{"query":"{"}`, "Accept", acceptGraphQL),
			status: 400, ctype: ctGraphQL, code: "GRAPHQL_PARSE_FAILED", data: "absent"},
		{rule: "document parsing failure: 200 (application/json)", req: post(`{"query":"{"}`, "Accept", acceptJSON),
			status: 200, ctype: ctJSON, code: "GRAPHQL_PARSE_FAILED"},
		{rule: "validation failure: 400 (graphql-response+json)", req: post(`{"query":"{ nope }"}`, "Accept", acceptGraphQL),
			status: 400, ctype: ctGraphQL, code: "GRAPHQL_VALIDATION_FAILED", data: "absent"},
		{rule: "validation failure: 200 (application/json; gqlgen says 422)", req: post(`{"query":"{ nope }"}`, "Accept", acceptJSON),
			status: 200, ctype: ctJSON, code: "GRAPHQL_VALIDATION_FAILED"},
		{rule: "validation failure of a mutation: 400, not executed", req: post(`{"query":"mutation { bump nope }"}`, "Accept", acceptGraphQL),
			status: 400, code: "GRAPHQL_VALIDATION_FAILED"},
		{rule: "variable coercion failure: 400 (graphql-response+json)",
			req:    post(`{"query":"query Q($id: Int!) { find(id: $id) }","variables":{"id":null}}`, "Accept", acceptGraphQL),
			status: 400, data: "absent", errors: "some"},
		{rule: "variable coercion failure: 200 (application/json)",
			req:    post(`{"query":"query Q($id: Int!) { find(id: $id) }","variables":{"id":null}}`, "Accept", acceptJSON),
			status: 200, ctype: ctJSON, errors: "some"},
		{rule: "operation cannot be determined: 400 (graphql-response+json)",
			req:    post(`{"query":"query A { hello } query B { hello }"}`, "Accept", acceptGraphQL),
			status: 400, data: "absent", errors: "some"},
		{rule: "operation cannot be determined: 200 (application/json)",
			req:    post(`{"query":"query A { hello } query B { hello }"}`, "Accept", acceptJSON),
			status: 200, errors: "some"},
		{rule: "unknown operationName: 400 (graphql-response+json)",
			req:    post(`{"query":"query A { hello }","operationName":"B"}`, "Accept", acceptGraphQL),
			status: 400, data: "absent"},
		{rule: "an empty query is a well-formed request that fails: 400 (graphql-response+json)",
			req: post(`{"query":""}`, "Accept", acceptGraphQL), status: 400, data: "absent", errors: "some"},
		{rule: "field error with partial data: 200 (graphql-response+json)", req: post(`{"query":"{ hello partial }"}`, "Accept", acceptGraphQL),
			status: 200, ctype: ctGraphQL, data: "object", errors: "some"},
		{rule: "field error with partial data: 200 (application/json)", req: post(`{"query":"{ hello partial }"}`, "Accept", acceptJSON),
			status: 200, ctype: ctJSON, data: "object", errors: "some"},
		{rule: "field error nulling the result (data null): 200 (graphql-response+json)", req: post(`{"query":"{ failing }"}`, "Accept", acceptGraphQL),
			status: 200, ctype: ctGraphQL, data: "null", errors: "some"},
		{rule: "field error nulling the result (data null): 200 (application/json)", req: post(`{"query":"{ failing }"}`, "Accept", acceptJSON),
			status: 200, ctype: ctJSON, data: "null", errors: "some"},
		// A store outage (every error SERVICE_UNAVAILABLE, data null): 503
		// and Retry-After where the spec allows a non-2xx answer, 200 under
		// application/json; a partial result stays 200.
		{rule: "an outage failed the whole request: 503 with Retry-After (graphql-response+json)", req: post(`{"query":"{ unavailable }"}`, "Accept", acceptGraphQL),
			status: 503, ctype: ctGraphQL, header: map[string]string{"Retry-After": "5"}, code: "SERVICE_UNAVAILABLE", data: "null"},
		{rule: "an outage failed the whole request: 200 (application/json)", req: post(`{"query":"{ unavailable }"}`, "Accept", acceptJSON),
			status: 200, ctype: ctJSON, header: map[string]string{"Retry-After": "-"}, code: "SERVICE_UNAVAILABLE", data: "null"},
		{rule: "an outage failed a nullable field of a result: 200 (graphql-response+json)", req: post(`{"query":"{ hello maybeUnavailable }"}`, "Accept", acceptGraphQL),
			status: 200, ctype: ctGraphQL, header: map[string]string{"Retry-After": "-"}, code: "SERVICE_UNAVAILABLE", data: "object"},
		{rule: "an outage and another field error nulling the result: 200 (graphql-response+json)", req: post(`{"query":"{ partial unavailable }"}`, "Accept", acceptGraphQL),
			status: 200, ctype: ctGraphQL, header: map[string]string{"Retry-After": "-"}, data: "null"},
		{rule: "GET validation failure: 400 (graphql-response+json)", req: get(urlQuery("query", "{ nope }"), "Accept", acceptGraphQL),
			status: 400, ctype: ctGraphQL, code: "GRAPHQL_VALIDATION_FAILED", data: "absent"},
		{rule: "GET validation failure: 200 (application/json)", req: get(urlQuery("query", "{ nope }"), "Accept", acceptJSON),
			status: 200, ctype: ctJSON, code: "GRAPHQL_VALIDATION_FAILED"},

		// Answers of the middlewares inside pass through unchanged.
		{rule: "401 passes through with its headers and body", req: post(hello, "X-Test-Refuse", "401", "Accept", acceptGraphQL),
			status: 401, ctype: "application/json", header: map[string]string{"WWW-Authenticate": `Bearer realm="meridian"`}, body: refused401},
		{rule: "401 passes through under application/json too", req: post(hello, "X-Test-Refuse", "401", "Accept", acceptJSON),
			status: 401, ctype: "application/json", body: refused401},
		{rule: "401 on GET passes through", req: get(urlQuery("query", "{ hello }"), "X-Test-Refuse", "401"),
			status: 401, body: refused401},
		{rule: "401 before the body is read: a malformed body stays the middleware's 401", req: post("NONSENSE", "X-Test-Refuse", "401"),
			status: 401, body: refused401},
		{rule: "413 passes through", req: post(hello, "X-Test-Refuse", "413"), status: 413, code: "REFUSED_413"},
		{rule: "429 passes through with Retry-After", req: post(mutation, "X-Test-Refuse", "429"),
			status: 429, ctype: "application/json", header: map[string]string{"Retry-After": "7"}, code: "REFUSED_429"},

		// CORS.
		{rule: "CORS: no config, no CORS headers", req: post(hello, "Origin", origin),
			status: 200, header: map[string]string{"Access-Control-Allow-Origin": "-", "Access-Control-Allow-Credentials": "-", "Vary": "Accept"}},
		{rule: "CORS: no config, a preflight is refused", req: request{method: http.MethodOptions, header: map[string]string{"Origin": origin, "Access-Control-Request-Method": "POST"}},
			status: 403, header: map[string]string{"Access-Control-Allow-Origin": "-"}},
		{rule: "CORS: preflight from an allowed origin", fixture: "cors",
			req:    request{method: http.MethodOptions, header: map[string]string{"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type, authorization"}},
			status: 204, header: map[string]string{
				"Access-Control-Allow-Origin":      origin,
				"Access-Control-Allow-Credentials": "true",
				"Access-Control-Allow-Methods":     "GET, POST, OPTIONS",
				"Access-Control-Allow-Headers":     "Content-Type, Authorization, X-API-Key, Accept",
				"Access-Control-Max-Age":           "600",
				"Vary":                             "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
			}},
		{rule: "CORS: origins match case-insensitively, configured with a trailing slash", fixture: "cors",
			req:    request{method: http.MethodOptions, header: map[string]string{"Origin": "https://other.example", "Access-Control-Request-Method": "GET"}},
			status: 204, header: map[string]string{"Access-Control-Allow-Origin": "https://other.example"}},
		{rule: "CORS: preflight from another origin: 403 without CORS headers", fixture: "cors",
			req:    request{method: http.MethodOptions, header: map[string]string{"Origin": otherOrigin, "Access-Control-Request-Method": "POST"}},
			status: 403, header: map[string]string{"Access-Control-Allow-Origin": "-", "Access-Control-Allow-Methods": "-"}},
		{rule: "CORS: preflights skip the middlewares (no credentials to check)", fixture: "cors",
			req:    request{method: http.MethodOptions, header: map[string]string{"Origin": origin, "Access-Control-Request-Method": "POST", "X-Test-Refuse": "401"}},
			status: 204},
		{rule: "CORS: a request from an allowed origin", fixture: "cors", req: post(hello, "Origin", origin),
			status: 200, header: map[string]string{
				"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true",
				"Access-Control-Expose-Headers": "Retry-After, WWW-Authenticate",
				"Vary":                          "Origin, Accept",
			}},
		{rule: "CORS: a GET from an allowed origin", fixture: "cors", req: get(urlQuery("query", "{ hello }"), "Origin", origin),
			status: 200, header: map[string]string{"Access-Control-Allow-Origin": origin}},
		{rule: "CORS: a request from another origin gets no CORS headers", fixture: "cors", req: post(hello, "Origin", otherOrigin),
			status: 200, header: map[string]string{"Access-Control-Allow-Origin": "-", "Access-Control-Allow-Credentials": "-"}},
		{rule: "CORS: the refusals of the middlewares carry the CORS headers", fixture: "cors", req: post(hello, "Origin", origin, "X-Test-Refuse", "429"),
			status: 429, header: map[string]string{"Access-Control-Allow-Origin": origin, "Retry-After": "7"}},
		{rule: "CORS: Handler's own refusals carry them too", fixture: "cors", req: post(hello, "Origin", origin, "Content-Type", "text/plain"),
			status: 415, header: map[string]string{"Access-Control-Allow-Origin": origin}},
		{rule: "CORS: * allows any origin, never with credentials", fixture: "wildcard",
			req:    request{method: http.MethodOptions, header: map[string]string{"Origin": otherOrigin, "Access-Control-Request-Method": "POST"}},
			status: 204, header: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": "-", "Access-Control-Max-Age": "-", "Vary": "-"}},
		{rule: "CORS: * on an actual request", fixture: "wildcard", req: post(hello, "Origin", otherOrigin),
			status: 200, header: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": "-"}},
		{rule: "CORS: * and a listed origin: the listed one gets credentials", fixture: "mixed", req: post(hello, "Origin", origin),
			status: 200, header: map[string]string{"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true"}},
		{rule: "CORS: * and a listed origin: others get * alone", fixture: "mixed", req: post(hello, "Origin", otherOrigin),
			status: 200, header: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": "-"}},
	}
	for _, c := range cases {
		t.Run(c.rule, func(t *testing.T) {
			f := fixtures[c.fixture]
			before := f.mutations.Load()
			res := f.do(t, c.req)
			if res.StatusCode != c.status {
				t.Errorf("status %d, want %d\n%s", res.StatusCode, c.status, res.body)
			}
			if got := res.Header.Get("Content-Type"); c.ctype != "" && got != c.ctype {
				t.Errorf("Content-Type %q, want %q", got, c.ctype)
			}
			for k, want := range c.header {
				got := strings.Join(res.Header.Values(k), ", ")
				if want == "-" && got != "" {
					t.Errorf("%s: %q, want none", k, got)
				} else if want != "-" && got != want {
					t.Errorf("%s: %q, want %q", k, got, want)
				}
			}
			if c.body != "" && string(res.body) != c.body {
				t.Errorf("body %s, want %s", res.body, c.body)
			}
			if c.code != "" || c.data != "" || c.errors != "" {
				checkGraphQL(t, res, c)
			}
			if ran := f.mutations.Load() - before; ran != c.executes {
				t.Errorf("%d mutations ran, want %d", ran, c.executes)
			}
		})
	}
}

func checkGraphQL(t *testing.T, res response, c specCase) {
	t.Helper()
	b := res.graphql(t)
	if c.code != "" && b.code() != c.code {
		t.Errorf("error code %q, want %q\n%s", b.code(), c.code, res.body)
	}
	switch data := strings.TrimSpace(string(b.Data)); {
	case c.data == "absent" && data != "":
		t.Errorf("data %s, want no data entry", data)
	case c.data == "null" && data != "null":
		t.Errorf("data %q, want null", data)
	case c.data == "object" && !strings.HasPrefix(data, "{"):
		t.Errorf("data %q, want an object", data)
	}
	switch {
	case c.errors == "none" && len(b.Errors) > 0:
		t.Errorf("errors %+v, want none", b.Errors)
	case c.errors == "some" && len(b.Errors) == 0:
		t.Errorf("no errors, want some")
	}
}

// An automatic persisted query sent with GET carries no query parameter,
// only its hash in extensions: it is well-formed, and runs once the hash
// is known.
func TestPersistedQueryOverGET(t *testing.T) {
	f := newFixture(t, Config{})
	const q = "{ hello }"
	sum := sha256.Sum256([]byte(q))
	ext := `{"persistedQuery":{"version":1,"sha256Hash":"` + hex.EncodeToString(sum[:]) + `"}}`
	res := f.do(t, get(urlQuery("extensions", ext), "Accept", acceptGraphQL))
	if b := res.graphql(t); res.StatusCode != 400 || b.code() != "PERSISTED_QUERY_NOT_FOUND" {
		t.Fatalf("unknown hash: %d %s", res.StatusCode, res.body)
	}
	res = f.do(t, post(`{"query":`+jsonString(q)+`,"extensions":`+ext+`}`))
	if res.StatusCode != 200 {
		t.Fatalf("register: %d %s", res.StatusCode, res.body)
	}
	res = f.do(t, get(urlQuery("extensions", ext)))
	if b := res.graphql(t); res.StatusCode != 200 || string(b.Data) != `{"hello":"world"}` {
		t.Errorf("known hash: %d %s", res.StatusCode, res.body)
	}
}
