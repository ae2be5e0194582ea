package seed

import (
	"context"
	"reflect"
	"strconv"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/analytics/sqlstore"
	"github.com/meridian-graphql/meridian/ent"
	"github.com/meridian-graphql/meridian/ent/user"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/platform/database"
)

// TestDemoEventsMatchOrders: every order becomes a purchase event with the
// order's revenue, events carry the users' cities, and a second run stores
// nothing new.
func TestDemoEventsMatchOrders(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
		opts := Options{Users: 150, Seed: 3, Now: now}
		sum, err := Generate(ctx, db.Client, opts)
		if err != nil {
			t.Fatal(err)
		}
		store, err := sqlstore.New(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		n, err := Events(ctx, db.Client, store, opts)
		if err != nil {
			t.Fatal(err)
		}
		if n < sum.Users*3 {
			t.Fatalf("only %d events for %d users", n, sum.Users)
		}
		dist, err := store.EventDistribution(ctx, analytics.Range{}, analytics.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		counts := map[string]int64{}
		var total int64
		for _, c := range dist {
			counts[c.Type] = c.Count
			total += c.Count
		}
		if total != int64(n) || counts["purchase"] != int64(sum.Orders) || counts["signup"] != int64(sum.Users) {
			t.Errorf("distribution %v: want %d purchases and %d signups of %d events", counts, sum.Orders, sum.Users, n)
		}
		groups, err := store.PurchaseAnalytics(ctx, analytics.Range{}, analytics.ByMonth)
		if err != nil {
			t.Fatal(err)
		}
		var revenue float64
		for _, g := range groups {
			revenue += g.Revenue
		}
		spent, err := db.Client.User.Query().Aggregate(ent.Sum(user.FieldTotalSpent)).Float64(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := revenue - spent; diff > 0.01 || diff < -0.01 {
			t.Errorf("purchase revenue %.2f, users spent %.2f", revenue, spent)
		}
		near, err := analytics.EventsNear(ctx, store, analytics.NearQuery{Lat: 48.8566, Lon: 2.3522, RadiusKm: 30, Limit: 10})
		if err != nil || len(near) == 0 || near[0].Event.Geo.City != "Paris" {
			t.Errorf("events near Paris: %v, %v", near, err)
		}
		again, err := Events(ctx, db.Client, store, opts)
		if err != nil || again != 0 {
			t.Errorf("second run stored %d, %v; want 0", again, err)
		}
	})
}

// countingStore is an event store that only counts what it is given: the
// tests below are about reading users, not storing events.
type countingStore struct {
	analytics.Store
	events []analytics.Event
	keep   bool
	n      int
}

func (s *countingStore) Insert(_ context.Context, events []analytics.Event) (int, error) {
	s.n += len(events)
	if s.keep {
		s.events = append(s.events, events...)
	}
	return len(events), nil
}

// TestDemoEventsOverManyUsers: more users than either backend binds
// parameters in one statement (PostgreSQL 65,535, SQLite 32,766) still get
// their events; reading them all in one eager-loading query failed with
// "extended protocol limited to 65535 parameters" (issue 12). The users
// are bare rows made by one INSERT … SELECT, so that the test takes
// seconds, not the minute of seeding 70,000 full users.
func TestDemoEventsOverManyUsers(t *testing.T) {
	const users = 70_000
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		now := testNow()
		at := "?1"
		if db.Dialect == dialect.Postgres {
			at = "$1"
		}
		_, err := db.Driver.ExecContext(ctx, `INSERT INTO users (username, email, created_at, last_active_order, total_spent)
			WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < `+strconv.Itoa(users)+`)
			SELECT 'u' || i, 'u' || i || '@example.com', `+at+`, `+at+`, 0 FROM n`, now.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		store := &countingStore{}
		n, err := Events(ctx, db.Client, store, Options{Seed: 1, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		// A signup and at least one session (login, page view, click) each.
		if n != store.n || n < users*4 {
			t.Errorf("%d events stored (%d given to the store) for %d users, want at least %d", n, store.n, users, users*4)
		}
	})
}

// TestDemoEventsPaged: reading the users a few at a time gives the same
// events, in the same order with the same ids, as reading them at once.
func TestDemoEventsPaged(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		opts := Options{Users: 60, Seed: 5, Now: testNow()}
		if _, err := Generate(ctx, db.Client, opts); err != nil {
			t.Fatal(err)
		}
		whole, paged := &countingStore{keep: true}, &countingStore{keep: true}
		if _, err := events(ctx, db.Client, whole, opts, 1000); err != nil {
			t.Fatal(err)
		}
		for _, page := range []int{7, 60, 1} {
			paged.events = paged.events[:0]
			if _, err := events(ctx, db.Client, paged, opts, page); err != nil {
				t.Fatal(err)
			}
			if len(paged.events) != len(whole.events) {
				t.Fatalf("page %d: %d events, want %d", page, len(paged.events), len(whole.events))
			}
			for i, e := range paged.events {
				if w := whole.events[i]; !reflect.DeepEqual(e, w) {
					t.Fatalf("page %d: event %d is %+v, want %+v", page, i, e, w)
				}
			}
		}
	})
}

// TestDemoEventsBulkLoadEqualsInsert: an empty store that bulk-loads gets
// exactly the events, in the same order, that Insert batches get, and the
// SQL store holds the same events and distribution either way.
func TestDemoEventsBulkLoadEqualsInsert(t *testing.T) {
	for _, backend := range testdb.Backends() {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			opts := Options{Users: 120, Seed: 9, Now: testNow()}
			var (
				stores [2]*sqlstore.Store
				n      [2]int
			)
			for i := range stores {
				db := testdb.Open(t, backend)
				if _, err := Generate(ctx, db.Client, opts); err != nil {
					t.Fatal(err)
				}
				s, err := sqlstore.New(ctx, db)
				if err != nil {
					t.Fatal(err)
				}
				stores[i] = s
				// The first store is hidden behind the bare interface: no
				// BulkLoader, so Events inserts batches.
				var target analytics.Store = struct{ analytics.Store }{s}
				if i == 1 {
					target = s
				}
				if n[i], err = Events(ctx, db.Client, target, opts); err != nil {
					t.Fatal(err)
				}
			}
			if n[0] != n[1] || n[0] == 0 {
				t.Fatalf("Insert stored %d events, the bulk load %d", n[0], n[1])
			}
			var exported [2][]analytics.Event
			for i, s := range stores {
				if err := s.Export(ctx, analytics.Range{}, analytics.Filter{}, func(e *analytics.Event) error {
					exported[i] = append(exported[i], *e)
					return nil
				}); err != nil {
					t.Fatal(err)
				}
			}
			if !reflect.DeepEqual(exported[0], exported[1]) {
				t.Errorf("the stored events differ between Insert (%d) and the bulk load (%d)", len(exported[0]), len(exported[1]))
			}
			var dist [2][]analytics.TypeCount
			for i, s := range stores {
				d, err := s.EventDistribution(ctx, analytics.Range{}, analytics.Filter{})
				if err != nil {
					t.Fatal(err)
				}
				dist[i] = d
			}
			if !reflect.DeepEqual(dist[0], dist[1]) {
				t.Errorf("distribution after Insert %v, after the bulk load %v", dist[0], dist[1])
			}
		})
	}
}
