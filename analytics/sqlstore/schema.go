package sqlstore

import (
	"context"
	"fmt"
)

// migration is one numbered, append-only schema change. Applied versions are
// recorded in analytics_migrations; a change to the schema is a new entry at
// the end of migrations(), never an edit of an applied one. Statements are
// still written idempotently (IF NOT EXISTS) so that a database created
// before the migrations table existed, or half-created by hand, converges.
type migration struct {
	version int
	name    string
	// stmts returns the statements for the dialect (pg: PostgreSQL).
	stmts func(pg bool) []string
}

func migrations() []migration {
	return []migration{
		{1, "events, daily rollups, profiles", schemaV1},
	}
}

// schemaV1 creates the tables and indexes.
//
// Choices common to both backends:
//
//   - events.id is the primary key, the idempotency key of Insert. On
//     PostgreSQL every text column that is compared or ordered (id, type,
//     cell, country, category, username, interest) uses the "C" collation:
//     byte order, as in Go and SQLite, which the cursor comparisons
//     ((ts, id) < (…)) and the geohash prefix ranges ([p, p+"~")) rely on,
//     whatever the database's locale.
//   - revenue is stored in integer cents (revenue_cents): Prepare rounds it
//     to cents anyway, and integer sums are exact and identical on both
//     backends, where float sums would depend on the order of addition.
//   - Absent values: cell and lon/lat are NULL without a geo (lon NULL ⇔
//     Event.Geo nil); country, city and category are ” when absent, so they
//     can be part of the rollup key and compared with '=' without NULL
//     logic; metadata is NULL when the event had none.
//   - Indexes, each for a query shape:
//     (user_id, ts DESC, id DESC) — UserEvents pages and their cursor,
//     ActivitySummaries, and any query filtered by user;
//     (type, ts) — type-filtered ranges: PurchaseAnalytics (type =
//     'purchase'), the raw edges of EventDistribution with a type filter;
//     (ts, id) — time ranges, Export's keyset pages (ts, id) > (…) in order,
//     DeleteBefore;
//     (cell) WHERE cell IS NOT NULL — InCells' prefix ranges; partial, so
//     events without a geo cost nothing.
//     No index on day: day ranges are read from the rollup, and raw day
//     ranges are ts ranges. Every index costs ingest speed, so there is no
//     index that no query needs.
//   - event_counts_daily's primary key (day, type, country) is both the
//     upsert target of ingest and the range scan of EventDistribution.
//   - profile_interests' primary key is (interest, username): the lookup of
//     UsersByInterest is one key prefix, already in username order, and
//     LIMIT stops the scan.
//
// Times: PostgreSQL has TIMESTAMPTZ (instants, microseconds) and DATE for the
// buckets. SQLite has no time type; times are TEXT in the fixed-width UTC
// form 2006-01-02T15:04:05.000Z (see tsLayout) and dates YYYY-MM-DD, so that
// string order is time order, MIN/MAX work, and SQLite's date functions read
// them. They are formatted by this package rather than by the driver, whose
// format depends on the connection's _time_format setting and is not fixed
// width.
func schemaV1(pg bool) []string {
	if pg {
		return []string{
			`CREATE TABLE IF NOT EXISTS events (
	id TEXT COLLATE "C" PRIMARY KEY,
	user_id BIGINT NOT NULL,
	type TEXT COLLATE "C" NOT NULL,
	ts TIMESTAMPTZ NOT NULL,
	day DATE NOT NULL,
	week DATE NOT NULL,
	month DATE NOT NULL,
	cell TEXT COLLATE "C",
	revenue_cents BIGINT NOT NULL DEFAULT 0,
	category TEXT COLLATE "C" NOT NULL DEFAULT '',
	country TEXT COLLATE "C" NOT NULL DEFAULT '',
	city TEXT NOT NULL DEFAULT '',
	lon DOUBLE PRECISION,
	lat DOUBLE PRECISION,
	metadata JSONB
)`,
			`CREATE INDEX IF NOT EXISTS events_user_ts ON events (user_id, ts DESC, id DESC)`,
			`CREATE INDEX IF NOT EXISTS events_type_ts ON events (type, ts)`,
			`CREATE INDEX IF NOT EXISTS events_ts ON events (ts, id)`,
			`CREATE INDEX IF NOT EXISTS events_cell ON events (cell) WHERE cell IS NOT NULL`,
			`CREATE TABLE IF NOT EXISTS event_counts_daily (
	day DATE NOT NULL,
	type TEXT COLLATE "C" NOT NULL,
	country TEXT COLLATE "C" NOT NULL,
	count BIGINT NOT NULL,
	PRIMARY KEY (day, type, country)
)`,
			`CREATE TABLE IF NOT EXISTS user_profiles (
	username TEXT COLLATE "C" PRIMARY KEY,
	email TEXT NOT NULL DEFAULT '',
	interests JSONB NOT NULL DEFAULT '[]',
	expertise_level TEXT NOT NULL DEFAULT '',
	metrics JSONB NOT NULL DEFAULT '{}',
	subscriptions JSONB NOT NULL DEFAULT '[]',
	updated_at TIMESTAMPTZ NOT NULL
)`,
			`CREATE TABLE IF NOT EXISTS profile_interests (
	interest TEXT COLLATE "C" NOT NULL,
	username TEXT COLLATE "C" NOT NULL REFERENCES user_profiles (username) ON DELETE CASCADE,
	PRIMARY KEY (interest, username)
)`,
		}
	}
	// SQLite: a rowid table (the id primary key becomes a unique index), so
	// that rows are appended in insertion order and secondary indexes carry
	// an 8-byte rowid rather than the text id.
	return []string{
		`CREATE TABLE IF NOT EXISTS events (
	id TEXT NOT NULL PRIMARY KEY,
	user_id INTEGER NOT NULL,
	type TEXT NOT NULL,
	ts INTEGER NOT NULL,
	day TEXT NOT NULL,
	week TEXT NOT NULL,
	month TEXT NOT NULL,
	cell TEXT,
	revenue_cents INTEGER NOT NULL DEFAULT 0,
	category TEXT NOT NULL DEFAULT '',
	country TEXT NOT NULL DEFAULT '',
	city TEXT NOT NULL DEFAULT '',
	lon REAL,
	lat REAL,
	metadata TEXT
)`,
		`CREATE INDEX IF NOT EXISTS events_user_ts ON events (user_id, ts DESC, id DESC)`,
		`CREATE INDEX IF NOT EXISTS events_purchases ON events (ts) WHERE type = 'purchase'`,
		`CREATE INDEX IF NOT EXISTS events_ts ON events (ts, id)`,
		`CREATE INDEX IF NOT EXISTS events_cell ON events (cell) WHERE cell IS NOT NULL`,
		`CREATE TABLE IF NOT EXISTS event_counts_daily (
	day TEXT NOT NULL,
	type TEXT NOT NULL,
	country TEXT NOT NULL,
	count INTEGER NOT NULL,
	PRIMARY KEY (day, type, country)
) WITHOUT ROWID`,
		`CREATE TABLE IF NOT EXISTS user_profiles (
	username TEXT NOT NULL PRIMARY KEY,
	email TEXT NOT NULL DEFAULT '',
	interests TEXT NOT NULL DEFAULT '[]',
	expertise_level TEXT NOT NULL DEFAULT '',
	metrics TEXT NOT NULL DEFAULT '{}',
	subscriptions TEXT NOT NULL DEFAULT '[]',
	updated_at TEXT NOT NULL
)`,
		`CREATE TABLE IF NOT EXISTS profile_interests (
	interest TEXT NOT NULL,
	username TEXT NOT NULL REFERENCES user_profiles (username) ON DELETE CASCADE,
	PRIMARY KEY (interest, username)
) WITHOUT ROWID`,
	}
}

