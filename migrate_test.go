package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/platform/config"
	"github.com/meridian-graphql/meridian/platform/database"
)

// TestReplicasMigrateTogether runs the migrations serve runs — one history
// of the entities, the event store, the outbox, the API keys and the
// consumers' tables — in two "replicas" (separate connection pools) at the
// same moment on a fresh PostgreSQL database, as docker-compose's api1 and
// api2 would after a fresh install, and checks that every owner's tables
// are there. Without the migration lock, both would apply the baseline and
// one would fail on its CREATE TABLE.
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
		for _, table := range []string{"users", "events", database.RevisionTable, "outbox", "api_keys", "inbox", "notifications"} {
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

// TestMigrateCommand: `meridian migrate status` lists every file pending on
// a fresh database and changes nothing; `migrate up` applies them, and the
// status then lists them applied. On each backend.
func TestMigrateCommand(t *testing.T) {
	for _, backend := range testdb.Backends() {
		t.Run(backend, func(t *testing.T) {
			url := testdb.URL(t, backend)
			env := func(k string) string { return map[string]string{"DATABASE_URL": url, "MERIDIAN_LOG_LEVEL": "warn"}[k] }
			migrate := func(args ...string) string {
				t.Helper()
				var out, errs bytes.Buffer
				if err := run(t.Context(), append([]string{"migrate"}, args...), env, &out, &errs); err != nil {
					t.Fatalf("migrate %v: %v (stderr %q)", args, err, errs.String())
				}
				return out.String()
			}
			st := migrate("status")
			if !strings.Contains(st, "pending   ") || strings.Contains(st, "applied ") || strings.Contains(st, ", 0 pending") {
				t.Fatalf("status of a fresh database:\n%s", st)
			}
			if again := migrate("status"); again != st {
				t.Errorf("status changed the database:\n%s\nthen\n%s", st, again)
			}
			up := migrate("up")
			if !strings.Contains(up, ", 0 pending") || !strings.Contains(up, "applied ") || strings.Contains(up, "pending   ") {
				t.Errorf("after migrate up:\n%s", up)
			}
			if again := migrate("up"); !strings.Contains(again, ", 0 pending") {
				t.Errorf("a second migrate up:\n%s", again)
			}
		})
	}
}
