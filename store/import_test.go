package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/ent"
	"github.com/meridian-graphql/meridian/ent/user"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/platform/database"
	"github.com/meridian-graphql/meridian/store"
)

// TestImportUsersSavepoints: a batch import commits its good rows together
// and reports each bad one with its code and field; a bad row's address,
// created before the row failed, is rolled back with it (its savepoint),
// and only the imported users' events reach the outbox.
func TestImportUsersSavepoints(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		h := newHarness(t, db)
		id := seedSmall(t, h.st)
		h.events(t)
		h.reported()
		jan := func(day int) *time.Time { v := time.Date(2025, 1, day, 0, 0, 0, 0, time.UTC); return &v }
		rows := []*store.ImportUser{
			{Username: "good1", Email: "good1@example.com", Address: &store.ImportAddress{Street: "2 Podil", CityID: id.city}},
			{Username: "bad email", Email: "nope"},                                                                             // 1: BAD_USER_INPUT username
			{Username: "olena", Email: "dup@example.com"},                                                                      // 2: CONFLICT username (exists)
			{Username: "good2", Email: "good2@example.com"},                                                                    // 3: ok, no address
			{Username: "good3", Email: "g3@example.com", Address: &store.ImportAddress{Street: "x", CityID: missing}},          // 4: NOT_FOUND city
			{Username: "good1", Email: "again@example.com"},                                                                    // 5: CONFLICT with row 0
			{Username: "good4", Email: "good4@example.com", Address: &store.ImportAddress{Street: "", CityID: id.city}},        // 6: bad street
			{Username: "good5", Email: "good5@example.com", CreatedAt: jan(2), LastActiveAt: jan(1)},                           // 7: lastActive before created
			{Username: "good7", Email: "GOOD1@example.com", Address: &store.ImportAddress{Street: "4 Podil", CityID: id.city}}, // 8: CONFLICT email with row 0, after its address was inserted
			{Username: "good6", Email: "good6@example.com", CreatedAt: jan(2), Address: &store.ImportAddress{Street: "3 Lavra", PostalCode: ptr("01015"), CityID: id.city}},
		}
		got, err := h.st.ImportUsers(ctx, rows)
		if err != nil {
			t.Fatal(err)
		}
		if got.Imported != 3 || got.Failed != 7 || len(got.Users) != 3 {
			t.Fatalf("imported %d failed %d, want 3 and 7: %+v", got.Imported, got.Failed, got.Errors)
		}
		wantErr := map[int]string{1: "BAD_USER_INPUT username", 2: "CONFLICT username", 4: "NOT_FOUND address.cityID", 5: "CONFLICT username", 6: "BAD_USER_INPUT address.street", 7: "BAD_USER_INPUT lastActiveAt", 8: "CONFLICT email"}
		for _, e := range got.Errors {
			f := ""
			if e.Field != nil {
				f = *e.Field
			}
			if w := wantErr[e.Index]; w != e.Code+" "+f {
				t.Errorf("row %d: %s %s (%s), want %s", e.Index, e.Code, f, e.Message, w)
			}
		}
		for i, want := range []string{"good1", "good2", "good6"} {
			if got.Users[i].Username != want {
				t.Errorf("imported user %d = %s, want %s (input order)", i, got.Users[i].Username, want)
			}
		}
		names := db.Client.User.Query().Order(ent.Asc("username")).Select("username").StringsX(ctx)
		if fmt.Sprint(names) != "[good1 good2 good6 olena]" {
			t.Errorf("users after import = %v", names)
		}
		// Addresses of failed rows were rolled back with them: the seed's
		// address plus good1's and good6's.
		if n := db.Client.Address.Query().CountX(ctx); n != 3 {
			t.Errorf("addresses = %d, want 3", n)
		}
		g6 := db.Client.User.Query().Where(user.Username("good6")).WithAddress().OnlyX(ctx)
		if !g6.CreatedAt.Equal(*jan(2)) || g6.Edges.Address == nil || g6.Edges.Address.PostalCode != "01015" {
			t.Errorf("good6 = %+v (address %+v)", g6, g6.Edges.Address)
		}
		if evs := h.events(t); fmt.Sprint(evs) != "[user.created user.created user.created]" {
			t.Errorf("outbox = %v, want one user.created per imported user", evs)
		}
		if _, commits := h.reported(); commits != 1 {
			t.Errorf("the import committed %d times, want once", commits)
		}
	})
}

// TestImportFailingMidwayWritesNothing: a failure that is not a row's
// fault fails the whole import. Here the outbox refuses a second event of
// a type it holds (a unique index): row 0 and its event are written, row 1
// is written and its event fails — and neither user, nor row 0's address,
// is left behind.
func TestImportFailingMidwayWritesNothing(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		h := newHarness(t, db)
		id := seedSmall(t, harnessWith(db, nil).st)
		if _, err := db.Driver.ExecContext(ctx, `CREATE UNIQUE INDEX outbox_one_per_type ON outbox (type)`); err != nil {
			t.Fatal(err)
		}
		before := snapshot(t, db.Client)
		res, err := h.st.ImportUsers(ctx, []*store.ImportUser{
			{Username: "good1", Email: "good1@example.com", Address: &store.ImportAddress{Street: "2 Podil", CityID: id.city}},
			{Username: "good2", Email: "good2@example.com"},
		})
		if err == nil {
			t.Fatalf("import with a refused event succeeded: %+v", res)
		}
		if after := snapshot(t, db.Client); after != before {
			t.Errorf("a failed import changed the database\nbefore %s\nafter  %s", before, after)
		}
		h.unchanged(t)
	})
}
