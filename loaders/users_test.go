package loaders

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/meridian-graphql/meridian/ent"
	"github.com/meridian-graphql/meridian/ent/address"
	"github.com/meridian-graphql/meridian/ent/city"
	"github.com/meridian-graphql/meridian/ent/user"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/platform/database"
)

// pagesFixture is a small geography with uneven parents: cities with 25,
// 12, 3, 1 and no users, a country with one city of one user, a country
// without cities, a user without address; total_spent and created_at have
// ties so that the id tie-break matters.
type pagesFixture struct {
	countries, cities []int
}

func newPagesFixture(t *testing.T, ctx context.Context, c *ent.Client) pagesFixture {
	t.Helper()
	var f pagesFixture
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	n := 0
	addUsers := func(cityID, count int) {
		for k := range count {
			a := c.Address.Create().SetStreet(fmt.Sprintf("%d Street", k)).SetPostalCode("10000").SetCityID(cityID).SaveX(ctx)
			name := fmt.Sprintf("user%02d_%d", n%7, n)
			c.User.Create().SetUsername(name).SetEmail(name + "@example.com").
				SetCreatedAt(base.Add(time.Duration(n/2) * time.Hour)).
				SetTotalSpent(float64(n % 4)).
				SetAddressID(a.ID).SaveX(ctx)
			n++
		}
	}
	for ci, sizes := range [][]int{{25, 3, 0, 12}, {1}, {}} {
		co := c.Country.Create().SetCode(fmt.Sprintf("Q%c", 'A'+ci)).SetName(fmt.Sprintf("Country %d", ci)).SetContinent("Europe").SaveX(ctx)
		f.countries = append(f.countries, co.ID)
		for i, size := range sizes {
			cy := c.City.Create().SetName(fmt.Sprintf("City %d-%d", ci, i)).SetLatitude(1).SetLongitude(2).SetPopulation(1000).SetCountryID(co.ID).SaveX(ctx)
			f.cities = append(f.cities, cy.ID)
			addUsers(cy.ID, size)
		}
	}
	c.User.Create().SetUsername("homeless").SetEmail("homeless@example.com").SaveX(ctx)
	return f
}

// straightPages reads each parent's page with a query of its own: the
// reference the batched statements are compared with.
func straightPages(ctx context.Context, c *ent.Client, place Place, ids []int, args UsersArgs) (map[int]*ent.UserConnection, error) {
	first := 100
	if args.First != nil {
		first = *args.First
	}
	order := args.OrderBy
	if order == nil {
		order = ent.DefaultUserOrder
	}
	col := orderColumn(order)
	by := sql.Asc
	if order.Direction == entgql.OrderDirectionDesc {
		by = sql.Desc
	}
	out := map[int]*ent.UserConnection{}
	for _, id := range ids {
		q := c.User.Query()
		if place == InCity {
			q = q.Where(user.HasAddressWith(address.CityID(id)))
		} else {
			q = q.Where(user.HasAddressWith(address.HasCityWith(city.CountryID(id))))
		}
		if args.Where != nil {
			if p, err := args.Where.P(); err == nil {
				q = q.Where(p)
			}
		}
		total, err := q.Clone().Count(ctx)
		if err != nil {
			return nil, err
		}
		if args.After != nil {
			for _, p := range entgql.CursorsPredicate(args.After, nil, user.FieldID, col, order.Direction) {
				q = q.Where(p)
			}
		}
		users, err := q.Order(func(s *sql.Selector) {
			s.OrderBy(by(s.C(col)))
			if col != user.FieldID {
				s.OrderBy(by(s.C(user.FieldID)))
			}
		}).Limit(first + 1).All(ctx)
		if err != nil {
			return nil, err
		}
		conn := &ent.UserConnection{Edges: []*ent.UserEdge{}, TotalCount: total, PageInfo: ent.PageInfo{HasPreviousPage: args.After != nil}}
		for i, u := range users {
			if i == first {
				conn.PageInfo.HasNextPage = true
				break
			}
			conn.Edges = append(conn.Edges, &ent.UserEdge{Node: u, Cursor: cursorOf(u, order)})
		}
		if n := len(conn.Edges); n > 0 {
			conn.PageInfo.StartCursor = &conn.Edges[0].Cursor
			conn.PageInfo.EndCursor = &conn.Edges[n-1].Cursor
		}
		out[id] = conn
	}
	return out, nil
}

