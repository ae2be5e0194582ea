package database_test

import (
	"os"
	"testing"
	"time"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/schema"

	"github.com/meridian-graphql/meridian/ent/user"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/platform/database"
)

// openLegacy returns a database made as Meridian's start-up made it before
// versioned migrations (testdata/legacy: main's ent auto-migration and
// owners' DDL, dumped), opened without migrating.
func openLegacy(t *testing.T, backend string) *database.DB {
	t.Helper()
	db := testdb.OpenEmpty(t, backend)
	dump, err := os.ReadFile("testdata/legacy/" + backend + ".sql")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.SQL().Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), string(dump)); err != nil {
		t.Fatalf("load the legacy %s database: %v", backend, err)
	}
	return db
}

// schemaDiff is what differs between two databases' tables (Meridian's,
// the revision table left out), as Atlas sees them.
func schemaDiff(t *testing.T, got, want *database.DB) []schema.Change {
	t.Helper()
	inspect := func(db *database.DB) (migrate.Driver, *schema.Schema) {
		drv, err := database.AtlasDriver(db.Dialect, db.SQL())
		if err != nil {
			t.Fatal(err)
		}
		s, err := drv.InspectSchema(t.Context(), "", nil)
		if err != nil {
			t.Fatal(err)
		}
		return drv, s
	}
	drv, g := inspect(got)
	_, w := inspect(want)
	var names []string
	for _, tt := range w.Tables {
		if tt.Name != database.RevisionTable {
			names = append(names, tt.Name)
		}
	}
	keep := func(s *schema.Schema) *schema.Schema {
		out := schema.New(s.Name)
		out.Attrs = s.Attrs
		for _, n := range names {
			if tt, ok := s.Table(n); ok {
				out.AddTables(tt)
			}
		}
		return out
	}
	changes, err := drv.SchemaDiff(keep(g), keep(w))
	if err != nil {
		t.Fatal(err)
	}
	return changes
}

// TestAdoptLegacyDatabase: a database made before versioned migrations, with
// data, opens with them without an error: the baseline is recorded as
// applied (as a baseline: its statements do not run), the later files run,
// the data and the old analytics_migrations table stay, the ids go on in
// their global ranges, and its tables are then exactly those of a database
// made by the migration files.
func TestAdoptLegacyDatabase(t *testing.T) {
	for _, backend := range testdb.Backends() {
		t.Run(backend, func(t *testing.T) {
			ctx := t.Context()
			db := openLegacy(t, backend)
			before := db.Client.User.Create().SetUsername("old").SetEmail("old@example.com").SaveX(ctx)
			if _, err := db.SQL().ExecContext(ctx, db.Rebind(`INSERT INTO outbox (id, exchange, type, body, occurred_at) VALUES (?, ?, ?, ?, ?)`),
				"01OLD", "data_processing", "user.created", `{}`, time.Now().UnixMilli()); err != nil {
				t.Fatal(err)
			}
			files, err := mustDir(t, db.Dialect).Files()
			if err != nil {
				t.Fatal(err)
			}
			st, err := db.MigrationStatus(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !st.Legacy || st.Files[0].State != "baseline" || st.Pending() != len(files)-1 {
				t.Fatalf("status of the legacy database:\n%s", st)
			}
			for range 2 {
				if err := db.Migrate(ctx); err != nil {
					t.Fatalf("migrate the legacy database: %v", err)
				}
			}
			if st, err = db.MigrationStatus(ctx); err != nil || st.Legacy || st.Pending() != 0 || st.Files[0].State != "baseline" {
				t.Fatalf("status after the adoption (%v):\n%s", err, st)
			}
			var typ int
			if err := db.SQL().QueryRowContext(ctx, db.Rebind(`SELECT type FROM `+database.RevisionTable+` WHERE version = ?`), files[0].Version()).Scan(&typ); err != nil || migrate.RevisionType(typ) != migrate.RevisionTypeBaseline {
				t.Errorf("baseline revision: type %d, %v", typ, err)
			}
			if n := revisionCount(t, db); n != len(files) {
				t.Errorf("%d revisions, want %d", n, len(files))
			}
			if u, err := db.Client.User.Query().Where(user.Username("old")).Only(ctx); err != nil || u.ID != before.ID {
				t.Errorf("the user made before: %v, %v", u, err)
			}
			var n int
			if err := db.SQL().QueryRowContext(ctx, `SELECT (SELECT count(*) FROM outbox) + (SELECT count(*) FROM analytics_migrations)`).Scan(&n); err != nil || n != 2 {
				t.Errorf("the outbox row and analytics_migrations: %d rows, %v; want 2", n, err)
			}
			after := db.Client.User.Create().SetUsername("new").SetEmail("new@example.com").SaveX(ctx)
			if after.ID <= before.ID || after.ID < 21474836480 || after.ID >= 21474836480+1<<32 {
				t.Errorf("user ids %d then %d: out of the users' range", before.ID, after.ID)
			}
			if diff := schemaDiff(t, db, testdb.Open(t, backend)); len(diff) > 0 {
				t.Errorf("the adopted database differs from one made by the migrations: %d changes, e.g. %#v", len(diff), diff[0])
			}
		})
	}
}

// TestAdoptOlderLegacyDatabase: a database last opened by a release older
// than the baseline (no outbox lease column, no users.last_active_order
// and its index) is brought up to the baseline when adopted, as that
// release's auto-migration would have done, and the backfill fills the new
// column.
func TestAdoptOlderLegacyDatabase(t *testing.T) {
	for _, backend := range testdb.Backends() {
		t.Run(backend, func(t *testing.T) {
			ctx := t.Context()
			db := openLegacy(t, backend)
			for _, s := range []string{
				`DROP INDEX user_last_active_order`,
				`ALTER TABLE users DROP COLUMN last_active_order`,
				`ALTER TABLE outbox DROP COLUMN claimed_until`,
			} {
				if _, err := db.SQL().ExecContext(ctx, s); err != nil {
					t.Fatalf("%s: %v", s, err)
				}
			}
			at := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
			if _, err := db.SQL().ExecContext(ctx, db.Rebind(`INSERT INTO users (username, email, created_at, last_active_at, total_spent) VALUES (?, ?, ?, ?, 0)`),
				"old", "old@example.com", at, at); err != nil {
				t.Fatal(err)
			}
			if err := db.Migrate(ctx); err != nil {
				t.Fatalf("migrate the older database: %v", err)
			}
			if !hasColumn(t, db, "outbox", "claimed_until") || !hasColumn(t, db, "users", "last_active_order") {
				t.Fatal("the catch-up did not add the columns")
			}
			u, err := db.Client.User.Query().Where(user.Username("old")).Only(ctx)
			if err != nil || !u.LastActiveOrder.Equal(at) {
				t.Errorf("last_active_order after the catch-up: %v, %v; want %v", u, err, at)
			}
			if diff := schemaDiff(t, db, testdb.Open(t, backend)); len(diff) > 0 {
				t.Errorf("the caught-up database differs from one made by the migrations: %d changes, e.g. %#v", len(diff), diff[0])
			}
		})
	}
}

func mustDir(t *testing.T, dialect string) *migrate.MemDir {
	t.Helper()
	dir, err := database.MigrationDir(dialect)
	if err != nil {
		t.Fatal(err)
	}
	return dir
}
