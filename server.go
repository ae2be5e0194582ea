// Command meridian is the GraphQL analytics API server. main only reads the
// configuration and wires the packages together.
//
//	meridian                      serve (embedded SQLite and demo data by default)
//	meridian seed [flags]         generate demo data into the configured database
//	meridian --help               list commands and environment variables
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/schollz/progressbar/v3"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/analytics/engine"
	"github.com/meridian-graphql/meridian/analytics/eventstore"
	"github.com/meridian-graphql/meridian/analytics/models"
	"github.com/meridian-graphql/meridian/analytics/recs"
	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/broker"
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

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "meridian:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		usage(stdout)
		return nil
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	// go-redis logs every failed dial through a process-wide logger; the
	// cache counts and rate-limits Redis errors itself, so keep these at debug.
	redis.SetLogger(redisLogger{log})
	if len(args) == 0 {
		return serve(ctx, cfg, log)
	}
	switch args[0] {
	case "seed":
		return seedCmd(ctx, cfg, args[1:], stderr)
	case "export":
		return exportCmd(ctx, cfg, args[1:], stdout, stderr)
	case "healthcheck":
		return healthcheck(ctx, cfg)
	case "models":
		return modelsCmd(ctx, args[1:], stdout, stderr)
	case "apikey":
		return apikeyCmd(ctx, cfg, args[1:], stdout, stderr)
	default:
		usage(stderr)
		return fmt.Errorf("unknown command %q", args[0])
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Meridian — a GraphQL analytics API.

Usage:
  meridian                 serve GraphQL on MERIDIAN_ADDR (GraphiQL at /, API at /query)
  meridian seed [flags]    generate deterministic demo data (meridian seed --help)
  meridian export [flags]  stream events as NDJSON or CSV (meridian export --help)
  meridian healthcheck     exit 0 when the local server answers /readyz (for containers)
  meridian apikey create --name NAME --role viewer|analyst|admin
                           create an API key and print it (shown once; only its hash is kept)
  meridian apikey revoke --id ID
  meridian models evaluate --cdnow DIR
                           fit BG/NBD and Gamma-Gamma on CDNOW's calibration period and
                           score the holdout (per-frequency means, churn AUC and Brier)
  meridian models evaluate-recs [--users N] [--seed S]
                           leave-last-out precision, recall and NDCG@10 of the
                           recommender on the demo data, next to popularity
  meridian --help          this text

Environment:
`)
	config.PrintHelp(w)
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	// LogHandler adds the request id (and trace ids) of the record's
	// context to every line.
	if cfg.LogJSON {
		return slog.New(observe.LogHandler(slog.NewJSONHandler(w, opts)))
	}
	return slog.New(observe.LogHandler(slog.NewTextHandler(w, opts)))
}

// serve runs the server until ctx (the signal) ends, then shuts it down in
// order (see shutdown). Nothing but the startup and the wait for the
// signal runs under ctx: requests and background loops have contexts of
// their own, which the shutdown ends in turn, so that the signal does not
// cancel every request in flight at once.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	// stores closes the database, event store, cache and bus in that order.
	stores := &closers{}
	defer stores.close()
	db, err := database.Open(ctx, cfg.DatabaseURL, cfg.DataDir, database.WithLogger(log), database.WithPool(cfg.DBPool))
	if err != nil {
		return err
	}
	stores.add("database", db.Close)
	log.Info("database ready", "dialect", db.Dialect, "embedded", db.Embedded)
	events, backend, err := eventstore.Open(ctx, cfg.MongoURI, cfg.MongoDatabase, db)
	if err != nil {
		return err
	}
	stores.add("event store", func() error { return events.Close(context.Background()) })
	log.Info("event store ready", "backend", backend)
	if db.Embedded && cfg.DemoSeed {
		empty, err := seed.IsEmpty(ctx, db.Client)
		if err != nil {
			return err
		}
		if empty {
			log.Info("seeding demo data into the empty embedded database", "users", cfg.DemoUsers)
			opts := seed.Options{Users: cfg.DemoUsers, Seed: 1}
			sum, err := seed.Generate(ctx, db.Client, opts)
			if err != nil {
				return fmt.Errorf("seed demo data: %w", err)
			}
			n, err := seed.Events(ctx, db.Client, events, opts)
			if err != nil {
				return fmt.Errorf("seed demo events: %w", err)
			}
			log.Info("demo data seeded", "countries", sum.Countries, "cities", sum.Cities, "users", sum.Users, "orders", sum.Orders, "events", n, "took", sum.Took.Round(time.Millisecond))
		}
	}
	// bg is the parent of the background loops and of every request; it
	// ends only when serve returns.
	bg, cancelBg := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBg()
	// hard ends shutdownMargin after the grace period: it bounds a
	// consumer's batch in progress and the stages after the HTTP drain.
	hard, cancelHard := context.WithCancel(bg)
	defer cancelHard()
	jobs := []*worker{startWorker(bg, func(ctx context.Context) {
		eventstore.RunRetention(ctx, events, cfg.EventRetention, time.Hour, log)
	})}
	c, err := cache.New(ctx, cache.Config{RedisURL: cfg.RedisURL, Prefix: cfg.CachePrefix, Logger: log})
	if err != nil {
		return err
	}
	stores.add("cache", c.Close)
	jobs = append(jobs, startWorker(bg, c.Run))
	log.Info("cache ready", "redis", cfg.RedisURL != "")
	bus, err := openBus(ctx, cfg, log)
	if err != nil {
		return err
	}
	stores.add("bus", bus.Close)
	if err := outbox.Migrate(ctx, db); err != nil {
		return err
	}
	var hub *live.Hub        // set below, before the server serves a scrape
	var fan *fanout.Registry // nil: MERIDIAN_LIVE_FANOUT=false
	if cfg.LiveFanout {
		fan = fanout.New()
	}
	metrics, err := observe.NewMetrics(nil, observe.MetricsOptions{StatementsOf: httpapi.Statements, Sources: observe.Sources{
		Cache: func() observe.CacheStats { return cacheStats(c) },
		Live: func() observe.LiveStats {
			st, fs := hub.Stats(), fan.Stats()
			// The hub sees one subscriber per fan-out group; the people are
			// the groups' members.
			return observe.LiveStats{Subscribers: st.Subscribers - fs.Groups + fs.Members, Published: st.Published,
				Dropped: st.Dropped + fs.Dropped, Lost: st.Lost, Groups: fs.Groups, Executions: fs.Executions}
		},
		Queues: queueDepths(bus),
	}, Token: cfg.MetricsToken})
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	shutdownTracing, tp, err := observe.SetupTracing(ctx, observe.TracingConfig{Endpoint: cfg.OTLPEndpoint, TracesEndpoint: cfg.OTLPTraces, ServiceName: "github.com/meridian-graphql/meridian"})
	if err != nil {
		return fmt.Errorf("tracing: %w", err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = shutdownTracing(sctx)
	}()
	admin := bus // keeps broker.Admin for the admin fields
	bus = observedBus{Bus: bus, m: metrics}
	relay := outbox.NewRelay(db, bus, log, outbox.WithPublishTimeout(cfg.OutboxPublishTimeout))
	// The relay publishes only once the consumers are attached: on a fresh
	// broker their queues and bindings are declared as they attach, and a
	// domain event published before that routes nowhere — confirmed, marked
	// sent, and lost (TestFaultSIGTERMDrain caught a sign-up committed in
	// the first second of a new vhost that no consumer ever saw). Until
	// then the rows wait in the outbox.
	attached := make(chan struct{})
	var attachOnce sync.Once
	relayWorker := startWorker(bg, func(ctx context.Context) {
		select {
		case <-attached:
			relay.Run(ctx)
		case <-ctx.Done():
		}
	})
	flushAttached := func(ctx context.Context) (int, error) {
		select {
		case <-attached:
			return relay.Flush(ctx)
		default:
			return 0, nil // the rows wait for the next instance's relay
		}
	}
	hub = live.New(bus, log)
	hubWorker := startWorker(bg, func(ctx context.Context) {
		if err := hub.Run(ctx); err != nil {
			log.Error("live subscriptions stopped", "error", err)
		}
	})
	keys := auth.NewKeys(db)
	if err := keys.Migrate(ctx); err != nil {
		return err
	}
	jwts, err := auth.NewJWT(cfg.JWT)
	if err != nil {
		return err
	}
	// One Flood for the database, shared by everything that meets its
	// outage (requests, key lookups, consumers): the outage is logged once,
	// as state changes and a summary per interval.
	dbOutages := observe.NewFlood(log, "database", 0)
	authn := &auth.Authenticator{Keys: keys, JWT: jwts, Anonymous: cfg.AnonymousRole, AnonymousWrites: cfg.AnonymousWrites, Log: log, Outages: dbOutages}
	bucketsRedis, err := limiterRedis(cfg)
	if err != nil {
		return err
	}
	if bucketsRedis != nil {
		defer bucketsRedis.Close()
	}
	drain := httpapi.NewDrain()
	if authn.Failures, err = failureLimiter(cfg, bucketsRedis, log); err != nil {
		return err
	}
	log.Info("access", "anonymous_role", cfg.AnonymousRole, "anonymous_writes", cfg.AnonymousWrites, "jwt", jwts != nil, "production", cfg.Production)
	limiter, err := rateLimiter(cfg, bucketsRedis, log)
	if err != nil {
		return err
	}
	log.Info("limits", "query", limits.Describe(cfg.Limits), "body_bytes", cfg.MaxBodyBytes, "rate", cfg.RateLimit, "burst", cfg.RateBurst)
	if cfg.Production && cfg.Limits.Introspection {
		// Allowed, as a deliberate choice; said loudly, since it hands
		// every caller the whole schema.
		log.Warn("security: introspection is on in production (MERIDIAN_INTROSPECTION=true): any authenticated caller can read the whole schema")
	}
	deps := httpapi.Deps{
		Limits:           &cfg.Limits,
		RateLimit:        limiter,
		MaxBodyBytes:     cfg.MaxBodyBytes,
		Auth:             authn,
		Keys:             keys,
		DB:               db,
		Events:           events,
		Cache:            c,
		NoResultCache:    !cfg.ResultCache,
		Outbox:           outbox.NewWriter(db),
		Committed:        relay.Notify,
		Metrics:          metrics,
		MetricsElsewhere: cfg.MetricsAddr != "",
		TrustedProxies:   cfg.TrustedProxies,
		Tracing:          observe.NewTracing(tp, observe.TraceOptions{Fields: cfg.TraceFields}),
		SlowQuery:        cfg.SlowQuery,
		NoCompiledReads:  !cfg.CompiledReads,
		HTTP:             cfg.CORS,
		Live:             hub,
		Fanout:           fan,
		NoFanout:         fan == nil,
		Bus:              admin,
		Policy:           policy(cfg),
		Logger:           log,
		Outages:          dbOutages,
		LoaderWait:       cfg.LoaderWait,
		RequestTimeout:   cfg.RequestTimeout,
		ExportIdle:       cfg.ExportIdleTimeout,
		ReadTimeout:      cfg.ReadTimeout,
		WSMaxOperations:  cfg.WSMaxOperations,
		Drain:            drain,
	}
	eng, err := engine.New(engine.Config{
		Client: db.Client, Events: events, Thresholds: cfg.Thresholds, ChurnHorizon: cfg.ChurnHorizon,
		CLVMonths: cfg.CLVMonths, MonthlyDiscount: cfg.CLVDiscount, Log: log,
	})
	if err != nil {
		return err
	}
	deps.Engine = eng
	jobs = append(jobs, startWorker(bg, func(ctx context.Context) { eng.Run(ctx, cfg.ModelRefit) }))
	if err := consumers.Migrate(ctx, db); err != nil {
		return err
	}
	workers := consumers.New(consumers.Deps{Bus: bus, DB: db, Events: deps.EventService(), Cache: c, Log: log, Outages: dbOutages,
		Observe: func(queue string, m broker.Message, err error) {
			maxAttempts := broker.DefaultMaxAttempts
			if queue == "cache" {
				maxAttempts = 1
			}
			_, _, dead := broker.Subscription{MaxAttempts: maxAttempts}.WithDefaults().Retry(m, err)
			metrics.ObserveMessage(queue, m.Attempt, err, err != nil && dead)
		}})
	consumersWorker := startWorker(bg, func(stop context.Context) {
		if err := workers.RunUntil(stop, hard, func() {
			log.Info("bus consumers attached", "queues", consumers.Queues())
			attachOnce.Do(func() { close(attached) })
		}); err != nil {
			log.Error("bus consumers stopped", "error", err)
		}
	})
	// Requests run under base, which ends only when the grace period is
	// over with requests still running (not with the signal).
	base, cancelRequests := context.WithCancel(bg)
	defer cancelRequests()
	srv := httpServer(base, cfg, httpapi.NewHandler(deps))
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	log.Info("serving", "playground", "http://"+displayAddr(ln.Addr())+"/", "graphql", "http://"+displayAddr(ln.Addr())+"/query")
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	if cfg.MetricsAddr != "" {
		msrv, err := serveMetrics(base, cfg, metrics, errc)
		if err != nil {
			return err
		}
		defer msrv.Close()
		log.Info("serving metrics", "metrics", "http://"+displayAddr(msrv.addr)+"/metrics")
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	return shutdown{
		log: log, grace: cfg.ShutdownTimeout, delay: cfg.ShutdownDelay,
		srv: srv, drain: drain, cancelRequests: cancelRequests, cancelHard: cancelHard,
		consumers: consumersWorker, relay: relayWorker, flush: flushAttached, hub: hubWorker, jobs: jobs, stores: stores,
	}.run(hard)
}

// httpServer is a server of h with the timeouts both listeners share: a
// request's headers and body must arrive within MERIDIAN_READ_TIMEOUT from
// its first byte (a client dripping them, slowloris, is cut whatever its
// route or credentials, before any handler decides anything), and an idle
// keep-alive connection closes after MERIDIAN_IDLE_TIMEOUT. There is no
// overall write timeout: subscription streams and exports last; the
// handlers lift the read deadline of a stream once its request is read and
// bound writes to clients that stop reading (see httpapi). ctx is the base
// of every request's context.
func httpServer(ctx context.Context, cfg config.Config, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              cfg.Addr,
		Handler:           h,
		ReadHeaderTimeout: cfg.ReadTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
}

// metricsServer serves /metrics on a listener of its own, which operators
// keep off the public network (MERIDIAN_METRICS_ADDR).
type metricsServer struct {
	*http.Server
	addr net.Addr
}

// serveMetrics listens on addr and reports a failure of the server on errc.
func serveMetrics(ctx context.Context, cfg config.Config, m *observe.Metrics, errc chan<- error) (metricsServer, error) {
	addr := cfg.MetricsAddr
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return metricsServer{}, fmt.Errorf("listen on %s for metrics: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	if cfg.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	srv := httpServer(ctx, cfg, mux)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("metrics: %w", err)
		}
	}()
	return metricsServer{Server: srv, addr: ln.Addr()}, nil
}

func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

func seedCmd(ctx context.Context, cfg config.Config, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	users := fs.Int("users", 2000, "number of users to generate")
	s := fs.Uint64("seed", 1, "random seed: the same seed and flags give the same data")
	ifEmpty := fs.Bool("if-empty", false, "do nothing (and succeed) when the database already holds data")
	withEvents := fs.Bool("events", true, "also generate the matching event stream into the event store")
	geo := fs.String("geo", "", "directory with Natural Earth countries.csv and cities.csv (e.g. ../shared/data/geo); default: the embedded table")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *users < 0 {
		return fmt.Errorf("seed: --users must not be negative")
	}
	db, err := database.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return err
	}
	defer db.Close()
	empty, err := seed.IsEmpty(ctx, db.Client)
	if err != nil {
		return err
	}
	if !empty {
		if *ifEmpty {
			fmt.Fprintln(stderr, "seed: the database already holds data; nothing to do")
			return nil
		}
		return fmt.Errorf("seed: the database already holds data; seed into an empty database")
	}
	opts := seed.Options{Users: *users, Seed: *s, GeoDir: *geo, Progress: stderr}
	sum, err := seed.Generate(ctx, db.Client, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "\nseeded %d countries, %d cities, %d addresses, %d users, %d products, %d orders in %s\n",
		sum.Countries, sum.Cities, sum.Addresses, sum.Users, sum.Products, sum.Orders, sum.Took.Round(time.Millisecond))
	if !*withEvents {
		return nil
	}
	events, _, err := eventstore.Open(ctx, cfg.MongoURI, cfg.MongoDatabase, db)
	if err != nil {
		return err
	}
	defer events.Close(context.Background())
	start := time.Now()
	n, err := seed.Events(ctx, db.Client, events, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "seeded %d events in %s\n", n, time.Since(start).Round(time.Millisecond))
	return nil
}

// healthcheck asks the server on MERIDIAN_ADDR for /readyz; distroless
// images have no curl.
func healthcheck(ctx context.Context, cfg config.Config) error {
	_, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return fmt.Errorf("healthcheck: MERIDIAN_ADDR %q: %w", cfg.Addr, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+port+"/readyz", nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: /readyz answered %s", res.Status)
	}
	return nil
}

func policy(cfg config.Config) analytics.Policy {
	p := analytics.DefaultPolicy()
	p.Types = cfg.EventTypes
	p.AcceptUnknownTypes = cfg.AcceptUnknown
	return p
}

// exportCmd streams events like GET /export/events, with a progress bar on
// stderr.
func exportCmd(ctx context.Context, cfg config.Config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "RFC 3339 start (inclusive)")
	to := fs.String("to", "", "RFC 3339 end (exclusive)")
	var types stringList
	fs.Var(&types, "type", "event type to export (repeatable)")
	user := fs.String("user", "", "only this user id")
	country := fs.String("country", "", "only events in this ISO alpha-2 country")
	format := fs.String("format", "ndjson", "ndjson or csv")
	out := fs.String("out", "-", "output file, - for stdout")
	if err := fs.Parse(args); err != nil {
		return err
	}
	q := map[string][]string{"from": {*from}, "to": {*to}, "type": types, "user": {*user}, "country": {*country}, "format": {*format}}
	rg, f, fmtName, err := httpapi.ExportParams(q)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	db, err := database.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return err
	}
	defer db.Close()
	events, _, err := eventstore.Open(ctx, cfg.MongoURI, cfg.MongoDatabase, db)
	if err != nil {
		return err
	}
	defer events.Close(context.Background())
	w := stdout
	if *out != "-" {
		file, err := os.Create(*out)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		defer file.Close()
		w = file
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	bar := progressbar.NewOptions64(-1, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("exporting events"),
		progressbar.OptionShowCount(), progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionClearOnFinish())
	n, err := httpapi.WriteExport(ctx, events, rg, f, fmtName, bw, func() { _ = bar.Add(1) })
	if err == nil {
		err = bw.Flush()
	}
	_ = bar.Finish()
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	fmt.Fprintf(stderr, "exported %d events\n", n)
	return nil
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// redisLogger sends go-redis's own log lines to slog at debug level.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}

// openBus connects to RabbitMQ at AMQP_URL, or runs the in-process bus.
func openBus(ctx context.Context, cfg config.Config, log *slog.Logger) (broker.Bus, error) {
	if cfg.AMQPURL == "" {
		log.Info("bus ready", "backend", "in-process")
		return inproc.New(inproc.Options{Logger: log}), nil
	}
	b, err := rabbit.Open(ctx, rabbit.Config{URL: cfg.AMQPURL, ConnectionName: "github.com/meridian-graphql/meridian", Logger: log})
	if err != nil {
		return nil, fmt.Errorf("bus: %w", err)
	}
	log.Info("bus ready", "backend", "rabbitmq")
	return b, nil
}

// modelsCmd evaluates the analytics engine's models offline.
func modelsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("models: want a subcommand: evaluate or evaluate-recs")
	}
	fs := flag.NewFlagSet("models "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	switch args[0] {
	case "evaluate":
		dir := fs.String("cdnow", "../shared/data/cdnow", "directory holding CDNOW_sample.txt")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		rep, err := models.EvaluateCDNOW(ctx, *dir)
		if err != nil {
			return fmt.Errorf("models evaluate: %w", err)
		}
		return rep.Print(stdout)
	case "evaluate-recs":
		users := fs.Int("users", 2000, "demo users to generate")
		s := fs.Uint64("seed", 1, "demo data seed")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		return recs.EvaluateDemo(ctx, stdout, *users, *s)
	default:
		return fmt.Errorf("models: unknown subcommand %q (evaluate or evaluate-recs)", args[0])
	}
}

// apikeyCmd creates or revokes API keys in the configured database.
func apikeyCmd(ctx context.Context, cfg config.Config, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "revoke") {
		return errors.New("apikey: want a subcommand: create or revoke")
	}
	fs := flag.NewFlagSet("apikey "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "", "what the key is for (create)")
	role := fs.String("role", "viewer", "viewer, analyst or admin (create)")
	id := fs.String("id", "", "the key id to revoke (revoke)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	db, err := database.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return err
	}
	defer db.Close()
	keys := auth.NewKeys(db)
	if err := keys.Migrate(ctx); err != nil {
		return err
	}
	if args[0] == "revoke" {
		ok, err := keys.Revoke(ctx, *id)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("apikey revoke: no live key with id %q", *id)
		}
		fmt.Fprintf(stderr, "revoked %s\n", *id)
		return nil
	}
	r, err := auth.ParseRole(*role)
	if err != nil {
		return fmt.Errorf("apikey create: %w", err)
	}
	k, key, err := keys.Create(ctx, *name, r)
	if err != nil {
		return fmt.Errorf("apikey create: %w", err)
	}
	fmt.Fprintf(stderr, "created key %s (%s, %s); it is shown only now:\n", k.ID, k.Name, k.Role)
	fmt.Fprintln(stdout, key)
	return nil
}

// limiterRedis is the Redis client both limiters keep their buckets in
// (one pool for the two), or nil without REDIS_URL: buckets then live in
// this instance.
func limiterRedis(cfg config.Config) (*redis.Client, error) {
	if cfg.RedisURL == "" {
		return nil, nil
	}
	opts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("rate limits: REDIS_URL: %w", err)
	}
	return redis.NewClient(opts), nil
}

// rateLimiter builds the per-caller limiter, on rdb when it is set; nil
// when the rate is 0.
func rateLimiter(cfg config.Config, rdb *redis.Client, log *slog.Logger) (*ratelimit.Limiter, error) {
	if cfg.RateLimit <= 0 {
		return nil, nil
	}
	return newLimiter("rate limit", ratelimit.Config{Rate: cfg.RateLimit, Burst: cfg.RateBurst, Prefix: cfg.CachePrefix + "ratelimit:"}, rdb, log)
}

// failureLimiter builds the limiter of failed authentications per client
// address, with buckets of its own (prefix authfail:); nil when its rate
// is 0.
func failureLimiter(cfg config.Config, rdb *redis.Client, log *slog.Logger) (*ratelimit.Limiter, error) {
	if cfg.AuthFailuresPerMinute <= 0 {
		return nil, nil
	}
	return newLimiter("failed-authentication limit", ratelimit.Config{Rate: cfg.AuthFailuresPerMinute / 60, Burst: cfg.AuthFailureBurst, Prefix: cfg.CachePrefix + "authfail:"}, rdb, log)
}

// newLimiter is ratelimit.New with a nil client kept a nil interface (the
// local fallback) and errors named for what the limiter is.
func newLimiter(what string, rc ratelimit.Config, rdb *redis.Client, log *slog.Logger) (*ratelimit.Limiter, error) {
	var u redis.UniversalClient
	if rdb != nil {
		u = rdb
	}
	l, err := ratelimit.New(rc, u, log)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return l, nil
}

// observedBus counts what is published, for /metrics.
type observedBus struct {
	broker.Bus
	m *observe.Metrics
}

func (b observedBus) Publish(ctx context.Context, exchange string, msgs ...broker.Message) error {
	err := b.Bus.Publish(ctx, exchange, msgs...)
	b.m.ObservePublish(exchange, len(msgs), err)
	return err
}

// cacheStats adapts the cache's counters to the metrics' shape.
func cacheStats(c *cache.Cache) observe.CacheStats {
	s := c.Stats()
	f := make(map[string]observe.HitsMisses, len(s.Fields))
	for k, v := range s.Fields {
		f[k] = observe.HitsMisses{Hits: v.Hits, Misses: v.Misses}
	}
	return observe.CacheStats{LocalHits: s.LocalHits, LocalMisses: s.LocalMisses, RedisHits: s.RedisHits, RedisMisses: s.RedisMisses,
		Sets: s.Sets, Evictions: s.Evictions, Invalidations: s.Invalidations, RedisErrors: s.RedisErrors, RedisSkipped: s.RedisSkipped, RedisUp: s.RedisUp, Fields: f}
}

// queueDepths reads the consumer queues' depths at each scrape.
func queueDepths(bus broker.Bus) func(context.Context) []observe.QueueDepth {
	admin, ok := bus.(broker.Admin)
	if !ok {
		return nil
	}
	return func(ctx context.Context) []observe.QueueDepth {
		var out []observe.QueueDepth
		for _, q := range consumers.Queues() {
			if r, d, err := admin.Depths(ctx, q); err == nil {
				out = append(out, observe.QueueDepth{Queue: q, Ready: r, DeadLetters: d})
			}
		}
		return out
	}
}
