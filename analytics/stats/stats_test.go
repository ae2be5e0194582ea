package stats_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/analytics/stats"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/platform/database"
)

func TestStats(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		f := buildFixture(t, db)
		s := stats.New(db)
		t.Run("CountryStats", func(t *testing.T) { testCountryStats(t, s, f) })
		t.Run("CityStats", func(t *testing.T) { testCityStats(t, s, f) })
		t.Run("UserStats", func(t *testing.T) { testUserStats(t, s) })
		t.Run("UsersByCountry", func(t *testing.T) { testUsersByCountry(t, s, f) })
		t.Run("UsersByCity", func(t *testing.T) { testUsersByCity(t, s, f) })
		t.Run("UserDistribution", func(t *testing.T) { testUserDistribution(t, s, f) })
		t.Run("UsersRankedByActivity", func(t *testing.T) { testRanking(t, s, f) })
		t.Run("RegistrationCohorts", func(t *testing.T) { testCohorts(t, s) })
		t.Run("HighValueUsers", func(t *testing.T) { testHighValue(t, s, f) })
		t.Run("BadInput", func(t *testing.T) { testBadInput(t, s) })
	})
}

// TestEmptyDatabase checks that aggregates of nothing are zeros, not NULL
// scan errors or NaN.
func TestEmptyDatabase(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s := stats.New(db)
		ctx := context.Background()
		us, err := s.UserStats(ctx, time.Hour, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if *us != (stats.UserStats{}) {
			t.Errorf("UserStats = %+v, want zeros", *us)
		}
		dist, err := s.UserDistribution(ctx)
		if err != nil || len(dist) != 0 {
			t.Errorf("UserDistribution = %v, %v; want empty", dist, err)
		}
		cohorts, err := s.RegistrationCohorts(ctx, stats.Month, 3, nil, nil)
		if err != nil || cohorts == nil || len(cohorts) != 0 {
			t.Errorf("RegistrationCohorts = %v, %v; want empty", cohorts, err)
		}
		cs, err := s.CountryStats(ctx, nil)
		if err != nil || len(cs) != 0 {
			t.Errorf("CountryStats(nil) = %v, %v; want empty", cs, err)
		}
	})
}

