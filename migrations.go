package main

import (
	"context"
	"log/slog"

	"github.com/meridian-graphql/meridian/platform/config"
	"github.com/meridian-graphql/meridian/platform/database"
)

// openDatabase opens the configured database for the server and the
// commands alike, and applies the pending versioned migrations
// (platform/database/migrations: every table the server owns — the
// entities, the event store, the outbox, the API keys, the consumers'
// tables — in one history), under the migration lock: whichever starts
// first on a fresh database creates every table. Destructive migrations are
// refused unless MERIDIAN_MIGRATE_ALLOW_DESTRUCTIVE; `meridian migrate`
// (cmd_migrate.go) shows and applies them by hand. More options (say,
// database.WithoutMigrate) follow the configuration's.
func openDatabase(ctx context.Context, cfg config.Config, log *slog.Logger, opts ...database.Option) (*database.DB, error) {
	return database.Open(ctx, cfg.DatabaseURL, cfg.DataDir, append([]database.Option{
		database.WithLogger(log), database.WithPool(cfg.DBPool), database.WithAllowDestructive(cfg.MigrateAllowDestructive),
	}, opts...)...)
}
