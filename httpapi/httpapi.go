// Package httpapi assembles Meridian's HTTP surface: the GraphQL endpoint
// (gqlgen with per-request loaders, error codes and statement counts), the
// GraphiQL IDE and the dashboard (both served from the binary), and the
// health and readiness probes.
package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/analytics/engine"
	"github.com/meridian-graphql/meridian/analytics/stats"
	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/broker"
	"github.com/meridian-graphql/meridian/broker/outbox"
	"github.com/meridian-graphql/meridian/cache"
	"github.com/meridian-graphql/meridian/cache/gqlcache"
	"github.com/meridian-graphql/meridian/httpapi/dashboard"
	"github.com/meridian-graphql/meridian/httpapi/gqlhttp"
	"github.com/meridian-graphql/meridian/httpapi/graphiql"
	"github.com/meridian-graphql/meridian/httpapi/limits"
	"github.com/meridian-graphql/meridian/httpapi/ratelimit"
	"github.com/meridian-graphql/meridian/live"
	"github.com/meridian-graphql/meridian/live/fanout"
	"github.com/meridian-graphql/meridian/loaders"
	"github.com/meridian-graphql/meridian/platform/database"
	"github.com/meridian-graphql/meridian/platform/observe"
)

// Deps are what the HTTP surface serves from.
type Deps struct {
	DB *database.DB
	// Cache backs @cached fields and persisted queries; nil gives a
	// local-only cache.
	Cache *cache.Cache
	// NoResultCache makes every @cached field resolve on every request
	// (MERIDIAN_RESULT_CACHE=false, for benchmarks); persisted queries
	// are still stored.
	NoResultCache bool
	Events        analytics.Store
	// Service is the event service the resolvers track and read through,
	// composed with its side effects (analytics.NewService) and shared with
	// the bus consumers; nil: one over Events, Cache and Live.
	Service *analytics.Service
	// Outbox, when set, receives every mutation's domain event in the
	// mutation's transaction; Committed runs after each commit (the relay's
	// wake-up).
	Outbox    *outbox.Writer
	Committed func()
	// Live, when set, streams stored events to subscriptions.
	Live *live.Hub
	// Fanout runs the WebSocket subscriptions that share their document,
	// variables and role scope once for all of them (package fanout); nil
	// gives the handler a registry of its own, unless NoFanout, which runs
	// every subscriber's operation on its own.
	Fanout   *fanout.Registry
	NoFanout bool
	// Bus, when it implements broker.Admin, backs the admin queries of
	// queue depths and the dead-letter mutations.
	Bus broker.Bus
	// Auth identifies callers and enforces @hasRole. Nil fails closed: it
	// is the zero Authenticator, which verifies no credential and refuses
	// callers without one (401 UNAUTHENTICATED), so a handler built
	// without authentication grants nobody anything.
	Auth *auth.Authenticator
	// Limits bound each query before it runs; nil uses the defaults with
	// a depth of 15 and introspection on (tests).
	Limits *limits.Config
	// RateLimit, when set, limits requests per caller.
	RateLimit *ratelimit.Limiter
	// WSMaxOperations bounds the operations running at once on one
	// WebSocket (default 100).
	WSMaxOperations int
	// Metrics, when set, records operations, errors and requests and
	// serves GET /metrics; Tracing, when set, traces requests and
	// operations. SlowQuery logs operations slower than it (0: off).
	Metrics   *observe.Metrics
	Tracing   *observe.Tracing
	SlowQuery time.Duration
	// NoCompiledReads sends every read through the resolvers; by default a
	// relational read on PostgreSQL is one compiled statement (package
	// sqlread, MERIDIAN_COMPILED_READS).
	NoCompiledReads bool
	// MetricsElsewhere leaves GET /metrics out of these routes: the
	// server serves it on its own listener (MERIDIAN_METRICS_ADDR).
	MetricsElsewhere bool
	// TrustedProxies are the peers whose X-Forwarded-For names the client
	// (see clientAddr); empty trusts none.
	TrustedProxies []netip.Prefix
	// HTTP sets CORS for /query (GraphQL over HTTP rules always apply).
	HTTP gqlhttp.Config
	// MaxBodyBytes bounds request bodies (default 1 MiB).
	MaxBodyBytes int64
	// Keys stores the API keys the key mutations create.
	Keys *auth.Keys
	// Engine, when set, serves the analytics engine's fields.
	Engine *engine.Engine
	Policy analytics.Policy
	Logger *slog.Logger
	// Outages logs the requests a store outage failed as the outage's
	// state changes and summaries (see observe.Flood), not one line each;
	// nil: a Flood about "database" on Logger.
	Outages        *observe.Flood
	LoaderWait     time.Duration
	RequestTimeout time.Duration
	// ReadTimeout bounds reading a request's body (default RequestTimeout).
	ReadTimeout time.Duration
	// ExportIdle cuts an export whose client stopped reading for that
	// long (default 30 s).
	ExportIdle time.Duration
	// Drain is the server's shutdown switch for streams and readiness;
	// nil gives one that never begins.
	Drain *Drain
	// NoGraphiQL turns the IDE off (MERIDIAN_GRAPHIQL=false, the
	// production default): / answers 404 saying so and no asset of it is
	// served.
	NoGraphiQL bool
}

