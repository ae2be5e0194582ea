package main

import (
	"errors"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/meridian-graphql/meridian/broker"
	"github.com/meridian-graphql/meridian/internal/testbus"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/internal/testredis"
	"github.com/meridian-graphql/meridian/platform/config"
)

// TestClosersReverse: parts close in the reverse order of their adding,
// every one even when one fails, and only once.
func TestClosersReverse(t *testing.T) {
	var c closers
	var closed []string
	for _, name := range []string{"database", "cache", "bus"} {
		c.add(name, func() error {
			closed = append(closed, name)
			if name == "cache" {
				return errors.New("boom")
			}
			return nil
		})
	}
	err := c.close()
	if want := []string{"bus", "cache", "database"}; !slices.Equal(closed, want) {
		t.Errorf("closed %v, want %v", closed, want)
	}
	if err == nil || err.Error() != "close cache: boom" {
		t.Errorf("close: %v, want the cache's failure", err)
	}
	if err := c.close(); err != nil || len(closed) != 3 {
		t.Errorf("second close: %v, %d closes", err, len(closed))
	}
}

// TestAppAssembly opens the app on PostgreSQL, Redis and RabbitMQ: its
// parts are registered in dependency order, the cache and both limiters
// share the one Redis client, and close releases every backing service.
func TestAppAssembly(t *testing.T) {
	if !slices.Contains(testdb.Backends(), "postgres") {
		t.Skip("PostgreSQL left out by MERIDIAN_TEST_BACKENDS")
	}
	cfg := backedConfig(t, map[string]string{"MERIDIAN_RATE_LIMIT": "10"})
	ctx := t.Context()
	a, err := openApp(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			_ = a.close()
		}
	})
	if want := []string{"tracing", "database", "event store", "redis", "cache", "bus"}; !slices.Equal(a.closers.names, want) {
		t.Errorf("parts %v, want %v", a.closers.names, want)
	}
	if a.redis == nil || a.limiter == nil || a.authn.Failures == nil {
		t.Fatalf("redis %v, limiter %v, failure limiter %v: want all three", a.redis, a.limiter, a.authn.Failures)
	}
	if err := a.redis.Ping(ctx).Err(); err != nil {
		t.Fatalf("redis: %v", err)
	}
	if a.service.OnStored == nil || a.bus == a.admin {
		t.Error("the event service has no side effects, or the bus is not the counted one")
	}

	if err := a.close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	closed = true
	if err := a.db.Ping(ctx); err == nil {
		t.Error("the database answers after close")
	}
	if err := a.redis.Ping(ctx).Err(); err == nil {
		t.Error("the Redis client answers after close")
	}
	if err := a.admin.Publish(ctx, broker.ExchangeAnalytics, broker.Message{ID: "x", Type: "t"}); err == nil {
		t.Error("the bus publishes after close")
	}
}

// backedConfig is the configuration of an app on a fresh PostgreSQL
// database, the test Redis (under a prefix of the test's own) and a fresh
// RabbitMQ vhost, with more set on top.
func backedConfig(t *testing.T, more map[string]string) config.Config {
	t.Helper()
	rdb := testredis.Client(t)
	env := map[string]string{
		"DATABASE_URL":          testdb.NewPostgresDatabase(t),
		"REDIS_URL":             testredis.URL(),
		"MERIDIAN_CACHE_PREFIX": testredis.Prefix(t, rdb, "app"),
		"AMQP_URL":              testbus.VHost(t),
	}
	maps.Copy(env, more)
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestAppFailedStart: a part that cannot be built ends the start with an
// error naming what failed — for the embedded default, the SQLite file's
// path — after closing the parts built before it (it panicked on a nil app
// before).
func TestAppFailedStart(t *testing.T) {
	dir := t.TempDir()
	// A directory where the database file should be: SQLite cannot open it.
	if err := os.Mkdir(filepath.Join(dir, "meridian.db"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"MERIDIAN_DATA_DIR": dir}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := openApp(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err == nil {
		_ = a.close()
		t.Fatal("the app opened on a directory for a database file")
	}
	if a != nil || !strings.Contains(err.Error(), filepath.Join(dir, "meridian.db")) {
		t.Errorf("openApp = %v, %q: want no app and an error naming the file", a, err)
	}
}

// TestAppWarnsOnEmptyDatabase: a server on an empty PostgreSQL database
// (no demo data is seeded there) says how to fill it instead of serving
// empty answers silently.
func TestAppWarnsOnEmptyDatabase(t *testing.T) {
	if !slices.Contains(testdb.Backends(), "postgres") {
		t.Skip("PostgreSQL left out by MERIDIAN_TEST_BACKENDS")
	}
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"DATABASE_URL": testdb.NewPostgresDatabase(t)}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	a, err := openApp(t.Context(), cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	if !strings.Contains(logs.String(), "level=WARN msg=\"the database holds no data") || !strings.Contains(logs.String(), "meridian seed") {
		t.Errorf("no hint to seed in the start-up log:\n%s", logs.String())
	}
}
