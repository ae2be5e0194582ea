package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/meridian-graphql/meridian/broker/outbox"
	"github.com/meridian-graphql/meridian/ent"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/platform/database"
	"github.com/meridian-graphql/meridian/store"
)

// TestEveryWriteCommitsWithItsEvent runs the happy path of every write:
// each returns what it stored (codes and SKUs upper-cased, emails
// lower-cased, names trimmed), commits exactly one event of its type to
// the outbox in its transaction, and after the commit runs Committed and
// invalidates the cache tags TagsOf gives for that event.
func TestEveryWriteCommitsWithItsEvent(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		h := newHarness(t, db)
		st := h.st
		fail := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}

		co, err := st.CreateCountry(ctx, ent.CreateCountryInput{Code: " pl ", Name: " Poland ", Continent: "Europe"})
		fail(err)
		if co.Code != "PL" || co.Name != "Poland" {
			t.Errorf("created country %q %q, want PL Poland", co.Code, co.Name)
		}
		h.committed(t, "country.created")
		co, err = st.UpdateCountry(ctx, co.ID, ent.UpdateCountryInput{Code: ptr("ua"), Name: ptr("Ukraine")})
		fail(err)
		if co.Code != "UA" || co.Name != "Ukraine" {
			t.Errorf("updated country %q %q, want UA Ukraine", co.Code, co.Name)
		}
		h.committed(t, "country.updated")

		ci, err := st.CreateCity(ctx, ent.CreateCityInput{Name: "Lviv", Latitude: 49.84, Longitude: 24.03, CountryID: co.ID})
		fail(err)
		h.committed(t, "city.created")
		ci, err = st.UpdateCity(ctx, ci.ID, ent.UpdateCityInput{Population: ptr(717273), CountryID: &co.ID})
		fail(err)
		if ci.Population != 717273 || ci.CountryID != co.ID {
			t.Errorf("updated city = %+v", ci)
		}
		h.committed(t, "city.updated")

		a, err := st.CreateAddress(ctx, ent.CreateAddressInput{Street: "  Rynok 1 ", CityID: ci.ID})
		fail(err)
		if a.Street != "Rynok 1" {
			t.Errorf("street %q, want it trimmed", a.Street)
		}
		h.committed(t, "address.created")
		a, err = st.UpdateAddress(ctx, a.ID, ent.UpdateAddressInput{PostalCode: ptr("79008"), CityID: &ci.ID})
		fail(err)
		if a.PostalCode != "79008" {
			t.Errorf("postal code %q", a.PostalCode)
		}
		h.committed(t, "address.updated")

		u, err := st.CreateUser(ctx, ent.CreateUserInput{Username: " taras ", Email: " Taras@Example.COM ", AddressID: &a.ID})
		fail(err)
		if u.Username != "taras" || u.Email != "taras@example.com" || u.AddressID == nil || *u.AddressID != a.ID {
			t.Errorf("created user = %+v", u)
		}
		h.committed(t, "user.created")
		u, err = st.UpdateUser(ctx, u.ID, ent.UpdateUserInput{Email: ptr("T.Shevchenko@Example.com")})
		fail(err)
		if u.Email != "t.shevchenko@example.com" {
			t.Errorf("updated email %q, want it lower-cased", u.Email)
		}
		h.committed(t, "user.updated")

		p, err := st.CreateProduct(ctx, ent.CreateProductInput{Sku: " kz-1 ", Name: "Kobzar", Category: "books", Price: 12.5})
		fail(err)
		if p.Sku != "KZ-1" {
			t.Errorf("SKU %q, want KZ-1", p.Sku)
		}
		h.committed(t, "product.created")
		p, err = st.UpdateProduct(ctx, p.ID, ent.UpdateProductInput{Sku: ptr("kz-2"), Price: ptr(10.0)})
		fail(err)
		if p.Sku != "KZ-2" || p.Price != 10 {
			t.Errorf("updated product = %+v", p)
		}
		h.committed(t, "product.updated")

		o, err := st.CreateOrder(ctx, ent.CreateOrderInput{UserID: u.ID, ProductID: p.ID, Quantity: ptr(3)})
		fail(err)
		if o.Amount != 30 || o.Quantity != 3 {
			t.Errorf("order of 3 × 10 = %+v", o)
		}
		h.committed(t, "order.created")
		o, err = st.UpdateOrder(ctx, o.ID, ent.UpdateOrderInput{Amount: ptr(25.0)})
		fail(err)
		if o.Amount != 25 {
			t.Errorf("updated amount %v, want 25", o.Amount)
		}
		h.committed(t, "order.updated")

		res, err := st.ImportUsers(ctx, nil)
		fail(err)
		if res.Imported != 0 || res.Failed != 0 {
			t.Errorf("empty import = %+v", res)
		}
		if _, commits := h.reported(); commits != 1 {
			t.Errorf("an empty import committed %d times, want 1", commits)
		}

		for _, step := range []struct {
			typ   string
			write func() error
		}{
			{"order.deleted", func() error { return st.DeleteOrder(ctx, o.ID) }},
			{"product.deleted", func() error { return st.DeleteProduct(ctx, p.ID) }},
			{"user.deleted", func() error { return st.DeleteUser(ctx, u.ID) }},
			{"address.deleted", func() error { return st.DeleteAddress(ctx, a.ID) }},
			{"city.deleted", func() error { return st.DeleteCity(ctx, ci.ID) }},
			{"country.deleted", func() error { return st.DeleteCountry(ctx, co.ID) }},
		} {
			fail(step.write())
			h.committed(t, step.typ)
		}
		if snap := snapshot(t, db.Client); snap != "[[],[],[],[],[],[]]" {
			t.Errorf("left after deleting everything: %s", snap)
		}
	})
}

