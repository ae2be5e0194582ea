package sqlstore

import (
	"cmp"
	"context"
	stdsql "database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/meridian-graphql/meridian/analytics"
)

// eventCols are the stored columns of an event, in the order of
// insertion and of scanEvent.
const eventCols = "id, user_id, type, ts, day, week, month, cell, revenue_cents, category, country, city, lon, lat, metadata"

const numEventCols = 15

// Ingest sizes.
const (
	// sqliteChunk is the number of rows of one multi-row INSERT on SQLite:
	// 15 parameters a row, 15,000 per statement, under SQLite's 32,766.
	// Measured with BenchmarkInsert: 250 rows are 5–10% slower, 2,000 no
	// faster; the rest of the cost is in the B-tree inserts.
	sqliteChunk = 1000
	// rollupChunk is the number of rollup rows of one upsert on SQLite (4
	// parameters a row).
	rollupChunk = 2000
	// sqliteCacheKiB is the page cache of a connection while it ingests
	// (the working set of a batch into a table of a few hundred thousand
	// events; larger tables still gain).
	sqliteCacheKiB = 64 << 10
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

// Insert stores the events in one transaction: all or none. Its errors
// are classified (see classify): analytics.ErrRefused when the database
// refused a row — the whole call is then rolled back, and
// analytics.Service.Track finds the row —, analytics.ErrUnavailable for an
// outage. Events whose id
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
	rows, err := prepareRows(events)
	if err != nil {
		// An event without an id or with metadata JSON cannot encode:
		// the caller's data, never storable as it is.
		return 0, fmt.Errorf("insert events: %w", analytics.Refused(err))
	}
	var n int
	if s.pg {
		err = s.inTx(ctx, func(tx txn) error {
			n, err = s.insertPG(ctx, tx, rows)
			return err
		})
	} else {
		n, err = s.insertSQLite(ctx, rows)
	}
	if err != nil {
		return 0, fmt.Errorf("insert %d events: %w", len(rows), classify(err))
	}
	return n, nil
}

// prepareRows converts events to rows sorted by id, dropping the repeats of
// an id within the call (the first wins, as a stored one would).
func prepareRows(events []analytics.Event) ([]row, error) {
	rows := make([]row, 0, len(events))
	seen := make(map[string]bool, len(events))
	for i := range events {
		e := &events[i]
		if e.ID == "" {
			return nil, fmt.Errorf("event %d has no id", i)
		}
		if seen[e.ID] {
			continue
		}
		seen[e.ID] = true
		r, err := toRow(e)
		if err != nil {
			return nil, err
		}
		rows = append(rows, r)
	}
	sortRows(rows)
	return rows, nil
}

// pgInsertSQL inserts events bound as one array per column: a short
// statement whatever the number of rows (no parameter limit to chunk
// under), prepared once per connection by pgx's statement cache, the arrays
// sent in binary. In the same statement the rows RETURNed by the insert —
// the new ones only — are counted per (day, type, country) and added to the
// rollup: ingest is one round trip.
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

// insertPG inserts the whole call with one statement, whatever its size
// (the service sends at most analytics.MaxBatch events): one statement also
// means that the rollup rows are locked once, in key order, after all the
// event rows — two concurrent calls cannot each hold what the other waits
// for.
func (s *Store) insertPG(ctx context.Context, tx txn, rows []row) (int, error) {
	var n int
	if err := scanOne(ctx, tx, pgInsertSQL, pgArrays(rows), &n); err != nil {
		return 0, err
	}
	return n, nil
}

// pgArrays are the column arrays of pgInsertSQL; nil pointers are NULLs.
func pgArrays(rows []row) []any {
	n := len(rows)
	var (
		ids, types, categories, countries, cities = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		users, cents                              = make([]int64, n), make([]int64, n)
		ts, days, weeks, months                   = make([]time.Time, n), make([]time.Time, n), make([]time.Time, n), make([]time.Time, n)
		cells, metas                              = make([]*string, n), make([]*string, n)
		lons, lats                                = make([]*float64, n), make([]*float64, n)
	)
	for i, r := range rows {
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

// compareRollupKeys orders keys as the table's primary key does.
func compareRollupKeys(a, b rollupKey) int {
	return cmp.Or(strings.Compare(a.day, b.day), strings.Compare(a.typ, b.typ), strings.Compare(a.country, b.country))
}

// insertSQLite inserts multi-row VALUES chunks in one transaction.
//
// It runs on a connection of the raw pool rather than the counting driver
// (its statements are not counted), for two things the driver cannot do:
// reuse one prepared statement for every full chunk — parsing a
// 15,000-parameter statement ten times per batch was a fifth of the ingest
// time — and keep one connection to enlarge its page cache for the batch:
// with the default 2 MB, SQLite spills dirty index pages to the WAL
// mid-batch and reads them back, another fifth. The connection's own cache
// size is restored afterwards, which frees the pages: the pool's
// connections do not each keep sqliteCacheKiB.
func (s *Store) insertSQLite(ctx context.Context, rows []row) (n int, err error) {
	conn, err := s.db.SQL().Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("connection: %w", err)
	}
	defer conn.Close()
	err = ingestTx(ctx, conn, func(tx *stdsql.Tx) (err error) {
		n, err = s.writeSQLite(ctx, tx, rows)
		return err
	})
	return n, err
}

// ingestTx runs fn in a transaction on conn, committed when fn returns nil,
// with the connection's page cache enlarged (see withIngestCache).
func ingestTx(ctx context.Context, conn *stdsql.Conn, fn func(tx *stdsql.Tx) error) error {
	return withIngestCache(ctx, conn, func() error {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		return commitOrRollback(tx, fn)
	})
}

// withIngestCache runs fn with conn's page cache at sqliteCacheKiB, and
// restores the connection's own size afterwards.
func withIngestCache(ctx context.Context, conn *stdsql.Conn, fn func() error) (err error) {
	var cacheSize int64
	if err := conn.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&cacheSize); err != nil {
		return fmt.Errorf("cache size: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "PRAGMA cache_size = -"+strconv.Itoa(sqliteCacheKiB)); err != nil {
		return fmt.Errorf("cache size: %w", err)
	}
	defer func() {
		if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA cache_size = "+strconv.FormatInt(cacheSize, 10)); rerr != nil && err == nil {
			err = fmt.Errorf("restore cache size: %w", rerr)
		}
	}()
	return fn()
}

