// Package analytics owns Meridian's event analytics: tracked events and user
// profiles, their validation and derived fields, the Store contract that the
// SQL backend (analytics/sqlstore: SQLite, PostgreSQL) and the MongoDB
// backend (analytics/mongostore) implement, and the computations built on
// top of the stores (retention cohorts, exact distances for "near" search).
//
// Everything a query groups by is derived once, at ingest (Prepare): UTC day,
// week and month buckets, a geohash cell, a purchase's revenue and category.
// That keeps every backend query a plain match-and-group — which is also all
// that FerretDB, the MongoDB stand-in of the tests, runs correctly.
package analytics
