package database

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/schema"
	"entgo.io/ent/dialect"
)

// Adoption of a database made before versioned migrations. Until then, ent's
// auto-migration and each owner's idempotent DDL converged the tables to
// their release's schema at every start, and the first migration file (the
// baseline) is what that start-up made of an empty database. Such a
// database has Meridian's tables but no revision; adopt records the baseline
// as applied, so that only the later files run on it.

// createTableRE finds the table a CREATE TABLE statement makes.
var createTableRE = regexp.MustCompile("(?is)^\\s*CREATE\\s+TABLE\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?[`\"]?([A-Za-z0-9_]+)[`\"]?")

// createdTables are the tables the file creates.
func createdTables(f migrate.File) ([]string, error) {
	stmts, err := f.StmtDecls()
	if err != nil {
		return nil, fmt.Errorf("migration %s: %w", f.Name(), err)
	}
	var names []string
	for _, s := range stmts {
		if m := createTableRE.FindStringSubmatch(s.Text); m != nil {
			names = append(names, m[1])
		}
	}
	return names, nil
}

// isLegacy reports whether a database without revisions has tables the
// baseline creates: it was made before versioned migrations.
func (d *DB) isLegacy(ctx context.Context, baseline migrate.File) (bool, error) {
	want, err := createdTables(baseline)
	if err != nil {
		return false, err
	}
	have, err := d.tableNames(ctx)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(want, func(t string) bool { return have[t] }), nil
}

// adopt records the baseline as applied on a database made before versioned
// migrations, after bringing the database up to it: a database last opened
// by an older release than the baseline's may lack a column or an index the
// baseline has (the outbox's claimed_until, say), which that release's
// start-up would have added. catchUp adds what is missing; the additions
// and the baseline revision commit together.
func (d *DB) adopt(ctx context.Context, baseline migrate.File) error {
	log := d.logger()
	stmts, skipped, err := d.catchUp(ctx, baseline)
	if errors.Is(err, errNoScratch) {
		log.WarnContext(ctx, "adopting a database made before versioned migrations without comparing it with the baseline", "baseline", baseline.Name(), "error", err)
		stmts, skipped, err = nil, nil, nil
	}
	if err != nil {
		return fmt.Errorf("adopt the database made before versioned migrations: %w", err)
	}
	for _, s := range skipped {
		log.WarnContext(ctx, "the database made before versioned migrations differs from the baseline; left as it is", "baseline", baseline.Name(), "difference", s)
	}
	err = d.inFileTx(ctx, true, func(q schema.ExecQuerier) error {
		// SQLite: another process may have adopted it meanwhile.
		if revs, err := d.revisions(q).ReadRevisions(ctx); err != nil || len(revs) > 0 {
			stmts = nil
			return err
		}
		for _, s := range stmts {
			if _, err := q.ExecContext(ctx, s); err != nil {
				return fmt.Errorf("bring it up to the baseline: %q: %w", s, err)
			}
		}
		return d.revisions(q).WriteRevision(ctx, &migrate.Revision{
			Version: baseline.Version(), Description: baseline.Desc(), Type: migrate.RevisionTypeBaseline,
			ExecutedAt: time.Now(), OperatorVersion: operatorVersion,
		})
	})
	if err != nil {
		return fmt.Errorf("adopt the database made before versioned migrations: %w", err)
	}
	log.InfoContext(ctx, "adopted a database made before versioned migrations: baseline recorded as applied",
		"dialect", d.Dialect, "baseline", baseline.Name(), "statements_to_catch_up", len(stmts))
	return nil
}

// catchUp returns the statements that add to the database's tables what
// the baseline has and they lack: tables, columns, indexes, foreign keys
// and checks, as the old auto-migration added them. Other differences
// (a column's type, a dropped index…) come back as skipped, described: the
// old start-up left those alone too.
func (d *DB) catchUp(ctx context.Context, baseline migrate.File) (stmts, skipped []string, err error) {
	want, err := d.replayScratch(ctx, []migrate.File{baseline}, nil)
	if err != nil {
		return nil, nil, err
	}
	drv, err := AtlasDriver(d.Dialect, d.sql)
	if err != nil {
		return nil, nil, err
	}
	names := make([]string, len(want.Tables))
	for i, t := range want.Tables {
		names[i] = t.Name
	}
	have, err := drv.InspectSchema(ctx, "", &schema.InspectOptions{Tables: names})
	if err != nil {
		return nil, nil, fmt.Errorf("inspect the database: %w", err)
	}
	want.Name, want.Attrs = have.Name, have.Attrs
	changes, err := drv.SchemaDiff(have, want)
	if err != nil {
		return nil, nil, fmt.Errorf("compare the database with the baseline: %w", err)
	}
	var add []schema.Change
	for _, c := range changes {
		switch c := c.(type) {
		case *schema.AddTable:
			add = append(add, c)
		case *schema.ModifyTable:
			var keep []schema.Change
			for _, cc := range c.Changes {
				switch cc.(type) {
				case *schema.AddColumn, *schema.AddIndex, *schema.AddForeignKey, *schema.AddCheck:
					keep = append(keep, cc)
				default:
					skipped = append(skipped, c.T.Name+": "+describe(cc))
				}
			}
			if len(keep) > 0 {
				add = append(add, &schema.ModifyTable{T: c.T, Changes: keep})
			}
		default:
			skipped = append(skipped, fmt.Sprintf("%T", c))
		}
	}
	if len(add) == 0 {
		return nil, skipped, nil
	}
	plan, err := drv.PlanChanges(ctx, "catch_up", add, noQualifier)
	if err != nil {
		return nil, nil, fmt.Errorf("plan the catch-up: %w", err)
	}
	for _, c := range plan.Changes {
		stmts = append(stmts, c.Cmd)
	}
	return stmts, skipped, nil
}

