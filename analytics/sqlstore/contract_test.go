package sqlstore

import (
	"context"
	"testing"

	"meridian/analytics"
	"meridian/analytics/storetest"
	"meridian/database"
	"meridian/internal/testdb"
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
