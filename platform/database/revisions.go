package database

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/schema"
	"entgo.io/ent/dialect"
)

// revisionTableDDL creates RevisionTable: one row per migration file
// applied (or the baseline), with Atlas's revision fields. Times are Unix
// milliseconds and durations nanoseconds, the same on both dialects.
const revisionTableDDL = `CREATE TABLE IF NOT EXISTS ` + RevisionTable + ` (
	version TEXT PRIMARY KEY,
	description TEXT NOT NULL,
	type INTEGER NOT NULL,
	applied INTEGER NOT NULL,
	total INTEGER NOT NULL,
	executed_at BIGINT NOT NULL,
	execution_time BIGINT NOT NULL,
	error TEXT NOT NULL DEFAULT '',
	error_stmt TEXT NOT NULL DEFAULT '',
	hash TEXT NOT NULL DEFAULT '',
	partial_hashes TEXT NOT NULL DEFAULT '[]',
	operator_version TEXT NOT NULL DEFAULT ''
)`

func (d *DB) createRevisionTable(ctx context.Context) error {
	if _, err := d.sql.ExecContext(ctx, revisionTableDDL); err != nil {
		return fmt.Errorf("create %s: %w", RevisionTable, err)
	}
	return nil
}

// revisions is Atlas's migrate.RevisionReadWriter over RevisionTable, on
// the pool or on the transaction of one migration file.
type revisions struct {
	q       schema.ExecQuerier
	dialect string
}

func (d *DB) revisions(q schema.ExecQuerier) *revisions { return &revisions{q: q, dialect: d.Dialect} }

var _ migrate.RevisionReadWriter = (*revisions)(nil)

// Ident implements migrate.RevisionReadWriter: the table a clean database
// may hold.
func (r *revisions) Ident() *migrate.TableIdent { return &migrate.TableIdent{Name: RevisionTable} }

const revisionColumns = `version, description, type, applied, total, executed_at, execution_time, error, error_stmt, hash, partial_hashes, operator_version`

// ReadRevisions implements migrate.RevisionReadWriter, in version order.
func (r *revisions) ReadRevisions(ctx context.Context) ([]*migrate.Revision, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+revisionColumns+` FROM `+RevisionTable+` ORDER BY version`)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", RevisionTable, err)
	}
	defer rows.Close()
	var out []*migrate.Revision
	for rows.Next() {
		rev, err := scanRevision(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, rev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", RevisionTable, err)
	}
	return out, nil
}

// ReadRevision implements migrate.RevisionReadWriter.
func (r *revisions) ReadRevision(ctx context.Context, version string) (*migrate.Revision, error) {
	rows, err := r.q.QueryContext(ctx, Rebind(r.dialect, `SELECT `+revisionColumns+` FROM `+RevisionTable+` WHERE version = ?`), version)
	if err != nil {
		return nil, fmt.Errorf("read revision %s: %w", version, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read revision %s: %w", version, err)
		}
		return nil, migrate.ErrRevisionNotExist
	}
	return scanRevision(rows)
}

func scanRevision(rows *sql.Rows) (*migrate.Revision, error) {
	var (
		rev      migrate.Revision
		typ      int64
		executed int64
		took     int64
		partial  string
	)
	if err := rows.Scan(&rev.Version, &rev.Description, &typ, &rev.Applied, &rev.Total, &executed, &took,
		&rev.Error, &rev.ErrorStmt, &rev.Hash, &partial, &rev.OperatorVersion); err != nil {
		return nil, fmt.Errorf("scan %s: %w", RevisionTable, err)
	}
	rev.Type = migrate.RevisionType(typ)
	rev.ExecutedAt = time.UnixMilli(executed).UTC()
	rev.ExecutionTime = time.Duration(took)
	if err := json.Unmarshal([]byte(partial), &rev.PartialHashes); err != nil {
		return nil, fmt.Errorf("revision %s: partial hashes: %w", rev.Version, err)
	}
	return &rev, nil
}

// WriteRevision implements migrate.RevisionReadWriter: an upsert by
// version.
func (r *revisions) WriteRevision(ctx context.Context, rev *migrate.Revision) error {
	partial := rev.PartialHashes
	if partial == nil {
		partial = []string{}
	}
	hashes, err := json.Marshal(partial)
	if err != nil {
		return fmt.Errorf("revision %s: partial hashes: %w", rev.Version, err)
	}
	q := `INSERT INTO ` + RevisionTable + ` (` + revisionColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (version) DO UPDATE SET description = excluded.description, type = excluded.type,
	applied = excluded.applied, total = excluded.total, executed_at = excluded.executed_at,
	execution_time = excluded.execution_time, error = excluded.error, error_stmt = excluded.error_stmt,
	hash = excluded.hash, partial_hashes = excluded.partial_hashes, operator_version = excluded.operator_version`
	_, err = r.q.ExecContext(ctx, Rebind(r.dialect, q), rev.Version, rev.Description, int64(rev.Type), rev.Applied, rev.Total,
		rev.ExecutedAt.UnixMilli(), int64(rev.ExecutionTime), rev.Error, rev.ErrorStmt, rev.Hash, string(hashes), rev.OperatorVersion)
	if err != nil {
		return fmt.Errorf("write revision %s: %w", rev.Version, err)
	}
	return nil
}

// DeleteRevision implements migrate.RevisionReadWriter.
func (r *revisions) DeleteRevision(ctx context.Context, version string) error {
	if _, err := r.q.ExecContext(ctx, Rebind(r.dialect, `DELETE FROM `+RevisionTable+` WHERE version = ?`), version); err != nil {
		return fmt.Errorf("delete revision %s: %w", version, err)
	}
	return nil
}

// bufferedRevisions keeps the revision writes of one file's transaction
// and writes the last one when flushed, before the commit.
type bufferedRevisions struct {
	*revisions
	last *migrate.Revision
}

// WriteRevision implements migrate.RevisionReadWriter: it keeps a copy.
func (b *bufferedRevisions) WriteRevision(_ context.Context, rev *migrate.Revision) error {
	cp := *rev
	b.last = &cp
	return nil
}

func (b *bufferedRevisions) flush(ctx context.Context) error {
	if b.last == nil {
		return nil
	}
	return b.revisions.WriteRevision(ctx, b.last)
}

// tableNames are the tables of the database's current schema (SQLite's
// main), for telling a database made before versioned migrations.
func (d *DB) tableNames(ctx context.Context) (map[string]bool, error) {
	q := `SELECT name FROM sqlite_master WHERE type = 'table'`
	if d.Dialect == dialect.Postgres {
		q = `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')`
	}
	rows, err := d.sql.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	names := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("list tables: %w", err)
		}
		names[n] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	return names, nil
}

// readRevisions returns the recorded revisions without creating
// RevisionTable: none when it does not exist (a database never migrated,
// or made before versioned migrations).
func (d *DB) readRevisions(ctx context.Context) ([]*migrate.Revision, error) {
	tables, err := d.tableNames(ctx)
	if err != nil {
		return nil, err
	}
	if !tables[RevisionTable] {
		return nil, nil
	}
	return d.revisions(d.sql).ReadRevisions(ctx)
}
