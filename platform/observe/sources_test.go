package observe

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestSourcesAreReadAtScrape(t *testing.T) {
	cache := CacheStats{
		LocalHits: 6, LocalMisses: 4, RedisHits: 3, RedisMisses: 1,
		Sets: 5, Evictions: 2, Invalidations: 7, RedisErrors: 1, RedisSkipped: 9, RedisUp: true, BreakerOpen: false,
		Fields: map[string]HitsMisses{"Country.stats": {Hits: 2, Misses: 1}},
	}
	live := LiveStats{Subscribers: 3, Published: 10, Dropped: 2, Lost: 1}
	calls := 0
	s := newStack(t, stackOptions{sources: Sources{
		Cache: func() CacheStats { calls++; return cache },
		Live:  func() LiveStats { return live },
		Queues: func(ctx context.Context) []QueueDepth {
			return []QueueDepth{{Queue: "signup", Ready: 4, DeadLetters: 2}, {Queue: "signup"}, {Queue: "analytics.ingest"}}
		},
	}})
	page := s.scrape(t, "")
	wantLines(t, page,
		`meridian_cache_hits_total{tier="local"} 6`,
		`meridian_cache_hits_total{tier="redis"} 3`,
		`meridian_cache_misses_total{tier="local"} 4`,
		`meridian_cache_misses_total{tier="redis"} 1`,
		`meridian_cache_sets_total 5`,
		`meridian_cache_evictions_total 2`,
		`meridian_cache_invalidations_total 7`,
		`meridian_cache_redis_errors_total 1`,
		`meridian_cache_redis_skipped_total 9`,
		`meridian_cache_redis_up 1`,
		`meridian_cache_breaker_open 0`,
		`meridian_cache_field_hits_total{field="Country.stats"} 2`,
		`meridian_cache_field_misses_total{field="Country.stats"} 1`,
		`meridian_live_subscribers 3`,
		`meridian_live_published_total 10`,
		`meridian_live_dropped_total 2`,
		`meridian_live_lost_total 1`,
		`meridian_bus_queue_ready{queue="signup"} 4`,
		`meridian_bus_dead_letters{queue="signup"} 2`,
		`meridian_bus_dead_letters{queue="analytics.ingest"} 0`,
	)
	if calls != 1 {
		t.Errorf("cache source read %d times in one scrape", calls)
	}

	// The numbers are live: the next scrape sees the new ones.
	cache.LocalHits, cache.RedisUp, cache.BreakerOpen = 16, false, true
	wantLines(t, s.scrape(t, ""), `meridian_cache_hits_total{tier="local"} 16`, `meridian_cache_redis_up 0`, `meridian_cache_breaker_open 1`)
}