// migrationLockKey is the PostgreSQL advisory lock that serialises
// concurrent New calls (several servers starting at once): CREATE … IF NOT
// EXISTS alone is not safe against a concurrent creation there. SQLite
// serialises them by its write lock (transactions begin IMMEDIATE).
const migrationLockKey = 0x6d6572_616e61 // "mer" "ana"

// migrate applies the pending migrations in one transaction: all of them or
// none, and the recorded versions always match the schema.
func (s *Store) migrate(ctx context.Context) (err error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("begin migration: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if s.pg {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLockKey)); err != nil {
			return fmt.Errorf("lock migrations: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS analytics_migrations (
	version INTEGER NOT NULL PRIMARY KEY,
	name TEXT NOT NULL,
	applied_at `+s.tsType()+` NOT NULL
)`); err != nil {
		return fmt.Errorf("create analytics_migrations: %w", err)
	}
	applied := map[int]bool{}
	rows, err := tx.QueryContext(ctx, `SELECT version FROM analytics_migrations`)
	if err != nil {
		return fmt.Errorf("read analytics_migrations: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("read analytics_migrations: %w", err)
		}
		applied[v] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read analytics_migrations: %w", err)
	}
	for _, m := range migrations() {
		if applied[m.version] {
			continue
		}
		for _, stmt := range m.stmts(s.pg) {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO analytics_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
			m.version, m.name, s.tsArg(s.now())); err != nil {
			return fmt.Errorf("record migration %d: %w", m.version, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit migrations: %w", err)
	}
	return nil
}
