package loaders_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/analytics/sqlstore"
	"github.com/meridian-graphql/meridian/analytics/stats"
	"github.com/meridian-graphql/meridian/internal/fixture"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/loaders"
	"github.com/meridian-graphql/meridian/platform/apperr"
	"github.com/meridian-graphql/meridian/platform/database"
)

// testWait is how long the loaders collect keys: long enough that every
// goroutine of a level reaches its loader before the batch runs, on a busy
// machine under the race detector too (gqltest waits as long, for the same
// reason). Production waits 10 ms.
const testWait = 250 * time.Millisecond

// level loads every key at once, each in its own goroutine as gqlgen
// resolves the elements of a list, on one request's loaders, and returns the
// SQL statements the level ran. They are counted as httpapi counts a
// request's (database.WithCounter on the request's context, the
// sqlStatements extension), and checked against the driver's own total.
func level(t *testing.T, db *database.DB, keys []int, load func(ctx context.Context, key int) error) int64 {
	t.Helper()
	ctx, counter := database.WithCounter(context.Background())
	before := db.Driver.Statements()
	start := make(chan struct{})
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Go(func() {
			<-start
			errs[i] = load(ctx, k)
		})
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if total := db.Driver.Statements() - before; total != counter.N() {
		t.Errorf("the driver ran %d statements, the request's counter %d", total, counter.N())
	}
	return counter.N()
}

