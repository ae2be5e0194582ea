package sqlstore

import (
	"context"
	stdsql "database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/meridian-graphql/meridian/analytics"
)

var _ analytics.BulkLoader = (*Store)(nil)

// loadMaintenanceMem is PostgreSQL's maintenance_work_mem while Load
// rebuilds the indexes: a sort of millions of keys in memory rather than in
// temporary files.
const loadMaintenanceMem = "256MB"

// Load fills the empty store with every event fill puts (see
// analytics.BulkLoader), in one transaction on one connection of the raw
// pool, holding the migration lock and an exclusive lock of the events
// table: a concurrent migration, Insert or Load waits for it.
//
// What makes it fast is what an empty table allows: the events table's
// secondary indexes (and on PostgreSQL its primary key) are dropped first
// and rebuilt once at the end — one sort per index instead of millions of
// B-tree descents —, the rows go in by COPY on PostgreSQL and by the
// prepared multi-row INSERT of Insert on SQLite, and the rollup is written
// once at the end. The index definitions are read back from the catalog, so
// the rebuilt ones are whatever the migrations made. fill runs in its own
// goroutine, so generating events and storing them overlap.
func (s *Store) Load(ctx context.Context, fill func(put func([]analytics.Event) error) error) (int, error) {
	conn, err := s.db.SQL().Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("load events: connection: %w", err)
	}
	defer conn.Close()
	f := startFeed(ctx, fill)
	var n int
	if s.pg {
		n, err = s.loadPG(ctx, conn, f)
	} else {
		n, err = s.loadSQLite(ctx, conn, f)
	}
	// A failed fill is the cause of the loader's error too (pgx reports
	// an aborted COPY by its SQLSTATE only).
	if ferr := f.stop(); ferr != nil {
		err = ferr
	}
	if errors.Is(err, analytics.ErrNotEmpty) {
		return 0, err
	}
	if err != nil {
		return 0, fmt.Errorf("load events: %w", err)
	}
	return n, nil
}

// feed hands the batches of a fill running in its own goroutine to the
// loader: generating the events and storing them overlap.
type feed struct {
	ch      chan []analytics.Event
	done    chan error
	started chan struct{}
	cancel  context.CancelFunc
	began   bool
	err     error // fill's error, once ch is closed
}

// errLoadEnded is what put returns once the loader stopped reading.
var errLoadEnded = errors.New("the load ended")

func startFeed(ctx context.Context, fill func(put func([]analytics.Event) error) error) *feed {
	ctx, cancel := context.WithCancel(ctx)
	f := &feed{ch: make(chan []analytics.Event, 2), done: make(chan error, 1), started: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(f.ch)
		// fill starts only once the loader found the store empty.
		select {
		case <-f.started:
		case <-ctx.Done():
			f.done <- nil
			return
		}
		f.done <- fill(func(b []analytics.Event) error {
			select {
			case f.ch <- b:
				return nil
			case <-ctx.Done():
				return errLoadEnded
			}
		})
	}()
	return f
}

// next returns the next batch, false at the end or when fill failed (then
// f.err says why).
func (f *feed) next() ([]analytics.Event, bool) {
	if !f.began {
		f.began = true
		close(f.started)
	}
	b, ok := <-f.ch
	if !ok {
		if f.err = <-f.done; f.err != nil {
			f.err = fmt.Errorf("generate events: %w", f.err)
		}
		f.done <- f.err // for stop
		return nil, false
	}
	return b, true
}

// stop ends the fill (if it still runs) and returns its error.
func (f *feed) stop() error {
	// A fill not started yet never starts: the goroutine sees the
	// cancellation, not started (which stays open).
	f.cancel()
	for range f.ch { // drain: the fill may be blocked in put
	}
	err := <-f.done
	if errors.Is(err, errLoadEnded) {
		return nil // the loader stopped first, and says why
	}
	return err
}

// eventIndex is an index of the events table: its name and definition.
type eventIndex struct{ name, def string }

// loadPG runs the load in a pgx transaction on conn's driver connection.
func (s *Store) loadPG(ctx context.Context, conn *stdsql.Conn, f *feed) (n int, err error) {
	err = conn.Raw(func(dc any) error {
		if w, ok := dc.(interface{ Raw() driver.Conn }); ok {
			dc = w.Raw() // the tracing wrapper (database.WithTracerProvider)
		}
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("driver connection %T is not pgx", dc)
		}
		return pgx.BeginFunc(ctx, sc.Conn(), func(tx pgx.Tx) error {
			n, err = loadPGTx(ctx, tx, f)
			return err
		})
	})
	return n, err
}

