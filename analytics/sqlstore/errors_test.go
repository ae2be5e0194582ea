package sqlstore

import (
	"context"
	stdsql "database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/meridian-graphql/meridian/analytics"
)

// TestClassify: every driver error Insert can meet is told apart — a row
// the database refuses from an outage — on real error values: pgconn's
// PgError as the server sends it, a real failed dial, real SQLite errors.
func TestClassify(t *testing.T) {
	pg := func(code, msg string) error {
		return fmt.Errorf("insert 10 events: %w", &pgconn.PgError{Severity: "ERROR", Code: code, Message: msg})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, dialErr := pgconn.Connect(ctx, "postgres://meridian@127.0.0.1:1/x?connect_timeout=2") // nothing listens on port 1
	if dialErr == nil {
		t.Fatal("a connection to port 1 succeeded")
	}
	deadline, cancelDeadline := context.WithTimeout(context.Background(), 0)
	defer cancelDeadline()
	<-deadline.Done()
	sqliteErr := realSQLiteError(t)

	for _, tc := range []struct {
		name string
		err  error
		want error // analytics.ErrRefused, analytics.ErrUnavailable or nil
	}{
		{"index row too big (issue 13)", pg("54000", "index row requires 12024 bytes, maximum size is 8191"), analytics.ErrRefused},
		{"btree row too big", pg("54000", "index row size 2720 exceeds btree version 4 maximum 2704 for index \"events_purchases\""), analytics.ErrRefused},
		{"check constraint", pg("23514", `new row for relation "events" violates check constraint "x"`), analytics.ErrRefused},
		{"not null", pg("23502", "null value in column"), analytics.ErrRefused},
		{"NUL in text", pg("22021", "invalid byte sequence for encoding \"UTF8\": 0x00"), analytics.ErrRefused},
		{"out of range", pg("22003", "bigint out of range"), analytics.ErrRefused},
		{"starting up", pg("57P03", "the database system is starting up"), analytics.ErrUnavailable},
		{"admin shutdown", pg("57P01", "terminating connection due to administrator command"), analytics.ErrUnavailable},
		{"statement timeout", pg("57014", "canceling statement due to statement timeout"), analytics.ErrUnavailable},
		{"connection failure", pg("08006", "connection failure"), analytics.ErrUnavailable},
		{"too many connections", pg("53300", "sorry, too many clients already"), analytics.ErrUnavailable},
		{"deadlock", pg("40P01", "deadlock detected"), analytics.ErrUnavailable},
		{"read-only standby", pg("25006", "cannot execute INSERT in a read-only transaction"), analytics.ErrUnavailable},
		{"connection refused (real dial)", fmt.Errorf("begin: %w", dialErr), analytics.ErrUnavailable},
		{"net.OpError", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, analytics.ErrUnavailable},
		{"deadline (real context)", fmt.Errorf("insert: %w", deadline.Err()), analytics.ErrUnavailable},
		{"canceled", context.Canceled, analytics.ErrUnavailable},
		{"bad connection", driver.ErrBadConn, analytics.ErrUnavailable},
		{"connection done", stdsql.ErrConnDone, analytics.ErrUnavailable},
		{"unexpected EOF", io.ErrUnexpectedEOF, analytics.ErrUnavailable},
		{"sqlite NOT NULL (real)", sqliteErr, analytics.ErrRefused},
		{"missing table: neither", pg("42P01", `relation "events" does not exist`), nil},
		{"syntax error: neither", pg("42601", "syntax error"), nil},
		{"plain error: neither", errors.New("something else"), nil},
	} {
		got := classify(tc.err)
		refused, unavailable := errors.Is(got, analytics.ErrRefused), errors.Is(got, analytics.ErrUnavailable)
		ok := refused == (tc.want == analytics.ErrRefused) && unavailable == (tc.want == analytics.ErrUnavailable)
		if !ok {
			t.Errorf("%s: classify(%v) refused=%v unavailable=%v; want %v", tc.name, tc.err, refused, unavailable, tc.want)
		}
		if !errors.Is(got, tc.err) {
			t.Errorf("%s: the classified error does not wrap the driver's", tc.name)
		}
	}
}

// TestSQLiteKind covers the result codes, primary and extended.
func TestSQLiteKind(t *testing.T) {
	for code, want := range map[int]error{
		sqlite3.SQLITE_CONSTRAINT:         analytics.ErrRefused,
		sqlite3.SQLITE_CONSTRAINT_TRIGGER: analytics.ErrRefused,
		sqlite3.SQLITE_CONSTRAINT_CHECK:   analytics.ErrRefused,
		sqlite3.SQLITE_TOOBIG:             analytics.ErrRefused,
		sqlite3.SQLITE_MISMATCH:           analytics.ErrRefused,
		sqlite3.SQLITE_BUSY:               analytics.ErrUnavailable,
		sqlite3.SQLITE_BUSY_SNAPSHOT:      analytics.ErrUnavailable,
		sqlite3.SQLITE_LOCKED:             analytics.ErrUnavailable,
		sqlite3.SQLITE_IOERR_WRITE:        analytics.ErrUnavailable,
		sqlite3.SQLITE_FULL:               analytics.ErrUnavailable,
		sqlite3.SQLITE_CANTOPEN:           analytics.ErrUnavailable,
		sqlite3.SQLITE_ERROR:              nil,
		sqlite3.SQLITE_CORRUPT:            nil,
	} {
		if got := sqliteKind(code); got != want {
			t.Errorf("sqliteKind(%d) = %v, want %v", code, got, want)
		}
	}
}

// realSQLiteError is the driver's error for a NOT NULL violation in an
// in-memory database.
func realSQLiteError(t *testing.T) error {
	t.Helper()
	db, err := stdsql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE x (v TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	_, err = db.ExecContext(ctx, `INSERT INTO x (v) VALUES (NULL)`)
	if err == nil {
		t.Fatal("SQLite stored a NULL in a NOT NULL column")
	}
	return err
}
