package database

import (
	"context"
	"fmt"
)

// Migration is the schema change of one owner of tables in the database
// (the outbox, the API keys, the consumers, the event store…): idempotent,
// so that it runs at every start. The owning package exports it; the
// process lists every owner once (WithMigrations) and Migrate runs them.
type Migration struct {
	Owner string
	Run   func(ctx context.Context, db *DB) error
}

// WithMigrations registers the migrations of the other schema owners, in
// the order Migrate runs them after ent's.
func WithMigrations(ms ...Migration) Option {
	return func(d *DB) { d.migrations = append(d.migrations, ms...) }
}

// Migrate creates or alters the tables: ent's schema first (the other
// owners' tables may refer to its tables), then each registered Migration
// in order. All of them run under one hold of the migration lock, since
// replicas start (and migrate) at the same moment and concurrent CREATE …
// IF NOT EXISTS is not safe on PostgreSQL.
func (d *DB) Migrate(ctx context.Context) error {
	return d.WithMigrationLock(ctx, func(ctx context.Context) error {
		if err := d.migrateEnt(ctx); err != nil {
			return err
		}
		for _, m := range d.migrations {
			if err := m.Run(ctx, d); err != nil {
				return fmt.Errorf("migrate %s: %w", m.Owner, err)
			}
		}
		return nil
	})
}
