package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/ent"
	"github.com/meridian-graphql/meridian/ent/user"
	"github.com/meridian-graphql/meridian/internal/gqltest"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/platform/database"
)

// snapshot serialises every table, so a test can assert that a refused
// mutation wrote nothing at all.
func snapshot(t *testing.T, c *ent.Client) string {
	t.Helper()
	ctx := context.Background()
	var parts []any
	add := func(v any, err error) {
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, v)
	}
	add(c.Country.Query().Order(ent.Asc("id")).All(ctx))
	add(c.City.Query().Order(ent.Asc("id")).All(ctx))
	add(c.Address.Query().Order(ent.Asc("id")).All(ctx))
	add(c.User.Query().Order(ent.Asc("id")).All(ctx))
	add(c.Product.Query().Order(ent.Asc("id")).All(ctx))
	add(c.Order.Query().Order(ent.Asc("id")).All(ctx))
	b, err := json.Marshal(parts)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

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

func TestMutationsHappyPath(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		c := gqltest.New(t, db)
		id := seedSmall(t, c)
		var u struct {
			User struct {
				Email        string
				TotalSpent   float64
				LastActiveAt *string
				Orders       struct {
					TotalCount int
					Edges      []struct{ Node struct{ Amount float64 } }
				}
			}
			Country struct{ Code, Name string }
		}
		c.MustDo(`{ user(username: "olena") { email totalSpent lastActiveAt orders { totalCount edges { node { amount } } } } country(code: "UA") { code name } }`, nil, &u)
		if u.User.Email != "olena@example.com" {
			t.Errorf("email = %q, want it lower-cased", u.User.Email)
		}
		if u.User.TotalSpent != 25 || u.User.Orders.TotalCount != 1 || u.User.Orders.Edges[0].Node.Amount != 25 {
			t.Errorf("after an order of 2 × 12.50: %+v", u.User)
		}
		if u.User.LastActiveAt == nil {
			t.Error("lastActiveAt not set by the order")
		}
		if u.Country.Code != "UA" {
			t.Errorf("country code = %q, want UA (upper-cased)", u.Country.Code)
		}

		// Changing the quantity recomputes the amount and moves the total.
		c.MustDo(`mutation($o: ID!) { updateOrder(id: $o, input: {quantity: 3}) { amount } }`, map[string]any{"o": id.order}, nil)
		c.MustDo(`{ user(username: "olena") { totalSpent } }`, nil, &u)
		if u.User.TotalSpent != 37.5 {
			t.Errorf("totalSpent after quantity 3 = %v, want 37.5", u.User.TotalSpent)
		}
		// An order moved to another user moves its amount too.
		var nu struct{ CreateUser struct{ ID string } }
		c.MustDo(`mutation { createUser(input: {username: "taras", email: "taras@example.com"}) { id } }`, nil, &nu)
		c.MustDo(`mutation($o: ID!, $u: ID!) { updateOrder(id: $o, input: {userID: $u}) { id } }`, map[string]any{"o": id.order, "u": nu.CreateUser.ID}, nil)
		var both struct {
			A struct{ TotalSpent float64 } `json:"a"`
			B struct{ TotalSpent float64 } `json:"b"`
		}
		c.MustDo(`{ a: user(username: "olena") { totalSpent } b: user(username: "taras") { totalSpent } }`, nil, &both)
		if math.Abs(both.A.TotalSpent) > 1e-9 || both.B.TotalSpent != 37.5 {
			t.Errorf("after moving the order: olena %v taras %v, want 0 and 37.5", both.A.TotalSpent, both.B.TotalSpent)
		}
		c.MustDo(`mutation($o: ID!) { deleteOrder(id: $o) }`, map[string]any{"o": id.order}, nil)
		c.MustDo(`{ a: user(username: "olena") { totalSpent } b: user(username: "taras") { totalSpent } }`, nil, &both)
		if math.Abs(both.B.TotalSpent) > 1e-9 {
			t.Errorf("after deleting the order taras has %v, want 0", both.B.TotalSpent)
		}
		// Deleting a user deletes the user's orders; the product can then go.
		c.MustDo(`mutation($u: ID!, $p: ID!) { createOrder(input: {userID: $u, productID: $p, amount: 5}) { id } }`, map[string]any{"u": id.user, "p": id.product}, nil)
		c.MustDo(`mutation($u: ID!) { deleteUser(id: $u) }`, map[string]any{"u": id.user}, nil)
		c.MustDo(`mutation($p: ID!) { deleteProduct(id: $p) }`, map[string]any{"p": id.product}, nil)
		c.MustDo(`mutation($a: ID!) { deleteAddress(id: $a) }`, map[string]any{"a": id.address}, nil)
		c.MustDo(`mutation($c: ID!) { deleteCity(id: $c) }`, map[string]any{"c": id.city}, nil)
		c.MustDo(`mutation($c: ID!) { deleteCountry(id: $c) }`, map[string]any{"c": id.country}, nil)
		if n := db.Client.Country.Query().CountX(context.Background()); n != 0 {
			t.Errorf("countries left: %d", n)
		}
	})
}

