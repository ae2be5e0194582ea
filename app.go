package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/analytics/engine"
	"github.com/meridian-graphql/meridian/analytics/eventstore"
	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/broker"
	"github.com/meridian-graphql/meridian/broker/bustrace"
	"github.com/meridian-graphql/meridian/broker/consumers"
	"github.com/meridian-graphql/meridian/broker/inproc"
	"github.com/meridian-graphql/meridian/broker/outbox"
	"github.com/meridian-graphql/meridian/broker/rabbit"
	"github.com/meridian-graphql/meridian/cache"
	"github.com/meridian-graphql/meridian/httpapi"
	"github.com/meridian-graphql/meridian/httpapi/limits"
	"github.com/meridian-graphql/meridian/httpapi/ratelimit"
	"github.com/meridian-graphql/meridian/live"
	"github.com/meridian-graphql/meridian/live/fanout"
	"github.com/meridian-graphql/meridian/platform/config"
	"github.com/meridian-graphql/meridian/platform/database"
	"github.com/meridian-graphql/meridian/platform/observe"
	"github.com/meridian-graphql/meridian/seed"
)

// app is the server assembled from its parts. openApp builds them in
// dependency order, each from the ones before it, and registers each
// part's close as the part is built; close releases them in reverse. There
// is one client per backing service: the database pool (ent, the event
// store, the outbox, the keys and the consumers share it), one Redis
// client (the cache and both rate limiters), one bus connection. serve
// (server.go) starts the app's loops and its HTTP servers.
type app struct {
	cfg config.Config
	log *slog.Logger

	tracer  trace.TracerProvider
	db      *database.DB
	events  analytics.Store
	redis   *redis.Client // nil without REDIS_URL: the cache and the limiters stay local
	cache   *cache.Cache
	admin   broker.Bus // the bus as opened, for broker.Admin (the admin fields, queue depths)
	metrics *observe.Metrics
	bus     broker.Bus // admin, its publishes counted in metrics, publishes and handlers traced
	hub     *live.Hub
	fan     *fanout.Registry // nil: MERIDIAN_LIVE_FANOUT=false
	service *analytics.Service
	relay   *outbox.Relay
	keys    *auth.Keys
	// dbOutages is the one Flood for the database, shared by everything
	// that meets its outage (requests, key lookups, consumers): the
	// outage is logged once, as state changes and a summary per interval.
	dbOutages *observe.Flood
	authn     *auth.Authenticator
	limiter   *ratelimit.Limiter // nil: MERIDIAN_RATE_LIMIT=0
	engine    *engine.Engine
	consumers *consumers.Consumers

	closers closers
}

// appOption changes how openApp builds the app.
type appOption func(*app)

// withTracerProvider makes the app trace on tp instead of the provider
// that SetupTracing builds from the configuration; the caller flushes and
// stops it (tests pass one over an in-memory recorder).
func withTracerProvider(tp trace.TracerProvider) appOption {
	return func(a *app) { a.tracer = tp }
}

// openApp builds the app. On an error it closes what it had built.
func openApp(ctx context.Context, cfg config.Config, log *slog.Logger, opts ...appOption) (*app, error) {
	a := &app{cfg: cfg, log: log}
	for _, o := range opts {
		o(a)
	}
	for _, step := range []func(context.Context) error{
		a.openTracing, // first, so that it flushes last
		a.openStores,
		a.seedDemo,
		a.openCache,
		a.openBus,
		a.openMetrics,
		a.openLive,
		a.openWrites,
		a.openAccess,
		a.openAnalytics,
	} {
		if err := step(ctx); err != nil {
			if cerr := a.close(); cerr != nil {
				log.WarnContext(ctx, "closing a half-built app", "err", cerr)
			}
			return nil, err
		}
	}
	return a, nil
}

// close releases the parts in the reverse order of their building.
func (a *app) close() error { return a.closers.close() }

func (a *app) openTracing(ctx context.Context) error {
	if a.tracer != nil {
		return nil // withTracerProvider
	}
	shutdown, tp, err := observe.SetupTracing(ctx, observe.TracingConfig{Endpoint: a.cfg.OTLPEndpoint, TracesEndpoint: a.cfg.OTLPTraces, ServiceName: "meridian"})
	if err != nil {
		return fmt.Errorf("tracing: %w", err)
	}
	a.tracer = tp
	a.closers.add("tracing", func() error {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = shutdown(sctx) // spans lost at exit are not worth failing the shutdown for
		return nil
	})
	return nil
}

