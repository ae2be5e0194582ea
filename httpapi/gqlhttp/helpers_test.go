package gqlhttp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// The test schema has a field for each kind of answer the status rules
// tell apart: a result, a partial result (a nullable field fails), a
// field error that nulls the whole result (a non-null field fails), the
// same two failing for a store outage (SERVICE_UNAVAILABLE), a
// large result, a mutation that counts its executions, and a subscription.
const testSchema = `
type Query {
	hello: String!
	find(id: Int!): String!
	partial: String
	failing: String!
	unavailable: String!
	maybeUnavailable: String
	big(n: Int!): String!
}
type Mutation { bump: Int! }
type Subscription { tick: Int! }
`

// fixture is a running server: gqlgen with the transports the real
// server uses, behind a stand-in for the API's middlewares, behind Handler.
type fixture struct {
	*httptest.Server
	mutations atomic.Int64 // executed mutations
}

// newGraphQL is gqlgen's server over a hand-written executable schema
// (graphql.ExecutableSchemaMock, no generated code) that answers from the
// selected top-level fields.
func newGraphQL(mutations *atomic.Int64) *handler.Server {
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: testSchema})
	srv := handler.New(&graphql.ExecutableSchemaMock{
		SchemaFunc: func() *ast.Schema { return schema },
		ComplexityFunc: func(context.Context, string, string, int, map[string]any) (int, bool) {
			return 1, true
		},
		ExecFunc: func(ctx context.Context) graphql.ResponseHandler {
			op := graphql.GetOperationContext(ctx)
			switch op.Operation.Operation {
			case ast.Mutation:
				n := mutations.Add(1)
				return graphql.OneShot(&graphql.Response{Data: []byte(`{"bump":` + strconv.FormatInt(n, 10) + `}`)})
			case ast.Subscription:
				tick := 0
				return func(context.Context) *graphql.Response {
					if tick++; tick > 2 {
						return nil
					}
					return &graphql.Response{Data: []byte(`{"tick":` + strconv.Itoa(tick) + `}`)}
				}
			}
			return graphql.OneShot(query(op))
		},
	})
	srv.AddTransport(transport.Websocket{KeepAlivePingInterval: 10 * time.Second})
	srv.AddTransport(transport.SSE{})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	return srv
}

// query answers a query operation field by field.
func query(op *graphql.OperationContext) *graphql.Response {
	data := map[string]any{}
	var errs gqlerror.List
	for _, sel := range op.Operation.SelectionSet {
		f, ok := sel.(*ast.Field)
		if !ok {
			continue
		}
		path := ast.Path{ast.PathName(f.Alias)}
		switch f.Name {
		case "__typename":
			data[f.Alias] = "Query"
		case "hello":
			data[f.Alias] = "world"
		case "find":
			data[f.Alias] = fmt.Sprint("item ", f.ArgumentMap(op.Variables)["id"])
		case "big":
			n, _ := strconv.Atoi(fmt.Sprint(f.ArgumentMap(op.Variables)["n"]))
			data[f.Alias] = strings.Repeat("x", n)
		case "partial":
			data[f.Alias] = nil
			errs = append(errs, &gqlerror.Error{Message: "partial failed", Path: path})
		case "maybeUnavailable":
			data[f.Alias] = nil
			errs = append(errs, unavailable(path))
		case "unavailable":
			errs = append(errs, unavailable(path))
			return &graphql.Response{Errors: errs, Data: []byte("null")}
		case "failing":
			// A non-null field failed: the null propagates to the root.
			errs = append(errs, &gqlerror.Error{Message: "failing failed", Path: path})
			return &graphql.Response{Errors: errs, Data: []byte("null")}
		}
	}
	b, err := json.Marshal(data)
	if err != nil {
		panic(err)
	}
	return &graphql.Response{Errors: errs, Data: b}
}

// unavailable is the error the API's presenter makes of a store outage.
func unavailable(path ast.Path) *gqlerror.Error {
	return &gqlerror.Error{Message: "a data store is unavailable", Path: path, Extensions: map[string]any{"code": "SERVICE_UNAVAILABLE"}}
}

// refusing stands in for the API's own middlewares between Handler and
// gqlgen (authentication, rate limit, body size): X-Test-Refuse: 401, 413
// or 429 makes it answer as they do, with its own status, headers and
// JSON body.
func refusing(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.Header.Get("X-Test-Refuse"))
		if code == 0 {
			next.ServeHTTP(w, r)
			return
		}
		switch code {
		case http.StatusUnauthorized:
			w.Header().Set("WWW-Authenticate", `Bearer realm="meridian"`)
		case http.StatusTooManyRequests:
			w.Header().Set("Retry-After", "7")
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"errors":[{"message":"refused %d","extensions":{"code":"REFUSED_%d"}}]}`+"\n", code, code)
	})
}

func newFixture(t testing.TB, cfg Config) *fixture {
	t.Helper()
	f := &fixture{}
	f.Server = httptest.NewServer(Handler(refusing(newGraphQL(&f.mutations)), cfg))
	t.Cleanup(f.Close)
	return f
}

// response is a finished exchange, its body read.
type response struct {
	*http.Response
	body []byte
}

// gqlBody is the top of a GraphQL response, data kept raw to tell an
// absent entry (nil) from null.
type gqlBody struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Path       []any          `json:"path"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

func (r response) graphql(t testing.TB) gqlBody {
	t.Helper()
	var b gqlBody
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatalf("body is not a GraphQL response: %v\n%s", err, r.body)
	}
	return b
}

// code is the extensions.code of the first error, "" without one.
func (b gqlBody) code() string {
	if len(b.Errors) == 0 {
		return ""
	}
	c, _ := b.Errors[0].Extensions["code"].(string)
	return c
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
