package sqlstore

import (
	"context"
	"testing"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/analytics/storetest"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/platform/database"
)

// TestContract runs the backend-neutral contract suite on both backends.
func TestContract(t *testing.T) {
	for _, backend := range testdb.Backends() {
		t.Run(backend, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) analytics.Store {
				return open(t, testdb.Open(t, backend))
			})
		})
	}
}

// open returns a store on db, failing the test on error.
func open(t testing.TB, db *database.DB) *Store {
	t.Helper()
	s, err := New(context.Background(), db)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// TestRefusals runs the contract of refused rows: PostgreSQL with an index
// on the metadata text, which cannot hold large metadata (SQLSTATE 54000,
// the failure of issue 13), SQLite with a trigger that refuses rows
// carrying a marker (SQLITE_CONSTRAINT_TRIGGER).
func TestRefusals(t *testing.T) {
	for _, backend := range testdb.Backends() {
		t.Run(backend, func(t *testing.T) {
			storetest.RunRefusals(t, func(t *testing.T) analytics.Store {
				return open(t, testdb.Open(t, backend))
			}, func(t *testing.T, as analytics.Store) storetest.Refusal {
				s := as.(*Store)
				if s.pg {
					if _, err := s.db.SQL().ExecContext(context.Background(), `CREATE INDEX events_metadata_text ON events ((metadata::text))`); err != nil {
						t.Fatal(err)
					}
					return storetest.Refusal{Meta: storetest.BulkyMetadata(8 << 10)}
				}
				if _, err := s.db.SQL().ExecContext(context.Background(), `CREATE TRIGGER events_refuse BEFORE INSERT ON events
WHEN json_extract(NEW.metadata, '$.refuse') IS NOT NULL BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`); err != nil {
					t.Fatal(err)
				}
				return storetest.Refusal{Meta: map[string]any{"refuse": true}}
			})
		})
	}
}