// writeSQLite writes the rows and their rollup counts in tx.
//
// INSERT OR IGNORE rather than ON CONFLICT (id) DO NOTHING: the same
// outcome here — id is the only unique key, and no bound value is ever NULL
// where the schema says NOT NULL — but without the statement journal that
// SQLite otherwise writes so that a failing multi-row statement can be
// undone on its own (a fifth of the ingest time). The transaction is the
// unit of undo anyway.
//
// The rollup counts are computed in Go while binding, and applied as they
// are when every row was new, the common case. When some ids were stored
// already, the new rows are those with a rowid above the largest before the
// call — SQLite gives a new row the largest rowid plus one, and the
// transaction holds the write lock, so no other writer interleaves — and
// the rollup adds their counts with one aggregate over that rowid range.
func (s *Store) writeSQLite(ctx context.Context, tx *stdsql.Tx, rows []row) (int, error) {
	var before int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(rowid), 0) FROM events`).Scan(&before); err != nil {
		return 0, fmt.Errorf("last rowid: %w", err)
	}
	ins := &sqliteInserter{tx: tx, counts: map[rollupKey]int64{}}
	defer ins.close()
	total, err := ins.insert(ctx, rows)
	if err != nil {
		return 0, err
	}
	counts := ins.counts
	switch {
	case total == int64(len(rows)):
		err = addRollupSQLite(ctx, tx, counts)
	case total > 0:
		_, err = tx.ExecContext(ctx, `INSERT INTO event_counts_daily (day, type, country, count)
SELECT day, type, country, COUNT(*) FROM events WHERE rowid > ? GROUP BY day, type, country
ON CONFLICT (day, type, country) DO UPDATE SET count = event_counts_daily.count + excluded.count`, before)
	}
	if err != nil {
		return 0, fmt.Errorf("rollup: %w", err)
	}
	return int(total), nil
}

// sqliteInserter writes rows in multi-row INSERT chunks of one transaction,
// the statement of a full chunk prepared once, and counts the rows per
// rollup key while binding.
type sqliteInserter struct {
	tx     *stdsql.Tx
	counts map[rollupKey]int64
	full   *stdsql.Stmt
	args   []any
}

// insert writes rows and returns how many were new.
func (w *sqliteInserter) insert(ctx context.Context, rows []row) (int64, error) {
	var total int64
	for chunk := range slices.Chunk(rows, sqliteChunk) {
		w.args = w.args[:0]
		for _, r := range chunk {
			var cell, meta, lon, lat any
			if r.cell != nil {
				cell = *r.cell
			}
			if r.meta != nil {
				meta = *r.meta
			}
			if r.lon != nil {
				lon, lat = *r.lon, *r.lat
			}
			day := r.day.Format(dayLayout)
			w.counts[rollupKey{day, r.e.Type, r.country}]++
			w.args = append(w.args, r.e.ID, int64(r.e.UserID), r.e.Type, r.ts.UnixMilli(),
				day, r.week.Format(dayLayout), r.month.Format(dayLayout),
				cell, r.cents, r.e.Category, r.country, r.city, lon, lat, meta)
		}
		var (
			res stdsql.Result
			err error
		)
		if len(chunk) == sqliteChunk {
			if w.full == nil {
				if w.full, err = w.tx.PrepareContext(ctx, sqliteInsertSQL(sqliteChunk)); err != nil {
					return 0, fmt.Errorf("prepare: %w", err)
				}
			}
			res, err = w.full.ExecContext(ctx, w.args...)
		} else {
			res, err = w.tx.ExecContext(ctx, sqliteInsertSQL(len(chunk)), w.args...)
		}
		if err != nil {
			return 0, err
		}
		added, err := res.RowsAffected()
		if err != nil {
			return 0, err
		}
		total += added
	}
	return total, nil
}

func (w *sqliteInserter) close() {
	if w.full != nil {
		_ = w.full.Close()
	}
}

// sqliteInsertSQL inserts rows events.
func sqliteInsertSQL(rows int) string {
	return `INSERT OR IGNORE INTO events (` + eventCols + `) VALUES ` + valuesList(rows, numEventCols)
}

// addRollupSQLite adds counts to event_counts_daily.
func addRollupSQLite(ctx context.Context, tx *stdsql.Tx, counts map[rollupKey]int64) error {
	keys := slices.SortedFunc(maps.Keys(counts), compareRollupKeys)
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