func loadPGTx(ctx context.Context, tx pgx.Tx, f *feed) (int, error) {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLockKey)); err != nil {
		return 0, fmt.Errorf("lock migrations: %w", err)
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE events, event_counts_daily IN ACCESS EXCLUSIVE MODE`); err != nil {
		return 0, fmt.Errorf("lock tables: %w", err)
	}
	var full bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM events) OR EXISTS (SELECT 1 FROM event_counts_daily)`).Scan(&full); err != nil {
		return 0, fmt.Errorf("check for events: %w", err)
	}
	if full {
		return 0, analytics.ErrNotEmpty
	}
	if _, err := tx.Exec(ctx, `SET LOCAL maintenance_work_mem = '`+loadMaintenanceMem+`'`); err != nil {
		return 0, fmt.Errorf("maintenance_work_mem: %w", err)
	}
	// The primary key is a constraint (dropped and added with ALTER TABLE);
	// the other indexes are plain.
	var pkName, pkDef string
	if err := tx.QueryRow(ctx, `SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid = 'events'::regclass AND contype = 'p'`).Scan(&pkName, &pkDef); err != nil {
		return 0, fmt.Errorf("read primary key: %w", err)
	}
	idx, err := pgCollect(ctx, tx, `SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
WHERE x.indrelid = 'events'::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid) ORDER BY i.relname`)
	if err != nil {
		return 0, fmt.Errorf("read indexes: %w", err)
	}
	for _, ix := range idx {
		if _, err := tx.Exec(ctx, `DROP INDEX `+pgx.Identifier{ix.name}.Sanitize()); err != nil {
			return 0, fmt.Errorf("drop index %s: %w", ix.name, err)
		}
	}
	if _, err := tx.Exec(ctx, `ALTER TABLE events DROP CONSTRAINT `+pgx.Identifier{pkName}.Sanitize()); err != nil {
		return 0, fmt.Errorf("drop primary key: %w", err)
	}
	src := &copySource{f: f, counts: map[rollupKey]int64{}}
	copied, err := tx.CopyFrom(ctx, pgx.Identifier{"events"}, strings.Split(strings.ReplaceAll(eventCols, " ", ""), ","), src)
	if err != nil {
		return 0, fmt.Errorf("copy: %w", err)
	}
	// The primary key also proves the ids distinct: a repeat fails here.
	if _, err := tx.Exec(ctx, `ALTER TABLE events ADD CONSTRAINT `+pgx.Identifier{pkName}.Sanitize()+` `+pkDef); err != nil {
		return 0, fmt.Errorf("add primary key: %w", err)
	}
	for _, ix := range idx {
		if _, err := tx.Exec(ctx, ix.def); err != nil {
			return 0, fmt.Errorf("create index %s: %w", ix.name, err)
		}
	}
	// The rollup of an empty table is the counts of the copied rows, taken
	// while copying: cheaper than a GROUP BY over the table.
	if err := addRollupPG(ctx, tx, src.counts); err != nil {
		return 0, fmt.Errorf("rollup: %w", err)
	}
	return int(copied), nil
}

// addRollupPG writes counts to the empty event_counts_daily.
func addRollupPG(ctx context.Context, tx pgx.Tx, counts map[rollupKey]int64) error {
	// In key order: the primary key's index is then filled left to right.
	keys := slices.SortedFunc(maps.Keys(counts), compareRollupKeys)
	days, types, countries, ns := make([]string, len(keys)), make([]string, len(keys)), make([]string, len(keys)), make([]int64, len(keys))
	for i, k := range keys {
		days[i], types[i], countries[i], ns[i] = k.day, k.typ, k.country, counts[k]
	}
	_, err := tx.Exec(ctx, `INSERT INTO event_counts_daily (day, type, country, count)
SELECT CAST(d AS date), t, c, n FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS u (d, t, c, n)`, days, types, countries, ns)
	return err
}

func pgCollect(ctx context.Context, tx pgx.Tx, q string) ([]eventIndex, error) {
	rows, err := tx.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (eventIndex, error) {
		var ix eventIndex
		err := r.Scan(&ix.name, &ix.def)
		return ix, err
	})
}

// copySource is the feed as pgx.CopyFromSource.
type copySource struct {
	f     *feed
	batch []analytics.Event
	i     int
	vals  []any
	err   error
	// counts are the copied rows per rollup key.
	counts map[rollupKey]int64
}