// TestBadInputChangesNothing sends each kind of bad input and checks the
// error code and field, and that the database is byte-for-byte unchanged.
func TestBadInputChangesNothing(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		c := gqltest.New(t, db)
		id := seedSmall(t, c)
		v := map[string]any{"country": id.country, "city": id.city, "address": id.address, "user": id.user, "product": id.product, "order": id.order, "missing": "999999999"}
		cases := []struct {
			name, query, code, field string
		}{
			{"country code not ISO", `mutation { createCountry(input: {code: "U1", name: "X", continent: "Europe"}) { id } }`, "BAD_USER_INPUT", "code"},
			{"country code too long", `mutation { createCountry(input: {code: "UKR", name: "X", continent: "Europe"}) { id } }`, "BAD_USER_INPUT", "code"},
			{"country name empty", `mutation { createCountry(input: {code: "PL", name: "", continent: "Europe"}) { id } }`, "BAD_USER_INPUT", "name"},
			{"country code taken", `mutation { createCountry(input: {code: "UA", name: "Again", continent: "Europe"}) { id } }`, "CONFLICT", "code"},
			{"update unknown country", `mutation($missing: ID!) { updateCountry(id: $missing, input: {name: "X"}) { id } }`, "NOT_FOUND", "id"},
			{"delete country with cities", `mutation($country: ID!) { deleteCountry(id: $country) }`, "CONFLICT", "id"},
			{"latitude out of range", `mutation($country: ID!) { createCity(input: {name: "X", latitude: 91, longitude: 0, countryID: $country}) { id } }`, "BAD_USER_INPUT", "latitude"},
			{"longitude out of range", `mutation($country: ID!) { createCity(input: {name: "X", latitude: 0, longitude: -180.5, countryID: $country}) { id } }`, "BAD_USER_INPUT", "longitude"},
			{"negative population", `mutation($country: ID!) { createCity(input: {name: "X", latitude: 0, longitude: 0, population: -1, countryID: $country}) { id } }`, "BAD_USER_INPUT", "population"},
			{"city in unknown country", `mutation($missing: ID!) { createCity(input: {name: "X", latitude: 0, longitude: 0, countryID: $missing}) { id } }`, "NOT_FOUND", "countryID"},
			{"move city to unknown country", `mutation($city: ID!, $missing: ID!) { updateCity(id: $city, input: {countryID: $missing}) { id } }`, "NOT_FOUND", "countryID"},
			{"delete city with addresses", `mutation($city: ID!) { deleteCity(id: $city) }`, "CONFLICT", "id"},
			{"address in unknown city", `mutation($missing: ID!) { createAddress(input: {street: "x", cityID: $missing}) { id } }`, "NOT_FOUND", "cityID"},
			{"address without street", `mutation($city: ID!) { createAddress(input: {street: "", cityID: $city}) { id } }`, "BAD_USER_INPUT", "street"},
			{"delete address in use", `mutation($address: ID!) { deleteAddress(id: $address) }`, "CONFLICT", "id"},
			{"bad email", `mutation { createUser(input: {username: "newbie", email: "not-an-email"}) { id } }`, "BAD_USER_INPUT", "email"},
			{"email without domain dot", `mutation { createUser(input: {username: "newbie", email: "a@localhost"}) { id } }`, "BAD_USER_INPUT", "email"},
			{"email with display name", `mutation { createUser(input: {username: "newbie", email: "A <a@example.com>"}) { id } }`, "BAD_USER_INPUT", "email"},
			{"bad username", `mutation { createUser(input: {username: "a b", email: "ab@example.com"}) { id } }`, "BAD_USER_INPUT", "username"},
			{"username taken", `mutation { createUser(input: {username: "olena", email: "other@example.com"}) { id } }`, "CONFLICT", "username"},
			{"email taken (any case)", `mutation { createUser(input: {username: "olena2", email: "OLENA@example.com"}) { id } }`, "CONFLICT", "email"},
			{"user at unknown address", `mutation($missing: ID!) { createUser(input: {username: "newbie", email: "n@example.com", addressID: $missing}) { id } }`, "NOT_FOUND", "addressID"},
			{"update unknown user", `mutation($missing: ID!) { updateUser(id: $missing, input: {username: "zzz"}) { id } }`, "NOT_FOUND", "id"},
			{"delete unknown user", `mutation($missing: ID!) { deleteUser(id: $missing) }`, "NOT_FOUND", "id"},
			{"negative price", `mutation { createProduct(input: {sku: "X-1", name: "X", category: "c", price: -1}) { id } }`, "BAD_USER_INPUT", "price"},
			{"bad sku", `mutation { createProduct(input: {sku: "?", name: "X", category: "c", price: 1}) { id } }`, "BAD_USER_INPUT", "sku"},
			{"sku taken", `mutation { createProduct(input: {sku: "BK-1", name: "X", category: "c", price: 1}) { id } }`, "CONFLICT", "sku"},
			{"delete ordered product", `mutation($product: ID!) { deleteProduct(id: $product) }`, "CONFLICT", "id"},
			{"negative amount", `mutation($user: ID!, $product: ID!) { createOrder(input: {userID: $user, productID: $product, amount: -5}) { id } }`, "BAD_USER_INPUT", "amount"},
			{"zero quantity", `mutation($user: ID!, $product: ID!) { createOrder(input: {userID: $user, productID: $product, quantity: 0}) { id } }`, "BAD_USER_INPUT", "quantity"},
			{"order of unknown product", `mutation($user: ID!, $missing: ID!) { createOrder(input: {userID: $user, productID: $missing}) { id } }`, "NOT_FOUND", "productID"},
			{"order by unknown user", `mutation($missing: ID!, $product: ID!) { createOrder(input: {userID: $missing, productID: $product}) { id } }`, "NOT_FOUND", "userID"},
			{"negative amount on update", `mutation($order: ID!) { updateOrder(id: $order, input: {amount: -1}) { id } }`, "BAD_USER_INPUT", "amount"},
			{"move order to unknown user", `mutation($order: ID!, $missing: ID!) { updateOrder(id: $order, input: {userID: $missing}) { id } }`, "NOT_FOUND", "userID"},
			{"delete unknown order", `mutation($missing: ID!) { deleteOrder(id: $missing) }`, "NOT_FOUND", "id"},
		}
		for _, tc := range cases {
			t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
				before := snapshot(t, db.Client)
				vars := map[string]any{}
				for k, val := range v {
					if strings.Contains(tc.query, "$"+k+":") {
						vars[k] = val
					}
				}
				e := c.ErrorCode(tc.query, vars)
				if e.Code() != tc.code {
					t.Errorf("code = %q (%s), want %s", e.Code(), e.Message, tc.code)
				}
				if f, _ := e.Extensions["field"].(string); f != tc.field {
					t.Errorf("field = %q (%s), want %q", f, e.Message, tc.field)
				}
				if after := snapshot(t, db.Client); after != before {
					t.Errorf("database changed by a refused mutation")
				}
			})
		}
	})
}

