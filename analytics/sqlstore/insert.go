package sqlstore

import (
	"cmp"
	"context"
	stdsql "database/sql"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"meridian/analytics"
)

// eventCols are the stored columns of an event, in the order of
// insertion and of scanEvent.
const eventCols = "id, user_id, type, ts, day, week, month, cell, revenue_cents, category, country, city, lon, lat, metadata"

const numEventCols = 15

// Ingest sizes.
const (
	// pgChunk is the number of events bound per PostgreSQL statement: each
	// column is one array argument, so there is no parameter limit, but a
	// bound keeps the memory of one statement in check for huge calls.
	pgChunk = 10000
	// sqliteChunk is the number of rows of one multi-row INSERT on SQLite:
	// 15 parameters a row, 9,000 per statement, well under SQLite's 32,766.
	// Larger statements gain nothing measurable (see BenchmarkInsert); the
	// cost is in the B-tree inserts.
	sqliteChunk = 250
	// rollupChunk is the number of rollup rows of one upsert on SQLite (4
	// parameters a row).
	rollupChunk = 2000
)

// row is an event as stored: the column values, computed once.
type row struct {
	e           *analytics.Event
	ts          time.Time
	day         time.Time
	week, month time.Time
	cell        *string
	cents       int64
	country     string
	city        string
	lon, lat    *float64
	meta        *string
}

// toRow converts a prepared event to column values. The buckets are
// recomputed from the timestamp (they are what Prepare computes): the rollup
// and the raw-edge counts of EventDistribution must agree on which day an
// event belongs to, whatever a caller left in Day.
func toRow(e *analytics.Event) (row, error) {
	r := row{e: e, ts: e.Timestamp.UTC().Truncate(time.Millisecond)}
	r.day, r.week, r.month = analytics.Buckets(r.ts)
	if e.Cell != "" {
		c := e.Cell
		r.cell = &c
	}
	r.cents = int64(math.Round(e.Revenue * 100))
	if g := e.Geo; g != nil {
		r.country, r.city = g.Country, g.City
		lon, lat := g.Lon, g.Lat
		r.lon, r.lat = &lon, &lat
	}
	if e.Metadata != nil {
		b, err := json.Marshal(e.Metadata)
		if err != nil {
			return row{}, fmt.Errorf("event %s: metadata: %w", e.ID, err)
		}
		m := string(b)
		r.meta = &m
	}
	return r, nil
}

// Insert stores the events in one transaction: all or none. Events whose id
// is already stored, or repeats an earlier event of the call, are skipped
// (ON CONFLICT (id) DO NOTHING); the daily rollup is incremented for the
// rows actually inserted only, in the same transaction, so it never counts
// a skipped duplicate nor survives a rolled-back call.
//
// The rows are sent sorted by id: two concurrent calls with overlapping ids
// then lock them in the same order and cannot deadlock; likewise the rollup
// rows are upserted in key order.
func (s *Store) Insert(ctx context.Context, events []analytics.Event) (int, error) {
	if len(events) == 0 {
		return 0, nil
	}
	rows := make([]row, 0, len(events))
	seen := make(map[string]bool, len(events))
	for i := range events {
		e := &events[i]
		if e.ID == "" {
			return 0, fmt.Errorf("insert events: event %d has no id", i)
		}
		if seen[e.ID] {
			continue // the first of the call wins, as a stored one would
		}
		seen[e.ID] = true
		r, err := toRow(e)
		if err != nil {
			return 0, fmt.Errorf("insert events: %w", err)
		}
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(a, b row) int { return strings.Compare(a.e.ID, b.e.ID) })
	var n int
	var err error
	if s.pg {
		err = s.inTx(ctx, func(tx txn) error {
			var err error
			n, err = s.insertPG(ctx, tx, rows)
			return err
		})
	} else {
		var tx *stdsql.Tx
		if tx, err = s.db.SQL().BeginTx(ctx, nil); err == nil {
			if n, err = s.insertSQLite(ctx, tx, rows); err == nil {
				err = tx.Commit()
			} else {
				tx.Rollback()
			}
		}
	}
	if err != nil {
		return 0, fmt.Errorf("insert %d events: %w", len(rows), err)
	}
	return n, nil
}

// pgInsertSQL inserts a chunk bound as one array per column: one short
// statement whatever the number of rows, prepared once per connection by
// pgx's statement cache, with the arrays sent in binary. In the same
// statement, the rows RETURNed by the insert — the new ones only — are
// counted per (day, type, country) and added to the rollup, so ingest costs
// one round trip per chunk.
const pgInsertSQL = `WITH ins AS (
	INSERT INTO events (` + eventCols + `)
	SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::timestamptz[], $5::date[], $6::date[], $7::date[],
		$8::text[], $9::bigint[], $10::text[], $11::text[], $12::text[], $13::float8[], $14::float8[], $15::jsonb[])
	ON CONFLICT (id) DO NOTHING
	RETURNING day, type, country
), counts AS (
	SELECT day, type, country, COUNT(*) AS n FROM ins GROUP BY day, type, country
), rollup AS (
	INSERT INTO event_counts_daily (day, type, country, count)
	SELECT day, type, country, n FROM counts ORDER BY day, type, country
	ON CONFLICT (day, type, country) DO UPDATE SET count = event_counts_daily.count + EXCLUDED.count
)
SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM counts`

