package seed

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/ent"
	"github.com/meridian-graphql/meridian/ent/address"
	"github.com/meridian-graphql/meridian/ent/city"
	"github.com/meridian-graphql/meridian/ent/order"
	"github.com/meridian-graphql/meridian/ent/user"
)

// eventBatch is how many events go to the store per Insert.
const eventBatch = 5000

// userPage is how many users Events reads at a time. Each page's eager
// loads (addresses, cities, orders, products) bind one parameter per id,
// so a page bounds them far below PostgreSQL's 65,535 and SQLite's 32,766
// parameters, and bounds the memory a run holds whatever --users is.
const userPage = 5000

// Events generates the demo event stream that matches the relational data
// already in the database, and stores it: a signup at each user's creation,
// browsing sessions (page views, searches, clicks, add-to-carts) between
// signup and last activity, and for every order the session that led to
// it, ending in a purchase event with the order's price, quantity, category
// and product. Events carry the user's city (with a little jitter), so
// distributions per country and "near" searches have real geography.
//
// Event ids are derived from the seed and a counter, so running it twice
// stores every event once. It returns the number of events stored. An
// empty store that is an analytics.BulkLoader gets the whole stream in one
// load (on the SQL store: COPY or prepared chunks, indexes and rollup built
// once at the end), generated in a goroutine of its own while the store
// writes; others get Insert batches.
func Events(ctx context.Context, client *ent.Client, store analytics.Store, opts Options) (int, error) {
	return events(ctx, client, store, opts, userPage)
}

// events is Events reading page users at a time, in id order (a keyset
// page, so that each read costs the same however far it is).
func events(ctx context.Context, client *ent.Client, store analytics.Store, opts Options, page int) (int, error) {
	now := opts.Now
	if now.IsZero() {
		now = time.Now().UTC()
	}
	g := &eventGen{
		rng:    rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
		policy: analytics.DefaultPolicy(),
		now:    now,
		prefix: "demo" + strconv.FormatUint(opts.Seed, 36) + "-",
		terms:  searchTerms(),
	}
	g.policy.MaxFuture = 0
	if opts.Progress != nil {
		total, err := client.User.Query().Count(ctx)
		if err != nil {
			return 0, fmt.Errorf("count users for the progress bar: %w", err)
		}
		g.bar = opts.bar(int64(total), "seeding events (users done)")
		defer func() { _ = g.bar.Finish() }()
	}
	// An empty store that can bulk-load takes the whole stream at once;
	// any other store (or a second run, whose events are stored already)
	// takes Insert batches, which skip the stored ids.
	if bl, ok := store.(analytics.BulkLoader); ok {
		n, err := bl.Load(ctx, func(put func([]analytics.Event) error) error {
			return g.generate(ctx, client, page, put)
		})
		if !errors.Is(err, analytics.ErrNotEmpty) {
			if err != nil {
				return 0, fmt.Errorf("store demo events: %w", err)
			}
			return n, nil
		}
	}
	stored := 0
	err := g.generate(ctx, client, page, func(batch []analytics.Event) error {
		n, err := store.Insert(ctx, batch)
		if err != nil {
			return fmt.Errorf("store demo events: %w", err)
		}
		stored += n
		return nil
	})
	return stored, err
}

