package sqlstore

import (
	"entgo.io/ent/dialect"

	"github.com/meridian-graphql/meridian/platform/database"
)

// Tables declares the event store's tables for the versioned migrations
// (internal/dbschema lists them; see database.Tables). A change to them is
// a change here, which go generate turns into a new migration file.
func Tables() database.Tables {
	return database.Tables{Owner: "event store", DDL: func(d string) []string { return schema(d == dialect.Postgres) }}
}

// schema creates the tables and indexes.
//
//   - events.id is the primary key: the idempotency key of Insert.
//   - On PostgreSQL every text column that is compared or ordered (id, type,
//     cell, country, category, username, interest) has the "C" collation:
//     byte order, as in Go and SQLite, which the cursors ((ts, id) < (…)),
//     the geohash prefix ranges ([p, p+"~")) and the orderings of results
//     rely on, whatever the database's locale.
//   - Revenue is integer cents (revenue_cents): Prepare rounds it to cents
//     anyway, and integer sums are exact and the same on both backends,
//     where float sums depend on the order of addition.
//   - Absent values: cell, lon and lat are NULL without a geo (lon NULL ⇔
//     Event.Geo nil); country, city and category are empty strings when
//     absent, so that they can be rollup key columns and compared with '='
//     without NULL logic; metadata is NULL when the event had none.
//   - Times. PostgreSQL: TIMESTAMPTZ instants and DATE buckets. SQLite has
//     no time type: instants are INTEGER Unix milliseconds (the contract's
//     precision), buckets TEXT 'YYYY-MM-DD'. Integers rather than the text
//     the driver writes for time.Time (database/open.go's
//     _time_format=sqlite): a quarter of the size in the indexes that carry
//     ts, cheaper comparisons — a tenth of the ingest time — and no
//     dependency on the connection's time format, since this package binds
//     every time it stores or compares (Store.tsArg, Store.boundArg).
//
// Indexes, each for a query shape; every index costs ingest time (each was
// measured with BenchmarkInsert), so none is there that no query needs:
//
//   - events_user_ts (user_id, ts DESC, id DESC): UserEvents — the window's
//     partition and order, and the cursor as a range —, ActivitySummaries,
//     and any query filtered by user.
//   - events_ts: time ranges — Export's keyset pages, the raw edges of
//     EventDistribution, UserActivity, UserPeriods, DeleteBefore. (ts, id)
//     on PostgreSQL, so that (ts, id) > (…) ORDER BY ts, id is one range in
//     order; (ts) on SQLite, whose index entries end with the rowid anyway
//     and whose planner sorts only the ties by id ("TEMP B-TREE FOR RIGHT
//     PART OF ORDER BY"): without the 26-byte id, ingest is 15% faster.
//   - events_purchases, partial (type = 'purchase') and covering: the rows
//     of PurchaseAnalytics in ts order with every column it reads, so that
//     it is an index-only range scan (20 ms instead of 190 ms cold on a
//     million events) — and at a ninth of the ingest cost of the (type, ts)
//     index it replaces. Type filters of other queries are applied to the
//     ts range they read anyway.
//   - events_cell (cell) WHERE cell IS NOT NULL: InCells' prefix ranges;
//     partial, so that events without a geo cost nothing.
//   - No index on day: whole days come from the rollup; raw day ranges are
//     ts ranges.
//   - event_counts_daily's primary key (day, type, country) is both the
//     upsert target of ingest and the range scan of EventDistribution.
//   - profile_interests' primary key (interest, username): UsersByInterest
//     is one key prefix, read in username order until LIMIT.
func schema(pg bool) []string {
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
			`CREATE INDEX IF NOT EXISTS events_purchases ON events (ts)
	INCLUDE (user_id, revenue_cents, category, country, day, week, month) WHERE type = 'purchase'`,
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
	// SQLite: events is a rowid table (the id primary key is a separate
	// unique index), so that rows are appended in insertion order and
	// secondary indexes carry the rowid rather than the text id; ingest
	// relies on rowids growing (see insertSQLite). The small key-only tables
	// are WITHOUT ROWID: the primary key is the table.
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
		`CREATE INDEX IF NOT EXISTS events_purchases ON events (ts, user_id, revenue_cents, category, country, day, week, month)
	WHERE type = 'purchase'`,
		`CREATE INDEX IF NOT EXISTS events_ts ON events (ts)`,
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
	updated_at INTEGER NOT NULL
)`,
		`CREATE TABLE IF NOT EXISTS profile_interests (
	interest TEXT NOT NULL,
	username TEXT NOT NULL REFERENCES user_profiles (username) ON DELETE CASCADE,
	PRIMARY KEY (interest, username)
) WITHOUT ROWID`,
	}
}

// migrationLockKey is the PostgreSQL advisory lock (transaction-scoped)
// that Load holds, so that two loads of an empty store run one after the
// other. It must differ from database.MigrationLockName's key.
const migrationLockKey = 0x6d6572_616e61 // "mer" "ana"
