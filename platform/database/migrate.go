package database

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"time"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
	"ariga.io/atlas/sql/sqlite"
	"entgo.io/ent/dialect"
)

// migrationFiles are the versioned migrations of every table the server
// owns — ent's entities, the event store, the outbox, the API keys, the
// consumers' tables —, one Atlas directory per dialect: <version>_<name>.sql
// files and their atlas.sum. internal/cmd/migrations (go generate
// ./platform/database/...) writes them from ent's schema and the owners'
// Tables; internal/dbschema's test fails when they fall behind.
//
//go:embed migrations/sqlite migrations/postgres
var migrationFiles embed.FS

// RevisionTable is the table in which Migrate records each migration file
// applied to the database (and the baseline of a database adopted from
// before versioned migrations). It is created by Migrate itself, so it is
// in no migration file.
const RevisionTable = "meridian_schema_revisions"

// operatorVersion is recorded with every revision Meridian writes.
const operatorVersion = "meridian"

// MigrationDir returns the dialect's migration directory as embedded in the
// binary.
func MigrationDir(dialectName string) (*migrate.MemDir, error) {
	sub, err := migrationSubdir(dialectName)
	if err != nil {
		return nil, err
	}
	entries, err := fs.ReadDir(migrationFiles, sub)
	if err != nil {
		return nil, fmt.Errorf("read embedded migrations %s: %w", sub, err)
	}
	dir := &migrate.MemDir{}
	dir.SetPath(path.Join("platform/database", sub))
	for _, e := range entries {
		b, err := fs.ReadFile(migrationFiles, path.Join(sub, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read embedded migration %s: %w", e.Name(), err)
		}
		if err := dir.WriteFile(e.Name(), b); err != nil {
			return nil, fmt.Errorf("load embedded migration %s: %w", e.Name(), err)
		}
	}
	return dir, nil
}

// migrationSubdir is the dialect's directory under platform/database.
func migrationSubdir(dialectName string) (string, error) {
	switch dialectName {
	case dialect.SQLite:
		return "migrations/sqlite", nil
	case dialect.Postgres:
		return "migrations/postgres", nil
	}
	return "", fmt.Errorf("no migrations for dialect %q", dialectName)
}

// WithoutMigrate opens the database without migrating it: for `meridian
// migrate status`, which only reads, and `migrate up`, which migrates with
// its own flags.
func WithoutMigrate() Option { return func(d *DB) { d.noMigrate = true } }

// WithAllowDestructive lets Migrate apply pending files with destructive
// statements (see DestructiveError); without it they are refused.
func WithAllowDestructive(allow bool) Option { return func(d *DB) { d.allowDestructive = allow } }

// Migrate brings the schema up to date, under the migration lock, since
// replicas start (and migrate) at the same moment: it applies the pending
// files of the dialect's migration directory in order, each in a
// transaction of its own and recorded in RevisionTable, then backfills
// users.last_active_order (see backfillLastActiveOrder).
//
// A database made before versioned migrations — Meridian's tables there,
// no revision recorded — is adopted first: brought up to the baseline (the
// first file) and the baseline recorded as applied (see adopt). Pending
// files with a destructive statement are refused, before any is applied,
// unless WithAllowDestructive (see DestructiveError) or the database is
// fresh (no revision, no table of Meridian's).
func (d *DB) Migrate(ctx context.Context) error {
	return d.WithMigrationLock(ctx, func(ctx context.Context) error {
		if err := d.migrate(ctx); err != nil {
			return fmt.Errorf("migrate %s schema: %w", d.Dialect, err)
		}
		return d.backfillLastActiveOrder(ctx)
	})
}

func (d *DB) migrate(ctx context.Context) error {
	dir, files, err := d.migrationFiles()
	if err != nil || len(files) == 0 {
		return err
	}
	if err := d.createRevisionTable(ctx); err != nil {
		return err
	}
	revs, err := d.revisions(d.sql).ReadRevisions(ctx)
	if err != nil {
		return err
	}
	fresh := len(revs) == 0
	if fresh {
		legacy, err := d.isLegacy(ctx, files[0])
		if err != nil {
			return err
		}
		if legacy {
			if err := d.adopt(ctx, files[0]); err != nil {
				return err
			}
		}
		fresh = !legacy
	}
	// Every file is pending on a fresh database; Atlas would first inspect
	// the whole database to tell whether it is clean, which it need not be
	// (allow-dirty, see pending).
	pending := files
	if !fresh {
		if pending, err = d.pending(ctx, dir); err != nil {
			return err
		}
	}
	d.warnUnknown(ctx, revs, files)
	if len(pending) == 0 {
		return nil
	}
	// A fresh database has no data for a file to drop, even one that drops
	// what an earlier file of the same run made.
	if !d.allowDestructive && !fresh {
		found, err := d.destructive(ctx, files, pending)
		if err != nil {
			return err
		}
		if len(found) > 0 {
			return &DestructiveError{Found: found}
		}
	}
	for _, f := range pending {
		if err := d.apply(ctx, dir, f); err != nil {
			return err
		}
	}
	return nil
}

// migrationFiles loads the dialect's directory and checks its atlas.sum.
func (d *DB) migrationFiles() (*migrate.MemDir, []migrate.File, error) {
	dir := d.dir
	if dir == nil {
		var err error
		if dir, err = MigrationDir(d.Dialect); err != nil {
			return nil, nil, err
		}
	}
	if err := migrate.Validate(dir); err != nil {
		return nil, nil, fmt.Errorf("migration directory %s: %w", dir.Path(), err)
	}
	files, err := dir.Files()
	if err != nil {
		return nil, nil, fmt.Errorf("migration directory %s: %w", dir.Path(), err)
	}
	return dir, files, nil
}

// pending returns the files not applied yet, in order. The database need
// not be empty for the first file: a database shared with other
// applications keeps their tables (allow-dirty), and one with Meridian's
// own tables was adopted before.
func (d *DB) pending(ctx context.Context, dir migrate.Dir) ([]migrate.File, error) {
	drv, err := AtlasDriver(d.Dialect, d.sql)
	if err != nil {
		return nil, err
	}
	ex, err := migrate.NewExecutor(drv, dir, d.revisions(d.sql), migrate.WithAllowDirty(true))
	if err != nil {
		return nil, fmt.Errorf("migration executor: %w", err)
	}
	files, err := ex.Pending(ctx)
	if errors.Is(err, migrate.ErrNoPendingFiles) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pending migrations: %w", err)
	}
	return files, nil
}

