package sqlstore

import (
	"errors"
	"io"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/platform/outage"
)

// classify marks a driver error with its kind — analytics.ErrRefused when
// the database refused the data, analytics.ErrUnavailable when it could
// not serve — so that callers tell a poison row from an outage (see
// errKind). Other errors are returned as they are.
func classify(err error) error { return analytics.Mark(errKind(err), err) }

// errKind is the classification of classify, for both SQL backends:
//
//   - outages, as the API's SERVICE_UNAVAILABLE sees them
//     (outage.Transient): a dial, read or write failure, a connection the
//     pool found broken, a deadline or cancellation, PostgreSQL's 08, 53,
//     57P0x and contention codes (a PgError inside a connect error, 57P03
//     while the server starts, is found through the wrapping), SQLite's
//     BUSY, LOCKED, IOERR, FULL, CANTOPEN and the like; and a bare EOF
//     from the driver, a connection cut mid-answer;
//   - refusals: PostgreSQL classes 22, 23 and 54 (analytics.RefusedSQLState),
//     SQLite's CONSTRAINT, TOOBIG and MISMATCH.
func errKind(err error) error {
	if err == nil {
		return nil
	}
	if outage.Transient(err) || errors.Is(err, io.EOF) {
		return analytics.ErrUnavailable
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && analytics.RefusedSQLState(pe.Code) {
		return analytics.ErrRefused
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return sqliteKind(se.Code())
	}
	return nil
}

// sqliteKind classifies an SQLite result code (extended codes carry the
// primary one in their low byte).
func sqliteKind(code int) error {
	switch code & 0xff {
	case sqlite3.SQLITE_CONSTRAINT, sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_MISMATCH:
		return analytics.ErrRefused
	}
	if outage.TransientSQLite(code) {
		return analytics.ErrUnavailable
	}
	return nil
}
