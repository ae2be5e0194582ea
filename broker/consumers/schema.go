package consumers

import (
	"context"
	"fmt"

	"github.com/meridian-graphql/meridian/platform/database"
)

// Tables declares the consumers' tables for the versioned migrations
// (internal/dbschema lists them; see database.Tables).
func Tables() database.Tables { return database.Tables{Owner: "consumers", DDL: schema} }

// Migrate makes sure db has the consumers' tables: it applies db's pending
// migrations (database.DB.Migrate), whose files create them. database.Open
// has done so already, unless it was told not to migrate.
func Migrate(ctx context.Context, db *database.DB) error {
	if err := db.Migrate(ctx); err != nil {
		return fmt.Errorf("consumers schema: %w", err)
	}
	return nil
}

// schema creates the consumers' tables: the inbox of handled message ids
// and the notifications log. Times are Unix milliseconds, as in the outbox,
// so both dialects store and compare them alike.
func schema(string) []string {
	return []string{
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
	}
}
