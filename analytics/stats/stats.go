// Package stats answers the relational analytics — per-country and per-city
// aggregates, user distributions, rankings, registration cohorts, high-value
// users — each with one SQL statement (GROUP BY and window functions) on
// SQLite and PostgreSQL alike, never a loop over rows.
package stats

import (
	"github.com/meridian-graphql/meridian/platform/database"
)

// Stats runs the analytics queries on one database.
type Stats struct {
	db *database.DB
}

// New returns the analytics over db.
func New(db *database.DB) *Stats { return &Stats{db: db} }
