package seed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/analytics/recs"
	"github.com/meridian-graphql/meridian/analytics/sqlstore"
	"github.com/meridian-graphql/meridian/ent"
	"github.com/meridian-graphql/meridian/ent/address"
	"github.com/meridian-graphql/meridian/ent/city"
	"github.com/meridian-graphql/meridian/ent/order"
	"github.com/meridian-graphql/meridian/ent/user"
	"github.com/meridian-graphql/meridian/platform/database"
)

// EvaluateRecs builds the server's demo data set (users users, seeded by
// demoSeed, as Generate and Events make it) in a temporary embedded SQLite
// database, extracts interactions from its orders (purchases) and
// add-to-cart events, and prints the leave-last-out evaluation at k=10 of
// the default recs.Options next to the popularity baselines.
//
// The demo's add-to-carts repeat its orders (each order's session carts
// the product minutes before buying it) and its page views name no
// product, so the events add no signal here; they are read anyway, as a
// real shop's would be, and the leave-last-out cut keeps the held-out
// purchase's own cart out of training.
func EvaluateRecs(ctx context.Context, w io.Writer, users int, demoSeed uint64) error {
	d, err := loadRecsDemo(ctx, users, demoSeed)
	if err != nil {
		return err
	}
	interactions := d.interactions(true)
	report, err := recs.EvaluateLeaveLastOut(ctx, interactions, d.countries, 10, recs.Options{})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "demo data (seed %d): %d users, %d products, %d orders, %d events; %d interactions (%d orders, %d add-to-carts)\n",
		demoSeed, d.summary.Users, d.summary.Products, d.summary.Orders, d.events, len(interactions), len(d.orders), len(d.carts))
	return report.Print(w)
}

// recsDemo is what the evaluation reads from a demo database.
type recsDemo struct {
	summary       Summary
	events        int
	orders, carts []recs.Interaction
	countries     map[int]string
}

// interactions are the orders, and the add-to-carts too when carts is set.
func (d *recsDemo) interactions(carts bool) []recs.Interaction {
	out := slices.Clone(d.orders)
	if carts {
		out = append(out, d.carts...)
	}
	return out
}

// loadRecsDemo generates the demo data set in a temporary SQLite database,
// reads the interactions and countries out of it, and removes it again.
func loadRecsDemo(ctx context.Context, users int, seedValue uint64) (d *recsDemo, err error) {
	dir, err := os.MkdirTemp("", "meridian-recs-")
	if err != nil {
		return nil, fmt.Errorf("seed: recommender demo: temporary directory: %w", err)
	}
	defer func() {
		if rmErr := os.RemoveAll(dir); rmErr != nil {
			err = errors.Join(err, fmt.Errorf("seed: recommender demo: remove %s: %w", dir, rmErr))
		}
	}()
	db, err := database.Open(ctx, "sqlite:"+filepath.Join(dir, "demo.db"), "")
	if err != nil {
		return nil, fmt.Errorf("seed: recommender demo: %w", err)
	}
	defer db.Close() // a scratch database: nothing to lose if closing fails

	// The same options as the server's first-start seeding, so that the
	// numbers describe the demo people see.
	so := Options{Users: users, Seed: seedValue}
	d = &recsDemo{}
	if d.summary, err = Generate(ctx, db.Client, so); err != nil {
		return nil, fmt.Errorf("seed: recommender demo: %w", err)
	}
	store, err := sqlstore.New(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("seed: recommender demo: %w", err)
	}
	if d.events, err = Events(ctx, db.Client, store, so); err != nil {
		return nil, fmt.Errorf("seed: recommender demo: %w", err)
	}
	if d.orders, err = orderInteractions(ctx, db.Client); err != nil {
		return nil, err
	}
	if d.carts, err = cartInteractions(ctx, store); err != nil {
		return nil, err
	}
	if d.countries, err = userCountries(ctx, db.Client); err != nil {
		return nil, err
	}
	return d, nil
}

// orderInteractions is one purchase interaction per order. The quantity is
// not a weight: two of a thing say no more about a taste than one.
func orderInteractions(ctx context.Context, client *ent.Client) ([]recs.Interaction, error) {
	orders, err := client.Order.Query().
		Select(order.FieldUserID, order.FieldProductID, order.FieldCreatedAt).
		Order(ent.Asc(order.FieldID)).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("seed: recommender demo: read orders: %w", err)
	}
	out := make([]recs.Interaction, len(orders))
	for k, o := range orders {
		out[k] = recs.Interaction{User: o.UserID, Item: o.ProductID, At: o.CreatedAt, Weight: recs.WeightPurchase}
	}
	return out, nil
}

// cartInteractions is an interaction per add_to_cart event that names a
// product.
func cartInteractions(ctx context.Context, store analytics.Store) ([]recs.Interaction, error) {
	var out []recs.Interaction
	err := store.Export(ctx, analytics.Range{}, analytics.Filter{Types: []string{"add_to_cart"}}, func(e *analytics.Event) error {
		// Metadata numbers come back as float64 from every store.
		if id, ok := e.Metadata["product_id"].(float64); ok && id > 0 {
			out = append(out, recs.Interaction{User: e.UserID, Item: int(id), At: e.Timestamp, Weight: recs.WeightAddToCart})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("seed: recommender demo: read add_to_cart events: %w", err)
	}
	return out, nil
}

// userCountries maps users to their country code through address → city →
// country; users without an address are absent.
func userCountries(ctx context.Context, client *ent.Client) (map[int]string, error) {
	users, err := client.User.Query().
		Where(user.HasAddress()).
		Select(user.FieldID, user.FieldAddressID).
		WithAddress(func(q *ent.AddressQuery) {
			q.Select(address.FieldID, address.FieldCityID).WithCity(func(q *ent.CityQuery) {
				q.Select(city.FieldID, city.FieldCountryID).WithCountry()
			})
		}).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("seed: recommender demo: read user countries: %w", err)
	}
	out := make(map[int]string, len(users))
	for _, u := range users {
		if a := u.Edges.Address; a != nil && a.Edges.City != nil && a.Edges.City.Edges.Country != nil {
			out[u.ID] = a.Edges.City.Edges.Country.Code
		}
	}
	return out, nil
}
