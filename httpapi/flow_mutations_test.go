package httpapi_test

import (
	"strings"
	"testing"

	"github.com/meridian-graphql/meridian/internal/gqltest"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/platform/database"
)

// The mutation flows end to end: GraphQL mutations reach package store and
// what they wrote reads back through the API; refusals arrive as errors
// with extensions.code and extensions.field. The store's own rules (what
// is refused, the transactions, the totals that follow orders, the import's
// savepoints) are tested in package store.

// ids are the entities seedSmall created, as GraphQL ids.
type ids struct {
	country, city, address, user, product, order string
}

// seedSmall creates one of each entity through the API and returns their ids.
func seedSmall(t *testing.T, c *gqltest.Client) ids {
	t.Helper()
	var out ids
	var r struct {
		CreateCountry struct{ ID string }
	}
	c.MustDo(`mutation { createCountry(input: {code: "ua", name: "Ukraine", continent: "Europe"}) { id } }`, nil, &r)
	out.country = r.CreateCountry.ID
	var ci struct{ CreateCity struct{ ID string } }
	c.MustDo(`mutation($c: ID!) { createCity(input: {name: "Kyiv", latitude: 50.45, longitude: 30.52, population: 2952301, countryID: $c}) { id } }`, map[string]any{"c": out.country}, &ci)
	out.city = ci.CreateCity.ID
	var a struct{ CreateAddress struct{ ID string } }
	c.MustDo(`mutation($c: ID!) { createAddress(input: {street: "1 Khreshchatyk", postalCode: "01001", cityID: $c}) { id } }`, map[string]any{"c": out.city}, &a)
	out.address = a.CreateAddress.ID
	var u struct{ CreateUser struct{ ID string } }
	c.MustDo(`mutation($a: ID!) { createUser(input: {username: "olena", email: "Olena@Example.com", addressID: $a}) { id } }`, map[string]any{"a": out.address}, &u)
	out.user = u.CreateUser.ID
	var p struct{ CreateProduct struct{ ID string } }
	c.MustDo(`mutation { createProduct(input: {sku: "bk-1", name: "Kobzar", category: "books", price: 12.5}) { id } }`, nil, &p)
	out.product = p.CreateProduct.ID
	var o struct{ CreateOrder struct{ ID string } }
	c.MustDo(`mutation($u: ID!, $p: ID!) { createOrder(input: {userID: $u, productID: $p, quantity: 2}) { id } }`, map[string]any{"u": out.user, "p": out.product}, &o)
	out.order = o.CreateOrder.ID
	return out
}

// TestMutationFlow creates one of each entity through the API, reads them
// back nested, changes an order and sees the buyer's total follow, and
// deletes everything again in dependency order.
func TestMutationFlow(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		c := gqltest.NewAdmin(t, db)
		id := seedSmall(t, c)
		type olena struct {
			User struct {
				Email      string
				TotalSpent float64
				Orders     struct {
					TotalCount int
					Edges      []struct{ Node struct{ Amount float64 } }
				}
				Address struct {
					City struct {
						Name    string
						Country struct{ Code string }
					}
				}
			}
		}
		const read = `{ user(username: "olena") { email totalSpent orders { totalCount edges { node { amount } } } address { city { name country { code } } } } }`
		var u olena
		c.MustDo(read, nil, &u)
		if u.User.Email != "olena@example.com" || u.User.TotalSpent != 25 || u.User.Orders.TotalCount != 1 || u.User.Orders.Edges[0].Node.Amount != 25 {
			t.Errorf("after an order of 2 × 12.50: %+v", u.User)
		}
		if u.User.Address.City.Name != "Kyiv" || u.User.Address.City.Country.Code != "UA" {
			t.Errorf("olena lives in %+v, want Kyiv, UA", u.User.Address.City)
		}
		var o struct{ UpdateOrder struct{ Amount float64 } }
		c.MustDo(`mutation($o: ID!) { updateOrder(id: $o, input: {quantity: 3}) { amount } }`, map[string]any{"o": id.order}, &o)
		c.MustDo(read, nil, &u)
		if o.UpdateOrder.Amount != 37.5 || u.User.TotalSpent != 37.5 {
			t.Errorf("quantity 3: amount %v, totalSpent %v; want 37.5", o.UpdateOrder.Amount, u.User.TotalSpent)
		}
		for _, step := range []struct{ field, id string }{
			{"deleteOrder", id.order}, {"deleteUser", id.user}, {"deleteProduct", id.product},
			{"deleteAddress", id.address}, {"deleteCity", id.city}, {"deleteCountry", id.country},
		} {
			var d map[string]string
			c.MustDo(`mutation($id: ID!) { `+step.field+`(id: $id) }`, map[string]any{"id": step.id}, &d)
			if d[step.field] != step.id {
				t.Errorf("%s answered %q, want the id %s", step.field, d[step.field], step.id)
			}
		}
		var left struct{ Countries, Users, Orders struct{ TotalCount int } }
		c.MustDo(`{ countries { totalCount } users { totalCount } orders { totalCount } }`, nil, &left)
		if left.Countries.TotalCount+left.Users.TotalCount+left.Orders.TotalCount != 0 {
			t.Errorf("left after deleting everything: %+v", left)
		}
	})
}

