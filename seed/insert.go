package seed

import (
	"context"
	"errors"
	"fmt"

	"github.com/schollz/progressbar/v3"

	"github.com/meridian-graphql/meridian/ent"
	"github.com/meridian-graphql/meridian/ent/address"
	"github.com/meridian-graphql/meridian/ent/city"
	"github.com/meridian-graphql/meridian/ent/country"
	"github.com/meridian-graphql/meridian/ent/order"
	"github.com/meridian-graphql/meridian/ent/product"
	"github.com/meridian-graphql/meridian/ent/user"
)

// maxParams bounds the bind parameters of one multi-row INSERT. SQLite
// allows 32766 (since 3.32; PostgreSQL 65535), so batches sized by it are
// valid on both backends; larger batches would not be measurably faster,
// the statement round trips are already few.
const maxParams = 32766

// batchRows is the number of rows per INSERT for a table of cols columns
// (ent's column list, id included: one more than an INSERT binds, so a
// column added to the schema can never push a batch past maxParams).
func batchRows(cols int) int { return maxParams / cols }

// insertPlan writes the plan in one transaction, parents before children,
// turning the plan's slice indexes into the IDs that CreateBulk returns.
// bar, when non-nil, advances by the users and orders inserted.
func insertPlan(ctx context.Context, client *ent.Client, p *plan, bar *progressbar.ProgressBar) (err error) {
	tx, err := client.Tx(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer func() {
		if err != nil {
			if rbErr := tx.Rollback(); rbErr != nil {
				err = errors.Join(err, fmt.Errorf("rollback: %w", rbErr))
			}
		}
	}()
	// Checked inside the transaction so that two concurrent first starts
	// cannot both seed (the second fails on the unique country codes anyway,
	// but with a less helpful message).
	if exists, err := tx.Country.Query().Exist(ctx); err != nil {
		return fmt.Errorf("check for existing data: %w", err)
	} else if exists {
		return errors.New("database is not empty: it already has countries")
	}
	c := tx.Client()
	advance := func(n int) {
		if bar != nil {
			_ = bar.Add(n) // a failed terminal write must not fail the seeding
		}
	}

	countryIDs := make([]int, len(p.countries))
	err = inBatches(len(p.countries), batchRows(len(country.Columns)), func(lo, hi int) error {
		b := make([]*ent.CountryCreate, 0, hi-lo)
		for _, x := range p.countries[lo:hi] {
			b = append(b, c.Country.Create().SetCode(x.Code).SetName(x.Name).SetContinent(x.Continent))
		}
		rows, err := c.Country.CreateBulk(b...).Save(ctx)
		if err != nil {
			return fmt.Errorf("insert countries: %w", err)
		}
		for i, row := range rows {
			countryIDs[lo+i] = row.ID
		}
		return nil
	})
	if err != nil {
		return err
	}

	cityIDs := make([]int, len(p.cities))
	err = inBatches(len(p.cities), batchRows(len(city.Columns)), func(lo, hi int) error {
		b := make([]*ent.CityCreate, 0, hi-lo)
		for _, x := range p.cities[lo:hi] {
			b = append(b, c.City.Create().
				SetName(x.Name).
				SetLatitude(x.Lat).
				SetLongitude(x.Lon).
				SetPopulation(x.Population).
				SetCountryID(countryIDs[x.country]))
		}
		rows, err := c.City.CreateBulk(b...).Save(ctx)
		if err != nil {
			return fmt.Errorf("insert cities: %w", err)
		}
		for i, row := range rows {
			cityIDs[lo+i] = row.ID
		}
		return nil
	})
	if err != nil {
		return err
	}

	productIDs := make([]int, len(p.products))
	err = inBatches(len(p.products), batchRows(len(product.Columns)), func(lo, hi int) error {
		b := make([]*ent.ProductCreate, 0, hi-lo)
		for _, x := range p.products[lo:hi] {
			b = append(b, c.Product.Create().
				SetSku(x.sku).
				SetName(x.name).
				SetCategory(x.category).
				SetPrice(money(x.priceCents)))
		}
		rows, err := c.Product.CreateBulk(b...).Save(ctx)
		if err != nil {
			return fmt.Errorf("insert products: %w", err)
		}
		for i, row := range rows {
			productIDs[lo+i] = row.ID
		}
		return nil
	})
	if err != nil {
		return err
	}

	addressIDs := make([]int, len(p.addresses))
	err = inBatches(len(p.addresses), batchRows(len(address.Columns)), func(lo, hi int) error {
		b := make([]*ent.AddressCreate, 0, hi-lo)
		for _, x := range p.addresses[lo:hi] {
			b = append(b, c.Address.Create().
				SetStreet(x.street).
				SetPostalCode(x.postalCode).
				SetCityID(cityIDs[x.city]))
		}
		rows, err := c.Address.CreateBulk(b...).Save(ctx)
		if err != nil {
			return fmt.Errorf("insert addresses: %w", err)
		}
		for i, row := range rows {
			addressIDs[lo+i] = row.ID
		}
		return nil
	})
	if err != nil {
		return err
	}

	userIDs := make([]int, len(p.users))
	err = inBatches(len(p.users), batchRows(len(user.Columns)), func(lo, hi int) error {
		b := make([]*ent.UserCreate, 0, hi-lo)
		for _, x := range p.users[lo:hi] {
			u := c.User.Create().
				SetUsername(x.username).
				SetEmail(x.email).
				SetCreatedAt(x.createdAt).
				SetLastActiveAt(x.lastActiveAt).
				SetTotalSpent(money(x.spentCents))
			if x.address >= 0 {
				u.SetAddressID(addressIDs[x.address])
			}
			b = append(b, u)
		}
		rows, err := c.User.CreateBulk(b...).Save(ctx)
		if err != nil {
			return fmt.Errorf("insert users: %w", err)
		}
		for i, row := range rows {
			userIDs[lo+i] = row.ID
		}
		advance(hi - lo)
		return nil
	})
	if err != nil {
		return err
	}

	err = inBatches(len(p.orders), batchRows(len(order.Columns)), func(lo, hi int) error {
		b := make([]*ent.OrderCreate, 0, hi-lo)
		for _, x := range p.orders[lo:hi] {
			b = append(b, c.Order.Create().
				SetQuantity(x.quantity).
				SetAmount(money(x.amountCents)).
				SetCreatedAt(x.createdAt).
				SetUserID(userIDs[x.user]).
				SetProductID(productIDs[x.product]))
		}
		// The IDs of orders are not needed: Exec skips nothing but the
		// bookkeeping of the returned entities.
		if err := c.Order.CreateBulk(b...).Exec(ctx); err != nil {
			return fmt.Errorf("insert orders: %w", err)
		}
		advance(hi - lo)
		return nil
	})
	if err != nil {
		return err
	}

	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// inBatches calls fn for consecutive ranges [lo, hi) of at most size items.
func inBatches(n, size int, fn func(lo, hi int) error) error {
	for lo := 0; lo < n; lo += size {
		if err := fn(lo, min(lo+size, n)); err != nil {
			return err
		}
	}
	return nil
}

// money converts integer cents to the float the schema stores. Amounts and
// totals are summed in cents and converted once, so total_spent is the
// float nearest to the exact sum of the order amounts.
func money(cents int64) float64 { return float64(cents) / 100 }