// describe says what a change the catch-up leaves alone is about.
func describe(c schema.Change) string {
	switch c := c.(type) {
	case *schema.DropColumn:
		return fmt.Sprintf("column %q is not in the baseline", c.C.Name)
	case *schema.ModifyColumn:
		return fmt.Sprintf("column %q differs from the baseline's", c.To.Name)
	case *schema.DropIndex:
		return fmt.Sprintf("index %q is not in the baseline", c.I.Name)
	case *schema.ModifyIndex:
		return fmt.Sprintf("index %q differs from the baseline's", c.To.Name)
	case *schema.DropForeignKey:
		return fmt.Sprintf("foreign key %q is not in the baseline", c.F.Symbol)
	case *schema.ModifyForeignKey:
		return fmt.Sprintf("foreign key %q differs from the baseline's", c.To.Symbol)
	}
	return fmt.Sprintf("%T", c)
}

// noQualifier plans statements without a schema name, as ent writes the
// migration files: they run in the connection's current schema.
func noQualifier(o *migrate.PlanOptions) {
	var none string
	o.SchemaQualifier = &none
}

// errNoScratch: a scratch schema could not be made (PostgreSQL: no
// privilege to CREATE SCHEMA).
var errNoScratch = errors.New("no scratch schema to replay the migrations on")

// replayScratch runs files, then step (if any) on a scratch copy of the
// schema and returns what they make of an empty one, inspected: SQLite
// replays them on an in-memory database; PostgreSQL in a schema of its own,
// created in a transaction that is rolled back, so nothing stays behind.
// step runs between files[i-1] and files[i] when it is called with i.
func (d *DB) replayScratch(ctx context.Context, files []migrate.File, step func(i int, s *schema.Schema) error) (*schema.Schema, error) {
	if d.Dialect == dialect.Postgres {
		return d.replayPostgres(ctx, files, step)
	}
	db, err := sql.Open("sqlite", "file:scratch?mode=memory&_pragma=foreign_keys(1)")
	if err != nil {
		return nil, fmt.Errorf("scratch SQLite database: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // one connection: the in-memory database lives on it
	return replayOn(ctx, d.Dialect, db, "main", files, step)
}

func (d *DB) replayPostgres(ctx context.Context, files []migrate.File, step func(int, *schema.Schema) error) (*schema.Schema, error) {
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("scratch schema: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "meridian_scratch_" + hex.EncodeToString(b)
	if _, err := tx.ExecContext(ctx, `CREATE SCHEMA `+name); err != nil {
		return nil, fmt.Errorf("%w: %w", errNoScratch, err)
	}
	if _, err := tx.ExecContext(ctx, `SET LOCAL search_path TO `+name); err != nil {
		return nil, fmt.Errorf("scratch schema: %w", err)
	}
	return replayOn(ctx, d.Dialect, tx, name, files, step)
}

// replayOn runs the files' statements on q and inspects schema name.
func replayOn(ctx context.Context, dialectName string, q schema.ExecQuerier, name string, files []migrate.File, step func(int, *schema.Schema) error) (*schema.Schema, error) {
	drv, err := AtlasDriver(dialectName, q)
	if err != nil {
		return nil, err
	}
	inspect := func() (*schema.Schema, error) {
		s, err := drv.InspectSchema(ctx, name, nil)
		if err != nil {
			return nil, fmt.Errorf("inspect the scratch schema: %w", err)
		}
		return s, nil
	}
	for i, f := range files {
		if step != nil {
			s, err := inspect()
			if err != nil {
				return nil, err
			}
			if err := step(i, s); err != nil {
				return nil, err
			}
		}
		stmts, err := f.StmtDecls()
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", f.Name(), err)
		}
		for _, s := range stmts {
			if _, err := q.ExecContext(ctx, s.Text); err != nil {
				return nil, fmt.Errorf("replay %s: %q: %w", f.Name(), strings.TrimSpace(s.Text), err)
			}
		}
	}
	return inspect()
}
