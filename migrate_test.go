package main

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"

	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/platform/config"
)

// TestReplicasMigrateTogether runs the migration registry serve runs —
// the entities, then the event store, the outbox, the API keys and the
// consumers' tables — in two "replicas" (separate connection pools) at the
// same moment on a fresh PostgreSQL database, as docker-compose's api1 and
// api2 would after a fresh install, and checks that every owner's tables
// are there. Without the migration lock, CREATE TABLE races failed every
// round (pg_type unique violations).
func TestReplicasMigrateTogether(t *testing.T) {
	if !slices.Contains(testdb.Backends(), "postgres") {
		t.Skip("PostgreSQL left out by MERIDIAN_TEST_BACKENDS")
	}
	startUp := func(ctx context.Context, url string) error {
		cfg, err := config.Load(func(k string) string {
			if k == "DATABASE_URL" {
				return url
			}
			return ""
		})
		if err != nil {
			return err
		}
		db, err := openDatabase(ctx, cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			return err
		}
		defer db.Close()
		for _, table := range []string{"users", "events", "analytics_migrations", "outbox", "api_keys", "inbox", "notifications"} {
			if _, err := db.SQL().ExecContext(ctx, `SELECT count(*) FROM `+table); err != nil {
				return fmt.Errorf("table %s: %w", table, err)
			}
		}
		return nil
	}
	for round := range 5 {
		url := testdb.NewPostgresDatabase(t)
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, 2)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = startUp(t.Context(), url)
			}()
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("round %d, replica %d: %v", round, i+1, err)
			}
		}
	}
}