// generate reads the users page by page and hands their events to put in
// batches of about eventBatch; put owns each batch.
func (g *eventGen) generate(ctx context.Context, client *ent.Client, page int, put func([]analytics.Event) error) error {
	flush := func() error {
		if len(g.batch) == 0 {
			return nil
		}
		b := g.batch
		g.batch = make([]analytics.Event, 0, eventBatch+64)
		return put(b)
	}
	after := 0
	for {
		users, err := client.User.Query().
			Where(user.IDGT(after)).
			Order(ent.Asc(user.FieldID)).
			Limit(page).
			WithAddress(func(q *ent.AddressQuery) {
				q.Select(address.FieldID, address.FieldCityID).WithCity(func(q *ent.CityQuery) {
					q.Select(city.FieldID, city.FieldName, city.FieldLatitude, city.FieldLongitude, city.FieldCountryID).WithCountry()
				})
			}).
			// Orders in id order: the events, and so their ids, must not
			// depend on the order the database happens to return rows in.
			WithOrders(func(q *ent.OrderQuery) { q.Order(ent.Asc(order.FieldID)).WithProduct() }).
			All(ctx)
		if err != nil {
			return fmt.Errorf("read users after id %d for demo events: %w", after, err)
		}
		for _, u := range users {
			if err := g.user(u); err != nil {
				return err
			}
			if len(g.batch) >= eventBatch {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if g.bar != nil {
			_ = g.bar.Add(len(users)) // a failed terminal write must not fail the seeding
		}
		if len(users) < page {
			break
		}
		after = users[len(users)-1].ID
	}
	return flush()
}

type eventGen struct {
	rng    *rand.Rand
	policy analytics.Policy
	now    time.Time
	prefix string
	terms  []string
	n      int
	batch  []analytics.Event
	bar    *progressbar.ProgressBar // nil: no progress shown
}

// searchTerms are what demo users type into search.
func searchTerms() []string {
	return []string{"headphones", "novel", "garden hose", "lego", "running shoes", "lipstick", "coffee", "jacket", "vinyl", "desk lamp", "yoga mat", "cookbook"}
}

func (g *eventGen) add(userID int, typ string, at time.Time, meta map[string]any, geo *analytics.Geo) error {
	if at.After(g.now) {
		at = g.now
	}
	g.n++
	id := g.prefix + strconv.Itoa(g.n)
	var gp *analytics.Geo
	if geo != nil {
		// A few hundred metres of jitter: events happen around town.
		c := *geo
		c.Lat += (g.rng.Float64() - 0.5) * 0.02
		c.Lon += (g.rng.Float64() - 0.5) * 0.02
		gp = &c
	}
	e, err := g.policy.Prepare(analytics.EventInput{ID: &id, UserID: userID, Type: typ, Timestamp: &at, Metadata: meta, Geo: gp}, g.now)
	if err != nil {
		return fmt.Errorf("demo event %s: %w", id, err)
	}
	g.batch = append(g.batch, e)
	return nil
}

func (g *eventGen) user(u *ent.User) error {
	var geo *analytics.Geo
	if a := u.Edges.Address; a != nil && a.Edges.City != nil {
		c := a.Edges.City
		geo = &analytics.Geo{City: c.Name, Lat: c.Latitude, Lon: c.Longitude}
		if c.Edges.Country != nil {
			geo.Country = c.Edges.Country.Code
		}
	}
	last := u.CreatedAt
	if u.LastActiveAt != nil && u.LastActiveAt.After(last) {
		last = *u.LastActiveAt
	}
	if err := g.add(u.ID, "signup", u.CreatedAt, nil, geo); err != nil {
		return err
	}
	// Browsing sessions spread over the user's active life.
	sessions := 1 + g.rng.IntN(3) + len(u.Edges.Orders)
	span := last.Sub(u.CreatedAt)
	for range sessions {
		at := u.CreatedAt.Add(time.Duration(g.rng.Float64() * float64(span)))
		if err := g.session(u.ID, at, geo, nil); err != nil {
			return err
		}
	}
	for _, o := range u.Edges.Orders {
		if err := g.session(u.ID, o.CreatedAt.Add(-time.Duration(5+g.rng.IntN(40))*time.Minute), geo, o); err != nil {
			return err
		}
	}
	return nil
}

// session is a login and a few page views, maybe a search and a click; with
// an order it ends in add_to_cart and the purchase at the order's time.
func (g *eventGen) session(userID int, at time.Time, geo *analytics.Geo, o *ent.Order) error {
	step := func() time.Time {
		at = at.Add(time.Duration(20+g.rng.IntN(180)) * time.Second)
		return at
	}
	if err := g.add(userID, "login", at, nil, geo); err != nil {
		return err
	}
	for range 1 + g.rng.IntN(4) {
		if err := g.add(userID, "page_view", step(), map[string]any{"path": fmt.Sprintf("/p/%d", g.rng.IntN(200))}, geo); err != nil {
			return err
		}
	}
	if g.rng.IntN(2) == 0 {
		if err := g.add(userID, "search", step(), map[string]any{"q": g.terms[g.rng.IntN(len(g.terms))]}, geo); err != nil {
			return err
		}
	}
	if err := g.add(userID, "click", step(), nil, geo); err != nil {
		return err
	}
	if o == nil || o.Edges.Product == nil {
		return nil
	}
	p := o.Edges.Product
	if err := g.add(userID, "add_to_cart", step(), map[string]any{"product_id": p.ID, "category": p.Category}, geo); err != nil {
		return err
	}
	return g.add(userID, "purchase", o.CreatedAt, map[string]any{
		"price": p.Price, "quantity": float64(o.Quantity), "category": p.Category, "product_id": p.ID, "order_id": o.ID,
	}, geo)
}
