package sqlstore

import (
	"context"
	stdsql "database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"meridian/analytics"
)

// classify marks a driver error with its kind — analytics.ErrRefused when
// the database refused the data, analytics.ErrUnavailable when it could
// not serve — so that callers tell a poison row from an outage (see
// errKind). Other errors are returned as they are.
func classify(err error) error { return analytics.Mark(errKind(err), err) }

// errKind is the classification of classify, for both SQL backends:
//
//   - PostgreSQL: by SQLSTATE (analytics.SQLStateKind): classes 22, 23 and
//     54 refuse the data; 08, 53, 57P0x, timeouts and the like are outages.
//     A PgError inside a connect error (57P03 while the server starts) is
//     found through the wrapping.
//   - SQLite: by result code: CONSTRAINT, TOOBIG, MISMATCH refuse the data;
//     BUSY, LOCKED, IOERR, FULL, CANTOPEN and the like are outages.
//   - Anything on the way to the server: a dial, read or write failure, a
//     connection the pool found broken, a deadline or cancellation.
func errKind(err error) error {
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return analytics.SQLStateKind(pe.Code)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return sqliteKind(se.Code())
	}
	var ne net.Error
	var ce *pgconn.ConnectError
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
		errors.Is(err, driver.ErrBadConn), errors.Is(err, stdsql.ErrConnDone),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.As(err, &ne), errors.As(err, &ce), pgconn.Timeout(err):
		return analytics.ErrUnavailable
	}
	return nil
}

// sqliteKind classifies an SQLite result code (extended codes carry the
// primary one in their low byte).
func sqliteKind(code int) error {
	switch code & 0xff {
	case sqlite3.SQLITE_CONSTRAINT, sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_MISMATCH:
		return analytics.ErrRefused
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_INTERRUPT,
		sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PROTOCOL:
		return analytics.ErrUnavailable
	}
	return nil
}
