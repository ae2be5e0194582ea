// Package database owns Meridian's SQL connection: it opens the embedded
// SQLite file or PostgreSQL (through pgx) behind one ent client, applies the
// versioned migrations of every table the server owns (migrations/, see
// Migrate), and counts every statement so that tests, metrics and the
// response extensions can prove there is no N+1.
package database

// The migration directories (migrations/sqlite, migrations/postgres) are
// written from ent's schema and the owners' Tables (internal/dbschema): a
// new file when they changed, nothing otherwise. The postgres directory is
// diffed on scratch databases of a PostgreSQL server (see the command's
// documentation).
//go:generate go run ../../internal/cmd/migrations -dir migrations
