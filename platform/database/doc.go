// Package database owns Meridian's SQL connection: it opens the embedded
// SQLite file or PostgreSQL (through pgx) behind one ent client, runs the
// migrations, and counts every statement so that tests, metrics and the
// response extensions can prove there is no N+1.
package database
