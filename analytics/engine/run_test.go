package engine_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/analytics/engine"
	"github.com/meridian-graphql/meridian/analytics/sqlstore"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/seed"
)

// TestRunRefitsWhenDataArrives: a server started on an empty database
// fits on no customers; data seeded afterwards (as `meridian seed` does
// from another process) is refitted within the recheck, not an hour
// later, so its users are scored with a model rather than churn 1.00.
func TestRunRefitsWhenDataArrives(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := testdb.Open(t, "sqlite")
	events, err := sqlstore.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(engine.Config{Client: db.Client, Events: events, EmptyRecheck: 50 * time.Millisecond, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); e.Run(ctx, time.Hour) }()
	waitFor(t, "the first fit", func() bool { return e.Status().FittedAt != nil })
	if st := e.Status(); st.TrainingUsers != 0 || st.Parameters != nil {
		t.Fatalf("fit on an empty database = %+v", st)
	}

	opts := seed.Options{Users: 300, Seed: 3}
	if _, err := seed.Generate(ctx, db.Client, opts); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a refit on the seeded data", func() bool { return e.Status().TrainingUsers > 0 })
	ids, err := db.Client.User.Query().IDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	scores, err := e.Profiles(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	certain := 0
	for _, s := range scores {
		if s.ChurnProbability == 1 {
			certain++
		}
	}
	if certain == len(ids) {
		t.Errorf("all %d seeded users score churn 1.00 after the refit", len(ids))
	}
	cancel()
	<-done
}

// waitFor polls cond for up to 30 s (a fit on a busy machine takes a while).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}
