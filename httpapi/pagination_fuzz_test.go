package httpapi_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/ent"
	"github.com/meridian-graphql/meridian/ent/user"
	"github.com/meridian-graphql/meridian/internal/fixture"
	"github.com/meridian-graphql/meridian/internal/gqltest"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/platform/database"
)

// fuzzConnections are the root connections with an orderBy, and their
// order fields.
var fuzzConnections = []struct {
	name   string
	fields []string
}{
	{"countries", []string{"CODE", "NAME", "CONTINENT"}},
	{"cities", []string{"NAME", "LATITUDE", "LONGITUDE", "POPULATION"}},
	{"users", []string{"USERNAME", "EMAIL", "CREATED_AT", "LAST_ACTIVE_AT", "TOTAL_SPENT"}},
	{"orders", []string{"QUANTITY", "AMOUNT", "CREATED_AT"}},
	{"products", []string{"SKU", "NAME", "CATEGORY", "PRICE"}},
}

// FuzzPagination walks a connection page by page — forward with first and
// after: endCursor, or backward with last and before: startCursor — in any
// order field and direction and page size, and checks the walk against one
// page holding everything: the same nodes in the same order, none skipped
// or repeated, and hasNextPage/hasPreviousPage true exactly while there is
// more. The fixture has zero values in order fields (latitude and
// longitude 0, a user who spent nothing) and ties.
func FuzzPagination(f *testing.F) {
	api := newFuzzAPI(f)
	ctx := f.Context()
	// Ties and zero values: a product priced 0 and one priced like the
	// fixture's, a user who spent nothing.
	if _, err := api.db.Client.Product.Create().SetSku("FREE-0").SetName("Free").SetCategory("misc").SetPrice(0).Save(ctx); err != nil {
		f.Fatal(err)
	}
	if _, err := api.db.Client.Product.Create().SetSku("SKU-2").SetName("Thing").SetCategory("misc").SetPrice(1).Save(ctx); err != nil {
		f.Fatal(err)
	}
	if _, err := api.db.Client.User.Create().SetUsername("zero").SetEmail("zero@example.com").SetTotalSpent(0).Save(ctx); err != nil {
		f.Fatal(err)
	}
	// Never-active users (NULL last_active_at, like "zero" above), and
	// users active at the same instant as each other and as a grid user.
	if err := addActivityUsers(ctx, api.db.Client, "fz"); err != nil {
		f.Fatal(err)
	}
	// Every order field, ascending forward and descending backward, in
	// pages of 4; the fuzzer varies the rest. Walks that broke are in
	// testdata/fuzz/FuzzPagination/bug-*.
	for c := range fuzzConnections {
		for fl := range fuzzConnections[c].fields {
			f.Add(uint8(c), uint8(fl), false, uint8(3), false)
			f.Add(uint8(c), uint8(fl), true, uint8(3), true)
		}
	}
	post := func(t *testing.T, q string, vars map[string]any) json.RawMessage {
		t.Helper()
		b, _ := json.Marshal(map[string]any{"query": q, "variables": vars})
		r := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(b))
		r.Header.Set("Content-Type", "application/json")
		res, body := fuzzServe(api.h, r)
		var out struct {
			Data   json.RawMessage `json:"data"`
			Errors []any           `json:"errors"`
		}
		if res.StatusCode != http.StatusOK || json.Unmarshal(body, &out) != nil || len(out.Errors) > 0 {
			t.Fatalf("%s %v: status %d %s", q, vars, res.StatusCode, body)
		}
		return out.Data
	}
	type page struct {
		Edges []struct {
			Node struct {
				ID json.Number `json:"id"`
			} `json:"node"`
		} `json:"edges"`
		PageInfo struct {
			HasNextPage, HasPreviousPage bool
			StartCursor, EndCursor       *string
		} `json:"pageInfo"`
	}
	read := func(t *testing.T, conn string, data json.RawMessage) page {
		var m map[string]page
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("decode %s: %v", data, err)
		}
		return m[conn]
	}
	f.Fuzz(func(t *testing.T, connIdx, fieldIdx uint8, desc bool, size uint8, backward bool) {
		c := fuzzConnections[int(connIdx)%len(fuzzConnections)]
		field := c.fields[int(fieldIdx)%len(c.fields)]
		dir := "ASC"
		if desc {
			dir = "DESC"
		}
		n := 1 + int(size)%4
		order := fmt.Sprintf("orderBy: {field: %s, direction: %s}", field, dir)
		sel := "edges { node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"
		all := read(t, c.name, post(t, fmt.Sprintf("{ %s(first: 1000, %s) { %s } }", c.name, order, sel), nil))
		var want []string
		for _, e := range all.Edges {
			want = append(want, e.Node.ID.String())
		}
		var got []string
		var cursor any
		for i := 0; ; i++ {
			if i > len(want)+2 {
				t.Fatalf("%s by %s %s, pages of %d: no end after %d pages (got %v, want %v)", c.name, field, dir, n, i, got, want)
			}
			var q string
			if backward {
				q = fmt.Sprintf("query($c: Cursor) { %s(last: %d, before: $c, %s) { %s } }", c.name, n, order, sel)
			} else {
				q = fmt.Sprintf("query($c: Cursor) { %s(first: %d, after: $c, %s) { %s } }", c.name, n, order, sel)
			}
			p := read(t, c.name, post(t, q, map[string]any{"c": cursor}))
			var ids []string
			for _, e := range p.Edges {
				ids = append(ids, e.Node.ID.String())
			}
			more := p.PageInfo.HasNextPage
			next := p.PageInfo.EndCursor
			if backward {
				more, next = p.PageInfo.HasPreviousPage, p.PageInfo.StartCursor
				got = append(ids, got...)
			} else {
				got = append(got, ids...)
			}
			if !more || next == nil {
				break
			}
			cursor = *next
		}
		if !slices.Equal(got, want) {
			how := "forward (first/after)"
			if backward {
				how = "backward (last/before)"
			}
			t.Fatalf("%s ordered by %s %s, walked %s in pages of %d:\n got %v\nwant %v", c.name, field, dir, how, n, got, want)
		}
	})
}