// apply runs one file and records it, in one transaction (unless the file
// says `-- atlas:txmode none`, for statements PostgreSQL refuses in a
// transaction, such as CREATE INDEX CONCURRENTLY).
func (d *DB) apply(ctx context.Context, dir migrate.Dir, f migrate.File) error {
	start := time.Now()
	skipped, inTx := false, txMode(f) != "none"
	err := d.inFileTx(ctx, inTx, func(q schema.ExecQuerier) error {
		// Another process may have applied it meanwhile: on SQLite, which
		// has no migration lock, the transaction's write lock (BEGIN
		// IMMEDIATE) is what orders two processes migrating one file.
		rev, err := d.revisions(q).ReadRevision(ctx, f.Version())
		if err == nil && rev.Applied == rev.Total {
			skipped = true
			return nil
		}
		if err != nil && !errors.Is(err, migrate.ErrRevisionNotExist) {
			return err
		}
		drv, err := AtlasDriver(d.Dialect, q)
		if err != nil {
			return err
		}
		// In a transaction, the progress Atlas records after each
		// statement commits or rolls back with the file: only the last
		// write need reach the table.
		buf := &bufferedRevisions{revisions: d.revisions(q)}
		var rrw migrate.RevisionReadWriter = buf.revisions
		if inTx {
			rrw = buf
		}
		ex, err := migrate.NewExecutor(drv, dir, rrw, migrate.WithAllowDirty(true), migrate.WithOperatorVersion(operatorVersion))
		if err != nil {
			return fmt.Errorf("migration executor: %w", err)
		}
		if err := ex.Execute(ctx, f); err != nil {
			return err
		}
		return buf.flush(ctx)
	})
	if err != nil {
		var se *migrate.StmtExecError
		if errors.As(err, &se) {
			// The revision of the failure is lost with the transaction:
			// the statement's error is the one to show.
			return fmt.Errorf("migration %s: statement %q: %w", f.Name(), se.Stmt.Text, se.Err)
		}
		return fmt.Errorf("migration %s: %w", f.Name(), err)
	}
	if skipped {
		return nil
	}
	d.logger().InfoContext(ctx, "migration applied", "dialect", d.Dialect, "file", f.Name(), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// txMode is the file's `-- atlas:txmode` directive, "" without one.
func txMode(f migrate.File) string {
	if lf, ok := f.(*migrate.LocalFile); ok {
		if ds := lf.Directive("txmode"); len(ds) > 0 {
			return ds[0]
		}
	}
	return ""
}

// inFileTx runs fn on one connection, in a transaction when tx is set. On
// SQLite, foreign keys are off meanwhile, as its table rebuilds (how Atlas
// alters a column there) require: with them on, dropping the old table
// would delete or null the rows that refer to it. The foreign keys are
// checked before the commit instead.
func (d *DB) inFileTx(ctx context.Context, tx bool, fn func(schema.ExecQuerier) error) (err error) {
	conn, err := d.sql.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migration connection: %w", err)
	}
	if d.Dialect == dialect.SQLite {
		if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
			discard(conn)
			return fmt.Errorf("foreign keys off for the migration: %w", err)
		}
		defer func() {
			if _, ferr := conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA foreign_keys = ON`); ferr != nil {
				discard(conn) // never hand out a connection without foreign keys
				err = errors.Join(err, fmt.Errorf("foreign keys back on after the migration: %w", ferr))
				return
			}
			_ = conn.Close()
		}()
	} else {
		defer conn.Close()
	}
	if !tx {
		if err := fn(conn); err != nil {
			return err
		}
		return d.checkForeignKeys(ctx, conn)
	}
	t, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin migration: %w", err)
	}
	if err := fn(t); err != nil {
		_ = t.Rollback()
		return err
	}
	if err := d.checkForeignKeys(ctx, t); err != nil {
		_ = t.Rollback()
		return err
	}
	if err := t.Commit(); err != nil {
		return fmt.Errorf("commit migration: %w", err)
	}
	return nil
}

// checkForeignKeys fails when a SQLite migration left rows whose foreign
// keys point nowhere (PRAGMA foreign_key_check); PostgreSQL checked them.
func (d *DB) checkForeignKeys(ctx context.Context, q schema.ExecQuerier) error {
	if d.Dialect != dialect.SQLite {
		return nil
	}
	rows, err := q.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		return fmt.Errorf("foreign key check: %w", err)
	}
	defer rows.Close()
	if rows.Next() {
		var table string
		var rowid sql.NullInt64
		var parent string
		var fkid int
		if err := rows.Scan(&table, &rowid, &parent, &fkid); err != nil {
			return fmt.Errorf("foreign key check: %w", err)
		}
		return fmt.Errorf("foreign key check: a row of %s (rowid %d) refers to a missing row of %s", table, rowid.Int64, parent)
	}
	return rows.Err()
}

// AtlasDriver is Atlas's driver of the dialect on q (a pool, a connection
// or a transaction).
func AtlasDriver(dialectName string, q schema.ExecQuerier) (migrate.Driver, error) {
	var (
		drv migrate.Driver
		err error
	)
	switch dialectName {
	case dialect.SQLite:
		drv, err = sqlite.Open(q)
	case dialect.Postgres:
		drv, err = postgres.Open(q)
	default:
		return nil, fmt.Errorf("no migrations for dialect %q", dialectName)
	}
	if err != nil {
		return nil, fmt.Errorf("atlas %s driver: %w", dialectName, err)
	}
	return drv, nil
}

// warnUnknown logs the applied revisions this binary has no file for: a
// newer release migrated the database, and this older one runs on it.
func (d *DB) warnUnknown(ctx context.Context, revs []*migrate.Revision, files []migrate.File) {
	known := map[string]bool{}
	for _, f := range files {
		known[f.Version()] = true
	}
	for _, r := range revs {
		if !known[r.Version] {
			d.logger().WarnContext(ctx, "the database has a migration this binary does not know: a newer release applied it", "version", r.Version, "description", r.Description)
		}
	}
}
