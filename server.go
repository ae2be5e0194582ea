package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"time"

	"github.com/meridian-graphql/meridian/analytics/eventstore"
	"github.com/meridian-graphql/meridian/broker/consumers"
	"github.com/meridian-graphql/meridian/broker/outbox"
	"github.com/meridian-graphql/meridian/httpapi"
	"github.com/meridian-graphql/meridian/platform/config"
	"github.com/meridian-graphql/meridian/platform/observe"
)

// serve runs the server until ctx (the signal) ends, then shuts it down in
// order (see shutdown). Nothing but the startup and the wait for the
// signal runs under ctx: requests and background loops have contexts of
// their own, which the shutdown ends in turn, so that the signal does not
// cancel every request in flight at once.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	a, err := openApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close() // once: the shutdown's last stage has closed it already
	// bg is the parent of the background loops and of every request; it
	// ends only when serve returns.
	bg, cancelBg := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBg()
	// hard ends shutdownMargin after the grace period: it bounds a
	// consumer's batch in progress and the stages after the HTTP drain.
	hard, cancelHard := context.WithCancel(bg)
	defer cancelHard()
	loops := a.start(bg, hard)
	// Requests run under base, which ends only when the grace period is
	// over with requests still running (not with the signal).
	base, cancelRequests := context.WithCancel(bg)
	defer cancelRequests()
	drain := httpapi.NewDrain()
	srv := httpServer(base, cfg, httpapi.NewHandler(a.handlerDeps(drain)))
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	if cfg.GraphiQL {
		log.Info("serving", "graphiql", "http://"+displayAddr(ln.Addr())+"/", "graphql", "http://"+displayAddr(ln.Addr())+"/query")
	} else {
		log.Info("serving", "graphql", "http://"+displayAddr(ln.Addr())+"/query", "graphiql", "off (MERIDIAN_GRAPHIQL)")
	}
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	if cfg.MetricsAddr != "" {
		msrv, err := serveMetrics(base, cfg, a.metrics, errc)
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
		consumers: loops.consumers, relay: loops.relay, flush: loops.flush, hub: loops.hub, jobs: loops.jobs, stores: &a.closers,
	}.run(hard)
}

// loops are the app's background loops, which the shutdown stops stage by
// stage.
type loops struct {
	consumers, relay, hub *worker
	jobs                  []*worker
	// flush publishes what the outbox holds, once the relay may.
	flush func(context.Context) (int, error)
}

// start runs the app's loops under bg; hard bounds the consumers' batch in
// progress at shutdown.
func (a *app) start(bg, hard context.Context) loops {
	var l loops
	l.jobs = append(l.jobs,
		startWorker(bg, func(ctx context.Context) {
			eventstore.RunRetention(ctx, a.events, a.cfg.EventRetention, time.Hour, a.log)
		}),
		startWorker(bg, a.cache.Run),
		startWorker(bg, func(ctx context.Context) { a.engine.Run(ctx, a.cfg.ModelRefit) }),
	)
	// The relay publishes only once the consumers are attached: on a fresh
	// broker their queues and bindings are declared as they attach, and a
	// domain event published before that routes nowhere — confirmed, marked
	// sent, and lost (TestFaultSIGTERMDrain caught a sign-up committed in
	// the first second of a new vhost that no consumer ever saw). Until
	// then the rows wait in the outbox.
	attached := make(chan struct{})
	var attachOnce sync.Once
	l.relay = startWorker(bg, func(ctx context.Context) {
		select {
		case <-attached:
			a.relay.Run(ctx)
		case <-ctx.Done():
		}
	})
	l.flush = func(ctx context.Context) (int, error) {
		select {
		case <-attached:
			return a.relay.Flush(ctx)
		default:
			return 0, nil // the rows wait for the next instance's relay
		}
	}
	l.hub = startWorker(bg, func(ctx context.Context) {
		if err := a.hub.Run(ctx); err != nil {
			a.log.Error("live subscriptions stopped", "error", err)
		}
	})
	l.consumers = startWorker(bg, func(stop context.Context) {
		if err := a.consumers.RunUntil(stop, hard, func() {
			a.log.Info("bus consumers attached", "queues", consumers.Queues())
			attachOnce.Do(func() { close(attached) })
		}); err != nil {
			a.log.Error("bus consumers stopped", "error", err)
		}
	})
	return l
}

// handlerDeps are the HTTP handler's parts of the app.
func (a *app) handlerDeps(drain *httpapi.Drain) httpapi.Deps {
	cfg := a.cfg
	return httpapi.Deps{
		Limits:           &cfg.Limits,
		RateLimit:        a.limiter,
		MaxBodyBytes:     cfg.MaxBodyBytes,
		Auth:             a.authn,
		Keys:             a.keys,
		DB:               a.db,
		Events:           a.events,
		Service:          a.service,
		Cache:            a.cache,
		NoResultCache:    !cfg.ResultCache,
		Outbox:           outbox.NewWriter(a.db),
		Committed:        a.relay.Notify,
		Metrics:          a.metrics,
		MetricsElsewhere: cfg.MetricsAddr != "",
		TrustedProxies:   cfg.TrustedProxies,
		Tracing:          observe.NewTracing(a.tracer, observe.TraceOptions{Fields: cfg.TraceFields}),
		SlowQuery:        cfg.SlowQuery,
		NoCompiledReads:  !cfg.CompiledReads,
		HTTP:             cfg.CORS,
		Live:             a.hub,
		Fanout:           a.fan,
		NoFanout:         a.fan == nil,
		Bus:              a.admin,
		Policy:           policy(cfg),
		Logger:           a.log,
		Outages:          a.dbOutages,
		LoaderWait:       cfg.LoaderWait,
		RequestTimeout:   cfg.RequestTimeout,
		ExportIdle:       cfg.ExportIdleTimeout,
		ReadTimeout:      cfg.ReadTimeout,
		WSMaxOperations:  cfg.WSMaxOperations,
		Drain:            drain,
		Engine:           a.engine,
		NoGraphiQL:       !cfg.GraphiQL,
	}
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