func testCountryStats(t *testing.T, s *stats.Stats, f *fixture) {
	ids := []int{f.countries["FR"].ID, f.countries["DE"].ID, f.countries["JP"].ID,
		f.countries["BR"].ID, f.countries["IS"].ID, f.countries["FR"].ID, 987654321}
	ctx, check := counting(t)
	got, err := s.CountryStats(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	check(1)
	want := map[string]stats.CountryStats{
		// Paris: alice 60, bob 40, carol 0; Lyon: dave 100.
		"FR": {UserCount: 4, CityCount: 2, AvgTotalSpent: 50, TotalRevenue: 200},
		"DE": {UserCount: 1, CityCount: 1, AvgTotalSpent: 40, TotalRevenue: 40},
		"JP": {UserCount: 1, CityCount: 2, AvgTotalSpent: 200, TotalRevenue: 200},
		"BR": {UserCount: 0, CityCount: 1},
		"IS": {},
	}
	if len(got) != len(want) {
		t.Errorf("got %d countries, want %d (unknown id left out)", len(got), len(want))
	}
	for code, w := range want {
		id := f.countries[code].ID
		g := got[id]
		if g == nil {
			t.Errorf("%s missing", code)
			continue
		}
		w.CountryID = id
		if g.CountryID != w.CountryID || g.UserCount != w.UserCount || g.CityCount != w.CityCount ||
			!approx(g.AvgTotalSpent, w.AvgTotalSpent) || !approx(g.TotalRevenue, w.TotalRevenue) {
			t.Errorf("%s = %+v, want %+v", code, *g, w)
		}
	}

	// A batch far beyond SQLite's 32766 bound parameters is still one
	// statement: the ids travel as one argument.
	big := make([]int, 0, 40000)
	for i := range 40000 - len(ids) {
		big = append(big, -1-i)
	}
	big = append(big, ids...)
	ctx, check = counting(t)
	got, err = s.CountryStats(ctx, big)
	if err != nil {
		t.Fatal(err)
	}
	check(1)
	if len(got) != len(want) || got[f.countries["FR"].ID].UserCount != 4 {
		t.Errorf("big batch: got %d countries (FR %+v), want %d", len(got), got[f.countries["FR"].ID], len(want))
	}
}

func testCityStats(t *testing.T, s *stats.Stats, f *fixture) {
	var ids []int
	for _, c := range f.cities {
		ids = append(ids, c.ID)
	}
	ctx, check := counting(t)
	got, err := s.CityStats(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	check(1)
	want := map[string]stats.CityStats{
		"Paris":          {UserCount: 3, AddressCount: 2, AvgTotalSpent: 100.0 / 3, TotalRevenue: 100},
		"Lyon":           {UserCount: 1, AddressCount: 1, AvgTotalSpent: 100, TotalRevenue: 100},
		"Berlin":         {UserCount: 1, AddressCount: 1, AvgTotalSpent: 40, TotalRevenue: 40},
		"Tokyo":          {UserCount: 1, AddressCount: 1, AvgTotalSpent: 200, TotalRevenue: 200},
		"Osaka":          {},
		"Rio de Janeiro": {AddressCount: 1},
	}
	if len(got) != len(want) {
		t.Errorf("got %d cities, want %d", len(got), len(want))
	}
	for name, w := range want {
		id := f.cities[name].ID
		g := got[id]
		if g == nil {
			t.Errorf("%s missing", name)
			continue
		}
		w.CityID = id
		if g.CityID != w.CityID || g.UserCount != w.UserCount || g.AddressCount != w.AddressCount ||
			!approx(g.AvgTotalSpent, w.AvgTotalSpent) || !approx(g.TotalRevenue, w.TotalRevenue) {
			t.Errorf("%s = %+v, want %+v", name, *g, w)
		}
	}
}

func testUserStats(t *testing.T, s *stats.Stats) {
	now := day(3, 20, 12, 0, 0)
	const total, spent = 7, 60 + 40 + 0 + 100 + 40 + 200 + 7
	for _, tc := range []struct {
		name   string
		within time.Duration
		now    time.Time
		active int
	}{
		// Since Mar 13 12:00: alice (Mar 19), erin (Mar 18).
		{"week", 7 * 24 * time.Hour, now, 2},
		// Since Feb 19 12:00: also frank (Mar 1) and grace (Mar 11).
		{"30 days", 30 * 24 * time.Hour, now, 4},
		// Since exactly Mar 18 00:00, erin's last activity: inclusive.
		{"boundary", 60 * time.Hour, now, 2},
		{"just after boundary", 60*time.Hour - time.Minute, now, 1},
		// The same instant in another zone must give the same answer.
		{"zoned now", 7 * 24 * time.Hour, now.In(time.FixedZone("UTC+5", 5*3600)), 2},
		{"zero window", 0, now, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, check := counting(t)
			got, err := s.UserStats(ctx, tc.within, tc.now)
			if err != nil {
				t.Fatal(err)
			}
			check(1)
			if got.Total != total || got.Active != tc.active {
				t.Errorf("total, active = %d, %d; want %d, %d", got.Total, got.Active, total, tc.active)
			}
			checkFloat(t, "TotalSpent", got.TotalSpent, spent)
			checkFloat(t, "AvgSpent", got.AvgSpent, spent/7.0)
		})
	}
}

func testUsersByCountry(t *testing.T, s *stats.Stats, f *fixture) {
	for _, tc := range []struct {
		limit int
		want  []string
		users []int
	}{
		// DE and JP tie at 1 and come by code; BR and IS have no users.
		{0, []string{"FR", "DE", "JP"}, []int{4, 1, 1}},
		{2, []string{"FR", "DE"}, []int{4, 1}},
	} {
		ctx, check := counting(t)
		got, err := s.UsersByCountry(ctx, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		check(1)
		if len(got) != len(tc.want) {
			t.Fatalf("limit %d: got %d rows, want %d", tc.limit, len(got), len(tc.want))
		}
		for i, code := range tc.want {
			sameCountry(t, got[i].Country, f.countries[code])
			if got[i].Users != tc.users[i] {
				t.Errorf("limit %d: %s users = %d, want %d", tc.limit, code, got[i].Users, tc.users[i])
			}
		}
	}
	// The entities are bound to the client, so their edges resolve.
	got, err := s.UsersByCountry(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	n, err := got[0].Country.QueryCities().Count(context.Background())
	if err != nil || n != 2 {
		t.Errorf("FR cities through the returned entity = %d, %v; want 2", n, err)
	}
}

func testUsersByCity(t *testing.T, s *stats.Stats, f *fixture) {
	for _, tc := range []struct {
		code  string
		limit int
		want  []string
		users []int
	}{
		// Berlin, Lyon and Tokyo tie at 1 and come by name.
		{"", 0, []string{"Paris", "Berlin", "Lyon", "Tokyo"}, []int{3, 1, 1, 1}},
		{"", 2, []string{"Paris", "Berlin"}, []int{3, 1}},
		{"FR", 50, []string{"Paris", "Lyon"}, []int{3, 1}},
		{"fr", 50, []string{"Paris", "Lyon"}, []int{3, 1}},
		{"BR", 50, nil, nil},
		{"XX", 50, nil, nil},
	} {
		ctx, check := counting(t)
		got, err := s.UsersByCity(ctx, tc.code, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		check(1)
		if len(got) != len(tc.want) {
			t.Fatalf("%q limit %d: got %d rows, want %d", tc.code, tc.limit, len(got), len(tc.want))
		}
		for i, name := range tc.want {
			sameCity(t, got[i].City, f.cities[name])
			if got[i].Users != tc.users[i] {
				t.Errorf("%q: %s users = %d, want %d", tc.code, name, got[i].Users, tc.users[i])
			}
		}
	}
	got, err := s.UsersByCity(context.Background(), "", 1)
	if err != nil {
		t.Fatal(err)
	}
	co, err := got[0].City.QueryCountry().Only(context.Background())
	if err != nil || co.Code != "FR" {
		t.Errorf("Paris's country through the returned entity = %v, %v; want FR", co, err)
	}
}

func testUserDistribution(t *testing.T, s *stats.Stats, f *fixture) {
	ctx, check := counting(t)
	got, err := s.UserDistribution(ctx)
	if err != nil {
		t.Fatal(err)
	}
	check(1)
	// Six users have an address (grace has none).
	want := []struct {
		code  string
		users int
		share float64
	}{{"FR", 4, 4.0 / 6}, {"DE", 1, 1.0 / 6}, {"JP", 1, 1.0 / 6}}
	if len(got) != len(want) {
		t.Fatalf("got %d rows, want %d", len(got), len(want))
	}
	sum := 0.0
	for i, w := range want {
		sameCountry(t, got[i].Country, f.countries[w.code])
		if got[i].Users != w.users {
			t.Errorf("%s users = %d, want %d", w.code, got[i].Users, w.users)
		}
		checkFloat(t, w.code+" share", got[i].Share, w.share)
		sum += got[i].Share
	}
	checkFloat(t, "sum of shares", sum, 1)
}

func testRanking(t *testing.T, s *stats.Stats, f *fixture) {
	type row struct {
		rank   int
		user   string
		orders int
		spent  float64
	}
	since := day(3, 1, 0, 0, 0)
	for _, tc := range []struct {
		name  string
		limit int
		since *time.Time
		want  []row
	}{
		// alice and frank tie with 3 orders, bob and erin with 2, dave and
		// grace with 1; carol has none and is left out. Ranks skip after ties.
		{"all time", 0, nil, []row{
			{1, "u1", 3, 60}, {1, "u6", 3, 200}, {3, "u2", 2, 40}, {3, "u5", 2, 40}, {5, "u4", 1, 100}, {5, "u7", 1, 7},
		}},
		{"limit", 3, nil, []row{{1, "u1", 3, 60}, {1, "u6", 3, 200}, {3, "u2", 2, 40}}},
		// Since Mar 1 00:00 (frank's order at that instant counts): erin 2
		// (15+25), frank 2 (70+80), alice 1 (30), bob 1 (25), grace 1 (7);
		// dave's only order is older.
		{"since", 0, &since, []row{
			{1, "u5", 2, 40}, {1, "u6", 2, 150}, {3, "u1", 1, 30}, {3, "u2", 1, 25}, {3, "u7", 1, 7},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, check := counting(t)
			got, err := s.UsersRankedByActivity(ctx, tc.limit, tc.since)
			if err != nil {
				t.Fatal(err)
			}
			check(1)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d rows, want %d", len(got), len(tc.want))
			}
			for i, w := range tc.want {
				g := got[i]
				sameUser(t, g.User, f.users[w.user])
				if g.Rank != w.rank || g.Orders != w.orders || !approx(g.Spent, w.spent) {
					t.Errorf("row %d = rank %d, %d orders, spent %v; want %+v", i, g.Rank, g.Orders, g.Spent, w)
				}
			}
		})
	}
	got, err := s.UsersRankedByActivity(context.Background(), 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	n, err := got[0].User.QueryOrders().Count(context.Background())
	if err != nil || n != 3 {
		t.Errorf("alice's orders through the returned entity = %d, %v; want 3", n, err)
	}
}

func testCohorts(t *testing.T, s *stats.Stats) {
	type cohort struct {
		start    time.Time
		signups  int
		retained []int
		revenue  float64
	}
	from, to := day(1, 8, 0, 0, 0), day(2, 1, 0, 0, 0)
	for _, tc := range []struct {
		name     string
		period   stats.Period
		periods  int
		from, to *time.Time
		want     []cohort
	}{
		{"weeks", stats.Week, 3, nil, nil, []cohort{
			// alice (Mon) and bob (Sun): week of Jan 1. Retained from Jan 8
			// (bob's last activity, inclusive), Jan 15, Jan 22.
			{day(1, 1, 0, 0, 0), 2, []int{2, 1, 1}, 100},
			// carol, created at Monday midnight, never active.
			{day(1, 8, 0, 0, 0), 1, []int{0, 0, 0}, 0},
			// dave (Wed Jan 31) and erin (Thu Feb 1): the week spans the
			// months. dave's last activity (Feb 1) is before Feb 5.
			{day(1, 29, 0, 0, 0), 2, []int{1, 1, 1}, 140},
			// frank: active Mar 1, after Feb 19 and Feb 26, before Mar 4.
			{day(2, 12, 0, 0, 0), 1, []int{1, 1, 0}, 200},
			// grace, Sunday 23:59:59, belongs to the week of Monday Mar 4.
			{day(3, 4, 0, 0, 0), 1, []int{1, 0, 0}, 7},
		}},
		{"months", stats.Month, 2, nil, nil, []cohort{
			// Retained from Feb 1: alice, dave (exactly Feb 1); from Mar 1: alice.
			{day(1, 1, 0, 0, 0), 4, []int{2, 1}, 200},
			// From Mar 1: erin, frank (exactly Mar 1); from Apr 1: nobody.
			{day(2, 1, 0, 0, 0), 2, []int{2, 0}, 240},
			{day(3, 1, 0, 0, 0), 1, []int{0, 0}, 7},
		}},
		// [Jan 8, Feb 1): carol (at from) and dave; erin (at to) is out.
		{"range", stats.Week, 1, &from, &to, []cohort{
			{day(1, 8, 0, 0, 0), 1, []int{0}, 0},
			{day(1, 29, 0, 0, 0), 1, []int{0}, 100},
		}},
		{"from only", stats.Month, 1, &to, nil, []cohort{
			{day(2, 1, 0, 0, 0), 2, []int{2}, 240},
			{day(3, 1, 0, 0, 0), 1, []int{0}, 7},
		}},
		// Bounds given in another zone are the same instants.
		{"zoned bounds", stats.Week, 1, ptr(from.In(time.FixedZone("UTC-8", -8*3600))), ptr(to.In(time.FixedZone("UTC+9", 9*3600))), []cohort{
			{day(1, 8, 0, 0, 0), 1, []int{0}, 0},
			{day(1, 29, 0, 0, 0), 1, []int{0}, 100},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, check := counting(t)
			got, err := s.RegistrationCohorts(ctx, tc.period, tc.periods, tc.from, tc.to)
			if err != nil {
				t.Fatal(err)
			}
			check(1)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d cohorts, want %d: %+v", len(got), len(tc.want), got)
			}
			for i, w := range tc.want {
				g := got[i]
				if !g.Start.Equal(w.start) || g.Start.Location() != time.UTC {
					t.Errorf("cohort %d start = %v, want %v", i, g.Start, w.start)
				}
				if g.Signups != w.signups || !approx(g.Revenue, w.revenue) || !equalInts(g.Retained, w.retained) {
					t.Errorf("cohort %s = %d signups, retained %v, revenue %v; want %d, %v, %v",
						w.start.Format(time.DateOnly), g.Signups, g.Retained, g.Revenue, w.signups, w.retained, w.revenue)
				}
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func testHighValue(t *testing.T, s *stats.Stats, f *fixture) {
	// By spend: carol 0 (1/7), grace 7 (2/7), bob and erin 40 (both 4/7:
	// a tie shares the higher cumulative share), alice 60 (5/7), dave 100
	// (6/7), frank 200 (7/7).
	pct := map[string]float64{"u3": 1.0 / 7, "u7": 2.0 / 7, "u2": 4.0 / 7, "u5": 4.0 / 7, "u1": 5.0 / 7, "u4": 6.0 / 7, "u6": 1}
	for _, tc := range []struct {
		name       string
		minSpent   *float64
		top        *int
		percentile *float64
		want       []string
	}{
		{"minSpent inclusive", ptr(60.0), nil, nil, []string{"u6", "u4", "u1"}},
		{"minSpent ties by id", ptr(40.0), nil, nil, []string{"u6", "u4", "u1", "u2", "u5"}},
		{"minSpent 0 is everyone", ptr(0.0), nil, nil, []string{"u6", "u4", "u1", "u2", "u5", "u7", "u3"}},
		{"top", nil, ptr(2), nil, []string{"u6", "u4"}},
		{"percentile", nil, nil, ptr(0.7), []string{"u6", "u4", "u1"}},
		{"percentile inclusive", nil, nil, ptr(4.0 / 7), []string{"u6", "u4", "u1", "u2", "u5"}},
		{"percentile 1", nil, nil, ptr(1.0), []string{"u6"}},
		{"combined", ptr(50.0), ptr(2), ptr(0.5), []string{"u6", "u4"}},
		{"nothing matches", ptr(1000.0), nil, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, check := counting(t)
			got, err := s.HighValueUsers(ctx, tc.minSpent, tc.top, tc.percentile)
			if err != nil {
				t.Fatal(err)
			}
			check(1)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d users, want %d", len(got), len(tc.want))
			}
			for i, key := range tc.want {
				u := f.users[key]
				sameUser(t, got[i].User, u)
				checkFloat(t, key+" TotalSpent", got[i].TotalSpent, u.TotalSpent)
				checkFloat(t, key+" Percentile", got[i].Percentile, pct[key])
			}
		})
	}
}

func testBadInput(t *testing.T, s *stats.Stats) {
	from := day(2, 1, 0, 0, 0)
	for _, tc := range []struct {
		name  string
		field string
		call  func(ctx context.Context) error
	}{
		{"country limit negative", "limit", func(ctx context.Context) error { _, err := s.UsersByCountry(ctx, -1); return err }},
		{"country limit too large", "limit", func(ctx context.Context) error { _, err := s.UsersByCountry(ctx, 1001); return err }},
		{"city limit too large", "limit", func(ctx context.Context) error { _, err := s.UsersByCity(ctx, "FR", 1001); return err }},
		{"ranking limit negative", "limit", func(ctx context.Context) error { _, err := s.UsersRankedByActivity(ctx, -5, nil); return err }},
		{"active window negative", "activeWithinDays", func(ctx context.Context) error {
			_, err := s.UserStats(ctx, -time.Hour, time.Now())
			return err
		}},
		{"periods 0", "periods", func(ctx context.Context) error {
			_, err := s.RegistrationCohorts(ctx, stats.Week, 0, nil, nil)
			return err
		}},
		{"periods 53", "periods", func(ctx context.Context) error {
			_, err := s.RegistrationCohorts(ctx, stats.Month, 53, nil, nil)
			return err
		}},
		{"unknown period", "period", func(ctx context.Context) error {
			_, err := s.RegistrationCohorts(ctx, stats.Period("DAY"), 3, nil, nil)
			return err
		}},
		{"from equals to", "from", func(ctx context.Context) error {
			_, err := s.RegistrationCohorts(ctx, stats.Week, 3, &from, &from)
			return err
		}},
		{"from after to", "from", func(ctx context.Context) error {
			_, err := s.RegistrationCohorts(ctx, stats.Week, 3, ptr(from.Add(time.Second)), &from)
			return err
		}},
		{"no criterion", "minSpent", func(ctx context.Context) error { _, err := s.HighValueUsers(ctx, nil, nil, nil); return err }},
		{"minSpent negative", "minSpent", func(ctx context.Context) error { _, err := s.HighValueUsers(ctx, ptr(-1.0), nil, nil); return err }},
		{"minSpent NaN", "minSpent", func(ctx context.Context) error {
			_, err := s.HighValueUsers(ctx, ptr(math.NaN()), nil, nil)
			return err
		}},
		{"minSpent Inf", "minSpent", func(ctx context.Context) error {
			_, err := s.HighValueUsers(ctx, ptr(math.Inf(1)), nil, nil)
			return err
		}},
		{"top 0", "top", func(ctx context.Context) error { _, err := s.HighValueUsers(ctx, nil, ptr(0), nil); return err }},
		{"top too large", "top", func(ctx context.Context) error { _, err := s.HighValueUsers(ctx, nil, ptr(1001), nil); return err }},
		{"percentile 0", "percentile", func(ctx context.Context) error { _, err := s.HighValueUsers(ctx, nil, nil, ptr(0.0)); return err }},
		{"percentile above 1", "percentile", func(ctx context.Context) error { _, err := s.HighValueUsers(ctx, nil, nil, ptr(1.5)); return err }},
		{"percentile NaN", "percentile", func(ctx context.Context) error {
			_, err := s.HighValueUsers(ctx, nil, nil, ptr(math.NaN()))
			return err
		}},
		{"valid minSpent, bad top", "top", func(ctx context.Context) error { _, err := s.HighValueUsers(ctx, ptr(10.0), ptr(-1), nil); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, check := counting(t)
			err := tc.call(ctx)
			var ie *stats.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error = %v, want *stats.InputError", err)
			}
			if ie.Field != tc.field {
				t.Errorf("field = %q, want %q (%v)", ie.Field, tc.field, ie)
			}
			// Rejected before reaching the database.
			check(0)
		})
	}
}
