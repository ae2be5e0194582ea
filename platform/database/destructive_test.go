package database_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/schema"

	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/platform/database"
)

// planned is the migration file Atlas (as internal/cmd/migrations) writes
// for changing table in db as change does to a copy of it.
func planned(t *testing.T, db *database.DB, table string, change func(*schema.Table)) string {
	t.Helper()
	drv, err := database.AtlasDriver(db.Dialect, db.SQL())
	if err != nil {
		t.Fatal(err)
	}
	inspect := func() *schema.Schema {
		s, err := drv.InspectSchema(t.Context(), "", &schema.InspectOptions{Tables: []string{table}})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	from, to := inspect(), inspect()
	tt, _ := to.Table(table)
	change(tt)
	changes, err := drv.SchemaDiff(from, to)
	if err != nil || len(changes) == 0 {
		t.Fatalf("diff: %v, %d changes", err, len(changes))
	}
	plan, err := drv.PlanChanges(t.Context(), "change", changes, func(o *migrate.PlanOptions) {
		var none string
		o.SchemaQualifier = &none
	})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, c := range plan.Changes {
		b.WriteString(c.Cmd + ";\n")
	}
	return b.String()
}

func dropColumn(name string) func(*schema.Table) {
	return func(t *schema.Table) {
		for i, c := range t.Columns {
			if c.Name == name {
				t.Columns = append(t.Columns[:i], t.Columns[i+1:]...)
				return
			}
		}
	}
}

// TestDestructiveMigrationsRefused: a pending file that drops a column (as
// Atlas writes it: ALTER TABLE … DROP COLUMN on PostgreSQL, a table rebuild
// on SQLite), an index or a table is refused before anything runs, naming
// the file, the statement and the way to allow it, and `migrate status`
// shows it; with WithAllowDestructive it applies.
func TestDestructiveMigrationsRefused(t *testing.T) {
	for _, backend := range testdb.Backends() {
		t.Run(backend, func(t *testing.T) {
			ctx := t.Context()
			url, db := openMigrated(t, backend)
			before := revisionCount(t, db)
			for _, tc := range []struct {
				name, body, what, stmt string
			}{
				{"99990101000000_drop_column.sql", planned(t, db, "api_keys", dropColumn("revoked_at")), `column "api_keys"."revoked_at"`, ""},
				{"99990101000000_drop_index.sql", "CREATE INDEX api_keys_role ON api_keys (role);\nDROP INDEX outbox_sent;\n", `index "outbox_sent"`, "DROP INDEX outbox_sent"},
				{"99990101000000_drop_table.sql", "DROP TABLE inbox;\n", `table "inbox"`, "DROP TABLE inbox"},
			} {
				dir := dirWith(t, db.Dialect, map[string]string{tc.name: tc.body})
				_, err := database.Open(ctx, url, "", database.WithMigrationDir(dir))
				var de *database.DestructiveError
				if !errors.As(err, &de) || len(de.Found) != 1 {
					t.Fatalf("%s: open = %v, want one destructive statement refused", tc.name, err)
				}
				f := de.Found[0]
				if f.File != tc.name || f.What != tc.what || tc.stmt != "" && f.Stmt != tc.stmt {
					t.Errorf("%s: found %+v, want %s in %q", tc.name, f, tc.what, tc.stmt)
				}
				for _, want := range []string{tc.name, tc.what, "--allow-destructive", "MERIDIAN_MIGRATE_ALLOW_DESTRUCTIVE=true"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("%s: the error lacks %q: %v", tc.name, want, err)
					}
				}
				if n := revisionCount(t, db); n != before {
					t.Errorf("%s: %d revisions, want %d: a file ran", tc.name, n, before)
				}
				if !hasColumn(t, db, "api_keys", "revoked_at") {
					t.Fatalf("%s: the column was dropped", tc.name)
				}
				later, err := database.Open(ctx, url, "", database.WithMigrationDir(dir), database.WithoutMigrate())
				if err != nil {
					t.Fatal(err)
				}
				st, err := later.MigrationStatus(ctx)
				later.Close()
				if err != nil || st.Pending() != 1 || len(st.Files[len(st.Files)-1].Destructive) != 1 || !strings.Contains(st.String(), "destructive: drops "+tc.what) {
					t.Errorf("%s: status (%v):\n%s", tc.name, err, st)
				}
			}
			// Allowed, the column goes.
			dir := dirWith(t, db.Dialect, map[string]string{"99990101000000_drop_column.sql": planned(t, db, "api_keys", dropColumn("revoked_at"))})
			allowed, err := database.Open(ctx, url, "", database.WithMigrationDir(dir), database.WithAllowDestructive(true))
			if err != nil {
				t.Fatalf("open allowing destructive migrations: %v", err)
			}
			allowed.Close()
			if hasColumn(t, db, "api_keys", "revoked_at") || revisionCount(t, db) != before+1 {
				t.Error("the allowed destructive file did not run")
			}
		})
	}
}

