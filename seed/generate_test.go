package seed

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/meridian-graphql/meridian/ent"
	"github.com/meridian-graphql/meridian/ent/address"
	"github.com/meridian-graphql/meridian/ent/city"
	"github.com/meridian-graphql/meridian/ent/order"
	"github.com/meridian-graphql/meridian/ent/user"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/platform/database"
)

const testUsers = 300

func generate(t *testing.T, db *database.DB, opts Options) Summary {
	t.Helper()
	sum, err := Generate(context.Background(), db.Client, opts)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return sum
}

func TestGenerate(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		c := db.Client
		empty, err := IsEmpty(ctx, c)
		if err != nil || !empty {
			t.Fatalf("IsEmpty on a fresh database = %v, %v", empty, err)
		}
		sum := generate(t, db, Options{Users: testUsers, Seed: 1, Now: testNow()})
		if empty, err := IsEmpty(ctx, c); err != nil || empty {
			t.Fatalf("IsEmpty after seeding = %v, %v", empty, err)
		}

		t.Run("counts match the summary", func(t *testing.T) {
			countries, cities := EmbeddedGeo()
			for _, x := range []struct {
				name      string
				got, want int
			}{
				{"countries", c.Country.Query().CountX(ctx), sum.Countries},
				{"cities", c.City.Query().CountX(ctx), sum.Cities},
				{"addresses", c.Address.Query().CountX(ctx), sum.Addresses},
				{"users", c.User.Query().CountX(ctx), sum.Users},
				{"products", c.Product.Query().CountX(ctx), sum.Products},
				{"orders", c.Order.Query().CountX(ctx), sum.Orders},
				{"summary countries", sum.Countries, len(countries)},
				{"summary cities", sum.Cities, len(cities)},
				{"summary users", sum.Users, testUsers},
				{"users with an address", c.User.Query().Where(user.AddressIDNotNil()).CountX(ctx), sum.Addresses},
			} {
				if x.got != x.want {
					t.Errorf("%s: %d, want %d", x.name, x.got, x.want)
				}
			}
			if sum.Products < 150 || sum.Orders < 2*testUsers || sum.Took <= 0 {
				t.Errorf("summary %+v", sum)
			}
		})

		t.Run("total_spent is the sum of order amounts, last activity after the last order", func(t *testing.T) {
			var sums []struct {
				UserID int     `json:"user_id"`
				Sum    float64 `json:"sum"`
			}
			if err := c.Order.Query().GroupBy(order.FieldUserID).Aggregate(ent.Sum(order.FieldAmount)).Scan(ctx, &sums); err != nil {
				t.Fatal(err)
			}
			bySQL := map[int]float64{}
			for _, s := range sums {
				bySQL[s.UserID] = s.Sum
			}
			lastOrder := map[int]time.Time{}
			for _, o := range c.Order.Query().AllX(ctx) {
				if o.CreatedAt.After(lastOrder[o.UserID]) {
					lastOrder[o.UserID] = o.CreatedAt
				}
			}
			users := c.User.Query().AllX(ctx)
			for _, u := range users {
				// The database adds floats; compare in cents.
				if cents(u.TotalSpent) != cents(bySQL[u.ID]) {
					t.Errorf("%s: total_spent %v, orders sum to %v", u.Username, u.TotalSpent, bySQL[u.ID])
				}
				if u.LastActiveAt == nil || u.LastActiveAt.Before(u.CreatedAt) || u.LastActiveAt.Before(lastOrder[u.ID]) {
					t.Errorf("%s: last active %v, signup %v, last order %v", u.Username, u.LastActiveAt, u.CreatedAt, lastOrder[u.ID])
				}
			}
			if len(bySQL) < len(users)/2 {
				t.Errorf("only %d of %d users have orders", len(bySQL), len(users))
			}
		})

		t.Run("users are skewed towards big cities", func(t *testing.T) {
			var perCity []struct {
				CityID int `json:"city_id"`
				Count  int `json:"count"`
			}
			if err := c.Address.Query().GroupBy(address.FieldCityID).Aggregate(ent.Count()).Scan(ctx, &perCity); err != nil {
				t.Fatal(err)
			}
			countryOf := map[int]int{}
			for _, x := range c.City.Query().AllX(ctx) {
				countryOf[x.ID] = x.CountryID
			}
			cityCounts := make([]int, sum.Cities) // cities without users count as 0
			perCountry := map[int]int{}
			for i, pc := range perCity {
				cityCounts[i] = pc.Count
				perCountry[countryOf[pc.CityID]] += pc.Count
			}
			countryCounts := make([]int, sum.Countries)
			i := 0
			for _, n := range perCountry {
				countryCounts[i] = n
				i++
			}
			for _, x := range []struct {
				what   string
				counts []int
			}{{"city", cityCounts}, {"country", countryCounts}} {
				slices.Sort(x.counts)
				top, median := x.counts[len(x.counts)-1], x.counts[len(x.counts)/2]
				t.Logf("users per %s: top %d, median %d", x.what, top, median)
				if top < 5*max(median, 1) {
					t.Errorf("top %s has %d users, median %s %d: want a strong skew", x.what, top, x.what, median)
				}
			}
		})

		t.Run("dormant share", func(t *testing.T) {
			dormant := c.User.Query().Where(user.LastActiveAtLT(testNow().Add(-dormantAfter))).CountX(ctx)
			s := float64(dormant) / testUsers
			t.Logf("%.2f of users dormant", s)
			if s < 0.15 || s > 0.35 {
				t.Errorf("%.2f of users dormant, want about %.2f", s, dormantShare)
			}
		})

		t.Run("latent tastes show in orders", func(t *testing.T) {
			category := map[int]string{}
			for _, p := range c.Product.Query().AllX(ctx) {
				category[p.ID] = p.Category
			}
			byUser := map[int]map[string]int{}
			for _, o := range c.Order.Query().AllX(ctx) {
				if byUser[o.UserID] == nil {
					byUser[o.UserID] = map[string]int{}
				}
				byUser[o.UserID][category[o.ProductID]]++
			}
			users, shareSum := 0, 0.0
			for _, cats := range byUser {
				n, top := 0, 0
				for _, k := range cats {
					n += k
					top = max(top, k)
				}
				if n >= 5 {
					users++
					shareSum += float64(top) / float64(n)
				}
			}
			numCategories := len(categories())
			if users < 20 {
				t.Fatalf("only %d users with 5+ orders", users)
			}
			// Without tastes (orders spread by the categories' global
			// shares), the top category of 5 orders would hold 37% of them,
			// of 10 orders 29%.
			avg := shareSum / float64(users)
			t.Logf("%d users with 5+ orders put %.2f of them in their top category", users, avg)
			if avg < 0.5 {
				t.Errorf("users with 5+ orders put %.2f of them in their top category; want well above 1/%d", avg, numCategories)
			}
		})

		t.Run("a second run is refused", func(t *testing.T) {
			_, err := Generate(ctx, c, Options{Users: 10, Seed: 2, Now: testNow()})
			if err == nil || !strings.Contains(err.Error(), "not empty") {
				t.Errorf("Generate on a seeded database: err = %v", err)
			}
			if n := c.User.Query().CountX(ctx); n != testUsers {
				t.Errorf("%d users after the refused run, want %d", n, testUsers)
			}
		})
	})
}

