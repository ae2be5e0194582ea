package database

import (
	"context"
	"fmt"
	"time"

	// The ent schema has hooks (User's last_active_order), so ent generates
	// its defaults, validators and hooks in ent/runtime, which must be
	// imported wherever a client is made: here, for every database.Open.
	_ "github.com/meridian-graphql/meridian/ent/runtime"
)

// backfillLastActiveOrder sets users.last_active_order — the non-null key of
// ordering by LAST_ACTIVE_AT — to last_active_at, or the epoch where that is
// NULL, in the rows where it is not already so. ent's hook keeps the two in
// step on every write; this covers the rows that predate the column, which
// the migration gave the column default. The epoch is bound as a time, so
// the SQLite driver writes it as ent does (the default's text differs, and
// SQLite compares times as text). Idempotent: once the rows agree, it
// changes nothing (it still reads the table, once per start).
func (d *DB) backfillLastActiveOrder(ctx context.Context) error {
	q := d.Rebind(`UPDATE users SET last_active_order = COALESCE(last_active_at, ?)
WHERE last_active_order <> COALESCE(last_active_at, ?)`)
	epoch := time.Unix(0, 0).UTC()
	if _, err := d.sql.ExecContext(ctx, q, epoch, epoch); err != nil {
		return fmt.Errorf("backfill users.last_active_order on %s: %w", d.Dialect, err)
	}
	return nil
}
