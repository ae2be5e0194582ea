// DeleteBefore: the retention purge, which takes the deleted events off
// the daily rollup in the same transaction.

package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/meridian-graphql/meridian/analytics"
)

// DeleteBefore deletes the events before t and takes them off the daily
// rollup in the same transaction, so that the rollup always counts exactly
// the stored events. Rollup rows that drop to zero are deleted.
//
// PostgreSQL: the rollup rows the deletion can touch are locked first, in
// key order — the order ingest upserts them in — so that a concurrent
// Insert cannot deadlock with it; then one statement deletes the events and
// subtracts the counts of the rows it RETURNs: one snapshot, so an event
// committed concurrently is either both deleted and subtracted or neither.
// SQLite: writers are serialised (the transaction holds the write lock), so
// the counts are subtracted by one aggregate over the doomed events before
// they are deleted.
func (s *Store) DeleteBefore(ctx context.Context, t time.Time) (int64, error) {
	var n int64
	lastDay, _, _ := analytics.Buckets(t)
	err := s.inTx(ctx, func(tx txn) error {
		if s.pg {
			if _, err := tx.ExecContext(ctx, `SELECT 1 FROM event_counts_daily WHERE day <= $1 ORDER BY day, type, country FOR UPDATE`, s.dayArg(lastDay)); err != nil {
				return fmt.Errorf("lock rollup: %w", err)
			}
			err := scanOne(ctx, tx, `WITH del AS (
	DELETE FROM events WHERE ts < $1 RETURNING day, type, country
), counts AS (
	SELECT day, type, country, COUNT(*) AS n FROM del GROUP BY day, type, country
), rollup AS (
	UPDATE event_counts_daily r SET count = r.count - c.n
	FROM counts c WHERE r.day = c.day AND r.type = c.type AND r.country = c.country
)
SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM counts`, []any{s.boundArg(t)}, &n)
			if err != nil {
				return fmt.Errorf("delete: %w", err)
			}
		} else {
			if _, err := tx.ExecContext(ctx, `INSERT INTO event_counts_daily (day, type, country, count)
SELECT day, type, country, -COUNT(*) FROM events WHERE ts < ? GROUP BY day, type, country
ON CONFLICT (day, type, country) DO UPDATE SET count = event_counts_daily.count + excluded.count`, s.boundArg(t)); err != nil {
				return fmt.Errorf("subtract from rollup: %w", err)
			}
			res, err := tx.ExecContext(ctx, `DELETE FROM events WHERE ts < ?`, s.boundArg(t))
			if err != nil {
				return fmt.Errorf("delete: %w", err)
			}
			if n, err = res.RowsAffected(); err != nil {
				return fmt.Errorf("delete: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM event_counts_daily WHERE day <= ? AND count <= 0`), s.dayArg(lastDay)); err != nil {
			return fmt.Errorf("drop empty rollup rows: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("delete events before %s: %w", t.UTC().Format(time.RFC3339), err)
	}
	return n, nil
}
