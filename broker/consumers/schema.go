package consumers

import (
	"context"
	"fmt"

	"github.com/meridian-graphql/meridian/platform/database"
)

// Migration is the consumers' entry in the database's migration registry
// (database.WithMigrations).
func Migration() database.Migration { return database.Migration{Owner: "consumers", Run: Migrate} }

// Migrate creates the consumers' tables: the inbox of handled message ids
// and the notifications log. Times are Unix milliseconds, as in the outbox,
// so both dialects store and compare them alike. It runs under the
// migration lock: replicas starting together would otherwise race on CREATE.
func Migrate(ctx context.Context, db *database.DB) error {
	return db.WithMigrationLock(ctx, func(ctx context.Context) error { return migrate(ctx, db) })
}

func migrate(ctx context.Context, db *database.DB) error {
	for _, stmt := range []string{
		`CREATE TABLE IF NOT EXISTS inbox (
			consumer TEXT NOT NULL,
			message_id TEXT NOT NULL,
			handled_at BIGINT NOT NULL,
			PRIMARY KEY (consumer, message_id)
		)`,
		`CREATE INDEX IF NOT EXISTS inbox_handled ON inbox (handled_at)`,
		`CREATE TABLE IF NOT EXISTS notifications (
			id TEXT PRIMARY KEY,
			channel TEXT NOT NULL,
			template TEXT NOT NULL,
			recipient TEXT NOT NULL,
			subject TEXT NOT NULL,
			body TEXT NOT NULL,
			user_id BIGINT,
			correlation_id TEXT NOT NULL DEFAULT '',
			created_at BIGINT NOT NULL
		)`,
		`CREATE INDEX IF NOT EXISTS notifications_created ON notifications (created_at, id)`,
		`CREATE INDEX IF NOT EXISTS notifications_recipient ON notifications (recipient, created_at)`,
	} {
		if _, err := db.Driver.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("consumers schema: %w", err)
		}
	}
	return nil
}
