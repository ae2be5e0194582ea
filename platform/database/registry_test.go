package database_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/platform/database"
)

// recorder is a registry of owners that note when they run and what they
// see: ent's tables already there, and (on PostgreSQL) the migration lock
// held, which another pool then cannot take.
type recorder struct {
	t     *testing.T
	other *database.DB // nil: do not probe the lock
	ran   []string
}

func (r *recorder) migration(owner string, fail error) database.Migration {
	return database.Migration{Owner: owner, Run: func(ctx context.Context, db *database.DB) error {
		r.ran = append(r.ran, owner)
		if _, err := db.SQL().ExecContext(ctx, `SELECT count(*) FROM users`); err != nil {
			r.t.Errorf("%s ran before ent's schema: %v", owner, err)
		}
		if r.other != nil {
			probe, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			defer cancel()
			err := r.other.WithMigrationLock(probe, func(context.Context) error { return nil })
			if !errors.Is(err, context.DeadlineExceeded) {
				r.t.Errorf("%s: another pool took the migration lock while the registry ran (err %v)", owner, err)
			}
		}
		return fail
	}}
}

// TestMigrationRegistry: Open runs ent's schema, then every registered
// owner once, in order, all under one hold of the migration lock; a
// failing owner stops the run and is named in the error.
func TestMigrationRegistry(t *testing.T) {
	for _, backend := range testdb.Backends() {
		t.Run(backend, func(t *testing.T) {
			ctx := t.Context()
			url := "sqlite:" + filepath.Join(t.TempDir(), "registry.db")
			r := &recorder{t: t}
			if backend == "postgres" {
				url = testdb.NewPostgresDatabase(t)
				r.other = testdb.OpenURL(t, url)
			}
			db, err := database.Open(ctx, url, "", database.WithMigrations(r.migration("a", nil), r.migration("b", nil), r.migration("c", nil)))
			if err != nil {
				t.Fatal(err)
			}
			db.Close()
			if want := []string{"a", "b", "c"}; !slices.Equal(r.ran, want) {
				t.Errorf("ran %v, want %v", r.ran, want)
			}

			r.ran = nil
			boom := errors.New("boom")
			_, err = database.Open(ctx, url, "", database.WithMigrations(r.migration("a", nil), r.migration("b", boom), r.migration("c", nil)))
			if !errors.Is(err, boom) || !strings.Contains(err.Error(), "migrate b") {
				t.Errorf("Open with a failing owner: %v, want boom named for b", err)
			}
			if want := []string{"a", "b"}; !slices.Equal(r.ran, want) {
				t.Errorf("ran %v after a failure, want %v", r.ran, want)
			}
		})
	}
}