// clientTracer is the provider of the SQL, Redis and MongoDB clients'
// spans, nil when tracing is off: their instrumentation is then left out
// altogether. Their spans are only children (observe.ChildSpansOnly): the
// background loops' statements and commands start no trace of their own.
func (a *app) clientTracer() trace.TracerProvider {
	if !observe.TracingOn(a.tracer) {
		return nil
	}
	return observe.ChildSpansOnly(a.tracer)
}

// openStores opens the database, migrated (migrations.go),
// and the event store on it or on MongoDB.
func (a *app) openStores(ctx context.Context) error {
	var dbOpts []database.Option
	var evOpts []eventstore.Option
	if tp := a.clientTracer(); tp != nil {
		dbOpts = append(dbOpts, database.WithTracerProvider(tp))
		evOpts = append(evOpts, eventstore.WithTracerProvider(tp))
	}
	db, err := openDatabase(ctx, a.cfg, a.log, dbOpts...)
	if err != nil {
		return err
	}
	a.db = db
	a.closers.add("database", db.Close)
	a.log.Info("database ready", "dialect", db.Dialect, "embedded", db.Embedded)
	events, backend, err := eventstore.Open(ctx, a.cfg.MongoURI, a.cfg.MongoDatabase, db, evOpts...)
	if err != nil {
		return err
	}
	a.events = events
	a.closers.add("event store", func() error { return events.Close(context.Background()) })
	a.log.Info("event store ready", "backend", backend)
	return nil
}

// seedDemo fills an empty embedded database with the demo data
// (MERIDIAN_DEMO_SEED).
func (a *app) seedDemo(ctx context.Context) error {
	empty, err := seed.IsEmpty(ctx, a.db.Client)
	if err != nil || !empty {
		return err
	}
	if !a.db.Embedded || !a.cfg.DemoSeed {
		// Served as it is, an empty database answers every query with
		// nothing; say how to fill it rather than leave the operator to
		// guess.
		a.log.Warn("the database holds no data: every query answers empty; run `meridian seed` (same DATABASE_URL) to load demo data", "embedded", a.db.Embedded)
		return nil
	}
	a.log.Info("seeding demo data into the empty embedded database", "users", a.cfg.DemoUsers)
	opts := seed.Options{Users: a.cfg.DemoUsers, Seed: 1}
	sum, err := seed.Generate(ctx, a.db.Client, opts)
	if err != nil {
		return fmt.Errorf("seed demo data: %w", err)
	}
	n, err := seed.Events(ctx, a.db.Client, a.events, opts)
	if err != nil {
		return fmt.Errorf("seed demo events: %w", err)
	}
	a.log.Info("demo data seeded", "countries", sum.Countries, "cities", sum.Cities, "users", sum.Users, "orders", sum.Orders, "events", n, "took", sum.Took.Round(time.Millisecond))
	return nil
}

// openCache opens the Redis client (REDIS_URL), the cache's shared tier
// and the rate limiters' buckets, and the cache on it.
func (a *app) openCache(ctx context.Context) error {
	if a.cfg.RedisURL != "" {
		rdb, err := cache.NewRedisClient(a.cfg.RedisURL, 0)
		if err != nil {
			return fmt.Errorf("redis: %w", err)
		}
		a.redis = rdb
		a.closers.add("redis", rdb.Close)
		if tp := a.clientTracer(); tp != nil {
			if err := cache.TraceRedis(rdb, tp); err != nil {
				return err
			}
		}
	}
	c, err := cache.New(ctx, cache.Config{RedisURL: a.cfg.RedisURL, Redis: a.redis, Prefix: a.cfg.CachePrefix, Logger: a.log})
	if err != nil {
		return err
	}
	a.cache = c
	a.closers.add("cache", c.Close)
	a.log.Info("cache ready", "redis", a.cfg.RedisURL != "")
	return nil
}

// openBus connects to RabbitMQ at AMQP_URL, or runs the in-process bus.
func (a *app) openBus(ctx context.Context) error {
	if a.cfg.AMQPURL == "" {
		a.admin = inproc.New(inproc.Options{Logger: a.log})
		a.closers.add("bus", a.admin.Close)
		a.log.Info("bus ready", "backend", "in-process")
		return nil
	}
	b, err := rabbit.Open(ctx, rabbit.Config{URL: a.cfg.AMQPURL, ConnectionName: "meridian", Logger: a.log})
	if err != nil {
		return fmt.Errorf("bus: %w", err)
	}
	a.admin = b
	a.closers.add("bus", b.Close)
	a.log.Info("bus ready", "backend", "rabbitmq")
	return nil
}