// NewHandler returns the server's routes:
//
//	/         GraphiQL, its assets under /graphiql/ (package graphiql), unless NoGraphiQL
//	/query    GraphQL (POST and GET)
//	/dashboard/  the built-in dashboard, a client of /query (package dashboard)
//	/export/events  events as NDJSON or CSV, streamed
//	/healthz  liveness: the process serves HTTP
//	/readyz   readiness: every backend answers, and the server is not draining
func NewHandler(d Deps) http.Handler {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Outages == nil {
		d.Outages = observe.NewFlood(d.Logger, "database", 0)
	}
	st := stats.New(d.DB)
	if d.Policy.Types == nil {
		d.Policy = analytics.DefaultPolicy()
	}
	if d.Cache == nil {
		c, err := cache.New(context.Background(), cache.Config{Logger: d.Logger})
		if err != nil {
			panic(fmt.Sprintf("httpapi: local cache: %v", err)) // cannot fail without Redis
		}
		d.Cache = c
	}
	if d.Auth == nil {
		// Nobody is trusted without an authenticator: no keys, no JWTs,
		// no anonymous access. The server always passes its own; tests
		// ask for the access they need (gqltest.Grant).
		d.Auth = &auth.Authenticator{Log: d.Logger}
	}
	if d.Limits == nil {
		l := limits.DefaultConfig()
		l.MaxDepth, l.Introspection = 15, true
		d.Limits = &l
	}
	if d.MaxBodyBytes <= 0 {
		d.MaxBodyBytes = 1 << 20
	}
	if d.Drain == nil {
		d.Drain = NewDrain()
	}
	fields := gqlcache.New(d.Cache, 0)
	fields.Bypass = d.NoResultCache
	gql := NewGraphQL(d, st, fields)
	mux := http.NewServeMux()
	if d.NoGraphiQL {
		mux.Handle("GET /{$}", graphiql.Off())
	} else {
		mux.Handle("GET /{$}", graphiql.Page())
		mux.Handle("GET /graphiql/", graphiql.Assets("/graphiql/"))
	}
	mux.Handle("GET /dashboard", dashboard.Handler("/dashboard/"))
	mux.Handle("GET /dashboard/", dashboard.Handler("/dashboard/"))
	query := loaders.Middleware(loaders.Config{
		Client: d.DB.Client,
		Stats:  st,
		Events: d.Events,
		Engine: scorer(d.Engine),
		Wait:   d.LoaderWait,
	})(gql)
	query = d.Auth.Middleware(rateLimited(d.RateLimit, withRequest(d, fields.Middleware(query))))
	// gqlhttp is outermost so that its CORS headers reach every answer
	// (401 and 429 included) and preflights never reach authentication.
	mux.Handle("/query", gqlhttp.Handler(handshakes(query), d.HTTP))
	// The export reads the event store: an analyst's, rate-limited like
	// /query.
	mux.Handle("GET /export/events", d.Auth.Middleware(rateLimited(d.RateLimit, analystOnly(exportEvents(d.Events, d.ExportIdle)))))
	if d.Metrics != nil && !d.MetricsElsewhere {
		mux.Handle("GET /metrics", d.Metrics.Handler())
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if !d.Drain.Ready() {
			// At once, without asking the backends: the load balancer
			// must stop sending here.
			observeReady(d.Metrics, false)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "draining"})
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		checks := map[string]string{}
		status := http.StatusOK
		for name, ping := range map[string]func(context.Context) error{"database": d.DB.Ping, "events": d.Events.Ping} {
			if err := ping(ctx); err != nil {
				checks[name] = err.Error()
				status = http.StatusServiceUnavailable
			} else {
				checks[name] = "ok"
			}
		}
		observeReady(d.Metrics, status == http.StatusOK)
		writeJSON(w, status, checks)
	})
	// Outermost first: the request id reaches logs and spans, the trace id
	// reaches the latency exemplars.
	var h http.Handler = mux
	if d.Metrics != nil {
		h = d.Metrics.Middleware(h)
	}
	if d.Tracing != nil {
		h = d.Tracing.Middleware(h)
	}
	return readDeadline(d, clientAddr(d.TrustedProxies, observe.RequestID(h)))
}