// activityTie is the instant the tied users of addActivityUsers were last
// active: the same as the grid's second user (u0_0_1).
var activityTie = time.Date(2025, 1, 2, 1, 0, 0, 0, time.UTC)

// addActivityUsers adds users for ordering by last activity: three never
// active (NULL last_active_at), one of them active once and cleared since,
// and two active at activityTie, one set by a bulk update. Created in an
// order that interleaves their ids, through every write path of the users'
// ordering key: create, bulk create, update one, bulk update, clear.
func addActivityUsers(ctx context.Context, c *ent.Client, prefix string) error {
	u := func(name string) *ent.UserCreate {
		return c.User.Create().SetUsername(prefix + "_" + name).SetEmail(prefix + "_" + name + "@example.com")
	}
	if _, err := c.User.CreateBulk(u("never1"), u("tie1").SetLastActiveAt(activityTie), u("never2")).Save(ctx); err != nil {
		return fmt.Errorf("bulk create: %w", err)
	}
	cleared, err := u("cleared").SetLastActiveAt(activityTie.Add(time.Hour)).Save(ctx)
	if err != nil {
		return err
	}
	if err := c.User.UpdateOne(cleared).ClearLastActiveAt().Exec(ctx); err != nil {
		return fmt.Errorf("clear: %w", err)
	}
	if _, err := u("tie2").Save(ctx); err != nil {
		return err
	}
	if err := c.User.Update().Where(user.Username(prefix + "_tie2")).SetLastActiveAt(activityTie).Exec(ctx); err != nil {
		return fmt.Errorf("bulk update: %w", err)
	}
	return nil
}

