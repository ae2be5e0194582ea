package database_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/schema"

	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/platform/database"
)

// dirWith is the embedded directory of the dialect with more files, and
// an atlas.sum that holds them.
func dirWith(t *testing.T, dialect string, more map[string]string) *migrate.MemDir {
	t.Helper()
	dir, err := database.MigrationDir(dialect)
	if err != nil {
		t.Fatal(err)
	}
	files, err := dir.Files()
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range more {
		files = append(files, migrate.NewLocalFile(name, []byte(body)))
	}
	slices.SortFunc(files, func(a, b migrate.File) int { return strings.Compare(a.Name(), b.Name()) })
	mem := &migrate.MemDir{}
	if err := mem.CopyFiles(files); err != nil {
		t.Fatal(err)
	}
	return mem
}

// openMigrated returns a fresh, migrated database of the backend and its
// URL, to open it again with other options.
func openMigrated(t *testing.T, backend string) (string, *database.DB) {
	t.Helper()
	url := testdb.URL(t, backend)
	db, err := database.Open(t.Context(), url, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return url, db
}

// dialectOf is the ent dialect of a testdb backend.
func dialectOf(backend string) string {
	if backend == "postgres" {
		return "postgres"
	}
	return "sqlite3"
}

// revisionCount counts the rows of the revision table.
func revisionCount(t *testing.T, db *database.DB) int {
	t.Helper()
	var n int
	if err := db.SQL().QueryRowContext(t.Context(), `SELECT count(*) FROM `+database.RevisionTable).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// hasColumn reports whether table has column.
func hasColumn(t *testing.T, db *database.DB, table, column string) bool {
	t.Helper()
	drv, err := database.AtlasDriver(db.Dialect, db.SQL())
	if err != nil {
		t.Fatal(err)
	}
	s, err := drv.InspectSchema(t.Context(), "", &schema.InspectOptions{Tables: []string{table}})
	if err != nil {
		t.Fatal(err)
	}
	tt, ok := s.Table(table)
	if !ok {
		t.Fatalf("no table %s", table)
	}
	_, ok = tt.Column(column)
	return ok
}

// TestMigrateFreshDatabase: a database opened without migrating has no
// table, not even the revision table, and its status lists every file
// pending; Migrate applies and records each file once, and again finds
// nothing to do.
func TestMigrateFreshDatabase(t *testing.T) {
	for _, backend := range testdb.Backends() {
		t.Run(backend, func(t *testing.T) {
			ctx := t.Context()
			db := testdb.OpenEmpty(t, backend)
			dir, err := database.MigrationDir(db.Dialect)
			if err != nil {
				t.Fatal(err)
			}
			files, err := dir.Files()
			if err != nil || len(files) == 0 {
				t.Fatalf("embedded %s migrations: %d files, %v", db.Dialect, len(files), err)
			}
			st, err := db.MigrationStatus(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if st.Legacy || st.Pending() != len(files) || st.Files[0].State != "pending" {
				t.Fatalf("status of an empty database:\n%s", st)
			}
			if _, err := db.SQL().ExecContext(ctx, `SELECT count(*) FROM `+database.RevisionTable); err == nil {
				t.Error("the status created the revision table")
			}
			for range 2 {
				if err := db.Migrate(ctx); err != nil {
					t.Fatal(err)
				}
				if n := revisionCount(t, db); n != len(files) {
					t.Errorf("%d revisions, want %d", n, len(files))
				}
			}
			if st, err = db.MigrationStatus(ctx); err != nil {
				t.Fatal(err)
			}
			for _, f := range st.Files {
				if f.State != "applied" || f.ExecutedAt.IsZero() {
					t.Errorf("after Migrate: %+v", f)
				}
			}
			if st.Pending() != 0 || !strings.Contains(st.String(), "0 pending") {
				t.Errorf("status after Migrate:\n%s", st)
			}
			// The tables of every owner are there.
			for _, table := range []string{"users", "orders", "events", "event_counts_daily", "user_profiles", "outbox", "api_keys", "inbox", "notifications"} {
				if _, err := db.SQL().ExecContext(ctx, `SELECT count(*) FROM `+table); err != nil {
					t.Errorf("table %s: %v", table, err)
				}
			}
		})
	}
}

// TestMigrationChecksums: the embedded directories' atlas.sum hold, and a
// file edited after its sum was taken is refused before anything runs.
func TestMigrationChecksums(t *testing.T) {
	for _, dialect := range []string{"sqlite3", "postgres"} {
		dir, err := database.MigrationDir(dialect)
		if err != nil {
			t.Fatal(err)
		}
		if err := migrate.Validate(dir); err != nil {
			t.Errorf("%s: %v", dialect, err)
		}
		files, err := dir.Files()
		if err != nil {
			t.Fatal(err)
		}
		f := files[0]
		if err := dir.WriteFile(f.Name(), append(f.Bytes(), []byte("\nCREATE TABLE sneaked_in (id INTEGER);\n")...)); err != nil {
			t.Fatal(err)
		}
		if err := migrate.Validate(dir); !errors.Is(err, migrate.ErrChecksumMismatch) {
			t.Errorf("%s: an edited file validates: %v", dialect, err)
		}
	}
	for _, backend := range testdb.Backends() {
		t.Run(backend, func(t *testing.T) {
			dir := dirWith(t, dialectOf(backend), map[string]string{"99990101000000_later.sql": "CREATE TABLE later (id INTEGER PRIMARY KEY);\n"})
			if err := dir.WriteFile("99990101000000_later.sql", []byte("CREATE TABLE later (id INTEGER PRIMARY KEY, edited INTEGER);\n")); err != nil {
				t.Fatal(err)
			}
			_, err := database.Open(t.Context(), testdb.URL(t, backend), "", database.WithMigrationDir(dir))
			if !errors.Is(err, migrate.ErrChecksumMismatch) {
				t.Fatalf("open with an edited file: %v, want a checksum mismatch", err)
			}
		})
	}
}

// TestMigrateLaterFile: a file added after the baseline runs once on a
// database that has the baseline, in order, and is recorded.
func TestMigrateLaterFile(t *testing.T) {
	for _, backend := range testdb.Backends() {
		t.Run(backend, func(t *testing.T) {
			ctx := t.Context()
			url, db := openMigrated(t, backend)
			before := revisionCount(t, db)
			dir := dirWith(t, db.Dialect, map[string]string{"99990101000000_later.sql": "ALTER TABLE api_keys ADD COLUMN note TEXT;\nCREATE INDEX api_keys_note ON api_keys (note);\n"})
			for range 2 {
				later, err := database.Open(ctx, url, "", database.WithMigrationDir(dir))
				if err != nil {
					t.Fatal(err)
				}
				if !hasColumn(t, later, "api_keys", "note") {
					t.Error("the later file did not run")
				}
				if n := revisionCount(t, later); n != before+1 {
					t.Errorf("%d revisions, want %d", n, before+1)
				}
				later.Close()
			}
		})
	}
}

// TestMigrateFailingFile: a file whose statement fails leaves nothing of
// itself behind (its transaction rolls back, revision included), and the
// error names the file and the statement.
func TestMigrateFailingFile(t *testing.T) {
	for _, backend := range testdb.Backends() {
		t.Run(backend, func(t *testing.T) {
			ctx := t.Context()
			url, db := openMigrated(t, backend)
			before := revisionCount(t, db)
			dir := dirWith(t, db.Dialect, map[string]string{"99990101000000_broken.sql": "ALTER TABLE api_keys ADD COLUMN half TEXT;\nALTER TABLE no_such_table ADD COLUMN x TEXT;\n"})
			_, err := database.Open(ctx, url, "", database.WithMigrationDir(dir))
			if err == nil || !strings.Contains(err.Error(), "99990101000000_broken.sql") || !strings.Contains(err.Error(), "no_such_table") {
				t.Fatalf("open with a failing file: %v, want the file and statement named", err)
			}
			if hasColumn(t, db, "api_keys", "half") {
				t.Error("the failed file's first statement stayed")
			}
			if n := revisionCount(t, db); n != before {
				t.Errorf("%d revisions after the failure, want %d", n, before)
			}
		})
	}
}

// TestMigrateSerialisesReplicas: Migrate runs under the migration lock,
// so on PostgreSQL another pool cannot take the lock while a file runs.
func TestMigrateSerialisesReplicas(t *testing.T) {
	needPostgres(t)
	ctx := t.Context()
	url := testdb.NewPostgresDatabase(t)
	other := testdb.OpenURL(t, url)
	dir := dirWith(t, "postgres", map[string]string{"99990101000000_slow.sql": "SELECT pg_sleep(1);\n"})
	done := make(chan error, 1)
	go func() {
		db, err := database.Open(context.Background(), url, "", database.WithMigrationDir(dir))
		if err == nil {
			db.Close()
		}
		done <- err
	}()
	// Wait for the slow file to be running, then try the lock.
	for {
		var n int
		if err := other.SQL().QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(1)%'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the migration ended before the probe: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	probe, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if err := other.WithMigrationLock(probe, func(context.Context) error { return nil }); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("another pool took the migration lock while a file ran: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
