package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync/atomic"
	"time"

	"entgo.io/ent/dialect"
)

// MigrationLockName names the PostgreSQL advisory lock that serialises the
// start-up migrations of all processes sharing a database; its 64-bit key is
// the FNV-1a hash of the name. It must differ from every other advisory lock
// key in use: analytics/sqlstore's Load takes 0x6d6572616e61 in its
// transaction, which may run while another connection holds this one.
const MigrationLockName = "meridian.migrate"

var migrationLockKey = advisoryKey(MigrationLockName)

// advisoryKey derives a PostgreSQL advisory lock key from a name.
func advisoryKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return int64(h.Sum64())
}

// lockWaitLog is how long WithMigrationLock waits before it logs that it is
// waiting for another process.
const lockWaitLog = time.Second

// unlockTimeout bounds the release of the lock, which runs even when the
// caller's context has ended.
const unlockTimeout = 10 * time.Second

type migrationLockHeld struct{}

// WithMigrationLock runs fn while holding the migration lock, so that replicas
// starting at the same moment against one PostgreSQL database migrate one
// after the other: concurrent CREATE TABLE / CREATE INDEX … IF NOT EXISTS are
// not safe there (they fail with unique violations on pg_type or pg_class).
//
// On PostgreSQL the lock is a session-level advisory lock
// (pg_advisory_lock) taken on one connection of the pool, kept out of the
// pool until fn returns (or panics) and the lock is released; fn runs its
// statements on the rest of the pool. Waiting honours ctx: when it ends, the
// driver (pgx) cancels the waiting query on the server and closes that
// connection, and WithMigrationLock returns ctx's error, wrapped. A wait
// longer than a second is logged. On SQLite (one process) fn just runs.
//
// The context passed to fn marks the lock as held: a WithMigrationLock nested
// in fn on the same DB runs its function directly instead of deadlocking on
// a second connection.
func (d *DB) WithMigrationLock(ctx context.Context, fn func(context.Context) error) (err error) {
	if d.Dialect != dialect.Postgres || ctx.Value(migrationLockHeld{}) == d.sql {
		return fn(ctx)
	}
	conn, err := d.sql.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migration lock: get a connection: %w", err)
	}
	if err := d.lockMigrations(ctx, conn); err != nil {
		// The connection's state is unknown (pgx closes it when a query is
		// cancelled anyway): never give it back to the pool.
		discard(conn)
		return err
	}
	defer d.unlockMigrations(ctx, conn)
	return fn(context.WithValue(ctx, migrationLockHeld{}, d.sql))
}

// lockMigrations waits for the advisory lock on conn until ctx ends.
func (d *DB) lockMigrations(ctx context.Context, conn *sql.Conn) error {
	log := d.logger()
	start := time.Now()
	var logged atomic.Bool
	t := time.AfterFunc(lockWaitLog, func() {
		logged.Store(true)
		log.InfoContext(ctx, "waiting for the migration lock: another process is migrating the database",
			"lock", MigrationLockName, "key", migrationLockKey, "waited", time.Since(start).Round(time.Millisecond))
	})
	_, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLockKey)
	t.Stop()
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
			err = fmt.Errorf("%w (%w)", ctxErr, err)
		}
		return fmt.Errorf("migration lock: wait for %s after %v: %w", MigrationLockName, time.Since(start).Round(time.Millisecond), err)
	}
	if logged.Load() {
		log.InfoContext(ctx, "migration lock acquired", "lock", MigrationLockName, "waited", time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// unlockMigrations releases the advisory lock and returns conn to the pool;
// if the release fails, conn is closed instead, which ends its session and so
// releases the lock too.
func (d *DB) unlockMigrations(ctx context.Context, conn *sql.Conn) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), unlockTimeout)
	defer cancel()
	var released bool
	err := conn.QueryRowContext(ctx, `SELECT pg_advisory_unlock($1)`, migrationLockKey).Scan(&released)
	if err == nil && released {
		_ = conn.Close()
		return
	}
	if err == nil {
		err = errors.New("the lock was not held by this session")
	}
	d.logger().WarnContext(ctx, "migration lock: release failed; closing its connection instead", "lock", MigrationLockName, "error", err)
	discard(conn)
}

// discard closes conn's underlying connection rather than returning it to
// the pool: database/sql drops a connection whose Raw callback returns
// driver.ErrBadConn.
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = conn.Close()
}

func (d *DB) logger() *slog.Logger {
	if d.log != nil {
		return d.log
	}
	return slog.Default()
}