// TestPaginationLastActiveAt walks users by LAST_ACTIVE_AT in both
// directions, in pages of 2 forward and backward, over never-active users
// and ties, on every backend. Never-active users order as the oldest —
// first ascending, last descending — on SQLite and PostgreSQL alike (which
// place NULLs differently), ties go by id, and the walks equal one page.
func TestPaginationLastActiveAt(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		if _, err := fixture.NewGrid(ctx, db.Client, 1, 1, 3); err != nil {
			t.Fatal(err)
		}
		if err := addActivityUsers(ctx, db.Client, "act"); err != nil {
			t.Fatal(err)
		}
		// A user who becomes never active again through the GraphQL update
		// input's clearLastActiveAt, and one active at the tie through it.
		c := gqltest.NewAdmin(t, db)
		for name, in := range map[string]map[string]any{
			"u0_0_2":     {"clearLastActiveAt": true},
			"act_never2": {"lastActiveAt": activityTie.Format(time.RFC3339)},
		} {
			id := db.Client.User.Query().Where(user.Username(name)).OnlyIDX(ctx)
			c.MustDo(`mutation($id: ID!, $in: UpdateUserInput!) { updateUser(id: $id, input: $in) { id } }`,
				map[string]any{"id": id, "in": in}, nil)
		}

		// The expected order, from the rows: never active as the epoch, ties by id.
		users := db.Client.User.Query().AllX(ctx)
		key := func(u *ent.User) time.Time {
			if u.LastActiveAt == nil {
				return time.Unix(0, 0)
			}
			return *u.LastActiveAt
		}
		slices.SortFunc(users, func(a, b *ent.User) int {
			if c := key(a).Compare(key(b)); c != 0 {
				return c
			}
			return cmp.Compare(a.ID, b.ID)
		})
		var asc, never []string
		for _, u := range users {
			asc = append(asc, u.Username)
			if u.LastActiveAt == nil {
				never = append(never, u.Username)
			}
		}
		if len(never) != 3 {
			t.Fatalf("never-active users = %v, want 3", never)
		}
		// Descending, ties go by id descending too: the reverse.
		desc := slices.Clone(asc)
		slices.Reverse(desc)

		type conn struct {
			Edges []struct {
				Node struct {
					Username     string
					LastActiveAt *string
				}
			}
			PageInfo struct {
				HasNextPage, HasPreviousPage bool
				StartCursor, EndCursor       *string
			}
		}
		const sel = `edges { node { username lastActiveAt } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }`
		names := func(p conn) []string {
			var out []string
			for _, e := range p.Edges {
				out = append(out, e.Node.Username)
			}
			return out
		}
		for _, tc := range []struct {
			dir  string
			want []string
		}{{"ASC", asc}, {"DESC", desc}} {
			order := `orderBy: {field: LAST_ACTIVE_AT, direction: ` + tc.dir + `}`
			var one struct{ Users conn }
			c.MustDo(`{ users(first: 100, `+order+`) { `+sel+` } }`, nil, &one)
			if got := names(one.Users); !slices.Equal(got, tc.want) {
				t.Fatalf("%s in one page:\n got %v\nwant %v", tc.dir, got, tc.want)
			}
			for _, e := range one.Users.Edges {
				if (e.Node.LastActiveAt == nil) != slices.Contains(never, e.Node.Username) {
					t.Fatalf("%s: lastActiveAt = %v", e.Node.Username, e.Node.LastActiveAt)
				}
			}
			if tc.dir == "ASC" && !slices.Equal(tc.want[:len(never)], never) {
				t.Fatalf("ASC starts with %v, want the never-active %v", tc.want[:len(never)], never)
			}

			// Forward: first 2 after endCursor.
			var got []string
			var cursor any
			for i := 0; ; i++ {
				if i > len(tc.want) {
					t.Fatalf("%s forward: no end (got %v)", tc.dir, got)
				}
				var p struct{ Users conn }
				c.MustDo(`query($c: Cursor) { users(first: 2, after: $c, `+order+`) { `+sel+` } }`, map[string]any{"c": cursor}, &p)
				got = append(got, names(p.Users)...)
				if !p.Users.PageInfo.HasNextPage {
					break
				}
				cursor = *p.Users.PageInfo.EndCursor
				// The cursor carries its value, never-active users' too
				// (the epoch): no lookup by cursorValues, no id-only page.
				var cur ent.Cursor
				if err := cur.UnmarshalGQL(cursor); err != nil || cur.Value == nil {
					t.Fatalf("%s: endCursor %v decodes to %+v (%v), want a value", tc.dir, cursor, cur, err)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s forward in pages of 2:\n got %v\nwant %v", tc.dir, got, tc.want)
			}

			// Backward: last 2 before startCursor.
			got, cursor = nil, nil
			for i := 0; ; i++ {
				if i > len(tc.want) {
					t.Fatalf("%s backward: no end (got %v)", tc.dir, got)
				}
				var p struct{ Users conn }
				c.MustDo(`query($c: Cursor) { users(last: 2, before: $c, `+order+`) { `+sel+` } }`, map[string]any{"c": cursor}, &p)
				got = append(names(p.Users), got...)
				if !p.Users.PageInfo.HasPreviousPage {
					break
				}
				cursor = *p.Users.PageInfo.StartCursor
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s backward in pages of 2:\n got %v\nwant %v", tc.dir, got, tc.want)
			}
		}
	})
}
