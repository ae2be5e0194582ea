package httpapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/httpapi"
	"github.com/meridian-graphql/meridian/internal/fixture"
	"github.com/meridian-graphql/meridian/internal/gqltest"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/platform/database"
)

const fourLevels = `{
  countries(first: 10, orderBy: {field: CODE}) {
    edges { node {
      code
      cities(first: 20, orderBy: {field: NAME}) {
        edges { node {
          name
          users(first: 10, orderBy: {field: USERNAME}) {
            edges { node { username address { street postalCode } } }
          }
        } }
      }
    } }
  }
}`

type fourLevelsData struct {
	Countries struct {
		Edges []struct {
			Node struct {
				Code   string
				Cities struct {
					Edges []struct {
						Node struct {
							Name  string
							Users struct {
								Edges []struct {
									Node struct {
										Username string
										Address  struct{ Street, PostalCode string }
									}
								}
							}
						}
					}
				}
			}
		}
	}
}

// TestNestedReadsOneStatementPerLevel proves the no-N+1 claim: a query
// nested four levels deep over 10 × 20 × 10 rows runs exactly four SQL
// statements, and a user with address → city → country runs four.
func TestNestedReadsOneStatementPerLevel(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		if _, err := fixture.NewGrid(ctx, db.Client, 10, 20, 10); err != nil {
			t.Fatal(err)
		}
		c := resolverPath(t, db)

		var d fourLevelsData
		before := db.Driver.Statements()
		r := c.MustDo(fourLevels, nil, &d)
		if got := r.Extensions.SQLStatements; got != 4 {
			t.Errorf("4-level query ran %d statements, want 4", got)
		}
		if got := db.Driver.Statements() - before; got != 4 {
			t.Errorf("driver counted %d statements, want 4", got)
		}
		if n := len(d.Countries.Edges); n != 10 {
			t.Fatalf("countries = %d, want 10", n)
		}
		for ci, ce := range d.Countries.Edges {
			if n := len(ce.Node.Cities.Edges); n != 20 {
				t.Fatalf("country %s has %d cities, want 20", ce.Node.Code, n)
			}
			for _, cy := range ce.Node.Cities.Edges {
				us := cy.Node.Users.Edges
				if len(us) != 10 {
					t.Fatalf("city %s has %d users, want 10", cy.Node.Name, len(us))
				}
				for _, u := range us {
					if u.Node.Address.Street == "" {
						t.Fatalf("user %s has no address", u.Node.Username)
					}
				}
			}
			if ci == 0 && ce.Node.Cities.Edges[0].Node.Users.Edges[0].Node.Username != "u0_0_0" {
				t.Errorf("first user = %q, want u0_0_0", ce.Node.Cities.Edges[0].Node.Users.Edges[0].Node.Username)
			}
		}

		var u struct {
			User struct {
				Username string
				Address  struct {
					City struct {
						Name    string
						Country struct{ Code string }
					}
				}
			}
		}
		r = c.MustDo(`query($u: String!) { user(username: $u) { username address { city { name country { code } } } } }`,
			map[string]any{"u": "u3_7_2"}, &u)
		if got := r.Extensions.SQLStatements; got != 4 {
			t.Errorf("user → address → city → country ran %d statements, want 4", got)
		}
		if u.User.Address.City.Name != "C3-7" || u.User.Address.City.Country.Code != "AD" {
			t.Errorf("user lookup = %+v, want city C3-7 in AD", u.User)
		}
	})
}

