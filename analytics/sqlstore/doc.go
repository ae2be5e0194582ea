// Package sqlstore is the SQL backend of analytics.Store: tracked events,
// their daily rollups and user profiles, kept in the same SQLite file or
// PostgreSQL database as the ent schema and run through the same counting
// driver, so that statements are counted and one backup holds everything.
//
// It owns these tables (see schema.go for each column and index, and why):
//
//   - events: one row per event, keyed by its id, which is the idempotency
//     key (INSERT … ON CONFLICT (id) DO NOTHING). Everything a query groups
//     or filters by — UTC day, week and month, geohash cell, revenue,
//     category, country — is a plain column computed at ingest by
//     analytics.Policy.Prepare, so every query is an index range scan plus a
//     GROUP BY, the same statement on both backends.
//   - event_counts_daily: events per (day, type, country), maintained in the
//     transaction of every insert and delete. EventDistribution reads it for
//     the whole days of a range and the raw events only for the partial days
//     at its edges, so its cost depends on the number of days, not events.
//   - user_profiles and profile_interests: profiles as one row with JSON
//     lists and metrics, plus one row per (interest, username) so that
//     "users by interest" is a primary-key range scan in username order.
//
// The tables are declared in schema.go (Tables) and created, like every
// table of the database, by the versioned migrations of platform/database;
// databases made before those keep an unused analytics_migrations table,
// the store's own version record of then.
//
// The two backends differ only where they must: how times are stored
// (TIMESTAMPTZ and DATE on PostgreSQL; Unix milliseconds and YYYY-MM-DD
// text on SQLite), a few index shapes, how a set of ids is bound (an array
// or a JSON array), and how a batch is ingested: one unnest statement that
// also maintains the rollup on PostgreSQL, multi-row VALUES chunks through
// one prepared statement on SQLite.
//
// Filling an empty store (Store.Load, the analytics.BulkLoader of the demo
// seeding) drops the events table's indexes, writes the rows by COPY
// (PostgreSQL) or prepared chunks (SQLite), then rebuilds the indexes and
// writes the rollup once, all in one transaction.
//
// Every statement runs through the database's counting driver, except the
// SQLite ingest (see insertSQLite) and Load, which need one raw connection
// of the pool: to reuse a prepared statement and size its page cache, or to
// reach pgx's COPY.
package sqlstore
