package observe

import (
	"context"
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
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// BenchmarkOverhead measures what observe adds to one GraphQL request
// served in process (no network), from bare gqlgen to everything on with
// every request sampled. Compare ns/op and allocs/op across sub-benchmarks.
func BenchmarkOverhead(b *testing.B) {
	sampled := func(b *testing.B) trace.TracerProvider {
		_, tp, _ := newProvider(resource.Empty(), sdktrace.NewSimpleSpanProcessor(tracetest.NewNoopExporter()), 1)
		return tp
	}
	type setup struct {
		metrics, slow bool
		tracer        func(*testing.B) trace.TracerProvider
		fields        bool
	}
	noopTP := func(*testing.B) trace.TracerProvider { return noop.NewTracerProvider() }
	for _, q := range []struct{ name, query string }{
		{"testserver", `{"query":"query Hello { name }"}`},
		{"resolvers", `{"query":"query R { name user { id broken } a: fail b: work(statements: 2) }"}`},
	} {
		for _, c := range []struct {
			name string
			s    setup
		}{
			{"bare", setup{}},
			{"metrics", setup{metrics: true}},
			{"metrics+slowlog+noop-tracing", setup{metrics: true, slow: true, tracer: noopTP}},
			{"all+sampled", setup{metrics: true, slow: true, tracer: sampled}},
			{"all+sampled+fields", setup{metrics: true, slow: true, tracer: sampled, fields: true}},
		} {
			b.Run(q.name+"/"+c.name, func(b *testing.B) {
				var gql *handler.Server
				if q.name == "testserver" {
					gql = newTestserver().Server
				} else {
					gql = newSchemaServer(testResolvers(slog.Default))
				}
				// As in the app: parsed documents are cached, so the
				// baseline is execution, not parsing.
				gql.SetQueryCache(lru.New[*ast.QueryDocument](100))
				var h http.Handler = withStatements(gql)
				if c.s.metrics {
					m, err := NewMetrics(nil, MetricsOptions{StatementsOf: statementsOf})
					if err != nil {
						b.Fatal(err)
					}
					gql.Use(m.GraphQL())
					h = m.Middleware(h)
				}
				if c.s.slow {
					gql.Use(SlowQueries{Threshold: time.Hour, StatementsOf: statementsOf})
				}
				if c.s.tracer != nil {
					tr := NewTracing(c.s.tracer(b), TraceOptions{Fields: c.s.fields})
					gql.Use(tr.GraphQL())
					h = tr.Middleware(h)
				}
				if c.s.metrics || c.s.slow || c.s.tracer != nil {
					h = RequestID(h)
				}
				b.ReportAllocs()
				for b.Loop() {
					req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/query", strings.NewReader(q.query))
					req.Header.Set("Content-Type", "application/json")
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						b.Fatalf("%d %s", rec.Code, rec.Body)
					}
				}
			})
		}
	}
}

// benchOperation is a context as gqlgen hands it to response interceptors:
// an operation context for a parsed, named query.
func benchOperation(b *testing.B) context.Context {
	doc, err := parser.ParseQuery(&ast.Source{Input: "query Hello { name }"})
	if err != nil {
		b.Fatal(err)
	}
	oc := &graphql.OperationContext{RawQuery: "query Hello { name }", Doc: doc, Operation: doc.Operations[0]}
	oc.Stats.OperationStart = time.Now()
	ctx := graphql.WithOperationContext(context.Background(), oc)
	return context.WithValue(ctx, stmtKey{}, new(atomic.Int64))
}

// BenchmarkInterceptors isolates each response interceptor's own cost per
// operation (next is free), which the end-to-end numbers above bury in
// gqlgen's and the machine's noise.
func BenchmarkInterceptors(b *testing.B) {
	m, _ := NewMetrics(nil, MetricsOptions{StatementsOf: statementsOf})
	_, sampledTP, _ := newProvider(resource.Empty(), sdktrace.NewSimpleSpanProcessor(tracetest.NewNoopExporter()), 1)
	resp := &graphql.Response{Data: []byte(`{"name":"x"}`)}
	next := func(context.Context) *graphql.Response { return resp }
	withErr := &graphql.Response{Data: []byte(`{"fail":null}`), Errors: gqlerror.List{
		{Message: "no", Path: ast.Path{ast.PathName("name")}, Extensions: map[string]any{"code": "NOT_FOUND"}},
	}}
	nextErr := func(context.Context) *graphql.Response { return withErr }
	for _, c := range []struct {
		name string
		ext  graphql.ResponseInterceptor
		next graphql.ResponseHandler
	}{
		{"metrics", m.GraphQL().(graphql.ResponseInterceptor), next},
		{"metrics/with-error", m.GraphQL().(graphql.ResponseInterceptor), nextErr},
		{"slowlog/under-threshold", SlowQueries{Threshold: time.Hour, StatementsOf: statementsOf}, next},
		{"tracing/noop", NewTracing(noop.NewTracerProvider(), TraceOptions{}).GraphQL().(graphql.ResponseInterceptor), next},
		{"tracing/sampled", NewTracing(sampledTP, TraceOptions{}).GraphQL().(graphql.ResponseInterceptor), next},
	} {
		b.Run(c.name, func(b *testing.B) {
			ctx := benchOperation(b)
			b.ReportAllocs()
			for b.Loop() {
				c.ext.InterceptResponse(ctx, c.next)
			}
		})
	}
}

// BenchmarkMiddleware isolates the HTTP middlewares' cost per request.
func BenchmarkMiddleware(b *testing.B) {
	m, _ := NewMetrics(nil, MetricsOptions{})
	_, sampledTP, _ := newProvider(resource.Empty(), sdktrace.NewSimpleSpanProcessor(tracetest.NewNoopExporter()), 1)
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	for _, c := range []struct {
		name string
		h    http.Handler
	}{
		{"none", ok},
		{"request-id", RequestID(ok)},
		{"metrics", m.Middleware(ok)},
		{"tracing/noop", NewTracing(noop.NewTracerProvider(), TraceOptions{}).Middleware(ok)},
		{"tracing/sampled", NewTracing(sampledTP, TraceOptions{}).Middleware(ok)},
	} {
		b.Run(c.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodPost, "/query", nil)
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				c.h.ServeHTTP(w, req)
			}
		})
	}
}

// BenchmarkLogHandler is the cost LogHandler adds to a record.
func BenchmarkLogHandler(b *testing.B) {
	ctx := WithRequestID(context.Background(), "0123456789abcdef0123456789abcdef")
	for _, c := range []struct {
		name string
		h    slog.Handler
	}{
		{"plain", slog.NewJSONHandler(io.Discard, nil)},
		{"wrapped", LogHandler(slog.NewJSONHandler(io.Discard, nil))},
	} {
		b.Run(c.name, func(b *testing.B) {
			log := slog.New(c.h)
			b.ReportAllocs()
			for b.Loop() {
				log.InfoContext(ctx, "hello", "k", 1)
			}
		})
	}
}

type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}