func TestQueryInputErrors(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		c := gqltest.New(t, db)
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

func TestImportUsersSavepoints(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		c := gqltest.New(t, db)
		id := seedSmall(t, c)
		rows := []map[string]any{
			{"username": "good1", "email": "good1@example.com", "address": map[string]any{"street": "2 Podil", "cityID": id.city}},
			{"username": "bad email", "email": "nope"},                                                                                       // 1: BAD_USER_INPUT username
			{"username": "olena", "email": "dup@example.com"},                                                                                // 2: CONFLICT username (exists)
			{"username": "good2", "email": "good2@example.com"},                                                                              // 3: ok, no address
			{"username": "good3", "email": "g3@example.com", "address": map[string]any{"street": "x", "cityID": "999999999"}},                // 4: NOT_FOUND city
			{"username": "good1", "email": "again@example.com"},                                                                              // 5: CONFLICT with row 0
			{"username": "good4", "email": "good4@example.com", "address": map[string]any{"street": "", "cityID": id.city}},                  // 6: bad street
			{"username": "good5", "email": "good5@example.com", "createdAt": "2025-01-02T00:00:00Z", "lastActiveAt": "2025-01-01T00:00:00Z"}, // 7: lastActive before created
			{"username": "good6", "email": "good6@example.com", "createdAt": "2025-01-02T00:00:00Z", "address": map[string]any{"street": "3 Lavra", "postalCode": "01015", "cityID": id.city}},
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
		if got.Imported != 3 || got.Failed != 6 {
			t.Fatalf("imported %d failed %d, want 3 and 6: %+v", got.Imported, got.Failed, got.Errors)
		}
		wantErr := map[int]string{1: "BAD_USER_INPUT username", 2: "CONFLICT username", 4: "NOT_FOUND address.cityID", 5: "CONFLICT username", 6: "BAD_USER_INPUT address.street", 7: "BAD_USER_INPUT lastActiveAt"}
		for _, e := range got.Errors {
			f := ""
			if e.Field != nil {
				f = *e.Field
			}
			if w := wantErr[e.Index]; w != e.Code+" "+f {
				t.Errorf("row %d: %s %s (%s), want %s", e.Index, e.Code, f, e.Message, w)
			}
		}
		ctx := context.Background()
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
		if !g6.CreatedAt.Equal(time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)) || g6.Edges.Address == nil || g6.Edges.Address.PostalCode != "01015" {
			t.Errorf("good6 = %+v (address %+v)", g6, g6.Edges.Address)
		}
		// Over the row limit: refused whole.
		big := make([]map[string]any, 10001)
		for i := range big {
			big[i] = map[string]any{"username": fmt.Sprintf("bulk%d", i), "email": fmt.Sprintf("bulk%d@example.com", i)}
		}
		before := snapshot(t, db.Client)
		e := c.ErrorCode(`mutation($in: [ImportUserInput!]!) { importUsers(input: $in) { imported } }`, map[string]any{"in": big})
		if e.Code() != "BAD_USER_INPUT" {
			t.Errorf("10,001 rows → %s, want BAD_USER_INPUT", e.Code())
		}
		if snapshot(t, db.Client) != before {
			t.Error("a refused import changed the database")
		}
	})
}
