package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/meridian-graphql/meridian/ent"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/platform/apperr"
	"github.com/meridian-graphql/meridian/platform/database"
	"github.com/meridian-graphql/meridian/store"
)

// TestRefusedWritesChangeNothing makes each kind of bad write — invalid
// values, references to missing entities, duplicates, deletes of entities
// still referenced — and checks the application error's code and field,
// that the database is byte-for-byte unchanged, and that no event, commit
// hook or cache invalidation came of it.
func TestRefusedWritesChangeNothing(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		h := newHarness(t, db)
		st := h.st
		id := seedSmall(t, st)
		h.events(t)
		h.reported()
		noID := missing
		cases := []struct {
			name  string
			code  apperr.Code
			field string
			write func() error
		}{
			{"country code not ISO", apperr.BadUserInput, "code", func() error {
				_, err := st.CreateCountry(ctx, ent.CreateCountryInput{Code: "U1", Name: "X", Continent: "Europe"})
				return err
			}},
			{"country code too long", apperr.BadUserInput, "code", func() error {
				_, err := st.CreateCountry(ctx, ent.CreateCountryInput{Code: "UKR", Name: "X", Continent: "Europe"})
				return err
			}},
			{"country name empty", apperr.BadUserInput, "name", func() error {
				_, err := st.CreateCountry(ctx, ent.CreateCountryInput{Code: "PL", Name: "", Continent: "Europe"})
				return err
			}},
			{"country code taken", apperr.Conflict, "code", func() error {
				_, err := st.CreateCountry(ctx, ent.CreateCountryInput{Code: "UA", Name: "Again", Continent: "Europe"})
				return err
			}},
			{"update unknown country", apperr.NotFound, "id", func() error {
				_, err := st.UpdateCountry(ctx, missing, ent.UpdateCountryInput{Name: ptr("X")})
				return err
			}},
			{"delete country with cities", apperr.Conflict, "id", func() error { return st.DeleteCountry(ctx, id.country) }},
			{"delete unknown country", apperr.NotFound, "id", func() error { return st.DeleteCountry(ctx, missing) }},
			{"latitude out of range", apperr.BadUserInput, "latitude", func() error {
				_, err := st.CreateCity(ctx, ent.CreateCityInput{Name: "X", Latitude: 91, CountryID: id.country})
				return err
			}},
			{"longitude out of range", apperr.BadUserInput, "longitude", func() error {
				_, err := st.CreateCity(ctx, ent.CreateCityInput{Name: "X", Longitude: -180.5, CountryID: id.country})
				return err
			}},
			{"negative population", apperr.BadUserInput, "population", func() error {
				_, err := st.CreateCity(ctx, ent.CreateCityInput{Name: "X", Population: ptr(-1), CountryID: id.country})
				return err
			}},
			{"city in unknown country", apperr.NotFound, "countryID", func() error {
				_, err := st.CreateCity(ctx, ent.CreateCityInput{Name: "X", CountryID: missing})
				return err
			}},
			{"move city to unknown country", apperr.NotFound, "countryID", func() error {
				_, err := st.UpdateCity(ctx, id.city, ent.UpdateCityInput{CountryID: &noID})
				return err
			}},
			{"update unknown city", apperr.NotFound, "id", func() error {
				_, err := st.UpdateCity(ctx, missing, ent.UpdateCityInput{Name: ptr("X")})
				return err
			}},
			{"delete city with addresses", apperr.Conflict, "id", func() error { return st.DeleteCity(ctx, id.city) }},
			{"address in unknown city", apperr.NotFound, "cityID", func() error {
				_, err := st.CreateAddress(ctx, ent.CreateAddressInput{Street: "x", CityID: missing})
				return err
			}},
			{"address without street", apperr.BadUserInput, "street", func() error {
				_, err := st.CreateAddress(ctx, ent.CreateAddressInput{Street: "  ", CityID: id.city})
				return err
			}},
			{"move address to unknown city", apperr.NotFound, "cityID", func() error {
				_, err := st.UpdateAddress(ctx, id.address, ent.UpdateAddressInput{CityID: &noID})
				return err
			}},
			{"delete address in use", apperr.Conflict, "id", func() error { return st.DeleteAddress(ctx, id.address) }},
			{"bad email", apperr.BadUserInput, "email", func() error {
				_, err := st.CreateUser(ctx, ent.CreateUserInput{Username: "newbie", Email: "not-an-email"})
				return err
			}},
			{"email without domain dot", apperr.BadUserInput, "email", func() error {
				_, err := st.CreateUser(ctx, ent.CreateUserInput{Username: "newbie", Email: "a@localhost"})
				return err
			}},
			{"email with display name", apperr.BadUserInput, "email", func() error {
				_, err := st.CreateUser(ctx, ent.CreateUserInput{Username: "newbie", Email: "A <a@example.com>"})
				return err
			}},
			{"bad username", apperr.BadUserInput, "username", func() error {
				_, err := st.CreateUser(ctx, ent.CreateUserInput{Username: "a b", Email: "ab@example.com"})
				return err
			}},
			{"username taken", apperr.Conflict, "username", func() error {
				_, err := st.CreateUser(ctx, ent.CreateUserInput{Username: "olena", Email: "other@example.com"})
				return err
			}},
			{"email taken (any case)", apperr.Conflict, "email", func() error {
				_, err := st.CreateUser(ctx, ent.CreateUserInput{Username: "olena2", Email: "OLENA@example.com"})
				return err
			}},
			{"user at unknown address", apperr.NotFound, "addressID", func() error {
				_, err := st.CreateUser(ctx, ent.CreateUserInput{Username: "newbie", Email: "n@example.com", AddressID: &noID})
				return err
			}},
			{"update unknown user", apperr.NotFound, "id", func() error {
				_, err := st.UpdateUser(ctx, missing, ent.UpdateUserInput{Username: ptr("zzz")})
				return err
			}},
			{"delete unknown user", apperr.NotFound, "id", func() error { return st.DeleteUser(ctx, missing) }},
			{"negative price", apperr.BadUserInput, "price", func() error {
				_, err := st.CreateProduct(ctx, ent.CreateProductInput{Sku: "X-1", Name: "X", Category: "c", Price: -1})
				return err
			}},
			{"bad sku", apperr.BadUserInput, "sku", func() error {
				_, err := st.CreateProduct(ctx, ent.CreateProductInput{Sku: "?", Name: "X", Category: "c", Price: 1})
				return err
			}},
			{"sku taken", apperr.Conflict, "sku", func() error {
				_, err := st.CreateProduct(ctx, ent.CreateProductInput{Sku: "BK-1", Name: "X", Category: "c", Price: 1})
				return err
			}},
			{"update unknown product", apperr.NotFound, "id", func() error {
				_, err := st.UpdateProduct(ctx, missing, ent.UpdateProductInput{Name: ptr("X")})
				return err
			}},
			{"delete ordered product", apperr.Conflict, "id", func() error { return st.DeleteProduct(ctx, id.product) }},
			{"negative amount", apperr.BadUserInput, "amount", func() error {
				_, err := st.CreateOrder(ctx, ent.CreateOrderInput{UserID: id.user, ProductID: id.product, Amount: ptr(-5.0)})
				return err
			}},
			{"zero quantity", apperr.BadUserInput, "quantity", func() error {
				_, err := st.CreateOrder(ctx, ent.CreateOrderInput{UserID: id.user, ProductID: id.product, Quantity: ptr(0)})
				return err
			}},
			{"order of unknown product", apperr.NotFound, "productID", func() error {
				_, err := st.CreateOrder(ctx, ent.CreateOrderInput{UserID: id.user, ProductID: missing})
				return err
			}},
			{"order by unknown user", apperr.NotFound, "userID", func() error {
				_, err := st.CreateOrder(ctx, ent.CreateOrderInput{UserID: missing, ProductID: id.product})
				return err
			}},
			{"negative amount on update", apperr.BadUserInput, "amount", func() error {
				_, err := st.UpdateOrder(ctx, id.order, ent.UpdateOrderInput{Amount: ptr(-1.0)})
				return err
			}},
			{"move order to unknown user", apperr.NotFound, "userID", func() error {
				_, err := st.UpdateOrder(ctx, id.order, ent.UpdateOrderInput{UserID: &noID})
				return err
			}},
			{"update unknown order", apperr.NotFound, "id", func() error {
				_, err := st.UpdateOrder(ctx, missing, ent.UpdateOrderInput{Quantity: ptr(1)})
				return err
			}},
			{"delete unknown order", apperr.NotFound, "id", func() error { return st.DeleteOrder(ctx, missing) }},
			{"import over the row limit", apperr.BadUserInput, "input", func() error {
				big := make([]*store.ImportUser, store.MaxImportRows+1)
				for i := range big {
					big[i] = &store.ImportUser{Username: fmt.Sprintf("bulk%d", i), Email: fmt.Sprintf("bulk%d@example.com", i)}
				}
				_, err := st.ImportUsers(ctx, big)
				return err
			}},
		}
		for _, tc := range cases {
			t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
				before := snapshot(t, db.Client)
				wantAppErr(t, tc.write(), tc.code, tc.field)
				if after := snapshot(t, db.Client); after != before {
					t.Errorf("database changed by a refused write")
				}
				h.unchanged(t)
			})
		}
	})
}
