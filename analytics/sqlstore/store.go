package sqlstore

import (
	"context"
	stdsql "database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"entgo.io/ent/dialect"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/platform/database"
)

// Store is the SQL implementation of analytics.Store on a database.DB. It
// holds no connection of its own: statements run on the pool ent uses,
// through the database's counting driver (except the SQLite ingest).
type Store struct {
	db  *database.DB
	pg  bool
	now func() time.Time
}

var _ analytics.Store = (*Store)(nil)

// New returns the store on db after applying db's pending migrations
// (database.DB.Migrate), whose files create the store's tables; a database
// from database.Open has them already, so a server calls Open.
func New(ctx context.Context, db *database.DB) (*Store, error) {
	s, err := Open(db)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("sqlstore: %w", err)
	}
	return s, nil
}

// Open returns the store on db, whose migrations have created its tables.
func Open(db *database.DB) (*Store, error) {
	if db == nil || db.Driver == nil {
		return nil, errors.New("sqlstore: nil database")
	}
	s := &Store{db: db, now: time.Now}
	switch db.Dialect {
	case dialect.Postgres:
		s.pg = true
	case dialect.SQLite:
	default:
		return nil, fmt.Errorf("sqlstore: unsupported dialect %q", db.Dialect)
	}
	return s, nil
}

// Ping checks the connection.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.Ping(ctx); err != nil {
		return fmt.Errorf("sqlstore: %w", classify(err))
	}
	return nil
}

// Close releases nothing: the pool belongs to the database.DB, which ent
// shares, and is closed with it.
func (s *Store) Close(context.Context) error { return nil }

// execQuerier runs raw statements: the counting driver, or a transaction of
// it.
type execQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (stdsql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*stdsql.Rows, error)
}

// txn is a transaction of the counting driver.
type txn interface {
	execQuerier
	Commit() error
	Rollback() error
}

// begin starts a transaction on the counting driver. On SQLite it takes the
// write lock at once (the connection's _txlock=immediate), so that writers
// queue on busy_timeout rather than fail upgrading a read lock.
func (s *Store) begin(ctx context.Context) (txn, error) {
	tx, err := s.db.Driver.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	t, ok := tx.(txn)
	if !ok {
		_ = tx.Rollback()
		return nil, fmt.Errorf("driver transaction %T cannot run raw statements", tx)
	}
	return t, nil
}

// inTx runs fn in a transaction, committed when fn returns nil and rolled
// back otherwise.
func (s *Store) inTx(ctx context.Context, fn func(tx txn) error) error {
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	return commitOrRollback(tx, fn)
}

// commitOrRollback runs fn in tx, then commits it, or rolls it back when fn
// failed.
func commitOrRollback[T interface {
	Commit() error
	Rollback() error
}](tx T, fn func(T) error) error {
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// query runs a read statement written with ? placeholders (database.Rebind
// numbers them on PostgreSQL).
func (s *Store) query(ctx context.Context, q string, args ...any) (*stdsql.Rows, error) {
	return s.db.Driver.QueryContext(ctx, s.db.Rebind(q), args...)
}

// dayLayout is a date (a day, week or month bucket) on SQLite. Instants
// are Unix milliseconds there (see schemaV1); PostgreSQL binds time.Time.
const dayLayout = "2006-01-02"

// tsArg is a stored instant as a statement argument: at millisecond
// precision (truncated, like Prepare), as the events table holds it on both
// backends.
func (s *Store) tsArg(t time.Time) any {
	t = t.UTC().Truncate(time.Millisecond)
	if s.pg {
		return t
	}
	return t.UnixMilli()
}

// boundArg is an instant compared with stored ones (ts >= b, ts < b): rounded
// up to the millisecond, which keeps every comparison exact since stored
// instants are whole milliseconds — ts ≥ 10:00:00.0005 holds from
// 10:00:00.001 on, not at 10:00:00.000.
func (s *Store) boundArg(t time.Time) any {
	return s.tsArg(ceilMilli(t))
}

func ceilMilli(t time.Time) time.Time {
	if c := t.Truncate(time.Millisecond); c.Before(t) {
		return c.Add(time.Millisecond)
	}
	return t
}

// dayArg is a UTC date (a day, week or month bucket) as an argument.
func (s *Store) dayArg(t time.Time) any {
	t = t.UTC()
	if s.pg {
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	return t.Format(dayLayout)
}

// timeValue scans an instant or a date as either driver returns it:
// time.Time from PostgreSQL; Unix milliseconds (instants) or text (dates)
// from SQLite.
type timeValue struct{ t *time.Time }

func (v timeValue) Scan(src any) error {
	switch x := src.(type) {
	case time.Time:
		*v.t = x.UTC()
		return nil
	case int64:
		*v.t = time.UnixMilli(x).UTC()
		return nil
	case string:
		t, err := parseTime(x)
		*v.t = t
		return err
	case []byte:
		t, err := parseTime(string(x))
		*v.t = t
		return err
	}
	return fmt.Errorf("unexpected time value %T", src)
}

func parseTime(s string) (time.Time, error) {
	if len(s) == len(dayLayout) {
		if t, err := time.Parse(dayLayout, s); err == nil {
			return t, nil
		}
	}
	// Not written by this package; accept the forms of SQLite's date
	// functions and of the driver.
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("unexpected time %q", s)
}

// jsonArg is a JSON document as an argument: text on both backends (cast to
// jsonb by the statement on PostgreSQL).
func jsonArg(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// jsonParam is the placeholder of a JSON argument.
func (s *Store) jsonParam() string {
	if s.pg {
		return "CAST(? AS jsonb)"
	}
	return "?"
}

// userSet is the condition "col is one of ids", bound as one argument
// whatever the number of ids: an array on PostgreSQL, a JSON array on
// SQLite. One argument keeps a dataloader batch of any size under the
// parameter limits, and the statement text the same for every batch.
func (s *Store) userSet(col string, ids []int) (string, any) {
	if s.pg {
		a := make([]int64, len(ids))
		for i, id := range ids {
			a[i] = int64(id)
		}
		return col + " = ANY(?::bigint[])", a
	}
	b := make([]byte, 0, 2+8*len(ids))
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(id), 10)
	}
	return col + " IN (SELECT value FROM json_each(?))", string(append(b, ']'))
}

// uniqueIDs drops repeated and non-positive user ids.
func uniqueIDs(ids []int) []int {
	seen := make(map[int]bool, len(ids))
	out := make([]int, 0, len(ids))
	for _, id := range ids {
		if id > 0 && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