// TestEveryLoaderBatchesALevel: N keys asked for at once — each element of
// a level of a query asking for its own — cost one SQL statement for the
// whole level, whatever N (two for a page of users per parent: the pages
// and their total counts), with repeated keys asked once, and every caller
// gets its own answer.
func TestEveryLoaderBatchesALevel(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		g, err := fixture.NewGrid(ctx, db.Client, 3, 4, 5)
		if err != nil {
			t.Fatal(err)
		}
		events, err := sqlstore.New(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		var evs []analytics.Event
		policy := analytics.DefaultPolicy()
		now := time.Now().UTC()
		for i, u := range g.Users {
			for k := range i%3 + 1 { // users have 1, 2 or 3 events
				at := now.Add(-time.Duration(i*10+k) * time.Minute)
				e, err := policy.Prepare(analytics.EventInput{UserID: u.ID, Type: []string{"page_view", "click", "search"}[k], Timestamp: &at}, now)
				if err != nil {
					t.Fatal(err)
				}
				evs = append(evs, e)
			}
		}
		if _, err := events.Insert(ctx, evs); err != nil {
			t.Fatal(err)
		}
		cfg := loaders.Config{Client: db.Client, Stats: stats.New(db), Events: events, Wait: testWait}
		var cityIDs, countryOfCity, userIDs, addressIDs, productIDs []int
		for _, c := range g.Cities {
			cityIDs = append(cityIDs, c.ID)
			countryOfCity = append(countryOfCity, c.CountryID) // each country 4 times
		}
		for _, u := range g.Users {
			userIDs = append(userIDs, u.ID)
			addressIDs = append(addressIDs, *u.AddressID)
			productIDs = append(productIDs, g.Product.ID) // everyone ordered it
		}
		cityOf := map[int]int{} // user → city
		for _, u := range db.Client.User.Query().WithAddress().AllX(ctx) {
			cityOf[u.ID] = u.Edges.Address.CityID
		}
		var countryIDs []int
		for _, c := range g.Countries {
			countryIDs = append(countryIDs, c.ID)
		}
		want := func(what string, got, want any) error {
			if got != want {
				return fmt.Errorf("%s = %v, want %v", what, got, want)
			}
			return nil
		}
		two := 2
		for _, tc := range []struct {
			name  string
			keys  []int
			stmts int64
			load  func(l *loaders.Loaders, ctx context.Context, id int) error
		}{
			{"the country of every city", countryOfCity, 1, func(l *loaders.Loaders, ctx context.Context, id int) error {
				c, err := l.Country(ctx, id)
				if err != nil {
					return err
				}
				return want("country id", c.ID, id)
			}},
			{"cities", cityIDs, 1, func(l *loaders.Loaders, ctx context.Context, id int) error {
				c, err := l.City(ctx, id)
				if err != nil {
					return err
				}
				return want("city id", c.ID, id)
			}},
			{"the address of every user", addressIDs, 1, func(l *loaders.Loaders, ctx context.Context, id int) error {
				a, err := l.Address(ctx, id)
				if err != nil {
					return err
				}
				return want("address id", a.ID, id)
			}},
			{"users", userIDs, 1, func(l *loaders.Loaders, ctx context.Context, id int) error {
				u, err := l.User(ctx, id)
				if err != nil {
					return err
				}
				return want("user id", u.ID, id)
			}},
			{"the product of every order", productIDs, 1, func(l *loaders.Loaders, ctx context.Context, id int) error {
				p, err := l.Product(ctx, id)
				if err != nil {
					return err
				}
				return want("product id", p.ID, id)
			}},
			{"country stats", countryIDs, 1, func(l *loaders.Loaders, ctx context.Context, id int) error {
				s, err := l.CountryStats(ctx, id)
				if err != nil {
					return err
				}
				return errors.Join(want("country users", s.UserCount, 20), want("country cities", s.CityCount, 4))
			}},
			{"city stats", cityIDs, 1, func(l *loaders.Loaders, ctx context.Context, id int) error {
				s, err := l.CityStats(ctx, id)
				if err != nil {
					return err
				}
				return errors.Join(want("city users", s.UserCount, 5), want("city id", s.CityID, id))
			}},
			{"a page of each city's users", cityIDs, 2, func(l *loaders.Loaders, ctx context.Context, id int) error {
				c, err := l.UsersIn(ctx, loaders.InCity, id, loaders.UsersArgs{First: &two})
				if err != nil {
					return err
				}
				if err := errors.Join(want("page size", len(c.Edges), 2), want("total", c.TotalCount, 5), want("next page", c.PageInfo.HasNextPage, true)); err != nil {
					return err
				}
				for _, e := range c.Edges {
					if home := cityOf[e.Node.ID]; home != id {
						return fmt.Errorf("user %s in the page of city %d lives in city %d", e.Node.Username, id, home)
					}
				}
				return nil
			}},
			{"a page of each country's users", countryIDs, 2, func(l *loaders.Loaders, ctx context.Context, id int) error {
				c, err := l.UsersIn(ctx, loaders.InCountry, id, loaders.UsersArgs{First: &two})
				if err != nil {
					return err
				}
				return errors.Join(want("page size", len(c.Edges), 2), want("total", c.TotalCount, 20))
			}},
			{"a page of each user's events", userIDs, 1, func(l *loaders.Loaders, ctx context.Context, id int) error {
				p, err := l.EventsOf(ctx, id, 2, nil, nil)
				if err != nil {
					return err
				}
				for _, e := range p.Events {
					if e.UserID != id {
						return fmt.Errorf("user %d got an event of user %d", id, e.UserID)
					}
				}
				n := 0
				for _, e := range evs {
					if e.UserID == id {
						n++
					}
				}
				return errors.Join(want("events", len(p.Events), min(n, 2)), want("next page", p.HasNext, n > 2))
			}},
			{"each user's activity", userIDs, 1, func(l *loaders.Loaders, ctx context.Context, id int) error {
				a, err := l.Activity(ctx, id)
				if err != nil {
					return err
				}
				if a == nil {
					return fmt.Errorf("user %d: no activity", id)
				}
				return want("distinct types = events", int64(a.DistinctTypes), a.Events)
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				l := loaders.New(cfg) // one request
				if got := level(t, db, tc.keys, func(ctx context.Context, id int) error { return tc.load(l, ctx, id) }); got != tc.stmts {
					t.Errorf("%d keys ran %d statements, want %d", len(tc.keys), got, tc.stmts)
				}
			})
		}
	})
}

// TestMissingKeyFailsAloneInTheBatch: a key with no row answers NOT_FOUND to
// its own caller; the others of the same batch get their rows, still from
// one statement.
func TestMissingKeyFailsAloneInTheBatch(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		g, err := fixture.NewGrid(context.Background(), db.Client, 2, 3, 1)
		if err != nil {
			t.Fatal(err)
		}
		const missing = 999999999
		keys := []int{missing}
		for _, c := range g.Cities {
			keys = append(keys, c.ID)
		}
		l := loaders.New(loaders.Config{Client: db.Client, Wait: testWait})
		stmts := level(t, db, keys, func(ctx context.Context, id int) error {
			c, err := l.City(ctx, id)
			if id == missing {
				if e, ok := apperr.As(err); !ok || e.Code != apperr.NotFound {
					return fmt.Errorf("missing city: %v, %v; want NOT_FOUND", c, err)
				}
				return nil
			}
			if err != nil {
				return fmt.Errorf("city %d: %w", id, err)
			}
			if c.ID != id {
				return fmt.Errorf("city %d answered with city %d", id, c.ID)
			}
			return nil
		})
		if stmts != 1 {
			t.Errorf("%d keys ran %d statements, want 1", len(keys), stmts)
		}
	})
}
