// Package outage tells a backing store that cannot serve now — a database
// down, restarting, unreachable or overloaded — from every other error, on
// the error values the drivers Meridian uses really return (pgx, database/sql,
// modernc SQLite, the MongoDB driver, the net package). It is the one
// classification both sides use: the GraphQL API answers an outage with
// SERVICE_UNAVAILABLE (apperr.Translate), and a store or consumer deciding
// whether to wait an error out rather than refuse its data asks Transient.
//
// It holds no state and imports no Meridian package, so that any layer can
// use it.
package outage

import (
	"context"
	stdsql "database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Is reports whether err says the store could not serve at all: the
// connection was refused, lost or timed out, the server is starting up,
// shutting down or recovering from a crash, it has no connection or
// resource to spare, or a SQLite file is locked by another writer. The
// same call is expected to succeed once the store is back.
//
// Is leaves out what the caller's own context caused — a bare
// context.Canceled or DeadlineExceeded, a query cancelled with it, SQLite
// interrupted by it — and contention (serialization failures, deadlocks):
// neither is the store being away, and the API reports them as
// CANCELLED, TIMEOUT or an error of its own. Transient adds them.
func Is(err error) bool {
	if err == nil {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// A connect error may carry the server's refusal (57P03 while
		// it starts): the SQLSTATE decides.
		return SQLState(pe.Code)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return sqliteCode(se.Code())
	}
	var (
		ne  net.Error
		ce  *pgconn.ConnectError
		sse topology.ServerSelectionError
		wqt topology.WaitQueueTimeoutError
		cme mongo.CommandError
	)
	switch {
	case errors.As(err, &ce), // could not reach the server, whatever the cause
		errors.As(err, &sse), errors.As(err, &wqt): // MongoDB: no server to select, no pooled connection
		return true
	case callerContext(err):
		// context.DeadlineExceeded is a net.Error too: the caller's own
		// deadline is not the store's outage.
		return false
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, stdsql.ErrConnDone),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.As(err, &ne), pgconn.Timeout(err),
		errors.Is(err, mongo.ErrClientDisconnected), mongo.IsNetworkError(err):
		return true
	case errors.As(err, &cme):
		return cme.HasErrorLabel("NetworkError") || mongoCode(int(cme.Code))
	}
	return false
}

// Transient reports an error worth retrying as it is later: an outage
// (Is), or a failure that passes by itself — a deadline or cancellation,
// a statement timeout, contention (serialization failure, deadlock, a
// lock not available), a read-only standby during a failover. A consumer
// waits these out without spending the message's attempts; anything else
// may be the message's own fault.
func Transient(err error) bool {
	if Is(err) || callerContext(err) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return TransientSQLState(pe.Code)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return TransientSQLite(se.Code())
	}
	var cme mongo.CommandError
	return errors.As(err, &cme) && TransientMongoCode(int(cme.Code))
}

// TransientSQLState is Transient for a PostgreSQL SQLSTATE: SQLState, or
// a failure that passes by itself.
func TransientSQLState(code string) bool {
	switch code {
	case "57014", // query_canceled: statement timeout or a cancelled context
		"40001", // serialization_failure
		"40P01", // deadlock_detected: the victim's work is retried
		"55P03", // lock_not_available
		"25006": // read_only_sql_transaction: a standby during failover
		return true
	}
	return SQLState(code)
}

// TransientSQLite is Transient for an SQLite result code: a database that
// cannot serve now, or a statement interrupted by its context.
func TransientSQLite(code int) bool {
	return sqliteCode(code) || code&0xff == sqlite3.SQLITE_INTERRUPT
}

// TransientMongoCode is Transient for a MongoDB server code (of a command
// or of one write of a bulk): a node that cannot serve now, or a time
// limit or write concern not met.
func TransientMongoCode(code int) bool {
	switch code {
	case 50, // MaxTimeMSExpired
		64,  // WriteConcernFailed
		262: // ExceededTimeLimit
		return true
	}
	return mongoCode(code)
}

// SQLState reports whether a PostgreSQL SQLSTATE means the server cannot
// serve now (Is): connection exceptions (class 08), insufficient
// resources (53: too many connections, disk full, out of memory), system
// errors (58: I/O), and operator intervention that ends sessions —
// admin shutdown (57P01, also what backends say when the postmaster died),
// crash shutdown (57P02: "terminating connection because of crash of
// another server process"), cannot connect now (57P03: "the database
// system is starting up", or in recovery), idle session timeout (57P05).
func SQLState(code string) bool {
	if len(code) != 5 {
		return false
	}
	switch code[:2] {
	case "08", "53", "58":
		return true
	}
	switch code {
	case "57P01", "57P02", "57P03", "57P05":
		return true
	}
	return false
}

// sqliteCode reports the SQLite result codes (extended codes carry the
// primary one in their low byte) of a database that cannot serve now:
// locked by another connection or process (BUSY, LOCKED), out of memory,
// I/O errors, a full disk, a file that cannot be opened, a locking
// protocol error.
func sqliteCode(code int) bool {
	switch code & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_NOMEM,
		sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PROTOCOL:
		return true
	}
	return false
}

// mongoCode reports the MongoDB server codes of a node that cannot serve
// now: unreachable, shutting down, not (or no longer) primary.
func mongoCode(code int) bool {
	switch code {
	case 6, // HostUnreachable
		7,     // HostNotFound
		89,    // NetworkTimeout
		91,    // ShutdownInProgress
		189,   // PrimarySteppedDown
		9001,  // SocketException
		10107, // NotWritablePrimary
		11600, // InterruptedAtShutdown
		11602, // InterruptedDueToReplStateChange
		13435, // NotPrimaryNoSecondaryOk
		13436: // NotPrimaryOrSecondary
		return true
	}
	return false
}

func callerContext(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
