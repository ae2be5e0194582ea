package observe

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Sources are the application statistics exported at scrape time. Each is
// optional; each is called once per scrape, so it should be cheap (a few
// atomic loads). They are plain functions over plain structs so that
// observe imports no application package: the caller adapts its own types.
type Sources struct {
	// Cache returns the two-tier cache's counters since start (meridian:
	// cache.Cache.Stats()).
	Cache func() CacheStats
	// Live returns the live-subscription hub's counters (meridian:
	// live.Hub.Stats()).
	Live func() LiveStats
	// Queues returns the depth of each bus work queue and its dead-letter
	// queue (meridian: broker.Admin.Depths per consumers.Queues()). It runs
	// under the scrape request's context; queues it cannot measure are left
	// out.
	Queues func(ctx context.Context) []QueueDepth
	// Outbox returns the transactional outbox's backlog (meridian:
	// outbox.ReadBacklog). Like Queues it runs under the scrape request's
	// context; on an error the outbox metrics are left out of the scrape.
	Outbox func(ctx context.Context) (OutboxBacklog, error)
}

// OutboxBacklog are the outbox rows not yet published, shaped after
// meridian's outbox.Backlog.
type OutboxBacklog struct {
	Pending int
	Oldest  time.Time // when the oldest pending row occurred; zero when none
}

// CacheStats are cumulative counters of the cache, shaped after
// meridian's cache.Stats.
type CacheStats struct {
	LocalHits, LocalMisses int64
	RedisHits, RedisMisses int64
	Sets, Evictions        int64
	Invalidations          int64
	RedisErrors            int64
	RedisSkipped           int64 // calls skipped while the circuit breaker was open
	RedisUp                bool
	// BreakerOpen: the circuit breaker is skipping Redis (its failures
	// reached the threshold, and no probe has succeeded since).
	BreakerOpen bool
	// Fields are hits and misses per GraphQL field ("Type.field"); their
	// names come from the schema, so the label stays bounded.
	Fields map[string]HitsMisses
}

// HitsMisses are the lookups of one cache field.
type HitsMisses struct{ Hits, Misses int64 }

// LiveStats are the counters of the live-subscription hub, shaped after
// meridian's live.Stats.
type LiveStats struct {
	Subscribers int   // open subscriptions now
	Published   int64 // events sent to the fanout by this instance
	Dropped     int64 // deliveries dropped for slow subscribers
	Lost        int64 // events that could not be put on the fanout
	// Groups are the distinct subscriptions the WebSocket fan-out runs
	// (one execution per event each); Executions counts those executions.
	Groups     int
	Executions int64
}

// QueueDepth is the backlog of one bus queue.
type QueueDepth struct {
	Queue       string
	Ready       int // messages waiting in the work queue
	DeadLetters int // messages in its dead-letter queue
}

// sourcesCollector turns Sources into metrics at scrape time. A custom
// collector rather than one GaugeFunc per number, so that each source is
// read once per scrape and all its numbers come from the same snapshot.
type sourcesCollector struct {
	src Sources

	cacheHits, cacheMisses                  *prometheus.Desc
	cacheSets, cacheEvictions, cacheInval   *prometheus.Desc
	cacheRedisErrors, cacheSkipped, cacheUp *prometheus.Desc
	cacheBreakerOpen                        *prometheus.Desc
	cacheFieldHits, cacheFieldMisses        *prometheus.Desc
	liveSubscribers, livePublished          *prometheus.Desc
	liveDropped, liveLost                   *prometheus.Desc
	liveGroups, liveExecutions              *prometheus.Desc
}

// AddSources registers the Cache and Live sources of parts built after the
// metrics: the live hub publishes through the bus that the metrics count,
// so it can only exist once they do. Queues and Outbox are read per scrape
// and can be given only to NewMetrics; AddSources refuses them.
func (m *Metrics) AddSources(src Sources) error {
	if src.Queues != nil || src.Outbox != nil {
		return errors.New("metrics: queue depths and the outbox backlog are NewMetrics options")
	}
	if sc := newSourcesCollector(src); sc != nil {
		return m.reg.Register(sc)
	}
	return nil
}

// newSourcesCollector returns nil when there is nothing to collect.
func newSourcesCollector(src Sources) *sourcesCollector {
	if src.Cache == nil && src.Live == nil {
		return nil
	}
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return &sourcesCollector{
		src:              src,
		cacheHits:        d("meridian_cache_hits_total", "Cache lookups answered, by tier (local, redis). Redis is asked only after a local miss: the hit ratio over both tiers is the sum of both tiers' hits over the local tier's lookups.", "tier"),
		cacheMisses:      d("meridian_cache_misses_total", "Cache lookups not answered, by tier (local, redis).", "tier"),
		cacheSets:        d("meridian_cache_sets_total", "Values stored in the cache."),
		cacheEvictions:   d("meridian_cache_evictions_total", "Local entries removed for size or expiry."),
		cacheInval:       d("meridian_cache_invalidations_total", "Cache tags invalidated on this instance."),
		cacheRedisErrors: d("meridian_cache_redis_errors_total", "Failed or timed-out Redis calls."),
		cacheSkipped:     d("meridian_cache_redis_skipped_total", "Redis calls skipped while the circuit breaker was open."),
		cacheUp:          d("meridian_cache_redis_up", "1 when the last Redis call succeeded and the breaker is closed."),
		cacheBreakerOpen: d("meridian_cache_breaker_open", "1 while the cache's circuit breaker skips Redis (consecutive failures; every lookup is local until a probe succeeds)."),
		cacheFieldHits:   d("meridian_cache_field_hits_total", `Cache hits per GraphQL field ("Type.field").`, "field"),
		cacheFieldMisses: d("meridian_cache_field_misses_total", `Cache misses per GraphQL field ("Type.field").`, "field"),
		liveSubscribers:  d("meridian_live_subscribers", "Open live (GraphQL subscription) subscribers."),
		livePublished:    d("meridian_live_published_total", "Live events sent to the fanout by this instance."),
		liveDropped:      d("meridian_live_dropped_total", "Live deliveries dropped for slow subscribers."),
		liveLost:         d("meridian_live_lost_total", "Live events that could not be put on the fanout."),
		liveGroups:       d("meridian_live_groups", "Distinct live subscriptions (document, variables, role scope) the WebSocket fan-out runs, each once per event for all its subscribers."),
		liveExecutions:   d("meridian_live_executions_total", "Responses the WebSocket fan-out executed and encoded: one per group and event."),
	}
}

