package seed

import (
	"context"
	"testing"
	"time"

	"meridian/analytics"
	"meridian/analytics/sqlstore"
	"meridian/database"
	"meridian/ent"
	"meridian/ent/user"
	"meridian/internal/testdb"
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
