// Package eventstore chooses and runs the event store backend: MongoDB when
// MONGODB_URI is set, else the SQL database that ent uses. It also runs the
// retention job that deletes old events where no TTL index does.
//
// Tested by the module root's end-to-end tests, which open it as the server
// does (attack_helpers_test.go, on the SQL database); the backends
// themselves are tested in analytics/sqlstore and analytics/mongostore.
package eventstore

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/analytics/mongostore"
	"github.com/meridian-graphql/meridian/analytics/sqlstore"
	"github.com/meridian-graphql/meridian/platform/database"
)

// Option configures Open.
type Option func(*options)

type options struct{ tp trace.TracerProvider }

// WithTracerProvider spans the MongoDB backend's commands on tp. The SQL
// backend's statements are traced by its database
// (database.WithTracerProvider).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *options) { o.tp = tp }
}

// Open returns the configured backend: MongoDB at mongoURI when it is set,
// else the tables in db, which its migrations have created.
func Open(ctx context.Context, mongoURI, mongoDatabase string, db *database.DB, opts ...Option) (analytics.Store, string, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if mongoURI != "" {
		s, err := mongostore.NewWithOptions(ctx, mongoURI, mongoDatabase, mongostore.Options{TracerProvider: o.tp})
		if err != nil {
			return nil, "", fmt.Errorf("event store (MongoDB): %w", err)
		}
		return s, "mongodb", nil
	}
	s, err := sqlstore.Open(db)
	if err != nil {
		return nil, "", fmt.Errorf("event store (%s): %w", db.Dialect, err)
	}
	return s, db.Dialect, nil
}

// RunRetention deletes events older than window every interval until ctx
// ends. A failed pass is logged and retried at the next tick.
func RunRetention(ctx context.Context, s analytics.Store, window, interval time.Duration, log *slog.Logger) {
	if window <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		cutoff := time.Now().UTC().Add(-window)
		n, err := s.DeleteBefore(ctx, cutoff)
		switch {
		case err != nil && ctx.Err() == nil:
			log.ErrorContext(ctx, "event retention pass failed", "error", err)
		case n > 0:
			log.InfoContext(ctx, "event retention", "deleted", n, "before", cutoff)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