// describe renders a page for comparison: ids, cursors, page info, total.
func describe(c *ent.UserConnection) string {
	if c == nil {
		return "<nil>"
	}
	s := fmt.Sprintf("total=%d next=%v prev=%v", c.TotalCount, c.PageInfo.HasNextPage, c.PageInfo.HasPreviousPage)
	cur := func(p *entgql.Cursor[int]) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprintf("%d/%v", p.ID, p.Value)
	}
	s += " start=" + cur(c.PageInfo.StartCursor) + " end=" + cur(c.PageInfo.EndCursor) + " ["
	for _, e := range c.Edges {
		s += fmt.Sprintf(" %d:%s@%s", e.Node.ID, e.Node.Username, cur(&e.Cursor))
	}
	return s + " ]"
}

// TestLateralPagesMatchWindowPages: on PostgreSQL the LATERAL statement
// answers every parent with the rows, order, cursors and page info of the
// ROW_NUMBER statement and of one query per parent, for several orders,
// filters, cursors and page sizes, parents with fewer users than first and
// parents with none included. On SQLite the ROW_NUMBER statement is
// compared with the per-parent queries.
func TestLateralPagesMatchWindowPages(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newPagesFixture(t, ctx, db.Client)
		l := New(Config{Client: db.Client})
		paths := map[string]perParent{"window": windowPerParent}
		if db.Dialect == dialect.Postgres {
			paths["lateral"] = lateralPerParent
		}
		intp := func(n int) *int { return &n }
		f64 := func(v float64) *float64 { return &v }
		str := func(v string) *string { return &v }
		orders := []*ent.UserOrder{
			nil,
			{Direction: entgql.OrderDirectionDesc, Field: ent.UserOrderFieldUsername},
			{Direction: entgql.OrderDirectionAsc, Field: ent.UserOrderFieldTotalSpent},
			{Direction: entgql.OrderDirectionDesc, Field: ent.UserOrderFieldTotalSpent},
			{Direction: entgql.OrderDirectionDesc, Field: ent.UserOrderFieldCreatedAt},
		}
		wheres := []*ent.UserWhereInput{nil, {TotalSpentGTE: f64(1)}, {UsernameHasPrefix: str("user0")}, {}}
		firsts := []*int{nil, intp(1), intp(3), intp(10), intp(30)}
		places := []struct {
			place Place
			ids   []int
		}{{InCity, f.cities}, {InCountry, f.countries}}
		cases := 0
		for _, pl := range places {
			for _, order := range orders {
				for _, where := range wheres {
					for _, first := range firsts {
						args := UsersArgs{First: first, OrderBy: order, Where: where}
						want, err := straightPages(ctx, db.Client, pl.place, pl.ids, args)
						if err != nil {
							t.Fatal(err)
						}
						// After the second user of the parent with most
						// users (the first one), for every parent.
						variants := []UsersArgs{args}
						if e := want[pl.ids[0]].Edges; len(e) > 1 {
							after := args
							after.After = &e[1].Cursor
							variants = append(variants, after)
						}
						for vi, a := range variants {
							if vi > 0 {
								if want, err = straightPages(ctx, db.Client, pl.place, pl.ids, a); err != nil {
									t.Fatal(err)
								}
							}
							for name, page := range paths {
								got, err := l.queryUsersBy(ctx, pl.place, pl.ids, a, page)
								if err != nil {
									t.Fatalf("%s: %v", name, err)
								}
								cases++
								for _, id := range pl.ids {
									if g, w := describe(got[id]), describe(want[id]); g != w {
										t.Errorf("%s place=%d parent=%d order=%+v where=%+v first=%v after=%v:\n got %s\nwant %s",
											name, pl.place, id, order, where, valueOf(first), a.After != nil, g, w)
									}
								}
							}
						}
					}
				}
			}
		}
		if len(paths) == 2 && cases < 300 {
			t.Fatalf("only %d page comparisons", cases)
		}
		t.Logf("%d page comparisons over %v", cases, slices.Sorted(maps.Keys(paths)))
	})
}

func valueOf[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