// TestCacheCountersBeforeAnyLookup: the hit ratio is left to PromQL over
// the counters (rate of hits over rate of lookups), which shows the
// recent ratio; a gauge of the ratio since start would hide it. Before the
// first lookup the counters are 0, and the page passes the linter.
func TestCacheCountersBeforeAnyLookup(t *testing.T) {
	m, err := NewMetrics(nil, MetricsOptions{Sources: Sources{Cache: func() CacheStats { return CacheStats{} }}})
	if err != nil {
		t.Fatal(err)
	}
	page := gather(t, m)
	wantLines(t, page, `meridian_cache_hits_total{tier="local"} 0`, `meridian_cache_misses_total{tier="redis"} 0`)
	if strings.Contains(page, "meridian_cache_hit_ratio") {
		t.Error("the since-start hit ratio gauge is back")
	}
	problems, err := testutil.GatherAndLint(m.Registry())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

func TestQueueDepthsRunUnderTheScrapeContext(t *testing.T) {
	type key struct{}
	var seen any
	m, _ := NewMetrics(nil, MetricsOptions{Sources: Sources{Queues: func(ctx context.Context) []QueueDepth {
		seen = ctx.Value(key{})
		return nil
	}}})
	req := httptest.NewRequest("GET", "/metrics", nil)
	m.Handler().ServeHTTP(httptest.NewRecorder(), req.WithContext(context.WithValue(req.Context(), key{}, "scrape")))
	if seen != "scrape" {
		t.Fatalf("queue source saw ctx value %v", seen)
	}
	// Scraping again must not fail on re-registration.
	if page := gather(t, m); !strings.Contains(page, "go_goroutines") {
		t.Fatal("second scrape failed")
	}
}

func TestBusCounters(t *testing.T) {
	m, _ := NewMetrics(nil, MetricsOptions{})
	boom := errors.New("boom")
	m.ObserveMessage("signup", 1, nil, false)
	m.ObserveMessage("signup", 1, boom, false)
	m.ObserveMessage("signup", 2, boom, false)
	m.ObserveMessage("signup", 3, boom, true)
	m.ObserveMessage("analytics.ingest", 1, nil, false)
	m.ObservePublish("data.processing", 3, nil)
	m.ObservePublish("data.processing", 2, boom)
	m.ObservePublish("notifications", 0, nil) // nothing sent, nothing counted

	wantLines(t, gather(t, m),
		`meridian_bus_consumed_total{outcome="ok",queue="signup"} 1`,
		`meridian_bus_consumed_total{outcome="retry",queue="signup"} 2`,
		`meridian_bus_consumed_total{outcome="dead_letter",queue="signup"} 1`,
		`meridian_bus_consumed_total{outcome="ok",queue="analytics.ingest"} 1`,
		`meridian_bus_redelivered_total{queue="signup"} 2`,
		`meridian_bus_published_total{exchange="data.processing",outcome="ok"} 3`,
		`meridian_bus_published_total{exchange="data.processing",outcome="error"} 2`,
	)
	if n := testutil.CollectAndCount(m.busPublished); n != 2 {
		t.Fatalf("published series = %d", n)
	}
}

func TestRegistryConflictsAreReported(t *testing.T) {
	m, err := NewMetrics(nil, MetricsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewMetrics(m.Registry(), MetricsOptions{}); err == nil {
		t.Fatal("registering twice on one registry succeeded")
	}
}

// TestAddSources: a source added after NewMetrics (the live hub, built
// after the bus the metrics count) is scraped beside the first ones; queue
// depths, read under the scrape's context, are refused there.
func TestAddSources(t *testing.T) {
	s := newStack(t, stackOptions{sources: Sources{Cache: func() CacheStats { return CacheStats{Sets: 5} }}})
	if err := s.metrics.AddSources(Sources{Live: func() LiveStats { return LiveStats{Subscribers: 3, Groups: 2} }}); err != nil {
		t.Fatal(err)
	}
	wantLines(t, s.scrape(t, ""), `meridian_cache_sets_total 5`, `meridian_live_subscribers 3`, `meridian_live_groups 2`)
	if err := s.metrics.AddSources(Sources{Queues: func(context.Context) []QueueDepth { return nil }}); err == nil {
		t.Error("AddSources accepted queue depths")
	}
	if err := s.metrics.AddSources(Sources{Outbox: func(context.Context) (OutboxBacklog, error) { return OutboxBacklog{}, nil }}); err == nil {
		t.Error("AddSources accepted the outbox backlog")
	}
}

// TestOutboxBacklog: the backlog is read at each scrape, under its
// context; the age is that of the oldest pending row, 0 with none; a
// backlog that cannot be read is left out, and the rest of the page stays.
func TestOutboxBacklog(t *testing.T) {
	type key struct{}
	var (
		seen any
		b    OutboxBacklog
		err  error
	)
	m, _ := NewMetrics(nil, MetricsOptions{Sources: Sources{Outbox: func(ctx context.Context) (OutboxBacklog, error) {
		seen = ctx.Value(key{})
		return b, err
	}}})
	scrape := func() string {
		req := httptest.NewRequest("GET", "/metrics", nil)
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, req.WithContext(context.WithValue(req.Context(), key{}, "scrape")))
		return rec.Body.String()
	}
	wantLines(t, scrape(), `meridian_outbox_pending 0`, `meridian_outbox_oldest_pending_age_seconds 0`)
	if seen != "scrape" {
		t.Errorf("outbox source saw ctx value %v", seen)
	}
	b = OutboxBacklog{Pending: 42, Oldest: time.Now().Add(-90 * time.Second)}
	page := scrape()
	wantLines(t, page, `meridian_outbox_pending 42`)
	var age float64
	for _, line := range strings.Split(page, "\n") {
		if v, ok := strings.CutPrefix(line, "meridian_outbox_oldest_pending_age_seconds "); ok {
			age, _ = strconv.ParseFloat(v, 64)
		}
	}
	if age < 90 || age > 100 {
		t.Errorf("oldest pending age %v, want about 90 s", age)
	}
	err = errors.New("database away")
	page = scrape()
	if strings.Contains(page, "meridian_outbox_") || !strings.Contains(page, "go_goroutines") {
		t.Errorf("an unreadable backlog: want the outbox left out and the rest served:\n%s", grepMeridian(page))
	}
}

// TestReadyGauge: meridian_ready is absent until the first readiness
// check, then the last check's answer.
func TestReadyGauge(t *testing.T) {
	m, _ := NewMetrics(nil, MetricsOptions{})
	if strings.Contains(gather(t, m), "meridian_ready") {
		t.Fatal("meridian_ready exported before any readiness check")
	}
	m.ObserveReady(true)
	wantLines(t, gather(t, m), `meridian_ready 1`)
	m.ObserveReady(false)
	wantLines(t, gather(t, m), `meridian_ready 0`)
}

// TestSQLPoolStats: the pool's database/sql statistics are exported.
func TestSQLPoolStats(t *testing.T) {
	db := sql.OpenDB(fakeConnector{})
	defer db.Close()
	db.SetMaxOpenConns(7)
	m, err := NewMetrics(nil, MetricsOptions{SQL: db})
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, gather(t, m),
		`go_sql_max_open_connections{db_name="meridian"} 7`,
		`go_sql_open_connections{db_name="meridian"} 0`,
		`go_sql_in_use_connections{db_name="meridian"} 0`,
		`go_sql_wait_count_total{db_name="meridian"} 0`,
	)
}

// fakeConnector is a database/sql connector that never connects: the pool
// statistics need no connection.
type fakeConnector struct{}

func (fakeConnector) Connect(context.Context) (driver.Conn, error) {
	return nil, errors.New("no database")
}
func (fakeConnector) Driver() driver.Driver { return nil }