func (s *Store) insertPG(ctx context.Context, tx txn, rows []row) (int, error) {
	total := 0
	for chunk := range slices.Chunk(rows, pgChunk) {
		var n int
		if err := scanOne(ctx, tx, pgInsertSQL, pgArrays(chunk), &n); err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// pgArrays are the column arrays of pgInsertSQL. Pointers are NULLs when nil.
func pgArrays(chunk []row) []any {
	n := len(chunk)
	var (
		ids, types, categories, countries, cities = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		users, cents                              = make([]int64, n), make([]int64, n)
		ts, days, weeks, months                   = make([]time.Time, n), make([]time.Time, n), make([]time.Time, n), make([]time.Time, n)
		cells, metas                              = make([]*string, n), make([]*string, n)
		lons, lats                                = make([]*float64, n), make([]*float64, n)
	)
	for i, r := range chunk {
		ids[i], users[i], types[i] = r.e.ID, int64(r.e.UserID), r.e.Type
		ts[i], days[i], weeks[i], months[i] = r.ts, r.day, r.week, r.month
		cells[i], cents[i], categories[i] = r.cell, r.cents, r.e.Category
		countries[i], cities[i], lons[i], lats[i], metas[i] = r.country, r.city, r.lon, r.lat, r.meta
	}
	return []any{ids, users, types, ts, days, weeks, months, cells, cents, categories, countries, cities, lons, lats, metas}
}

// rollupKey is one row of event_counts_daily.
type rollupKey struct {
	day          string
	typ, country string
}

// insertSQLite inserts multi-row VALUES chunks, each RETURNING the new
// rows' rollup keys, then adds the counts to the rollup in a few multi-row
// upserts. SQLite has no array parameters; bound values are cheap since
// nothing crosses a network, and the transaction makes the chunks one
// atomic write.
func (s *Store) insertSQLite(ctx context.Context, tx txn, rows []row) (int, error) {
	if _, err := tx.ExecContext(ctx, "PRAGMA cache_size = -65536"); err != nil {
		return 0, err
	}
	var before int64
	if err := scanOne(ctx, tx, `SELECT COALESCE(MAX(rowid), 0) FROM events`, nil, &before); err != nil {
		return 0, fmt.Errorf("last rowid: %w", err)
	}
	total := int64(0)
	counts := map[rollupKey]int64{}
	var full *stdsql.Stmt
	args := make([]any, 0, min(len(rows), sqliteChunk)*numEventCols)
	for chunk := range slices.Chunk(rows, sqliteChunk) {
		var exec func(ctx context.Context, args ...any) (stdsql.Result, error)
		if len(chunk) == sqliteChunk {
			if full == nil {
				rt := tx.(*stdsql.Tx)
				var err error
				if full, err = rt.PrepareContext(ctx, `INSERT OR IGNORE INTO events (`+eventCols+`) VALUES `+valuesList(len(chunk), numEventCols)); err != nil {
					return 0, err
				}
				defer full.Close()
			}
			exec = full.ExecContext
		} else {
			q := `INSERT OR IGNORE INTO events (` + eventCols + `) VALUES ` + valuesList(len(chunk), numEventCols)
			exec = func(ctx context.Context, args ...any) (stdsql.Result, error) { return tx.ExecContext(ctx, q, args...) }
		}
		args = args[:0]
		for _, r := range chunk {
			var cell, meta any
			if r.cell != nil {
				cell = *r.cell
			}
			if r.meta != nil {
				meta = *r.meta
			}
			var lon, lat any
			if r.lon != nil {
				lon, lat = *r.lon, *r.lat
			}
			day := r.day.Format(dayLayout)
			counts[rollupKey{day, r.e.Type, r.country}]++
			args = append(args, r.e.ID, int64(r.e.UserID), r.e.Type, r.ts.UnixMilli(),
				day, r.week.Format(dayLayout), r.month.Format(dayLayout),
				cell, r.cents, r.e.Category, r.country, r.city, lon, lat, meta)
		}
		res, err := exec(ctx, args...)
		if err != nil {
			return 0, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, err
		}
		total += n
	}
	switch {
	case total == int64(len(rows)):
		if err := s.addRollupSQLite(ctx, tx, counts); err != nil {
			return 0, fmt.Errorf("rollup: %w", err)
		}
	case total > 0:
		if _, err := tx.ExecContext(ctx, `INSERT INTO event_counts_daily (day, type, country, count)
SELECT day, type, country, COUNT(*) FROM events WHERE rowid > ? GROUP BY day, type, country
ON CONFLICT (day, type, country) DO UPDATE SET count = event_counts_daily.count + excluded.count`, before); err != nil {
			return 0, fmt.Errorf("rollup: %w", err)
		}
	}
	return int(total), nil
}

// addRollupSQLite adds counts to event_counts_daily, in key order.
func (s *Store) addRollupSQLite(ctx context.Context, tx txn, counts map[rollupKey]int64) error {
	keys := make([]rollupKey, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b rollupKey) int {
		return cmp.Or(strings.Compare(a.day, b.day), strings.Compare(a.typ, b.typ), strings.Compare(a.country, b.country))
	})
	for chunk := range slices.Chunk(keys, rollupChunk) {
		args := make([]any, 0, 4*len(chunk))
		for _, k := range chunk {
			args = append(args, k.day, k.typ, k.country, counts[k])
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO event_counts_daily (day, type, country, count) VALUES `+valuesList(len(chunk), 4)+
			` ON CONFLICT (day, type, country) DO UPDATE SET count = event_counts_daily.count + excluded.count`, args...); err != nil {
			return err
		}
	}
	return nil
}

// valuesList is "(?, …), (?, …)…": rows tuples of cols placeholders.
func valuesList(rows, cols int) string {
	tuple := "(" + strings.Repeat("?,", cols-1) + "?)"
	var b strings.Builder
	b.Grow(rows * (len(tuple) + 1))
	for i := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(tuple)
	}
	return b.String()
}

// scanOne runs a query returning one row and scans it.
func scanOne(ctx context.Context, q execQuerier, query string, args []any, dest ...any) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return fmt.Errorf("no row returned")
	}
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	return rows.Close()
}
