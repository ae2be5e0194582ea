package database_test

import (
	"context"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/ent/user"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/platform/database"
)

// TestBackfillLastActiveOrder: users.last_active_order, the key of ordering
// by LAST_ACTIVE_AT, is last_active_at or the epoch after any write (the
// ent hook), and after a migration for rows that predate the column, which
// hold its SQL default (the backfill). A second migration changes nothing.
func TestBackfillLastActiveOrder(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		at := time.Date(2025, 3, 4, 5, 6, 7, 123456000, time.UTC)
		epoch := time.Unix(0, 0)
		active := db.Client.User.Create().SetUsername("active").SetEmail("active@example.com").SetLastActiveAt(at).SaveX(ctx)
		never := db.Client.User.Create().SetUsername("never").SetEmail("never@example.com").SaveX(ctx)
		check := func(when string) {
			t.Helper()
			for id, want := range map[int]time.Time{active.ID: at, never.ID: epoch} {
				u, err := db.Client.User.Get(ctx, id)
				if err != nil {
					t.Fatalf("%s: %v", when, err)
				}
				if !u.LastActiveOrder.Equal(want) {
					t.Errorf("%s: %s last_active_order = %v, want %v", when, u.Username, u.LastActiveOrder, want)
				}
			}
			// Equal as the database compares them (text on SQLite): the
			// never-active tie with the epoch ent writes.
			if n := db.Client.User.Query().Where(user.LastActiveOrder(epoch)).CountX(ctx); n != 1 {
				t.Errorf("%s: %d users at the epoch, want 1", when, n)
			}
		}
		check("after create")

		// Rows as the migration that adds the column leaves them: the
		// column's default, whatever last_active_at is.
		if _, err := db.SQL().ExecContext(ctx, `UPDATE users SET last_active_order = '1970-01-01 00:00:00+00'`); err != nil {
			t.Fatal(err)
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		check("after the backfill")
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		check("after a second migration")

		// The hook refuses the key set on its own.
		if err := db.Client.User.UpdateOne(active).SetLastActiveOrder(at.Add(time.Hour)).Exec(ctx); err == nil {
			t.Error("setting last_active_order alone was accepted")
		}
	})
}