// openMetrics builds the metrics over the cache and the queues, and the
// bus whose publishes they count and trace.
func (a *app) openMetrics(context.Context) error {
	c := a.cache
	m, err := observe.NewMetrics(nil, observe.MetricsOptions{StatementsOf: httpapi.Statements, Sources: observe.Sources{
		Cache:  func() observe.CacheStats { return cacheStats(c) },
		Queues: queueDepths(a.admin),
		Outbox: outboxBacklog(a.db),
	}, SQL: a.db.SQL(), Token: a.cfg.MetricsToken})
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	a.metrics = m
	system := bustrace.SystemInproc
	if a.cfg.AMQPURL != "" {
		system = bustrace.SystemRabbitMQ
	}
	// Traced always: even with tracing off, a trace context that came in
	// with a request travels on with its messages (for the logs).
	a.bus = bustrace.Wrap(observedBus{Bus: a.admin, m: m}, a.tracer, system)
	return nil
}

// openLive builds the live hub on the counted bus (it publishes the stored
// events to every instance), the WebSocket fan-out, and their metrics.
func (a *app) openLive(context.Context) error {
	a.hub = live.New(a.bus, a.log)
	if a.cfg.LiveFanout {
		a.fan = fanout.New()
	}
	if err := a.metrics.AddSources(observe.Sources{Live: liveStats(a.hub, a.fan)}); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}

// openWrites builds what stores: the event service (its side effects are
// the cache's and the hub's) and the outbox relay.
func (a *app) openWrites(context.Context) error {
	a.service = analytics.NewService(analytics.ServiceConfig{Store: a.events, Policy: policy(a.cfg), Log: a.log, Cache: a.cache, Live: a.hub})
	a.relay = outbox.NewRelay(a.db, a.bus, a.log, outbox.WithPublishTimeout(a.cfg.OutboxPublishTimeout))
	return nil
}

// openAccess builds the authentication and the limiters.
func (a *app) openAccess(context.Context) error {
	a.keys = auth.NewKeys(a.db)
	jwts, err := auth.NewJWT(a.cfg.JWT)
	if err != nil {
		return err
	}
	a.dbOutages = observe.NewFlood(a.log, "database", 0)
	a.authn = &auth.Authenticator{Keys: a.keys, JWT: jwts, Anonymous: a.cfg.AnonymousRole, AnonymousWrites: a.cfg.AnonymousWrites, Log: a.log, Outages: a.dbOutages}
	if a.authn.Failures, err = failureLimiter(a.cfg, a.redis, a.log); err != nil {
		return err
	}
	a.log.Info("access", "anonymous_role", a.cfg.AnonymousRole, "anonymous_writes", a.cfg.AnonymousWrites, "jwt", jwts != nil, "production", a.cfg.Production)
	if a.limiter, err = rateLimiter(a.cfg, a.redis, a.log); err != nil {
		return err
	}
	a.log.Info("limits", "query", limits.Describe(a.cfg.Limits), "body_bytes", a.cfg.MaxBodyBytes, "rate", a.cfg.RateLimit, "burst", a.cfg.RateBurst)
	if a.cfg.Production && a.cfg.Limits.Introspection {
		// Allowed, as a deliberate choice; said loudly, since it hands
		// every caller the whole schema.
		a.log.Warn("security: introspection is on in production (MERIDIAN_INTROSPECTION=true): any authenticated caller can read the whole schema")
	}
	return nil
}

// openAnalytics builds the analytics engine and the bus consumers.
func (a *app) openAnalytics(context.Context) error {
	eng, err := engine.New(engine.Config{
		Client: a.db.Client, Events: a.events, Thresholds: a.cfg.Thresholds, ChurnHorizon: a.cfg.ChurnHorizon,
		CLVMonths: a.cfg.CLVMonths, MonthlyDiscount: a.cfg.CLVDiscount, Log: a.log,
	})
	if err != nil {
		return err
	}
	a.engine = eng
	metrics := a.metrics
	a.consumers = consumers.New(consumers.Deps{Bus: a.bus, DB: a.db, Events: a.service, Cache: a.cache, Log: a.log, Outages: a.dbOutages,
		Observe: func(queue string, m broker.Message, err error, dead bool) {
			metrics.ObserveMessage(queue, m.Attempt, err, dead)
		}})
	return nil
}

func policy(cfg config.Config) analytics.Policy {
	p := analytics.DefaultPolicy()
	p.Types = cfg.EventTypes
	p.AcceptUnknownTypes = cfg.AcceptUnknown
	return p
}
