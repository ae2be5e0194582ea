package analytics_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/analytics/sqlstore"
	"github.com/meridian-graphql/meridian/internal/testdb"
)

// sinks record the side effects NewService composes.
type sinks struct {
	tags   []string
	stored int
}

func (s *sinks) Invalidate(_ context.Context, tags ...string) { s.tags = append(s.tags, tags...) }
func (s *sinks) Stored(events []analytics.Event)              { s.stored += len(events) }

// TestServicePort: the service NewService composes drops the events' cache
// tag and announces the events once they are stored, and its profile
// operations validate before the store sees anything — on a real store.
func TestServicePort(t *testing.T) {
	db := testdb.Open(t, "sqlite")
	ctx := context.Background()
	store, err := sqlstore.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	var fx sinks
	svc := analytics.NewService(analytics.ServiceConfig{Store: store, Cache: &fx, Live: &fx})

	if _, n, err := svc.Track(ctx, []analytics.EventInput{{UserID: 1, Type: "page_view"}, {UserID: 2, Type: "click"}}); err != nil || n != 2 {
		t.Fatalf("track: %d stored, %v", n, err)
	}
	if !slices.Equal(fx.tags, []string{analytics.CacheTag}) || fx.stored != 2 {
		t.Errorf("side effects: tags %v, %d announced; want [%s], 2", fx.tags, fx.stored, analytics.CacheTag)
	}

	var fe *analytics.FieldError
	if _, err := svc.UpsertProfile(ctx, analytics.ProfileInput{Username: "x"}); !errors.As(err, &fe) || fe.Field != "username" {
		t.Errorf("upsert with a bad username: %v", err)
	}
	if _, err := svc.UpsertProfile(ctx, analytics.ProfileInput{Username: " ada "}); err != nil {
		t.Fatal(err)
	}
	p, err := svc.AddInterest(ctx, "ada", " Go ")
	if err != nil || !slices.Equal(p.Interests, []string{"go"}) {
		t.Errorf("add interest: %+v, %v", p, err)
	}
	if _, err := svc.UpdateMetrics(ctx, "ada", map[string]any{"score": "high"}); !errors.As(err, &fe) || fe.Field != "metrics.score" {
		t.Errorf("metrics with a string: %v", err)
	}
	if p, err := svc.UpdateMetrics(ctx, "ada", map[string]any{"score": 3}); err != nil || p.Metrics["score"] != 3 {
		t.Errorf("update metrics: %+v, %v", p, err)
	}
	if ps, err := svc.UsersByInterest(ctx, "GO", 10); err != nil || len(ps) != 1 || ps[0].Username != "ada" {
		t.Errorf("users by interest: %+v, %v", ps, err)
	}
}