// TestFailedEventLeavesNothingWritten: every write stores its event last,
// in its own transaction. With the outbox table missing, that last
// statement fails after the write's own statements succeeded; the whole
// transaction is rolled back — no half-written record — and neither
// Committed nor the cache invalidation runs.
func TestFailedEventLeavesNothingWritten(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		plain := harnessWith(db, nil).st // no outbox: the seed commits
		id := seedSmall(t, plain)
		// Entities nothing refers to, which their deletes accept.
		spare := ids{}
		co, err := plain.CreateCountry(ctx, ent.CreateCountryInput{Code: "PL", Name: "Poland", Continent: "Europe"})
		if err != nil {
			t.Fatal(err)
		}
		spare.country = co.ID
		ci, err := plain.CreateCity(ctx, ent.CreateCityInput{Name: "Odesa", Latitude: 46.48, Longitude: 30.72, CountryID: id.country})
		if err != nil {
			t.Fatal(err)
		}
		spare.city = ci.ID
		a, err := plain.CreateAddress(ctx, ent.CreateAddressInput{Street: "5 Podil", CityID: id.city})
		if err != nil {
			t.Fatal(err)
		}
		spare.address = a.ID
		p, err := plain.CreateProduct(ctx, ent.CreateProductInput{Sku: "SPARE-1", Name: "Spare", Category: "misc", Price: 1})
		if err != nil {
			t.Fatal(err)
		}
		spare.product = p.ID

		// An outbox without its table: the migrations create every table,
		// so drop it for the events to fail after their writes' statements.
		if _, err := db.Driver.ExecContext(ctx, `DROP TABLE outbox`); err != nil {
			t.Fatal(err)
		}
		h := harnessWith(db, outbox.NewWriter(db))
		st := h.st
		for _, tc := range []struct {
			typ   string
			write func() error
		}{
			{"country.created", func() error {
				_, err := st.CreateCountry(ctx, ent.CreateCountryInput{Code: "DE", Name: "Germany", Continent: "Europe"})
				return err
			}},
			{"country.updated", func() error {
				_, err := st.UpdateCountry(ctx, id.country, ent.UpdateCountryInput{Name: ptr("Ukraina")})
				return err
			}},
			{"city.created", func() error {
				_, err := st.CreateCity(ctx, ent.CreateCityInput{Name: "Lviv", Latitude: 49.84, Longitude: 24.03, CountryID: id.country})
				return err
			}},
			{"city.updated", func() error {
				_, err := st.UpdateCity(ctx, id.city, ent.UpdateCityInput{Population: ptr(1)})
				return err
			}},
			{"address.created", func() error {
				_, err := st.CreateAddress(ctx, ent.CreateAddressInput{Street: "2 Podil", CityID: id.city})
				return err
			}},
			{"address.updated", func() error {
				_, err := st.UpdateAddress(ctx, id.address, ent.UpdateAddressInput{Street: ptr("3 Lavra")})
				return err
			}},
			{"user.created", func() error {
				_, err := st.CreateUser(ctx, ent.CreateUserInput{Username: "taras", Email: "taras@example.com"})
				return err
			}},
			{"user.updated", func() error {
				_, err := st.UpdateUser(ctx, id.user, ent.UpdateUserInput{Username: ptr("olena2")})
				return err
			}},
			{"product.created", func() error {
				_, err := st.CreateProduct(ctx, ent.CreateProductInput{Sku: "X-1", Name: "X", Category: "c", Price: 1})
				return err
			}},
			{"product.updated", func() error {
				_, err := st.UpdateProduct(ctx, id.product, ent.UpdateProductInput{Price: ptr(99.0)})
				return err
			}},
			// The order's row and the buyer's total_spent both change before the event.
			{"order.created", func() error {
				_, err := st.CreateOrder(ctx, ent.CreateOrderInput{UserID: id.user, ProductID: id.product, Amount: ptr(7.0)})
				return err
			}},
			{"order.updated", func() error {
				_, err := st.UpdateOrder(ctx, id.order, ent.UpdateOrderInput{Quantity: ptr(5)})
				return err
			}},
			{"order.deleted", func() error { return st.DeleteOrder(ctx, id.order) }},
			// The user's orders are deleted, then the user, then the event fails.
			{"user.deleted", func() error { return st.DeleteUser(ctx, id.user) }},
			{"product.deleted", func() error { return st.DeleteProduct(ctx, spare.product) }},
			{"address.deleted", func() error { return st.DeleteAddress(ctx, spare.address) }},
			{"city.deleted", func() error { return st.DeleteCity(ctx, spare.city) }},
			{"country.deleted", func() error { return st.DeleteCountry(ctx, spare.country) }},
			// A new address and its user, then the event fails.
			{"user.created", func() error {
				_, err := st.ImportUsers(ctx, []*store.ImportUser{{Username: "good1", Email: "good1@example.com", Address: &store.ImportAddress{Street: "4 Podil", CityID: id.city}}})
				return err
			}},
		} {
			t.Run(tc.typ, func(t *testing.T) {
				before := snapshot(t, db.Client)
				err := tc.write()
				if err == nil || !strings.Contains(err.Error(), "outbox: add "+tc.typ) {
					t.Fatalf("error %v, want the failed %s event", err, tc.typ)
				}
				if after := snapshot(t, db.Client); after != before {
					t.Errorf("a write whose event failed changed the database\nbefore %s\nafter  %s", before, after)
				}
				if tags, commits := h.reported(); commits != 0 || len(tags) != 0 {
					t.Errorf("a rolled-back write ran Committed %d times and invalidated %v", commits, tags)
				}
			})
		}
	})
}
