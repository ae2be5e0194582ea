// Package dbschema is the desired schema of Meridian's SQL database —
// ent's tables and the tables of the other owners (Owners) — and the diff
// of a versioned migration directory against it: ent's own versioned
// migration (ModeReplay: the directory replayed on an empty scratch
// database, compared with the ent schema), extended to the owners' tables.
// internal/cmd/migrations (go generate ./platform/database/...) writes the
// difference as a new migration file; this package's test fails when a
// committed directory is behind the schema.
package dbschema

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"ariga.io/atlas/sql/migrate"
	atlas "ariga.io/atlas/sql/schema"
	entsql "entgo.io/ent/dialect/sql"
	entschema "entgo.io/ent/dialect/sql/schema"

	"github.com/meridian-graphql/meridian/analytics/sqlstore"
	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/broker/consumers"
	"github.com/meridian-graphql/meridian/broker/outbox"
	entmigrate "github.com/meridian-graphql/meridian/ent/migrate"
	"github.com/meridian-graphql/meridian/platform/database"
)

// Owners are the owners of tables besides ent, each exporting its Tables:
// the one list of them. Their DDL runs in this order after ent's schema, so
// an owner comes after any whose tables it refers to.
func Owners() []database.Tables {
	return []database.Tables{
		sqlstore.Tables(),
		outbox.Tables(),
		auth.Tables(),
		consumers.Tables(),
	}
}

// Dev are two empty scratch databases of one dialect that Diff works on:
// Desired, where the owners' DDL runs to be inspected, and Replay, where
// ent replays the migration directory.
type Dev struct {
	Dialect         string // dialect.SQLite or dialect.Postgres
	Desired, Replay *sql.DB
}

// Diff writes into dir, as a new file <version>_<name>.sql and its line in
// atlas.sum, the statements that bring a database migrated by dir's files
// up to the desired schema, and returns that file; nil when dir is up to
// date. Dropped columns and indexes are written too (Migrate refuses them
// without --allow-destructive); a dropped table is not, as in ent: it is a
// file written by hand.
func Diff(ctx context.Context, dev Dev, dir migrate.Dir, version, name string) (migrate.File, error) {
	owners, err := ownerTables(ctx, dev.Dialect, dev.Desired)
	if err != nil {
		return nil, err
	}
	before, err := dir.Files()
	if err != nil {
		return nil, fmt.Errorf("read the migration directory: %w", err)
	}
	m, err := entschema.NewMigrate(entsql.OpenDB(dev.Dialect, dev.Replay),
		entschema.WithDir(dir),
		entschema.WithMigrationMode(entschema.ModeReplay),
		entschema.WithFormatter(versioned(version)),
		entschema.WithDropColumn(true),
		entschema.WithDropIndex(true),
		entschema.WithDiffHook(withTables(owners)),
		entschema.WithErrNoPlan(true),
	)
	if err != nil {
		return nil, fmt.Errorf("ent migrate: %w", err)
	}
	if err := m.NamedDiff(ctx, name, entmigrate.Tables...); err != nil {
		if errors.Is(err, migrate.ErrNoPlan) {
			return nil, nil
		}
		return nil, fmt.Errorf("diff the %s migration directory against the schema: %w", dev.Dialect, err)
	}
	after, err := dir.Files()
	if err != nil {
		return nil, fmt.Errorf("read the migration directory: %w", err)
	}
	for _, f := range after {
		if !slices.ContainsFunc(before, func(b migrate.File) bool { return b.Name() == f.Name() }) {
			return f, nil
		}
	}
	return nil, errors.New("the diff found changes but wrote no new file (is the version taken?)")
}

// errBehind reports a committed directory behind the schema.
var errBehind = errors.New("migration directory does not match the schema")

// versioned names the new file with the version given rather than the
// clock's, so that one run gives both dialects' files the same version.
type versioned string

func (v versioned) Format(p *migrate.Plan) ([]migrate.File, error) {
	p.Version = string(v)
	return migrate.DefaultFormatter.Format(p)
}

// ownerTables runs ent's schema and the owners' DDL on an empty database
// and returns the owners' tables, inspected: their desired state, in the
// form the replayed directory is compared in.
func ownerTables(ctx context.Context, dialectName string, db *sql.DB) ([]*atlas.Table, error) {
	if err := entmigrate.NewSchema(entsql.OpenDB(dialectName, db)).Create(ctx); err != nil {
		return nil, fmt.Errorf("ent schema on the scratch database: %w", err)
	}
	for _, o := range Owners() {
		for _, stmt := range o.DDL(dialectName) {
			if _, err := db.ExecContext(ctx, stmt); err != nil {
				return nil, fmt.Errorf("%s DDL on the scratch database: %w", o.Owner, err)
			}
		}
	}
	drv, err := database.AtlasDriver(dialectName, db)
	if err != nil {
		return nil, err
	}
	s, err := drv.InspectSchema(ctx, "", nil)
	if err != nil {
		return nil, fmt.Errorf("inspect the owners' tables: %w", err)
	}
	var out []*atlas.Table
	for _, t := range s.Tables {
		if !slices.ContainsFunc(entmigrate.Tables, func(e *entschema.Table) bool { return e.Name == t.Name }) {
			out = append(out, t)
		}
	}
	return out, nil
}

// withTables adds the owners' tables to the desired schema of ent's diff,
// so that the directory is compared with them too.
func withTables(tables []*atlas.Table) entschema.DiffHook {
	return func(next entschema.Differ) entschema.Differ {
		return entschema.DiffFunc(func(current, desired *atlas.Schema) ([]atlas.Change, error) {
			for _, t := range tables {
				if _, ok := desired.Table(t.Name); !ok {
					desired.AddTables(t)
				}
			}
			return next.Diff(current, desired)
		})
	}
}

// Check reports whether dir is up to date with the desired schema, writing
// nothing to it: the error says what is missing and how to add it.
func Check(ctx context.Context, dev Dev, dir migrate.Dir) error {
	files, err := dir.Files()
	if err != nil {
		return fmt.Errorf("read the migration directory: %w", err)
	}
	mem := &migrate.MemDir{}
	if err := mem.CopyFiles(files); err != nil {
		return fmt.Errorf("copy the migration directory: %w", err)
	}
	if err := migrate.Validate(dir); err != nil {
		return fmt.Errorf("%s migration directory: %w (a file was edited or added by hand: run `go run ./internal/cmd/migrations -hash`)", dev.Dialect, err)
	}
	f, err := Diff(ctx, dev, mem, "99999999999999", "missing")
	if err != nil {
		return err
	}
	if f != nil {
		return fmt.Errorf("%w: the %s directory lacks these changes; run `go generate ./platform/database/...` (or `go run ./internal/cmd/migrations -name what_changed`) and commit the new files:\n%s",
			errBehind, dev.Dialect, f.Bytes())
	}
	return nil
}
