package database

import "ariga.io/atlas/sql/migrate"

// WithMigrationDir replaces the embedded migration directory, for the tests
// of destructive, tampered and later files.
func WithMigrationDir(dir *migrate.MemDir) Option { return func(d *DB) { d.dir = dir } }