func (c *sourcesCollector) Describe(ch chan<- *prometheus.Desc) {
	if c.src.Cache != nil {
		for _, d := range []*prometheus.Desc{
			c.cacheHits, c.cacheMisses, c.cacheSets, c.cacheEvictions, c.cacheInval,
			c.cacheRedisErrors, c.cacheSkipped, c.cacheUp, c.cacheBreakerOpen, c.cacheFieldHits, c.cacheFieldMisses,
		} {
			ch <- d
		}
	}
	if c.src.Live != nil {
		for _, d := range []*prometheus.Desc{c.liveSubscribers, c.livePublished, c.liveDropped, c.liveLost, c.liveGroups, c.liveExecutions} {
			ch <- d
		}
	}
}

func (c *sourcesCollector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	if c.src.Cache != nil {
		s := c.src.Cache()
		counter(c.cacheHits, s.LocalHits, "local")
		counter(c.cacheHits, s.RedisHits, "redis")
		counter(c.cacheMisses, s.LocalMisses, "local")
		counter(c.cacheMisses, s.RedisMisses, "redis")
		counter(c.cacheSets, s.Sets)
		counter(c.cacheEvictions, s.Evictions)
		counter(c.cacheInval, s.Invalidations)
		counter(c.cacheRedisErrors, s.RedisErrors)
		counter(c.cacheSkipped, s.RedisSkipped)
		gauge(c.cacheUp, boolFloat(s.RedisUp))
		gauge(c.cacheBreakerOpen, boolFloat(s.BreakerOpen))
		for f, hm := range s.Fields {
			counter(c.cacheFieldHits, hm.Hits, f)
			counter(c.cacheFieldMisses, hm.Misses, f)
		}
	}
	if c.src.Live != nil {
		s := c.src.Live()
		gauge(c.liveSubscribers, float64(s.Subscribers))
		counter(c.livePublished, s.Published)
		counter(c.liveDropped, s.Dropped)
		counter(c.liveLost, s.Lost)
		gauge(c.liveGroups, float64(s.Groups))
		counter(c.liveExecutions, s.Executions)
	}
}

// scrapeCollector reports what is measured under the scrape's context:
// queue depths and the outbox backlog. One is built per scrape to carry the
// scrape's context (see Metrics.Handler).
type scrapeCollector struct {
	ctx    context.Context
	queues func(context.Context) []QueueDepth
	outbox func(context.Context) (OutboxBacklog, error)
}

// scrapeDescs are the descriptions of scrapeCollector's metrics.
type scrapeDescs struct{ ready, dead, pending, oldest *prometheus.Desc }

func newScrapeDescs() scrapeDescs {
	return scrapeDescs{
		ready:   prometheus.NewDesc("meridian_bus_queue_ready", "Messages waiting in a bus work queue.", []string{"queue"}, nil),
		dead:    prometheus.NewDesc("meridian_bus_dead_letters", "Messages in a bus queue's dead-letter queue.", []string{"queue"}, nil),
		pending: prometheus.NewDesc("meridian_outbox_pending", "Outbox rows not yet published to the bus (the table is shared: every instance reports the same backlog).", nil, nil),
		oldest:  prometheus.NewDesc("meridian_outbox_oldest_pending_age_seconds", "Age of the oldest outbox row not yet published; 0 when none is pending.", nil, nil),
	}
}

func (c scrapeCollector) Describe(ch chan<- *prometheus.Desc) {
	d := newScrapeDescs()
	if c.queues != nil {
		ch <- d.ready
		ch <- d.dead
	}
	if c.outbox != nil {
		ch <- d.pending
		ch <- d.oldest
	}
}

func (c scrapeCollector) Collect(ch chan<- prometheus.Metric) {
	d := newScrapeDescs()
	if c.queues != nil {
		seen := map[string]bool{}
		for _, q := range c.queues(c.ctx) {
			if seen[q.Queue] {
				continue // a duplicate would fail the whole scrape
			}
			seen[q.Queue] = true
			ch <- prometheus.MustNewConstMetric(d.ready, prometheus.GaugeValue, float64(q.Ready), q.Queue)
			ch <- prometheus.MustNewConstMetric(d.dead, prometheus.GaugeValue, float64(q.DeadLetters), q.Queue)
		}
	}
	if c.outbox != nil {
		if b, err := c.outbox(c.ctx); err == nil {
			age := 0.0
			if !b.Oldest.IsZero() {
				age = max(time.Since(b.Oldest).Seconds(), 0)
			}
			ch <- prometheus.MustNewConstMetric(d.pending, prometheus.GaugeValue, float64(b.Pending))
			ch <- prometheus.MustNewConstMetric(d.oldest, prometheus.GaugeValue, age)
		}
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
