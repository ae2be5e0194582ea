package observe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/testserver"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/meridian-graphql/meridian/internal/testlog"
)

// statements stands in for meridian's database.Counter: a per-request
// count the resolvers bump and StatementsOf reads.
type stmtKey struct{}

func withStatements(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), stmtKey{}, new(atomic.Int64))))
	})
}

func statementsOf(ctx context.Context) int64 {
	if c, _ := ctx.Value(stmtKey{}).(*atomic.Int64); c != nil {
		return c.Load()
	}
	return 0
}

func addStatements(ctx context.Context, n int64) {
	if c, _ := ctx.Value(stmtKey{}).(*atomic.Int64); c != nil {
		c.Add(n)
	}
}

// codedError is an application error carrying an extensions.code, as
// meridian's apperr does through its error presenter.
type codedError struct{ code, msg string }

func (e *codedError) Error() string { return e.msg }

func presenter(ctx context.Context, err error) *gqlerror.Error {
	gerr := graphql.DefaultErrorPresenter(ctx, err)
	var ce *codedError
	if errors.As(err, &ce) {
		if gerr.Extensions == nil {
			gerr.Extensions = map[string]any{}
		}
		gerr.Extensions["code"] = ce.code
	}
	return gerr
}

const testSchema = `
type Query {
	name: String!
	fail: String
	user: User
	work(statements: Int!, sleepMs: Int, note: String): Int
	log: String
}
type User {
	id: ID!
	broken: String
}
`

// resolver is one field of the test schema; resolver says whether gqlgen
// would mark it IsResolver (code behind it rather than a struct field).
type resolver struct {
	fn       func(ctx context.Context, args map[string]any) (any, error)
	resolver bool
}

// testResolvers are the test schema's fields. log writes a record through
// logger so tests can see what a resolver's log line carries.
func testResolvers(logger func() *slog.Logger) map[string]resolver {
	return map[string]resolver{
		"Query.name": {fn: func(context.Context, map[string]any) (any, error) { return "meridian", nil }},
		"Query.fail": {resolver: true, fn: func(context.Context, map[string]any) (any, error) {
			return nil, &codedError{code: "NOT_FOUND", msg: "no such thing"}
		}},
		"Query.user": {resolver: true, fn: func(ctx context.Context, _ map[string]any) (any, error) {
			addStatements(ctx, 1)
			return map[string]any{"id": "u1"}, nil
		}},
		"User.id": {fn: func(context.Context, map[string]any) (any, error) { return "u1", nil }},
		"User.broken": {resolver: true, fn: func(context.Context, map[string]any) (any, error) {
			return nil, &codedError{code: "INTERNAL", msg: "internal error"}
		}},
		"Query.work": {resolver: true, fn: func(ctx context.Context, args map[string]any) (any, error) {
			n, _ := args["statements"].(int64)
			addStatements(ctx, n)
			if ms, ok := args["sleepMs"].(int64); ok {
				time.Sleep(time.Duration(ms) * time.Millisecond)
			}
			return n, nil
		}},
		"Query.log": {resolver: true, fn: func(ctx context.Context, _ map[string]any) (any, error) {
			logger().InfoContext(ctx, "in resolver")
			return "ok", nil
		}},
	}
}

// newSchemaServer is a gqlgen server over testSchema whose executor
// resolves fields the way generated code does: a FieldContext per field,
// the operation's field middleware around each resolver, and errors added
// at the field's path through the error presenter.
func newSchemaServer(rs map[string]resolver) *handler.Server {
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: testSchema})
	srv := handler.New(&graphql.ExecutableSchemaMock{
		SchemaFunc: func() *ast.Schema { return schema },
		ComplexityFunc: func(context.Context, string, string, int, map[string]any) (int, bool) {
			return 1, true
		},
		ExecFunc: func(ctx context.Context) graphql.ResponseHandler {
			oc := graphql.GetOperationContext(ctx)
			if oc.Operation.Operation != ast.Query {
				return graphql.OneShot(graphql.ErrorResponse(ctx, "only queries"))
			}
			// Like generated code, resolve inside the response handler, under
			// the context the response interceptors pass down.
			ran := false
			return func(ctx context.Context) *graphql.Response {
				if ran {
					return nil
				}
				ran = true
				return &graphql.Response{Data: execSelection(ctx, oc, rs, "Query", oc.Operation.SelectionSet)}
			}
		},
	})
	srv.AddTransport(transport.POST{})
	srv.SetErrorPresenter(presenter)
	return srv
}

