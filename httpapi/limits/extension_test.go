package limits

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
)

// fakeSchema is an ExecutableSchema without resolvers: its Exec answers with
// what the extension left in the operation context, which is all these
// tests need to see. Reaching Exec at all means the operation was accepted.
type fakeSchema struct{ schema *ast.Schema }

func (f fakeSchema) Schema() *ast.Schema { return f.schema }

func (fakeSchema) Complexity(context.Context, string, string, int, map[string]any) (int, bool) {
	return 0, false
}

func (fakeSchema) Exec(ctx context.Context) graphql.ResponseHandler {
	r := ReportFrom(ctx)
	data := fmt.Sprintf(`{"cost":%d,"depth":%d,"introspection":%t}`,
		r.Cost, r.Depth, !graphql.GetOperationContext(ctx).DisableIntrospection)
	return graphql.OneShot(&graphql.Response{Data: json.RawMessage(data)})
}

type gqlResponse struct {
	Data   map[string]any `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

func newServer(t *testing.T, cfg Config) *httptest.Server {
	t.Helper()
	return newServerOn(t, testSchema(t), cfg)
}

// newServerOn serves schema, without resolvers, through the extension.
func newServerOn(t *testing.T, schema *ast.Schema, cfg Config) *httptest.Server {
	t.Helper()
	srv := handler.New(fakeSchema{schema})
	srv.AddTransport(transport.POST{})
	srv.Use(New(cfg))
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts
}

func post(t *testing.T, ts *httptest.Server, query string, vars map[string]any) gqlResponse {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	resp, err := http.Post(ts.URL, "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out gqlResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return out
}

func TestExtensionThroughGqlgen(t *testing.T) {
	ts := newServer(t, DefaultConfig())

	t.Run("accepted, report in the operation context", func(t *testing.T) {
		r := post(t, ts, `query($n: Int) { users(first: $n) { totalCount pageInfo { hasNextPage } edges { cursor node { id name } } } }`,
			map[string]any{"n": 10})
		if len(r.Errors) > 0 {
			t.Fatalf("errors: %+v", r.Errors)
		}
		if r.Data["cost"] != float64(45) || r.Data["depth"] != float64(4) || r.Data["introspection"] != false {
			t.Errorf("data = %v, want cost 45, depth 4, introspection off", r.Data)
		}
	})

	cases := []struct {
		name, query string
		vars        map[string]any
		code        string
	}{
		{"variable first above the cap", `query($n: Int) { users(first: $n) { totalCount } }`, map[string]any{"n": 1001}, CodeBadUserInput},
		{"too complex", `{ users(first: 1000) { edges { node { friends(first: 100) { edges { node { id } } } } } } }`, nil, CodeTooComplex},
		{"introspection", `{ __schema { queryType { name } } }`, nil, CodeIntrospectionDisabled},
		{"too many aliases", aliased(31), nil, CodeTooManyAliases},
		// Not even valid GraphQL: the token limit answers before the parser
		// gets to look at it.
		{"too many tokens", "{ " + strings.Repeat("me { id } ", 1500) + "((((", nil, CodeTooManyTokens},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, ts, tc.query, tc.vars)
			if r.Data != nil {
				t.Errorf("data = %v, want none: the operation must not run", r.Data)
			}
			if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != tc.code {
				t.Fatalf("errors = %+v, want one %s", r.Errors, tc.code)
			}
		})
	}
}

func TestExtensionEnablesIntrospection(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Introspection = true
	r := post(t, newServer(t, cfg), `{ __schema { queryType { name } } }`, nil)
	if len(r.Errors) > 0 || r.Data["introspection"] != true {
		t.Fatalf("response = %+v, want introspection enabled on the operation", r)
	}
}

func TestReportFromWithoutOperation(t *testing.T) {
	if r := ReportFrom(context.Background()); r != nil {
		t.Errorf("ReportFrom(background) = %+v, want nil", r)
	}
}

func aliased(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		fmt.Fprintf(&b, " a%d: me { id }", i)
	}
	b.WriteString(" }")
	return b.String()
}
