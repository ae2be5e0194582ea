package outbox

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/meridian-graphql/meridian/platform/database"
)

// Backlog is what waits in the outbox for a relay.
type Backlog struct {
	Pending int       // rows not yet published
	Oldest  time.Time // when the oldest of them occurred; zero when none
}

// ReadBacklog counts the rows not yet published and finds the oldest, in
// one statement over the pending rows' index. The table is shared by every
// instance, so each reads the same backlog (/metrics reports it per
// scrape).
func ReadBacklog(ctx context.Context, db *database.DB) (Backlog, error) {
	rows, err := db.Driver.QueryContext(ctx, `SELECT COUNT(*), MIN(occurred_at) FROM outbox WHERE sent_at IS NULL`)
	if err != nil {
		return Backlog{}, fmt.Errorf("outbox: backlog: %w", err)
	}
	defer rows.Close()
	var (
		b      Backlog
		oldest sql.NullInt64
	)
	if rows.Next() {
		if err := rows.Scan(&b.Pending, &oldest); err != nil {
			return Backlog{}, fmt.Errorf("outbox: backlog: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return Backlog{}, fmt.Errorf("outbox: backlog: %w", err)
	}
	if oldest.Valid {
		b.Oldest = time.UnixMilli(oldest.Int64)
	}
	return b, nil
}
