package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/analytics/stats"
	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/cache/gqlcache"
	"github.com/meridian-graphql/meridian/graph"
	"github.com/meridian-graphql/meridian/httpapi/limits"
	"github.com/meridian-graphql/meridian/loaders/sqlread"
	"github.com/meridian-graphql/meridian/platform/apperr"
	"github.com/meridian-graphql/meridian/platform/database"
	"github.com/meridian-graphql/meridian/platform/observe"
	"github.com/meridian-graphql/meridian/resolvers"
	"github.com/meridian-graphql/meridian/store"
)

// EventService is Service, or — for the tests that give the parts rather
// than a service — analytics.NewService over Events, Cache and Live.
func (d Deps) EventService() *analytics.Service {
	if d.Service != nil {
		return d.Service
	}
	c := analytics.ServiceConfig{Store: d.Events, Policy: d.Policy, Log: d.Logger}
	if d.Cache != nil {
		c.Cache = d.Cache
	}
	if d.Live != nil {
		c.Live = d.Live
	}
	return analytics.NewService(c)
}

// NewGraphQL returns the gqlgen server.
func NewGraphQL(d Deps, st *stats.Stats, fields *gqlcache.Fields) *handler.Server {
	invalidate := func(ctx context.Context, tags ...string) { d.Cache.Invalidate(ctx, tags...) }
	srv := handler.New(graph.NewExecutableSchema(graph.Config{
		Resolvers: &resolvers.Resolver{
			Client: d.DB.Client,
			Store:  store.New(d.DB.Client, store.Config{Invalidate: invalidate, Outbox: d.Outbox, Committed: d.Committed}),
			Stats:  st,
			Events: d.EventService(),
			Live:   d.Live,
			Cache:  d.Cache,
			Bus:    d.Bus,
			DB:     d.DB,
			Engine: d.Engine,
			Keys:   d.Keys,
		},
		Directives: graph.DirectiveRoot{Cached: fields.Directive, HasRole: func(ctx context.Context, _ any, next graphql.Resolver, role auth.Role) (any, error) {
			fc := graphql.GetFieldContext(ctx)
			return d.Auth.HasRole(ctx, fc.Field.Name, fc.Object == "Mutation", role, next)
		}},
	}))
	srv.AddTransport(newWSOps(d, transport.Websocket{
		Implementation:        strictWS{inner: wsImpl{}, initTimeout: 3 * time.Second},
		KeepAlivePingInterval: 10 * time.Second,
		InitTimeout:           5 * time.Second,
		InitFunc:              d.Auth.WebsocketInit,
	}))
	srv.AddTransport(transport.SSE{})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	apq := gqlcache.APQ{C: d.Cache}
	srv.Use(extension.AutomaticPersistedQuery{Cache: apq})
	// After APQ, so that the token count sees the query text APQ filled in;
	// it also owns the introspection switch.
	srv.Use(limits.New(*d.Limits))
	// After the limits: a persisted query is stored only once it passed them.
	srv.Use(apq.Commit())
	srv.Use(gqlcache.Extension{})
	srv.Use(statementCount{})
	srv.Use(outageReport{flood: d.Outages})
	srv.Use(streamOnly{})
	srv.Use(drainSubscriptions{d: d.Drain})
	srv.Use(cursorCheck{log: d.Logger})
	srv.Use(&listCheck{})
	srv.Use(cursorValues{client: d.DB.Client})
	if d.Tracing != nil {
		srv.Use(d.Tracing.GraphQL())
	}
	if d.Metrics != nil {
		srv.Use(d.Metrics.GraphQL())
	}
	// Innermost of the root-field interceptors: tracing and metrics see a
	// compiled field as any other.
	if ext := sqlread.New(d.DB, d.Logger); ext != nil && !d.NoCompiledReads {
		srv.Use(ext)
	}
	if d.SlowQuery > 0 {
		srv.Use(observe.SlowQueries{Threshold: d.SlowQuery, Log: d.Logger, StatementsOf: Statements})
	}
	// "Did you mean …?" would spell out the schema that introspection
	// being off keeps to itself.
	srv.SetDisableSuggestion(!d.Limits.Introspection)
	srv.SetErrorPresenter(presenter(d.Logger))
	srv.SetRecoverFunc(func(ctx context.Context, v any) error {
		d.Logger.ErrorContext(ctx, "panic in resolver", "panic", v, "stack", string(debug.Stack()))
		return &apperr.Error{Code: apperr.Internal, Message: "internal error"}
	})
	return srv
}