// observeReady records a readiness answer in m (meridian_ready), if any.
func observeReady(m *observe.Metrics, ready bool) {
	if m != nil {
		m.ObserveReady(ready)
	}
}

// readDeadline bounds reading each request's body, outermost, before
// authentication or the rate limiter can answer and leave the server
// draining a body a client drips byte by byte (slowloris): d.ReadTimeout
// from the start of the handler, or d.RequestTimeout when it is unset. The
// server sets the same bound on its connections (MERIDIAN_READ_TIMEOUT,
// which also covers the headers); this one holds for any server of the
// handler. Streams lift it once their request is read (see withRequest).
func readDeadline(d Deps, next http.Handler) http.Handler {
	timeout := d.ReadTimeout
	if timeout <= 0 {
		timeout = d.RequestTimeout
	}
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
			// Only with a body to read: without one, net/http is already
			// reading in the background to notice the client leave, and a
			// deadline there would cancel a long answer (an export).
			_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(timeout))
		}
		next.ServeHTTP(w, r)
	})
}

// withRequest gives each GraphQL request its deadline and statement counter.
func withRequest(d Deps, next http.Handler) http.Handler {
	timeout := d.RequestTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// readDeadline, outermost, bounds reading every body.
		ctx, cancel := r.Context(), context.CancelFunc(func() {})
		stream := longLived(r)
		if stream {
			ctx = context.WithValue(ctx, streamingKey{}, true)
		} else {
			ctx, cancel = context.WithTimeout(ctx, timeout)
		}
		defer cancel()
		ctx, _ = database.WithCounter(ctx)
		if r.ContentLength > d.MaxBodyBytes {
			// Refused before reading a byte of it.
			writeJSON(w, http.StatusRequestEntityTooLarge, map[string]any{"errors": []any{map[string]any{
				"message":    fmt.Sprintf("request body of %d bytes is over the limit of %d", r.ContentLength, d.MaxBodyBytes),
				"extensions": map[string]any{"code": "PAYLOAD_TOO_LARGE", "maxBytes": d.MaxBodyBytes},
			}}})
			return
		}
		if r.Body != nil {
			// Bodies without a length are cut off at the limit while read.
			r.Body = http.MaxBytesReader(w, r.Body, d.MaxBodyBytes)
		}
		if stream && r.Method == http.MethodPost {
			// Server-Sent Events: the body is read whole, under the read
			// deadline, before the stream starts; only then is the
			// deadline lifted for the stream's life (net/http also lifts
			// it once a body reaches its end, which a JSON decoder need
			// not read to). A WebSocket needs nothing: the hijack clears
			// the connection's deadlines.
			body, err := io.ReadAll(r.Body)
			if err != nil {
				status, code := http.StatusBadRequest, "BAD_REQUEST"
				if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
					status, code = http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE"
				}
				writeJSON(w, status, map[string]any{"errors": []any{map[string]any{
					"message": fmt.Sprintf("reading the request body: %v", err), "extensions": map[string]any{"code": code},
				}}})
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// rateLimited limits requests per caller: the API key or JWT subject, or
// the client address for anonymous callers. A nil limiter limits nothing.
func rateLimited(l *ratelimit.Limiter, next http.Handler) http.Handler {
	if l == nil {
		return next
	}
	return ratelimit.Middleware(l, func(r *http.Request) string {
		return callerKey(auth.From(r.Context()), r.RemoteAddr)
	})(next)
}

// callerKey is the rate-limit bucket of caller p at remoteAddr: HTTP
// requests and the operations of a WebSocket share it.
func callerKey(p auth.Principal, remoteAddr string) string {
	if p.Method != "anonymous" {
		return p.Subject
	}
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	return "ip:" + host
}

// scorer keeps a nil engine a nil interface, which the loaders check.
func scorer(e *engine.Engine) loaders.Scorer {
	if e == nil {
		return nil
	}
	return e
}

type streamingKey struct{}

// streaming reports whether the request came over a transport that can
// carry a subscription (WebSocket or SSE).
func streaming(ctx context.Context) bool {
	v, _ := ctx.Value(streamingKey{}).(bool)
	return v
}

// longLived reports a request that opens a subscription stream (a
// WebSocket upgrade or Server-Sent Events): the request timeout would end
// it after MERIDIAN_REQUEST_TIMEOUT. Each operation inside such a stream is
// still bounded by the keep-alive and the client's own lifetime.
func longLived(r *http.Request) bool {
	return isHandshake(r) || strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
