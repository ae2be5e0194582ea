package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/ent"
	"github.com/meridian-graphql/meridian/ent/address"
	"github.com/meridian-graphql/meridian/ent/city"
	"github.com/meridian-graphql/meridian/ent/country"
	"github.com/meridian-graphql/meridian/ent/order"
	"github.com/meridian-graphql/meridian/ent/product"
	"github.com/meridian-graphql/meridian/ent/user"
)

// userRow is what a fit needs of a user.
type userRow struct {
	id         int
	createdAt  time.Time
	lastActive time.Time // latest of last_active_at, last order, last event
	country    string
	events30   float64 // events in the 30 days before the fit
}

// orderRow is one order as the models see it.
type orderRow struct {
	user, product int
	at            time.Time
	amount        float64
}

// dataset is the input of one fit.
type dataset struct {
	users    []userRow
	orders   []orderRow
	category map[int]string // product → category, for recommendation reasons
}

// activityChunk bounds the user ids of one ActivitySummaries call.
const activityChunk = 5000

// load reads every user with their home country, every order, and the
// event activity of each user: a handful of statements whatever the size
// (activity in chunks of activityChunk users).
func load(ctx context.Context, client *ent.Client, events analytics.Store, now time.Time) (*dataset, error) {
	return loadUsers(ctx, client, events, nil, now)
}

// loadUsers is load restricted to ids (all users when ids is nil).
func loadUsers(ctx context.Context, client *ent.Client, events analytics.Store, ids []int, now time.Time) (*dataset, error) {
	uq, oq, aq := client.User.Query(), client.Order.Query(), client.Address.Query()
	if ids != nil {
		uq, oq = uq.Where(user.IDIn(ids...)), oq.Where(order.UserIDIn(ids...))
		aq = aq.Where(address.HasUsersWith(user.IDIn(ids...)))
	}
	us, err := uq.Select(user.FieldID, user.FieldCreatedAt, user.FieldLastActiveAt, user.FieldAddressID).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("load users: %w", err)
	}
	addrCity := map[int]int{}
	as, err := aq.Select(address.FieldID, address.FieldCityID).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("load addresses: %w", err)
	}
	for _, a := range as {
		addrCity[a.ID] = a.CityID
	}
	cityCountry := map[int]int{}
	cs, err := client.City.Query().Select(city.FieldID, city.FieldCountryID).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("load cities: %w", err)
	}
	for _, c := range cs {
		cityCountry[c.ID] = c.CountryID
	}
	code := map[int]string{}
	cos, err := client.Country.Query().Select(country.FieldID, country.FieldCode).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("load countries: %w", err)
	}
	for _, c := range cos {
		code[c.ID] = c.Code
	}
	os, err := oq.Select(order.FieldUserID, order.FieldProductID, order.FieldCreatedAt, order.FieldAmount).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("load orders: %w", err)
	}
	ps, err := client.Product.Query().Select(product.FieldID, product.FieldCategory).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("load products: %w", err)
	}
	d := &dataset{users: make([]userRow, 0, len(us)), orders: make([]orderRow, 0, len(os)), category: make(map[int]string, len(ps))}
	for _, p := range ps {
		d.category[p.ID] = p.Category
	}
	lastOrder := map[int]time.Time{}
	for _, o := range os {
		d.orders = append(d.orders, orderRow{user: o.UserID, product: o.ProductID, at: o.CreatedAt.UTC(), amount: o.Amount})
		if o.CreatedAt.After(lastOrder[o.UserID]) {
			lastOrder[o.UserID] = o.CreatedAt
		}
	}
	ids = make([]int, 0, len(us))
	for _, u := range us {
		r := userRow{id: u.ID, createdAt: u.CreatedAt.UTC(), lastActive: u.CreatedAt.UTC()}
		if u.LastActiveAt != nil && u.LastActiveAt.After(r.lastActive) {
			r.lastActive = u.LastActiveAt.UTC()
		}
		if t := lastOrder[u.ID]; t.After(r.lastActive) {
			r.lastActive = t.UTC()
		}
		if u.AddressID != nil {
			r.country = code[cityCountry[addrCity[*u.AddressID]]]
		}
		d.users = append(d.users, r)
		ids = append(ids, u.ID)
	}
	if events == nil {
		return d, nil
	}
	// Events count as activity: a user who browses daily is not dormant.
	idx := make(map[int]int, len(d.users))
	for i, u := range d.users {
		idx[u.id] = i
	}
	for start := 0; start < len(ids); start += activityChunk {
		chunk := ids[start:min(start+activityChunk, len(ids))]
		acts, err := events.ActivitySummaries(ctx, chunk)
		if err != nil {
			return nil, fmt.Errorf("load event activity: %w", err)
		}
		for id, a := range acts {
			if r := &d.users[idx[id]]; a.LastSeen.After(r.lastActive) {
				r.lastActive = a.LastSeen.UTC()
			}
		}
	}
	recent, err := events.UserActivity(ctx, analytics.Range{From: now.Add(-30 * 24 * time.Hour), To: now}, analytics.Filter{}, len(ids))
	if err != nil {
		return nil, fmt.Errorf("load recent event counts: %w", err)
	}
	for _, a := range recent {
		if i, ok := idx[a.UserID]; ok {
			d.users[i].events30 = float64(a.Events)
		}
	}
	return d, nil
}
