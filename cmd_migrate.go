package main

import (
	"context"
	"fmt"

	"github.com/meridian-graphql/meridian/platform/database"
)

// migrateCmd shows or applies the versioned migrations of the configured
// database (platform/database/migrations), which the server also applies
// at start.
func migrateCmd(ctx context.Context, c *cli, args []string) error {
	status := spec{"migrate status", "", "List the migration files: applied, baseline or pending (with their destructive statements); changes nothing."}
	up := spec{"migrate up", "[--allow-destructive]", "Apply the pending migrations, as the server does at start; destructive ones need --allow-destructive."}
	sub, err := c.group("migrate", []spec{status, up}, args)
	if err != nil {
		return err
	}
	var allow *bool
	switch sub {
	case "status":
		if err := c.parse(status, c.flags(status), args[1:]); err != nil {
			return err
		}
	default:
		fs := c.flags(up)
		allow = fs.Bool("allow-destructive", false, "apply pending files that drop a table, column or index too")
		if err := c.parse(up, fs, args[1:]); err != nil {
			return err
		}
	}
	cfg, log, err := c.config()
	if err != nil {
		return err
	}
	opts := []database.Option{database.WithoutMigrate()}
	if allow != nil {
		opts = append(opts, database.WithAllowDestructive(*allow || cfg.MigrateAllowDestructive))
	}
	db, err := openDatabase(ctx, cfg, log, opts...)
	if err != nil {
		return err
	}
	defer db.Close()
	if allow != nil {
		before, err := db.MigrationStatus(ctx)
		if err != nil {
			return fmt.Errorf("migrate up: %w", err)
		}
		if err := db.Migrate(ctx); err != nil {
			return fmt.Errorf("migrate up: %w", err)
		}
		fmt.Fprintf(c.stderr, "migrations applied: %d\n", before.Pending())
	}
	st, err := db.MigrationStatus(ctx)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", sub, err)
	}
	fmt.Fprint(c.stdout, st)
	return nil
}
