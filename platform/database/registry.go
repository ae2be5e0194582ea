package database

// Tables declares the tables of one owner of tables in the database besides
// ent (the event store, the outbox, the API keys, the consumers…): the
// statements that create them on an empty database. The owning package
// exports it, and internal/dbschema lists every owner once.
//
// The statements are not run at start: with ent's schema they are the
// desired state that internal/cmd/migrations (go generate) diffs the
// versioned migration directories against, writing any difference as a new
// migration file. Open applies those files (see Migrate), so a change to an
// owner's tables reaches a database as a migration, like a change to ent's.
type Tables struct {
	Owner string
	// DDL returns the statements for a dialect (dialect.SQLite or
	// dialect.Postgres), in the order they run.
	DDL func(dialect string) []string
}