// presenter gives every error an extensions.code. Application errors keep
// their message; unexpected errors are logged and answered with a generic
// message so that no internals leak.
func presenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gerr := graphql.DefaultErrorPresenter(ctx, err)
		if e, ok := apperr.As(apperr.Translate(err)); ok {
			gerr.Message = e.Error()
			setCode(gerr, string(e.Code))
			if e.Field != "" {
				gerr.Extensions["field"] = e.Field
			}
			return gerr
		}
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			gerr.Message = "the request took too long"
			setCode(gerr, "TIMEOUT")
			return gerr
		case errors.Is(err, context.Canceled):
			gerr.Message = "the request was cancelled"
			setCode(gerr, "CANCELLED")
			return gerr
		}
		if badInput(err) || atArgument(ctx, gerr) {
			if _, ok := gerr.Extensions["code"]; !ok {
				setCode(gerr, string(apperr.BadUserInput))
			}
			return gerr
		}
		log.ErrorContext(ctx, "resolver error", "error", err, "path", gerr.Path.String())
		gerr.Message = "internal error"
		setCode(gerr, string(apperr.Internal))
		return gerr
	}
}

func setCode(e *gqlerror.Error, code string) {
	if e.Extensions == nil {
		e.Extensions = map[string]any{}
	}
	e.Extensions["code"] = code
}

// statementCount reports the SQL statements a request ran, and how long it
// took, in the response's extensions: the proof of "one statement per level".
type statementCount struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = statementCount{}

func (statementCount) ExtensionName() string                   { return "StatementCount" }
func (statementCount) Validate(graphql.ExecutableSchema) error { return nil }
func (statementCount) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	start := time.Now()
	resp := next(ctx)
	if resp == nil {
		return nil
	}
	if isSubscription(ctx) {
		// A subscription's duration would include the wait for each event,
		// and its statements are the resolvers' per event: neither means
		// anything, and every frame would carry them.
		return resp
	}
	if c := database.CounterFrom(ctx); c != nil {
		if resp.Extensions == nil {
			resp.Extensions = map[string]any{}
		}
		resp.Extensions["sqlStatements"] = c.N()
		resp.Extensions["durationMs"] = float64(time.Since(start).Microseconds()) / 1000
	}
	return resp
}

// streamOnly refuses subscriptions over plain POST and GET, which can
// carry one response and no stream: the client must use graphql-transport-ws,
// graphql-ws or SSE.
type streamOnly struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = streamOnly{}

func (streamOnly) ExtensionName() string                   { return "StreamOnly" }
func (streamOnly) Validate(graphql.ExecutableSchema) error { return nil }
func (streamOnly) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil || oc.Operation.Operation != ast.Subscription || streaming(ctx) {
		return nil
	}
	return &gqlerror.Error{
		Message:    "subscriptions need a streaming transport: graphql-transport-ws or graphql-ws over WebSocket, or Server-Sent Events (POST with Accept: text/event-stream)",
		Extensions: map[string]any{"code": "BAD_REQUEST"},
	}
}

// Statements is the number of SQL statements the request has run so far.
func Statements(ctx context.Context) int64 {
	if c := database.CounterFrom(ctx); c != nil {
		return c.N()
	}
	return 0
}

func isSubscription(ctx context.Context) bool {
	if !graphql.HasOperationContext(ctx) {
		return false
	}
	op := graphql.GetOperationContext(ctx).Operation
	return op != nil && op.Operation == ast.Subscription
}

// badInput reports an error that gqlgen or entgql raised about the request
// itself (argument coercion, first with last, …): a *gqlerror.Error that
// wraps no other error. Errors from resolvers arrive wrapped in a
// *gqlerror.Error too, but with the cause inside.
func badInput(err error) bool {
	for err != nil {
		ge, ok := err.(*gqlerror.Error)
		if ok && ge.Err == nil {
			return true
		}
		err = errors.Unwrap(err)
	}
	return false
}

// atArgument reports an error located at one of the field's arguments: gqlgen
// could not decode it (a malformed cursor or time, say).
func atArgument(ctx context.Context, e *gqlerror.Error) bool {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || len(e.Path) != len(fc.Path())+1 {
		return false
	}
	name, ok := e.Path[len(e.Path)-1].(ast.PathName)
	if !ok {
		return false
	}
	for _, a := range fc.Field.Arguments {
		if a.Name == string(name) {
			return true
		}
	}
	return false
}
