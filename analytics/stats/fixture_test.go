package stats_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/ent"
	"github.com/meridian-graphql/meridian/platform/database"
)

// The fixture, with every number the tests expect worked out by hand.
//
// Countries, cities, addresses:
//
//	FR France  Paris (a1, a2), Lyon (a3)
//	DE Germany Berlin (a4)
//	JP Japan   Tokyo (a5), Osaka (no addresses)
//	BR Brazil  Rio (a6, nobody lives there)
//	IS Iceland no cities
//
// Users (2024, UTC; Jan 1 2024 is a Monday):
//
//	      created          last active      spent  address  orders (amount @ date)
//	u1 alice  Mon Jan 1 09:00   Mar 19 10:00     60  a1 Paris  10 @Jan 2, 20 @Feb 10, 30 @Mar 10
//	u2 bob    Sun Jan 7 23:30   Jan 8 00:00      40  a1 Paris  15 @Jan 7, 25 @Mar 12
//	u3 carol  Mon Jan 8 00:00   never             0  a2 Paris  —
//	u4 dave   Wed Jan 31 23:59:59 Feb 1 00:00   100  a3 Lyon   100 @Feb 1
//	u5 erin   Thu Feb 1 00:00   Mar 18 00:00     40  a4 Berlin 15 @Mar 15, 25 @Mar 16
//	u6 frank  Wed Feb 14 12:00  Mar 1 00:00     200  a5 Tokyo  50 @Feb 20, 70 @Mar 1 00:00, 80 @Mar 2
//	u7 grace  Sun Mar 10 23:59:59 Mar 11 10:00    7  none      7 @Mar 11
//
// Several times sit exactly on a boundary (u2, u4, u6 last active; u3, u5
// created; u6's Mar 1 order) to pin down inclusive versus exclusive bounds.
type fixture struct {
	countries map[string]*ent.Country // by code
	cities    map[string]*ent.City    // by name
	users     map[string]*ent.User    // by key u1…u7
}

func day(month time.Month, d, h, m, s int) time.Time {
	return time.Date(2024, month, d, h, m, s, 0, time.UTC)
}

