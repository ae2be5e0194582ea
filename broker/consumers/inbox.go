package consumers

import (
	"context"
	"fmt"
	"time"

	"github.com/meridian-graphql/meridian/platform/database"
)

// inbox records the message ids a consumer has fully handled, for consumers
// whose effects are not idempotent by themselves.
type inbox struct {
	db       *database.DB
	consumer string
}

// seen reports whether id was already handled.
func (in inbox) seen(ctx context.Context, id string) (bool, error) {
	rows, err := in.db.Driver.QueryContext(ctx, in.db.Rebind(`SELECT 1 FROM inbox WHERE consumer = ? AND message_id = ?`), in.consumer, id)
	if err != nil {
		return false, fmt.Errorf("inbox %s: %w", in.consumer, err)
	}
	defer rows.Close()
	found := rows.Next()
	return found, rows.Err()
}

// done records id as handled; recording it twice is harmless.
func (in inbox) done(ctx context.Context, id string, at time.Time) error {
	_, err := in.db.Driver.ExecContext(ctx, in.db.Rebind(`INSERT INTO inbox (consumer, message_id, handled_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`), in.consumer, id, at.UnixMilli())
	if err != nil {
		return fmt.Errorf("inbox %s: record %s: %w", in.consumer, id, err)
	}
	return nil
}
