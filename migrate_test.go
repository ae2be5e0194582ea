package main

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/meridian-graphql/meridian/analytics/eventstore"
	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/broker/consumers"
	"github.com/meridian-graphql/meridian/broker/outbox"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/platform/database"
)

// TestReplicasMigrateTogether runs every start-up migration serve runs —
// the entities, the event store, the outbox, the API keys, the consumers'
// tables — in two "replicas" (separate connection pools) at the same
// moment on a fresh PostgreSQL database, as docker-compose's api1 and api2
// would after a fresh install. Without the migration lock, CREATE TABLE
// races failed every round (pg_type unique violations).
func TestReplicasMigrateTogether(t *testing.T) {
	if !slices.Contains(testdb.Backends(), "postgres") {
		t.Skip("PostgreSQL left out by MERIDIAN_TEST_BACKENDS")
	}
	startUp := func(ctx context.Context, url string) error {
		db, err := database.Open(ctx, url, "")
		if err != nil {
			return err
		}
		defer db.Close()
		events, _, err := eventstore.Open(ctx, "", "", db)
		if err != nil {
			return err
		}
		defer events.Close(context.Background())
		if err := outbox.Migrate(ctx, db); err != nil {
			return err
		}
		if err := auth.NewKeys(db).Migrate(ctx); err != nil {
			return err
		}
		return consumers.Migrate(ctx, db)
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