func buildFixture(t *testing.T, db *database.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	c := db.Client
	f := &fixture{
		countries: map[string]*ent.Country{},
		cities:    map[string]*ent.City{},
		users:     map[string]*ent.User{},
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("fixture: %v", err)
		}
	}
	for _, co := range []struct{ code, name, continent string }{
		{"FR", "France", "Europe"},
		{"DE", "Germany", "Europe"},
		{"JP", "Japan", "Asia"},
		{"BR", "Brazil", "South America"},
		{"IS", "Iceland", "Europe"},
	} {
		e, err := c.Country.Create().SetCode(co.code).SetName(co.name).SetContinent(co.continent).Save(ctx)
		must(err)
		f.countries[co.code] = e
	}
	for _, ci := range []struct {
		name, country string
		lat, lon      float64
		pop           int
	}{
		{"Paris", "FR", 48.8566, 2.3522, 2102650},
		{"Lyon", "FR", 45.7640, 4.8357, 522250},
		{"Berlin", "DE", 52.5200, 13.4050, 3878100},
		{"Tokyo", "JP", 35.6762, 139.6503, 14187176},
		{"Osaka", "JP", 34.6937, 135.5023, 2752412},
		{"Rio de Janeiro", "BR", -22.9068, -43.1729, 6211223},
	} {
		e, err := c.City.Create().SetName(ci.name).SetLatitude(ci.lat).SetLongitude(ci.lon).
			SetPopulation(ci.pop).SetCountryID(f.countries[ci.country].ID).Save(ctx)
		must(err)
		f.cities[ci.name] = e
	}
	addresses := map[string]*ent.Address{}
	for _, a := range []struct{ key, street, city string }{
		{"a1", "1 Rue de Rivoli", "Paris"},
		{"a2", "2 Avenue Foch", "Paris"},
		{"a3", "3 Rue de la République", "Lyon"},
		{"a4", "4 Unter den Linden", "Berlin"},
		{"a5", "5 Chuo-dori", "Tokyo"},
		{"a6", "6 Avenida Atlântica", "Rio de Janeiro"},
	} {
		e, err := c.Address.Create().SetStreet(a.street).SetCityID(f.cities[a.city].ID).Save(ctx)
		must(err)
		addresses[a.key] = e
	}
	product, err := c.Product.Create().SetSku("SKU-1").SetName("Widget").SetCategory("tools").SetPrice(5).Save(ctx)
	must(err)

	type order struct {
		amount float64
		at     time.Time
	}
	for _, u := range []struct {
		key, name  string
		created    time.Time
		lastActive *time.Time
		spent      float64
		address    string
		orders     []order
	}{
		{"u1", "alice", day(1, 1, 9, 0, 0), ptr(day(3, 19, 10, 0, 0)), 60, "a1",
			[]order{{10, day(1, 2, 12, 0, 0)}, {20, day(2, 10, 12, 0, 0)}, {30, day(3, 10, 12, 0, 0)}}},
		{"u2", "bob", day(1, 7, 23, 30, 0), ptr(day(1, 8, 0, 0, 0)), 40, "a1",
			[]order{{15, day(1, 7, 23, 45, 0)}, {25, day(3, 12, 12, 0, 0)}}},
		{"u3", "carol", day(1, 8, 0, 0, 0), nil, 0, "a2", nil},
		{"u4", "dave", day(1, 31, 23, 59, 59), ptr(day(2, 1, 0, 0, 0)), 100, "a3",
			[]order{{100, day(2, 1, 0, 0, 0)}}},
		{"u5", "erin", day(2, 1, 0, 0, 0), ptr(day(3, 18, 0, 0, 0)), 40, "a4",
			[]order{{15, day(3, 15, 12, 0, 0)}, {25, day(3, 16, 12, 0, 0)}}},
		{"u6", "frank", day(2, 14, 12, 0, 0), ptr(day(3, 1, 0, 0, 0)), 200, "a5",
			[]order{{50, day(2, 20, 12, 0, 0)}, {70, day(3, 1, 0, 0, 0)}, {80, day(3, 2, 12, 0, 0)}}},
		{"u7", "grace", day(3, 10, 23, 59, 59), ptr(day(3, 11, 10, 0, 0)), 7, "",
			[]order{{7, day(3, 11, 10, 0, 0)}}},
	} {
		create := c.User.Create().SetUsername(u.name).SetEmail(u.name + "@example.com").
			SetCreatedAt(u.created).SetNillableLastActiveAt(u.lastActive).SetTotalSpent(u.spent)
		if u.address != "" {
			create.SetAddressID(addresses[u.address].ID)
		}
		e, err := create.Save(ctx)
		must(err)
		f.users[u.key] = e
		for _, o := range u.orders {
			_, err := c.Order.Create().SetUserID(e.ID).SetProductID(product.ID).
				SetAmount(o.amount).SetCreatedAt(o.at).Save(ctx)
			must(err)
		}
	}
	return f
}

func ptr[T any](v T) *T { return &v }

// counting returns a context that counts statements and a check that
// exactly want ran on it.
func counting(t *testing.T) (context.Context, func(want int64)) {
	ctx, c := database.WithCounter(context.Background())
	return ctx, func(want int64) {
		t.Helper()
		if n := c.N(); n != want {
			t.Errorf("ran %d statements, want %d", n, want)
		}
	}
}

func approx(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func checkFloat(t *testing.T, what string, got, want float64) {
	t.Helper()
	if !approx(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// sameUser compares every column of two users.
func sameUser(t *testing.T, got, want *ent.User) {
	t.Helper()
	if got == nil {
		t.Fatalf("user is nil, want %s", want.Username)
	}
	ok := got.ID == want.ID && got.Username == want.Username && got.Email == want.Email &&
		got.CreatedAt.Equal(want.CreatedAt) && got.TotalSpent == want.TotalSpent &&
		(got.LastActiveAt == nil) == (want.LastActiveAt == nil) &&
		(got.LastActiveAt == nil || got.LastActiveAt.Equal(*want.LastActiveAt)) &&
		(got.AddressID == nil) == (want.AddressID == nil) &&
		(got.AddressID == nil || *got.AddressID == *want.AddressID)
	if !ok {
		t.Errorf("user = %v, want %v", got, want)
	}
}

func sameCountry(t *testing.T, got, want *ent.Country) {
	t.Helper()
	if got == nil || got.ID != want.ID || got.Code != want.Code || got.Name != want.Name || got.Continent != want.Continent {
		t.Errorf("country = %v, want %v", got, want)
	}
}

func sameCity(t *testing.T, got, want *ent.City) {
	t.Helper()
	if got == nil || got.ID != want.ID || got.Name != want.Name || got.Latitude != want.Latitude ||
		got.Longitude != want.Longitude || got.Population != want.Population || got.CountryID != want.CountryID {
		t.Errorf("city = %v, want %v", got, want)
	}
}
