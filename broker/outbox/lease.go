package outbox

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
)

// A lease is how the relay owns rows without holding a transaction: claim
// stamps claimed_until on a batch of pending rows and commits at once, so
// no lock and no open transaction lives through the publish, which may wait
// on a broker that is away. Other relays skip rows whose lease has not run
// out; a lease only runs out when its relay died between claim and mark
// (a failed publish hands its rows back at once), and the rows are then
// published again under the same ids, which consumers dedupe.

// claim leases up to r.batch pending rows, oldest first, until the returned
// lease time (Unix ms) and returns them in (occurred_at, id) order.
func (r *Relay) claim(ctx context.Context) ([]row, int64, error) {
	now := r.now()
	until := now.Add(r.lease()).UnixMilli()
	q := `UPDATE outbox SET claimed_until = ? WHERE id IN (
		SELECT id FROM outbox WHERE sent_at IS NULL AND (claimed_until IS NULL OR claimed_until <= ?)
		ORDER BY occurred_at, id LIMIT ?`
	if r.db.Dialect == dialect.Postgres {
		// Relays of other instances claiming at the same moment take
		// other rows instead of waiting for these.
		q += " FOR UPDATE SKIP LOCKED"
	}
	q += `) RETURNING id, exchange, type, body, occurred_at, correlation_id, schema_version, headers`
	// A transaction only so that SQLite takes its write lock at BEGIN
	// (txlock=immediate) instead of upgrading a read; it commits before any
	// network I/O to the broker.
	tx, err := r.db.Driver.BeginTx(ctx, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("outbox: claim: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	var rows entsql.Rows
	if err := tx.Query(ctx, r.db.Rebind(q), []any{until, now.UnixMilli(), r.batch}, &rows); err != nil {
		return nil, 0, fmt.Errorf("outbox: claim pending: %w", err)
	}
	var pending []row
	for rows.Next() {
		var (
			rw            row
			body, headers string
		)
		if err := rows.Scan(&rw.msg.ID, &rw.exchange, &rw.msg.Type, &body, &rw.occurred, &rw.msg.CorrelationID, &rw.msg.SchemaVersion, &headers); err != nil {
			rows.Close()
			return nil, 0, fmt.Errorf("outbox: claim: scan: %w", err)
		}
		rw.msg.Body = []byte(body)
		rw.msg.Headers = decodeHeaders(headers)
		rw.msg.OccurredAt = time.UnixMilli(rw.occurred).UTC()
		pending = append(pending, rw)
	}
	if err := rows.Close(); err != nil {
		return nil, 0, fmt.Errorf("outbox: claim pending: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, 0, fmt.Errorf("outbox: claim: commit: %w", err)
	}
	// RETURNING promises no order; publishing does.
	slices.SortFunc(pending, func(a, b row) int {
		return cmp.Or(cmp.Compare(a.occurred, b.occurred), strings.Compare(a.msg.ID, b.msg.ID))
	})
	return pending, until, nil
}

// markSent records ids as published and ends their lease.
func (r *Relay) markSent(ctx context.Context, ids []string) error {
	args := make([]any, 0, len(ids)+1)
	args = append(args, r.now().UnixMilli())
	for _, id := range ids {
		args = append(args, id)
	}
	q := `UPDATE outbox SET sent_at = ?, claimed_until = NULL WHERE id IN (?` + strings.Repeat(", ?", len(ids)-1) + `)`
	if _, err := r.db.Driver.ExecContext(ctx, r.db.Rebind(q), args...); err != nil {
		return fmt.Errorf("outbox: mark %d sent: %w", len(ids), err)
	}
	return nil
}

// release hands back the rows of a lease that could not be published, so
// the next pass (of any relay) takes them again at once. Only rows still
// under this very lease are touched: a row whose lease ran out and was
// claimed by another relay is that relay's now.
func (r *Relay) release(ctx context.Context, ids []string, until int64) error {
	args := make([]any, 0, len(ids)+1)
	args = append(args, until)
	for _, id := range ids {
		args = append(args, id)
	}
	q := `UPDATE outbox SET claimed_until = NULL WHERE sent_at IS NULL AND claimed_until = ? AND id IN (?` + strings.Repeat(", ?", len(ids)-1) + `)`
	if _, err := r.db.Driver.ExecContext(ctx, r.db.Rebind(q), args...); err != nil {
		return fmt.Errorf("outbox: release %d rows: %w", len(ids), err)
	}
	return nil
}