// TestTwoHopEdgesPaginateAndBatch checks City.users and Country.users:
// first/after per parent, totalCount, where and orderBy, still one
// statement per level (plus one GROUP BY when totalCount is asked for).
func TestTwoHopEdgesPaginateAndBatch(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		if _, err := fixture.NewGrid(ctx, db.Client, 3, 4, 5); err != nil {
			t.Fatal(err)
		}
		c := resolverPath(t, db)
		type page struct {
			TotalCount int
			PageInfo   struct {
				HasNextPage bool
				EndCursor   *string
			}
			Edges []struct{ Node struct{ Username string } }
		}
		var d struct {
			Countries struct {
				Edges []struct {
					Node struct {
						Code  string
						Users page
					}
				}
			}
		}
		q := `query($after: Cursor) { countries(orderBy: {field: CODE}) { edges { node { code
			users(first: 3, after: $after, orderBy: {field: TOTAL_SPENT, direction: DESC}, where: {totalSpentGTE: 2}) {
				totalCount pageInfo { hasNextPage endCursor } edges { node { username } } } } } } }`
		r := c.MustDo(q, nil, &d)
		// countries, users page, users count.
		if got := r.Extensions.SQLStatements; got != 3 {
			t.Errorf("statements = %d, want 3", got)
		}
		if len(d.Countries.Edges) != 3 {
			t.Fatalf("countries = %d", len(d.Countries.Edges))
		}
		aa := d.Countries.Edges[0].Node.Users
		// 4 cities × users with total_spent 2..5 (4 each) = 16.
		if aa.TotalCount != 16 || !aa.PageInfo.HasNextPage || len(aa.Edges) != 3 {
			t.Fatalf("AA page = %+v, want 3 of 16 with a next page", aa)
		}
		// total_spent 5 first: u0_0_4, u0_1_4, u0_2_4 (ties broken by id, descending).
		want := []string{"u0_3_4", "u0_2_4", "u0_1_4"}
		for i, e := range aa.Edges {
			if e.Node.Username != want[i] {
				t.Errorf("AA user %d = %s, want %s", i, e.Node.Username, want[i])
			}
		}
		// The next page continues after the cursor, with no overlap.
		seen := map[string]bool{}
		for _, e := range aa.Edges {
			seen[e.Node.Username] = true
		}
		cursor := aa.PageInfo.EndCursor
		total := len(aa.Edges)
		for cursor != nil {
			var next struct {
				Country struct{ Users page }
			}
			c.MustDo(`query($after: Cursor) { country(code: "AA") { users(first: 5, after: $after, orderBy: {field: TOTAL_SPENT, direction: DESC}, where: {totalSpentGTE: 2}) {
				totalCount pageInfo { hasNextPage endCursor } edges { node { username } } } } }`, map[string]any{"after": *cursor}, &next)
			for _, e := range next.Country.Users.Edges {
				if seen[e.Node.Username] {
					t.Fatalf("user %s returned twice across pages", e.Node.Username)
				}
				seen[e.Node.Username] = true
			}
			total += len(next.Country.Users.Edges)
			cursor = nil
			if next.Country.Users.PageInfo.HasNextPage {
				cursor = next.Country.Users.PageInfo.EndCursor
			}
		}
		if total != 16 {
			t.Errorf("paged through %d users, want 16", total)
		}

		var cy struct {
			Cities struct {
				Edges []struct {
					Node struct {
						Name  string
						Users struct {
							Edges []struct{ Node struct{ Username string } }
						}
					}
				}
			}
		}
		r = c.MustDo(`{ cities(first: 12, orderBy: {field: NAME}) { edges { node { name users(first: 2) { edges { node { username } } } } } } }`, nil, &cy)
		if got := r.Extensions.SQLStatements; got != 2 {
			t.Errorf("cities → users statements = %d, want 2", got)
		}
		if n := len(cy.Cities.Edges); n != 12 {
			t.Fatalf("cities = %d, want 12", n)
		}
		for _, e := range cy.Cities.Edges {
			if len(e.Node.Users.Edges) != 2 {
				t.Fatalf("city %s: %d users, want 2", e.Node.Name, len(e.Node.Users.Edges))
			}
		}

		if e := c.ErrorCode(`{ country(code: "AA") { users(first: 5000) { totalCount } } }`, nil); e.Code() != "BAD_USER_INPUT" {
			t.Errorf("first: 5000 → %s, want BAD_USER_INPUT", e.Code())
		}
	})
}

// TestEveryPathBatches walks the other ways into nested data — analytics
// rows, root orders, to-one chains — and checks one statement per level.
func TestEveryPathBatches(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		if _, err := fixture.NewGrid(context.Background(), db.Client, 4, 3, 5); err != nil {
			t.Fatal(err)
		}
		c := resolverPath(t, db)
		for _, tc := range []struct {
			name  string
			query string
			want  int64
		}{
			{"analytics row → country → cities → users → orders → product",
				`{ usersByCountry(limit: 10) { users country { code cities(first: 2) { edges { node { name
					users(first: 2) { edges { node { username orders(first: 1) { edges { node { product { name } } } } } } } } } } } } }`, 6},
			{"analytics row without edges reuses the row's entity",
				`{ usersByCountry(limit: 10) { users country { code name } } }`, 1},
			{"ranked user → address → city → country",
				`{ usersRankedByActivity(limit: 50) { rank user { username address { city { name country { code } } } } } }`, 5},
			{"orders → user → address → city, and product",
				`{ orders(first: 50) { edges { node { amount user { username address { city { name } } } product { sku } } } } }`, 5},
			{"cities → country → cities (both directions)",
				`{ cities(first: 12) { edges { node { name country { code cities(first: 3) { edges { node { name } } } } } } } }`, 3},
			{"node lookups batch their edges",
				`{ countries(first: 4) { edges { node { stats { userCount } cities(first: 3) { edges { node { stats { userCount totalRevenue } } } } } } } }`, 4},
		} {
			t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
				r := c.MustDo(tc.query, nil, nil)
				if got := r.Extensions.SQLStatements; got != tc.want {
					t.Errorf("statements = %d, want %d", got, tc.want)
				}
				if len(r.Data) < 50 {
					t.Errorf("suspiciously little data: %s", r.Data)
				}
			})
		}
	})
}

// resolverPath serves db with every read going through the resolvers and
// loaders (no compiled reads): these tests prove the batching of that path,
// which answers every shape the compiler leaves to it.
func resolverPath(t *testing.T, db *database.DB) *gqltest.Client {
	return gqltest.Serve(t, httpapi.Deps{DB: db, Auth: gqltest.Grant(auth.Analyst), NoCompiledReads: true})
}