// TestHarmlessChangesApply: changes that drop nothing apply without the
// flag: a column made nullable (on SQLite, a rebuild of users, which other
// tables refer to and which refers to addresses: run with foreign keys
// off, it keeps every row and reference) and an index dropped and created
// again under its name.
func TestHarmlessChangesApply(t *testing.T) {
	for _, backend := range testdb.Backends() {
		t.Run(backend, func(t *testing.T) {
			ctx := t.Context()
			url, db := openMigrated(t, backend)
			c := db.Client
			country := c.Country.Create().SetCode("UA").SetName("Ukraine").SetContinent("Europe").SaveX(ctx)
			city := c.City.Create().SetName("Kyiv").SetLatitude(50.45).SetLongitude(30.52).SetCountry(country).SaveX(ctx)
			addr := c.Address.Create().SetStreet("Khreshchatyk 1").SetCity(city).SaveX(ctx)
			u := c.User.Create().SetUsername("rebuilt").SetEmail("rebuilt@example.com").SetAddress(addr).SaveX(ctx)
			p := c.Product.Create().SetSku("S1").SetName("Book").SetCategory("books").SetPrice(10).SaveX(ctx)
			c.Order.Create().SetUser(u).SetProduct(p).SetAmount(10).SetCreatedAt(time.Now()).SaveX(ctx)
			nullable := planned(t, db, "users", func(t *schema.Table) {
				col, _ := t.Column("email")
				col.Type.Null = true
			})
			if db.Dialect == "sqlite3" && !strings.Contains(nullable, "DROP TABLE `users`") {
				t.Fatalf("expected a table rebuild on SQLite:\n%s", nullable)
			}
			dir := dirWith(t, db.Dialect, map[string]string{
				"99990101000000_nullable_email.sql": nullable,
				"99990102000000_reindex.sql":        "DROP INDEX outbox_sent;\nCREATE INDEX outbox_sent ON outbox (sent_at, id) WHERE sent_at IS NOT NULL;\n",
			})
			changed, err := database.Open(ctx, url, "", database.WithMigrationDir(dir))
			if err != nil {
				t.Fatalf("harmless changes refused or failed: %v", err)
			}
			defer changed.Close()
			got := changed.Client.User.Query().WithOrders().WithAddress().OnlyX(ctx)
			if len(got.Edges.Orders) != 1 || got.Edges.Address == nil || got.Edges.Address.ID != addr.ID {
				t.Errorf("after the rebuild: orders %v, address %v", got.Edges.Orders, got.Edges.Address)
			}
			if _, err := changed.Client.User.Create().SetUsername("dangling").SetEmail("dangling@example.com").SetAddressID(addr.ID + 1000).Save(ctx); err == nil {
				t.Error("foreign keys are off after the migration")
			}
		})
	}
}
