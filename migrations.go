package main

import (
	"context"
	"log/slog"

	"github.com/meridian-graphql/meridian/analytics/eventstore"
	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/broker/consumers"
	"github.com/meridian-graphql/meridian/broker/outbox"
	"github.com/meridian-graphql/meridian/platform/config"
	"github.com/meridian-graphql/meridian/platform/database"
)

// migrations is the migration registry: every owner of tables in the SQL
// database besides ent, in the order they run after ent's schema. Each
// owner exports its own Migration; this list is the one place that says
// which run, and database.Migrate runs them all under one hold of the
// migration lock.
func migrations(cfg config.Config) []database.Migration {
	ms := eventstore.Migrations(cfg.MongoURI)
	return append(ms,
		outbox.Migration(),
		auth.Migration(),
		consumers.Migration(),
	)
}

// openDatabase opens the configured database and runs the registry, for
// the server and the commands alike: whichever starts first on a fresh
// database creates every table. extra adds options (the server's tracing).
func openDatabase(ctx context.Context, cfg config.Config, log *slog.Logger, extra ...database.Option) (*database.DB, error) {
	opts := append([]database.Option{database.WithLogger(log), database.WithPool(cfg.DBPool), database.WithMigrations(migrations(cfg)...)}, extra...)
	return database.Open(ctx, cfg.DatabaseURL, cfg.DataDir, opts...)
}