func (c *copySource) Next() bool {
	for c.i >= len(c.batch) {
		b, ok := c.f.next()
		if !ok {
			c.err = c.f.err
			return false
		}
		c.batch, c.i = b, 0
	}
	e := &c.batch[c.i]
	c.i++
	if e.ID == "" {
		c.err = errors.New("an event has no id")
		return false
	}
	r, err := toRow(e)
	if err != nil {
		c.err = err
		return false
	}
	c.counts[rollupKey{r.day.Format(dayLayout), r.e.Type, r.country}]++
	c.vals = append(c.vals[:0], r.e.ID, int64(r.e.UserID), r.e.Type, r.ts, r.day, r.week, r.month,
		r.cell, r.cents, r.e.Category, r.country, r.city, r.lon, r.lat, r.meta)
	return true
}

func (c *copySource) Values() ([]any, error) { return c.vals, nil }
func (c *copySource) Err() error             { return c.err }

// loadSQLite runs the load in one IMMEDIATE transaction on conn, its page
// cache enlarged as for Insert.
func (s *Store) loadSQLite(ctx context.Context, conn *stdsql.Conn, f *feed) (n int, err error) {
	err = ingestTx(ctx, conn, func(tx *stdsql.Tx) (err error) {
		n, err = loadSQLiteTx(ctx, tx, f)
		return err
	})
	return n, err
}

func loadSQLiteTx(ctx context.Context, tx *stdsql.Tx, f *feed) (int, error) {
	var full bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM events) OR EXISTS (SELECT 1 FROM event_counts_daily)`).Scan(&full); err != nil {
		return 0, fmt.Errorf("check for events: %w", err)
	}
	if full {
		return 0, analytics.ErrNotEmpty
	}
	// The primary key's index (sql NULL) stays: SQLite cannot drop it.
	rows, err := tx.QueryContext(ctx, `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL ORDER BY name`)
	if err != nil {
		return 0, fmt.Errorf("read indexes: %w", err)
	}
	var idx []eventIndex
	for rows.Next() {
		var ix eventIndex
		if err := rows.Scan(&ix.name, &ix.def); err != nil {
			rows.Close()
			return 0, fmt.Errorf("read indexes: %w", err)
		}
		idx = append(idx, ix)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("read indexes: %w", err)
	}
	for _, ix := range idx {
		if _, err := tx.ExecContext(ctx, `DROP INDEX "`+ix.name+`"`); err != nil {
			return 0, fmt.Errorf("drop index %s: %w", ix.name, err)
		}
	}
	ins := &sqliteInserter{tx: tx, counts: map[rollupKey]int64{}}
	defer ins.close()
	// Only full chunks are written until the end, whatever the batch
	// sizes: one prepared statement, not a statement to parse for the odd
	// rest of every batch.
	var (
		pending      []row
		total, added int64
	)
	write := func(rows []row) error {
		n, err := ins.insert(ctx, rows)
		added += n
		return err
	}
	for {
		b, ok := f.next()
		if !ok {
			break
		}
		rows, err := prepareRows(b)
		if err != nil {
			return 0, err
		}
		if len(rows) != len(b) {
			return 0, errLoadRepeat
		}
		total += int64(len(rows))
		pending = append(pending, rows...)
		full := len(pending) / sqliteChunk * sqliteChunk
		if err := write(pending[:full]); err != nil {
			return 0, err
		}
		pending = pending[:copy(pending, pending[full:])]
	}
	if f.err != nil {
		return 0, f.err
	}
	if err := write(pending); err != nil {
		return 0, err
	}
	// INSERT OR IGNORE skips a repeated id silently; the load promises to
	// fail on one.
	if added != total {
		return 0, errLoadRepeat
	}
	for _, ix := range idx {
		if _, err := tx.ExecContext(ctx, ix.def); err != nil {
			return 0, fmt.Errorf("create index %s: %w", ix.name, err)
		}
	}
	if err := addRollupSQLite(ctx, tx, ins.counts); err != nil {
		return 0, fmt.Errorf("rollup: %w", err)
	}
	return int(total), nil
}

// errLoadRepeat is the failure of a load whose events repeat an id.
var errLoadRepeat = errors.New("the events repeat an id")

// sortRows sorts rows by id: the order Insert writes them in.
func sortRows(rows []row) {
	slices.SortFunc(rows, func(a, b row) int { return strings.Compare(a.e.ID, b.e.ID) })
}