func cents(f float64) int64 { return int64(math.Round(f * 100)) }

// digest hashes the whole data set by natural keys (not IDs), in ID order.
func digest(t *testing.T, c *ent.Client) string {
	t.Helper()
	ctx := context.Background()
	h := sha256.New()
	ts := func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
	fl := func(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
	for _, x := range c.Country.Query().Order(ent.Asc("id")).AllX(ctx) {
		fmt.Fprintln(h, x.Code, x.Name, x.Continent)
	}
	for _, x := range c.City.Query().WithCountry().Order(ent.Asc("id")).AllX(ctx) {
		fmt.Fprintln(h, x.Name, x.Edges.Country.Code, fl(x.Latitude), fl(x.Longitude), x.Population)
	}
	for _, x := range c.Product.Query().Order(ent.Asc("id")).AllX(ctx) {
		fmt.Fprintln(h, x.Sku, x.Name, x.Category, fl(x.Price))
	}
	for _, x := range c.User.Query().WithAddress(func(q *ent.AddressQuery) { q.WithCity() }).Order(ent.Asc("id")).AllX(ctx) {
		fmt.Fprintln(h, x.Username, x.Email, ts(x.CreatedAt), ts(*x.LastActiveAt), fl(x.TotalSpent))
		if a := x.Edges.Address; a != nil {
			fmt.Fprintln(h, a.Street, a.PostalCode, a.Edges.City.Name)
		}
	}
	for _, x := range c.Order.Query().WithUser().WithProduct().Order(ent.Asc("id")).AllX(ctx) {
		fmt.Fprintln(h, x.Edges.User.Username, x.Edges.Product.Sku, x.Quantity, fl(x.Amount), ts(x.CreatedAt))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestGenerateDeterministic(t *testing.T) {
	var (
		mu      sync.Mutex
		digests = map[string]string{}
	)
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		opts := Options{Users: testUsers, Seed: 99, Now: testNow()}
		generate(t, db, opts)
		first := digest(t, db.Client)
		backend := "postgres"
		if db.Dialect == dialect.SQLite {
			backend = "sqlite"
		}
		other := testdb.Open(t, backend)
		generate(t, other, opts)
		if second := digest(t, other.Client); first != second {
			t.Fatalf("two runs with the same seed differ: %s vs %s", first, second)
		}
		third := testdb.Open(t, backend)
		opts.Seed = 100
		generate(t, third, opts)
		if digest(t, third.Client) == first {
			t.Fatal("a different seed gave the same data")
		}
		mu.Lock()
		digests[backend] = first
		mu.Unlock()
	})
	// Both backends store exactly what was generated.
	if len(digests) == 2 && digests["sqlite"] != digests["postgres"] {
		t.Errorf("SQLite and PostgreSQL hold different data: %v", digests)
	}
}

func TestGenerateProgress(t *testing.T) {
	db := testdb.Open(t, "sqlite")
	var buf bytes.Buffer
	sum := generate(t, db, Options{Users: 50, Seed: 3, Now: testNow(), Progress: &buf})
	out := buf.String()
	want := strconv.Itoa(sum.Users+sum.Orders) + "/" + strconv.Itoa(sum.Users+sum.Orders)
	if !strings.Contains(out, want) {
		t.Errorf("progress output %q does not show %s", out, want)
	}
}

func TestGenerateOptions(t *testing.T) {
	ctx := context.Background()
	db := testdb.Open(t, "sqlite")
	if _, err := Generate(ctx, db.Client, Options{Users: -1}); err == nil {
		t.Error("negative users accepted")
	}
	if _, err := Generate(ctx, db.Client, Options{GeoDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "countries.csv") {
		t.Errorf("GeoDir without files: err = %v", err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Generate(canceled, db.Client, Options{Users: 10}); err == nil {
		t.Error("canceled context accepted")
	}
	if empty, err := IsEmpty(ctx, db.Client); err != nil || !empty {
		t.Errorf("failed runs left data behind: IsEmpty = %v, %v", empty, err)
	}
}

// TestGenerateNaturalEarth seeds the full Natural Earth tables, with the
// default number of users and time.
func TestGenerateNaturalEarth(t *testing.T) {
	dir := sharedGeoDir(t)
	if dir == "" {
		t.Skip("Natural Earth tables (../shared/data/geo from the repository root): ../shared not present")
	}
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		sum := generate(t, db, Options{GeoDir: dir, Seed: 5})
		if sum.Countries != 250 || sum.Cities != 7342 || sum.Users != DefaultUsers {
			t.Errorf("summary %+v", sum)
		}
		kyiv := db.Client.City.Query().Where(city.Name("Kyiv")).OnlyX(context.Background())
		if kyiv.Latitude != 50.4353 || kyiv.Longitude != 30.5147 {
			t.Errorf("Kyiv stored at (%v, %v)", kyiv.Latitude, kyiv.Longitude)
		}
	})
}
