package observe

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// MetricsOptions are the inputs of NewMetrics; every field is optional.
type MetricsOptions struct {
	// StatementsOf returns the SQL statements run so far on behalf of the
	// request of ctx (meridian: database.CounterFrom(ctx).N(), guarded for
	// nil). Without it the statements histogram stays empty.
	StatementsOf func(ctx context.Context) int64
	// Sources feed the cache, live-subscription, queue-depth and outbox
	// metrics at scrape time.
	Sources Sources
	// SQL, when set, is the database pool whose statistics are exported
	// (go_sql_*{db_name="meridian"}: open, in-use and idle connections,
	// waits for one).
	SQL *sql.DB
	// MaxLabelValues caps the distinct values of each client- or
	// caller-influenced label (operation names, error codes, queues,
	// exchanges); later newcomers are counted as "other". Default 200.
	MaxLabelValues int
	// Token, when set, is the bearer token Handler requires: the queue
	// depths and cache stats are for operators, not for any caller of the
	// API port.
	Token string
}

// Metrics holds meridian's Prometheus metrics and the registry that exports
// them. Build one per process with NewMetrics and share it: its methods are
// safe for concurrent use.
type Metrics struct {
	reg          *prometheus.Registry
	statementsOf func(context.Context) int64
	queues       func(context.Context) []QueueDepth
	outbox       func(context.Context) (OutboxBacklog, error)
	token        string

	opDuration    *prometheus.HistogramVec // operation, type
	gqlErrors     *prometheus.CounterVec   // field, code
	sqlStatements *prometheus.HistogramVec // operation, type

	httpRequests *prometheus.CounterVec   // code, method, route
	httpDuration *prometheus.HistogramVec // code, method, route

	busConsumed    *prometheus.CounterVec // queue, outcome
	busRedelivered *prometheus.CounterVec // queue
	busPublished   *prometheus.CounterVec // exchange, outcome

	ready *prometheus.GaugeVec // no labels: absent until the first readiness check

	ops, codes, queueNames, exchanges *labelSet
}

// latencyBuckets span a cache hit (a few ms) to the request timeout (30s).
// Functions rather than variables, so no caller can alter a shared slice.
func latencyBuckets() []float64 {
	return []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
}

// statementBuckets: a well-batched operation runs one statement per level
// of its query; the top buckets are there to make N+1 regressions obvious.
func statementBuckets() []float64 {
	return []float64{0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233}
}

// NewMetrics registers meridian's metrics, the Go runtime collector and the
// process collector on reg (a new registry when nil). A fresh registry
// rather than prometheus.DefaultRegisterer keeps the process free of global
// metric state and lets tests build independent instances.
func NewMetrics(reg *prometheus.Registry, o MetricsOptions) (*Metrics, error) {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	if o.MaxLabelValues <= 0 {
		o.MaxLabelValues = 200
	}
	m := &Metrics{
		reg:          reg,
		statementsOf: o.StatementsOf,
		queues:       o.Sources.Queues,
		outbox:       o.Sources.Outbox,
		token:        o.Token,
		opDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "meridian_graphql_operation_duration_seconds",
			Help:    "Time from receiving a GraphQL request to its response, by operation name and type (subscriptions excluded).",
			Buckets: latencyBuckets(),
		}, []string{"operation", "type"}),
		gqlErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "meridian_graphql_errors_total",
			Help: `GraphQL errors in responses, by schema field ("Type.field"; "none" for request-level errors) and extensions.code.`,
		}, []string{"field", "code"}),
		sqlStatements: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "meridian_sql_statements_per_request",
			Help:    "SQL statements run for one GraphQL operation, by operation name and type.",
			Buckets: statementBuckets(),
		}, []string{"operation", "type"}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "meridian_http_requests_total",
			Help: `HTTP requests served, by status code, method and route (the ServeMux pattern's path; "unmatched" when none matched).`,
		}, []string{"code", "method", "route"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "meridian_http_request_duration_seconds",
			Help:    `HTTP request latency, by status code, method and route (the ServeMux pattern's path; "unmatched" when none matched), WebSocket and SSE streams excluded.`,
			Buckets: latencyBuckets(),
		}, []string{"code", "method", "route"}),
		busConsumed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "meridian_bus_consumed_total",
			Help: "Bus messages handled, by queue and outcome (ok, retry, dead_letter).",
		}, []string{"queue", "outcome"}),
		busRedelivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "meridian_bus_redelivered_total",
			Help: "Bus messages handled on a second or later attempt, by queue.",
		}, []string{"queue"}),
		busPublished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "meridian_bus_published_total",
			Help: "Bus messages published, by exchange and outcome (ok, error).",
		}, []string{"exchange", "outcome"}),
		ready: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "meridian_ready",
			Help: "1 when the last readiness check (GET /readyz) found every backend answering and the server not draining, 0 when it did not; absent until the first check.",
		}, nil),
		ops:        newLabelSet(o.MaxLabelValues),
		codes:      newLabelSet(o.MaxLabelValues),
		queueNames: newLabelSet(o.MaxLabelValues),
		exchanges:  newLabelSet(o.MaxLabelValues),
	}
	cs := []prometheus.Collector{
		m.opDuration, m.gqlErrors, m.sqlStatements,
		m.httpRequests, m.httpDuration,
		m.busConsumed, m.busRedelivered, m.busPublished, m.ready,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	}
	if o.SQL != nil {
		cs = append(cs, collectors.NewDBStatsCollector(o.SQL, "meridian"))
	}
	if sc := newSourcesCollector(o.Sources); sc != nil {
		cs = append(cs, sc)
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Registry is the registry the metrics live in, for callers that add their
// own collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ObserveReady records the answer of a readiness check (meridian_ready):
// the server's GET /readyz calls it each time it answers, which the proxy
// and the container's health check do every few seconds.
func (m *Metrics) ObserveReady(ready bool) { m.ready.WithLabelValues().Set(boolFloat(ready)) }

// Handler serves the metrics in the Prometheus text format (or OpenMetrics,
// with exemplars, when the scraper asks for it). Queue depths and the
// outbox backlog are gathered under the scrape request's context, so a
// slow broker or database cannot outlive the scrape. With
// MetricsOptions.Token set it answers 401 to a request without
// "Authorization: Bearer TOKEN".
func (m *Metrics) Handler() http.Handler {
	if m.token == "" {
		return m.scrape()
	}
	want := []byte("Bearer " + m.token)
	h := m.scrape()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "metrics need the bearer token (MERIDIAN_METRICS_TOKEN)", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// scrape serves the metrics without asking for a token.
func (m *Metrics) scrape() http.Handler {
	opts := promhttp.HandlerOpts{EnableOpenMetrics: true, Registry: m.reg}
	if m.queues == nil && m.outbox == nil {
		return promhttp.HandlerFor(m.reg, opts)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// prometheus.Collector.Collect takes no context, so the depths and
		// the backlog are collected by a registry made for this one scrape.
		scrape := prometheus.NewRegistry()
		scrape.MustRegister(scrapeCollector{ctx: r.Context(), queues: m.queues, outbox: m.outbox})
		promhttp.HandlerFor(prometheus.Gatherers{m.reg, scrape}, opts).ServeHTTP(w, r)
	})
}
