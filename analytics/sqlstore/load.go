package sqlstore

import (
	"context"
	stdsql "database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"meridian/analytics"
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
	src := &copyReader{f: f, counts: map[rollupKey]int64{}}
	tag, err := tx.Conn().PgConn().CopyFrom(ctx, src, `COPY events (`+eventCols+`) FROM STDIN (FORMAT binary)`)
	if src.err != nil {
		return 0, src.err // the cause of the aborted COPY
	}
	if err != nil {
		return 0, fmt.Errorf("copy: %w", err)
	}
	copied := tag.RowsAffected()
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

// copyReader is the feed as the stream of a binary COPY: rows encoded
// straight into PostgreSQL's binary tuple format, a batch at a time —
// cheaper than pgx's per-value encoding, which looks up a plan for every
// value.
type copyReader struct {
	f       *feed
	buf     []byte
	off     int
	started bool
	done    bool
	err     error
	// counts are the copied rows per rollup key.
	counts map[rollupKey]int64
}

// pgEpoch is PostgreSQL's epoch of timestamps and dates.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

const pgEpochDays = 10957 // days from 1970-01-01 to 2000-01-01

func (c *copyReader) Read(p []byte) (int, error) {
	for c.off == len(c.buf) {
		if c.done {
			return 0, io.EOF
		}
		c.buf, c.off = c.buf[:0], 0
		if err := c.more(); err != nil {
			c.err = err
			return 0, err
		}
	}
	n := copy(p, c.buf[c.off:])
	c.off += n
	return n, nil
}

// more encodes the next batch into c.buf, or the trailer at the end.
func (c *copyReader) more() error {
	if !c.started {
		c.started = true
		c.buf = append(c.buf, "PGCOPY\n\xff\r\n\x00"...)
		c.buf = binary.BigEndian.AppendUint32(c.buf, 0) // flags
		c.buf = binary.BigEndian.AppendUint32(c.buf, 0) // header extension
	}
	b, ok := c.f.next()
	if !ok {
		if c.f.err != nil {
			return c.f.err
		}
		c.done = true
		c.buf = binary.BigEndian.AppendUint16(c.buf, 0xffff)
		return nil
	}
	for i := range b {
		e := &b[i]
		if e.ID == "" {
			return errors.New("an event has no id")
		}
		r, err := toRow(e)
		if err != nil {
			return err
		}
		c.counts[rollupKey{r.day.Format(dayLayout), e.Type, r.country}]++
		c.row(&r)
	}
	return nil
}

// row appends one tuple: the columns of eventCols, each a length and the
// value in PostgreSQL's binary form (-1: NULL).
func (c *copyReader) row(r *row) {
	b := binary.BigEndian.AppendUint16(c.buf, numEventCols)
	text := func(s string) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	int8 := func(v int64) {
		b = binary.BigEndian.AppendUint32(b, 8)
		b = binary.BigEndian.AppendUint64(b, uint64(v))
	}
	date := func(t time.Time) {
		b = binary.BigEndian.AppendUint32(b, 4)
		b = binary.BigEndian.AppendUint32(b, uint32(int32(t.Unix()/86400-pgEpochDays)))
	}
	null := func() { b = binary.BigEndian.AppendUint32(b, 0xffffffff) }
	text(r.e.ID)
	int8(int64(r.e.UserID))
	text(r.e.Type)
	int8(r.ts.Sub(pgEpoch).Microseconds())
	date(r.day)
	date(r.week)
	date(r.month)
	if r.cell != nil {
		text(*r.cell)
	} else {
		null()
	}
	int8(r.cents)
	text(r.e.Category)
	text(r.country)
	text(r.city)
	for _, f := range []*float64{r.lon, r.lat} {
		if f == nil {
			null()
			continue
		}
		b = binary.BigEndian.AppendUint32(b, 8)
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(*f))
	}
	if r.meta != nil {
		b = binary.BigEndian.AppendUint32(b, uint32(1+len(*r.meta)))
		b = append(b, 1) // jsonb's format version
		b = append(b, *r.meta...)
	} else {
		null()
	}
	c.buf = b
}

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