func execSelection(ctx context.Context, oc *graphql.OperationContext, rs map[string]resolver, typ string, set ast.SelectionSet) json.RawMessage {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, f := range graphql.CollectFields(oc, set, []string{typ}) {
		if i > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, "%q:", f.Alias)
		r := rs[typ+"."+f.Name]
		fc := &graphql.FieldContext{Object: typ, Field: f, IsResolver: r.resolver, Args: f.ArgumentMap(oc.Variables)}
		fctx := graphql.WithFieldContext(ctx, fc)
		res, err := oc.ResolverMiddleware(fctx, func(ctx context.Context) (any, error) { return r.fn(ctx, fc.Args) })
		switch {
		case err != nil:
			graphql.AddError(fctx, err)
			buf.WriteString("null")
		case len(f.Selections) > 0:
			buf.Write(execSelection(fctx, oc, rs, f.Definition.Type.Name(), f.Selections))
		default:
			b, _ := json.Marshal(res)
			buf.Write(b)
		}
	}
	buf.WriteByte('}')
	return buf.Bytes()
}

// stack is a server with everything installed as the wiring instructions
// say: RequestID → tracing → metrics → mux, /query behind a per-request
// statement counter, /metrics from the registry.
type stack struct {
	srv     *httptest.Server
	metrics *Metrics
	logs    *testlog.Buffer
}

type stackOptions struct {
	gql     *handler.Server // default: newSchemaServer
	tracing *Tracing        // nil: no tracing
	slow    *SlowQueries    // nil: no slow-query log
	sources Sources
}

func newStack(t testing.TB, o stackOptions) *stack {
	t.Helper()
	s := &stack{logs: &testlog.Buffer{}}
	m, err := NewMetrics(nil, MetricsOptions{StatementsOf: statementsOf, Sources: o.sources})
	if err != nil {
		t.Fatal(err)
	}
	s.metrics = m
	gql := o.gql
	if gql == nil {
		gql = newSchemaServer(testResolvers(s.logger))
	}
	gql.Use(m.GraphQL())
	if o.tracing != nil {
		gql.Use(o.tracing.GraphQL())
	}
	if o.slow != nil {
		sq := *o.slow
		if sq.Log == nil {
			sq.Log = s.logger()
		}
		gql.Use(sq)
	}
	mux := http.NewServeMux()
	mux.Handle("/query", withStatements(gql))
	mux.Handle("GET /metrics", m.Handler())
	var h http.Handler = m.Middleware(mux)
	if o.tracing != nil {
		h = o.tracing.Middleware(h)
	}
	s.srv = httptest.NewServer(RequestID(h))
	t.Cleanup(s.srv.Close)
	return s
}

// logger writes JSON records, through LogHandler, to s.logs.
func (s *stack) logger() *slog.Logger {
	return slog.New(LogHandler(slog.NewJSONHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
}

// query posts a GraphQL request and returns the response and its body.
func (s *stack) query(t testing.TB, body map[string]any, header ...string) (*http.Response, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, s.srv.URL+"/query", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("response %q: %v", raw, err)
	}
	return resp, out
}

// scrape returns the /metrics page.
func (s *stack) scrape(t testing.TB, accept string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.srv.URL+"/metrics", nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %s: %s", resp.Status, b)
	}
	return string(b)
}

// wantLines fails unless every line appears verbatim in page.
func wantLines(t testing.TB, page string, lines ...string) {
	t.Helper()
	have := map[string]bool{}
	for _, l := range strings.Split(page, "\n") {
		have[l] = true
	}
	for _, l := range lines {
		if !have[l] {
			t.Errorf("metrics lack %q", l)
		}
	}
	if t.Failed() {
		t.Logf("metrics page:\n%s", grepMeridian(page))
	}
}

func grepMeridian(page string) string {
	var out []string
	for _, l := range strings.Split(page, "\n") {
		if strings.HasPrefix(l, "meridian_") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// records parses the JSON log lines written so far.
func (s *stack) records(t testing.TB) []map[string]any {
	t.Helper()
	return parseRecords(t, s.logs.String())
}

func parseRecords(t testing.TB, text string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(text), "\n") {
		if l == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, rec)
	}
	return out
}

// newTestserver is gqlgen's own test server with the transports the tests
// use.
func newTestserver() *testserver.TestServer {
	ts := testserver.New()
	ts.AddTransport(transport.SSE{})
	ts.AddTransport(transport.POST{})
	return ts
}

func newPlainLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewJSONHandler(w, nil)) }