// TestRefusedMutationAnswersCodeAndField: a refused mutation is one error
// whose extensions carry the store's code and the input field at fault,
// with no data written.
func TestRefusedMutationAnswersCodeAndField(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		c := gqltest.NewAdmin(t, db)
		id := seedSmall(t, c)
		const count = `{ countries { totalCount } cities { totalCount } users { totalCount } orders { totalCount } }`
		before := string(c.MustDo(count, nil, nil).Data)
		for _, tc := range []struct {
			query       string
			vars        map[string]any
			code, field string
		}{
			{`mutation { createCountry(input: {code: "U1", name: "X", continent: "Europe"}) { id } }`, nil, "BAD_USER_INPUT", "code"},
			{`mutation { createUser(input: {username: "olena2", email: "OLENA@example.com"}) { id } }`, nil, "CONFLICT", "email"},
			{`mutation($c: ID!) { createCity(input: {name: "X", latitude: 0, longitude: 0, countryID: $c}) { id } }`, map[string]any{"c": "999999999"}, "NOT_FOUND", "countryID"},
			{`mutation($u: ID!, $p: ID!) { createOrder(input: {userID: $u, productID: $p, quantity: 0}) { id } }`, map[string]any{"u": id.user, "p": id.product}, "BAD_USER_INPUT", "quantity"},
		} {
			e := c.ErrorCode(tc.query, tc.vars)
			if f, _ := e.Extensions["field"].(string); e.Code() != tc.code || f != tc.field {
				t.Errorf("%s: %s on %q (%s), want %s on %q", tc.query, e.Code(), f, e.Message, tc.code, tc.field)
			}
		}
		if after := string(c.MustDo(count, nil, nil).Data); after != before {
			t.Errorf("refused mutations wrote: %s, then %s", before, after)
		}
	})
}

// TestImportUsersPayload: importUsers answers the imported users and one
// error per failed row with its index, code, message and field.
func TestImportUsersPayload(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		c := gqltest.NewAdmin(t, db)
		id := seedSmall(t, c)
		rows := []map[string]any{
			{"username": "good1", "email": "good1@example.com", "address": map[string]any{"street": "2 Podil", "cityID": id.city}},
			{"username": "olena", "email": "dup@example.com"},
		}
		var d struct {
			ImportUsers struct {
				Imported, Failed int
				Users            []struct{ Username string }
				Errors           []struct {
					Index         int
					Code, Message string
					Field         *string
				}
			}
		}
		c.MustDo(`mutation($in: [ImportUserInput!]!) { importUsers(input: $in) { imported failed users { username } errors { index code message field } } }`,
			map[string]any{"in": rows}, &d)
		got := d.ImportUsers
		if got.Imported != 1 || got.Failed != 1 || len(got.Users) != 1 || got.Users[0].Username != "good1" || len(got.Errors) != 1 {
			t.Fatalf("import = %+v, want good1 imported and one error", got)
		}
		if e := got.Errors[0]; e.Index != 1 || e.Code != "CONFLICT" || e.Field == nil || *e.Field != "username" || !strings.Contains(e.Message, "exists") {
			t.Errorf("row error = %+v, want row 1 CONFLICT on username", e)
		}
	})
}

func TestQueryInputErrors(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		c := gqltest.NewAdmin(t, db)
		for q, code := range map[string]string{
			`{ countries(first: 5000) { totalCount } }`:               "BAD_USER_INPUT",
			`{ users(first: 1, last: 1) { totalCount } }`:             "BAD_USER_INPUT",
			`{ countries(first: -1) { totalCount } }`:                 "BAD_USER_INPUT",
			`{ countries(after: "bm90LWEtY3Vyc29y") { totalCount } }`: "BAD_USER_INPUT",
			`{ userStats(activeWithinDays: 0) { total } }`:            "BAD_USER_INPUT",
			`{ highValueUsers { totalSpent } }`:                       "BAD_USER_INPUT",
			`{ nope }`:                                                "GRAPHQL_VALIDATION_FAILED",
		} {
			e := c.ErrorCode(q, nil)
			if e.Code() != code {
				t.Errorf("%s → %s (%s), want %s", q, e.Code(), e.Message, code)
			}
		}
		// Unknown lookups answer null, not an error.
		r := c.Do(`{ country(code: "ZZ") { name } user(username: "nobody") { id } node(id: 123456) { id } }`, nil)
		if len(r.Errors) != 0 || string(r.Data) != `{"country":null,"user":null,"node":null}` {
			t.Errorf("unknown lookups = %s %v", r.Data, r.Errors)
		}
	})
}
