// Package storetest is the contract suite of analytics.Store: every backend
// runs it (SQLite and PostgreSQL always, MongoDB through FerretDB, and a real
// MongoDB when MONGODB_TEST_URI is set). The fixture is small and every
// expected number below is worked out by hand from it.
//
// Tested by the backends it checks: the contract_test.go of
// analytics/sqlstore and analytics/mongostore run it.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/meridian-graphql/meridian/analytics"
)

// Run runs the contract against fresh stores from open.
func Run(t *testing.T, open func(t *testing.T) analytics.Store) {
	ctx := context.Background()
	loaded := func(t *testing.T) analytics.Store {
		s := open(t)
		n, err := s.Insert(ctx, prepare(t, fixture()))
		if err != nil || n != 13 {
			t.Fatalf("Insert(fixture) = %d, %v; want 13", n, err)
		}
		return s
	}
	march := analytics.Range{From: at("2026-03-01 00:00"), To: at("2026-03-16 00:00")}

	t.Run("InsertDedupes", func(t *testing.T) {
		s := loaded(t)
		n, err := s.Insert(ctx, prepare(t, fixture()))
		if err != nil || n != 0 {
			t.Fatalf("re-inserting the fixture = %d, %v; want 0", n, err)
		}
		more := prepare(t, []in{
			{"e01", "click", 9, "2026-03-01 00:00", nil, nil}, // same id, other content: skipped
			{"n01", "click", 9, "2026-03-01 00:00", nil, nil},
		})
		if n, err := s.Insert(ctx, more); err != nil || n != 1 {
			t.Fatalf("Insert(dup + new) = %d, %v; want 1", n, err)
		}
		if n, err := s.Insert(ctx, nil); err != nil || n != 0 {
			t.Fatalf("Insert(nil) = %d, %v", n, err)
		}
		got := export(t, s, analytics.Range{}, analytics.Filter{})
		if len(got) != 14 {
			t.Fatalf("stored %d events, want 14", len(got))
		}
		for _, e := range got {
			if e.ID == "e01" && (e.Type != "page_view" || e.UserID != 1) {
				t.Errorf("e01 was overwritten by its duplicate: %+v", e)
			}
		}
	})

	t.Run("EventDistribution", func(t *testing.T) {
		s := loaded(t)
		for _, tc := range []struct {
			name string
			r    analytics.Range
			f    analytics.Filter
			want string
		}{
			{"march", march, analytics.Filter{}, "page_view:4 purchase:4 click:2 login:1"},
			{"all time", analytics.Range{}, analytics.Filter{}, "page_view:4 purchase:4 click:3 login:1 search:1"},
			{"ukraine", march, analytics.Filter{Country: "UA"}, "page_view:3 purchase:2 click:1"},
			{"user 1 purchases", march, analytics.Filter{UserID: 1, Types: []string{"purchase"}}, "purchase:2"},
			{"partial days", analytics.Range{From: at("2026-03-02 10:30"), To: at("2026-03-03 10:00")}, analytics.Filter{}, "click:1 purchase:1"},
			{"open start", analytics.Range{To: at("2026-03-02 00:00")}, analytics.Filter{}, "click:1 search:1"},
			{"open end", analytics.Range{From: at("2026-03-14 10:00")}, analytics.Filter{}, "click:1 page_view:1 purchase:1"},
			{"empty", analytics.Range{From: at("2025-01-01 00:00"), To: at("2025-02-01 00:00")}, analytics.Filter{}, ""},
		} {
			got, err := s.EventDistribution(ctx, tc.r, tc.f)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			var parts []string
			for _, c := range got {
				parts = append(parts, fmt.Sprintf("%s:%d", c.Type, c.Count))
			}
			if g := strings.Join(parts, " "); g != tc.want {
				t.Errorf("%s: distribution = %q, want %q", tc.name, g, tc.want)
			}
		}
	})

	t.Run("UserActivity", func(t *testing.T) {
		s := loaded(t)
		got, err := s.UserActivity(ctx, march, analytics.Filter{}, 3)
		if err != nil {
			t.Fatal(err)
		}
		want := []analytics.UserActivity{
			{UserID: 1, Events: 6, DistinctTypes: 4, LastSeen: at("2026-03-14 10:00")},
			{UserID: 2, Events: 2, DistinctTypes: 2, LastSeen: at("2026-03-09 08:00")},
			{UserID: 3, Events: 2, DistinctTypes: 2, LastSeen: at("2026-03-10 10:00")},
		}
		if !equalActivity(got, want) {
			t.Errorf("UserActivity = %+v, want %+v", got, want)
		}
		got, err = s.UserActivity(ctx, march, analytics.Filter{Types: []string{"page_view"}}, 10)
		if err != nil {
			t.Fatal(err)
		}
		want = []analytics.UserActivity{
			{UserID: 1, Events: 1, DistinctTypes: 1, LastSeen: at("2026-03-02 10:00")},
			{UserID: 2, Events: 1, DistinctTypes: 1, LastSeen: at("2026-03-03 12:00")},
			{UserID: 3, Events: 1, DistinctTypes: 1, LastSeen: at("2026-03-09 09:00")},
			{UserID: 5, Events: 1, DistinctTypes: 1, LastSeen: at("2026-03-14 10:00")},
		}
		if !equalActivity(got, want) {
			t.Errorf("UserActivity(page_view) = %+v, want %+v", got, want)
		}
	})

	t.Run("PurchaseAnalytics", func(t *testing.T) {
		s := loaded(t)
		for _, tc := range []struct {
			by   analytics.GroupBy
			want string
		}{
			{analytics.ByCategory, "books:39.75/3/2/13.25 music:5.00/1/1/5.00"},
			{analytics.ByCountry, "UA:25.00/2/2/12.50 :12.25/1/1/12.25 FR:7.50/1/1/7.50"},
			{analytics.ByWeek, "2026-03-02:20.00/1/1/20.00 2026-03-09:24.75/3/3/8.25"},
			{analytics.ByDay, "2026-03-03:20.00/1/1/20.00 2026-03-09:5.00/1/1/5.00 2026-03-10:7.50/1/1/7.50 2026-03-14:12.25/1/1/12.25"},
			{analytics.ByMonth, "2026-03-01:44.75/4/3/11.19"},
		} {
			got, err := s.PurchaseAnalytics(ctx, march, tc.by)
			if err != nil {
				t.Fatalf("%s: %v", tc.by, err)
			}
			var parts []string
			for _, g := range got {
				key := g.Key
				if g.Start != nil {
					key = g.Start.UTC().Format("2006-01-02")
				}
				parts = append(parts, fmt.Sprintf("%s:%.2f/%d/%d/%.2f", key, g.Revenue, g.Orders, g.UniqueBuyers, g.AvgOrderValue))
			}
			if g := strings.Join(parts, " "); g != tc.want {
				t.Errorf("%s: %q, want %q", tc.by, g, tc.want)
			}
		}
		if got, err := s.PurchaseAnalytics(ctx, analytics.Range{From: at("2025-01-01 00:00"), To: at("2025-02-01 00:00")}, analytics.ByCategory); err != nil || len(got) != 0 {
			t.Errorf("empty range = %+v, %v", got, err)
		}
	})

	t.Run("UserPeriodsAndRetention", func(t *testing.T) {
		s := loaded(t)
		got, err := s.UserPeriods(ctx, analytics.Week, analytics.Range{}, analytics.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		var pairs []string
		for _, p := range got {
			pairs = append(pairs, fmt.Sprintf("%d@%s", p.UserID, p.Start.UTC().Format("01-02")))
		}
		sort.Strings(pairs)
		want := "1@03-02 1@03-09 2@02-23 2@03-02 2@03-09 3@03-09 4@02-16 5@03-09"
		if g := strings.Join(pairs, " "); g != want {
			t.Errorf("UserPeriods(WEEK) = %q, want %q", g, want)
		}
		first, err := analytics.Retention(ctx, s, analytics.RetentionQuery{Period: analytics.Week, Intervals: 2, Type: analytics.FirstTime, From: at("2026-03-04 00:00")})
		if err != nil {
			t.Fatal(err)
		}
		if g := retentionString(first); g != "03-02:1[1 1] 03-09:2[2]" {
			t.Errorf("first-time retention = %s", g)
		}
		rec, err := analytics.Retention(ctx, s, analytics.RetentionQuery{Period: analytics.Week, Intervals: 2, Type: analytics.Recurring, From: at("2026-03-02 00:00")})
		if err != nil {
			t.Fatal(err)
		}
		if g := retentionString(rec); g != "03-02:2[2 2] 03-09:4[4]" {
			t.Errorf("recurring retention = %s", g)
		}
		days, err := analytics.Retention(ctx, s, analytics.RetentionQuery{Period: analytics.Day, Intervals: 2, Type: analytics.Recurring, From: at("2026-03-02 00:00"), Filter: analytics.Filter{Country: "UA"}})
		if err != nil {
			t.Fatal(err)
		}
		if g := retentionString(days); g != "03-02:1[1 1] 03-03:2[2]" {
			t.Errorf("daily UA retention = %s", g)
		}
	})

	t.Run("EventsNear", func(t *testing.T) {
		s := loaded(t)
		near, err := analytics.EventsNear(ctx, s, analytics.NearQuery{Lat: 50.4501, Lon: 30.5234, RadiusKm: 10, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if g := nearIDs(near); g != "e01 e02 e03 e11" {
			t.Errorf("within 10 km of Kyiv: %s", g)
		}
		if near[3].DistanceKm < 1 || near[3].DistanceKm > 2 {
			t.Errorf("e11 is %.3f km away, want about 1.3", near[3].DistanceKm)
		}
		near, err = analytics.EventsNear(ctx, s, analytics.NearQuery{Lat: 50.4501, Lon: 30.5234, RadiusKm: 500, Limit: 5, Range: march})
		if err != nil {
			t.Fatal(err)
		}
		// Lviv is 468 km away; its February click is outside the range.
		if g := nearIDs(near); g != "e01 e02 e03 e11 e04" {
			t.Errorf("within 500 km of Kyiv in March, first 5: %s", g)
		}
		near, err = analytics.EventsNear(ctx, s, analytics.NearQuery{Lat: 48.8566, Lon: 2.3522, RadiusKm: 400, Limit: 10, Filter: analytics.Filter{Types: []string{"search"}}})
		if err != nil {
			t.Fatal(err)
		}
		if g := nearIDs(near); g != "e09" {
			t.Errorf("searches within 400 km of Paris: %s", g)
		}
	})

	t.Run("UserEvents", func(t *testing.T) {
		s := loaded(t)
		got, err := s.UserEvents(ctx, analytics.UserEventsQuery{UserIDs: []int{1, 2, 99}, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		if g := ids(got[1]) + " | " + ids(got[2]); g != "e13 e10 | e05 e04" {
			t.Errorf("first pages = %s", g)
		}
		if len(got[99]) != 0 {
			t.Errorf("user 99 has events %v", got[99])
		}
		// Continue user 1 after e10 (same timestamp as e13: the id breaks the tie).
		last := got[1][1]
		got, err = s.UserEvents(ctx, analytics.UserEventsQuery{UserIDs: []int{1}, Limit: 3, Before: &analytics.EventCursor{Timestamp: last.Timestamp, ID: last.ID}})
		if err != nil {
			t.Fatal(err)
		}
		if g := ids(got[1]); g != "e08 e03 e02" {
			t.Errorf("second page of user 1 = %s", g)
		}
		got, err = s.UserEvents(ctx, analytics.UserEventsQuery{UserIDs: []int{1, 3}, Limit: 10, Types: []string{"purchase"}})
		if err != nil {
			t.Fatal(err)
		}
		if g := ids(got[1]) + " | " + ids(got[3]); g != "e10 e03 | e07" {
			t.Errorf("purchases = %s", g)
		}
		// The events come back whole.
		e3 := got[1][1]
		want := prepare(t, fixture()[2:3])[0]
		if !sameEvent(e3, want) {
			t.Errorf("round trip:\n got %+v %+v\nwant %+v %+v", e3, e3.Geo, want, want.Geo)
		}
	})

	t.Run("ActivitySummaries", func(t *testing.T) {
		s := loaded(t)
		got, err := s.ActivitySummaries(ctx, []int{1, 4, 99})
		if err != nil {
			t.Fatal(err)
		}
		want := map[int]analytics.ActivitySummary{
			1: {Events: 6, DistinctTypes: 4, FirstSeen: at("2026-03-02 10:00"), LastSeen: at("2026-03-14 10:00")},
			4: {Events: 1, DistinctTypes: 1, FirstSeen: at("2026-02-20 10:00"), LastSeen: at("2026-02-20 10:00")},
		}
		if len(got) != 2 {
			t.Fatalf("summaries = %+v", got)
		}
		for u, w := range want {
			g := got[u]
			if g.Events != w.Events || g.DistinctTypes != w.DistinctTypes || !g.FirstSeen.Equal(w.FirstSeen) || !g.LastSeen.Equal(w.LastSeen) {
				t.Errorf("user %d: %+v, want %+v", u, g, w)
			}
		}
	})

	t.Run("ExportStreamsInOrder", func(t *testing.T) {
		s := loaded(t)
		got := export(t, s, march, analytics.Filter{})
		if g := ids(got); g != "e01 e02 e03 e04 e05 e06 e07 e08 e10 e11 e13" {
			t.Errorf("export order = %s", g)
		}
		got = export(t, s, analytics.Range{}, analytics.Filter{Types: []string{"click"}, UserID: 2})
		if g := ids(got); g != "e12" {
			t.Errorf("export of user 2's clicks = %s", g)
		}
		// fn's error stops the export and comes back.
		stop := errors.New("stop")
		n := 0
		err := s.Export(ctx, analytics.Range{}, analytics.Filter{}, func(*analytics.Event) error {
			n++
			if n == 3 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || n != 3 {
			t.Errorf("export after a failing callback: err %v after %d events", err, n)
		}
	})

	t.Run("DeleteBefore", func(t *testing.T) {
		s := loaded(t)
		n, err := s.DeleteBefore(ctx, at("2026-03-01 00:00"))
		if err != nil || n != 2 {
			t.Fatalf("DeleteBefore = %d, %v; want 2", n, err)
		}
		got, err := s.EventDistribution(ctx, analytics.Range{}, analytics.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, c := range got {
			parts = append(parts, fmt.Sprintf("%s:%d", c.Type, c.Count))
		}
		if g := strings.Join(parts, " "); g != "page_view:4 purchase:4 click:2 login:1" {
			t.Errorf("after DeleteBefore: %s", g)
		}
	})

	t.Run("Profiles", func(t *testing.T) {
		s := open(t)
		if p, err := s.Profile(ctx, "olena"); err != nil || p != nil {
			t.Fatalf("Profile(missing) = %+v, %v; want nil, nil", p, err)
		}
		email, level := "olena@example.com", "intermediate"
		in := analytics.ProfileInput{Username: "olena", Email: &email, Interests: []string{"go", "ml"}, ExpertiseLevel: &level,
			Metrics: map[string]float64{"engagement_score": 0.5}, Subscriptions: []string{"weekly"}}
		p, err := s.UpsertProfile(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if p.Username != "olena" || p.Email != email || !reflect.DeepEqual(p.Interests, []string{"go", "ml"}) || p.Metrics["engagement_score"] != 0.5 {
			t.Errorf("created profile = %+v", p)
		}
		expert := "expert"
		if p, err = s.UpsertProfile(ctx, analytics.ProfileInput{Username: "olena", ExpertiseLevel: &expert}); err != nil {
			t.Fatal(err)
		}
		if p.ExpertiseLevel != "expert" || p.Email != email || len(p.Interests) != 2 || !reflect.DeepEqual(p.Subscriptions, []string{"weekly"}) {
			t.Errorf("partial update lost fields: %+v", p)
		}
		if p, err = s.AddInterest(ctx, "olena", "rust"); err != nil || !reflect.DeepEqual(p.Interests, []string{"go", "ml", "rust"}) {
			t.Errorf("AddInterest = %+v, %v", p, err)
		}
		if p, err = s.AddInterest(ctx, "olena", "go"); err != nil || len(p.Interests) != 3 {
			t.Errorf("AddInterest(existing) = %+v, %v", p, err)
		}
		var nf *analytics.NotFoundError
		if _, err = s.AddInterest(ctx, "nobody", "go"); !errors.As(err, &nf) {
			t.Errorf("AddInterest(missing) = %v, want *NotFoundError", err)
		}
		if _, err = s.UpdateMetrics(ctx, "nobody", map[string]float64{"x": 1}); !errors.As(err, &nf) {
			t.Errorf("UpdateMetrics(missing) = %v, want *NotFoundError", err)
		}
		if p, err = s.UpdateMetrics(ctx, "olena", map[string]float64{"sessions": 3, "engagement_score": 0.75}); err != nil ||
			p.Metrics["sessions"] != 3 || p.Metrics["engagement_score"] != 0.75 || len(p.Metrics) != 2 {
			t.Errorf("UpdateMetrics = %+v, %v", p, err)
		}
		if _, err = s.UpsertProfile(ctx, analytics.ProfileInput{Username: "taras", Interests: []string{"go"}}); err != nil {
			t.Fatal(err)
		}
		if _, err = s.UpsertProfile(ctx, analytics.ProfileInput{Username: "andriy", Interests: []string{"ml"}}); err != nil {
			t.Fatal(err)
		}
		ps, err := s.UsersByInterest(ctx, "go", 10)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, p := range ps {
			names = append(names, p.Username)
		}
		if !slices.Equal(names, []string{"olena", "taras"}) {
			t.Errorf("UsersByInterest(go) = %v", names)
		}
		if ps, err = s.UsersByInterest(ctx, "go", 1); err != nil || len(ps) != 1 || ps[0].Username != "olena" {
			t.Errorf("UsersByInterest(go, 1) = %v, %v", ps, err)
		}
		if p, err = s.Profile(ctx, "olena"); err != nil || p == nil || p.ExpertiseLevel != "expert" {
			t.Errorf("Profile = %+v, %v", p, err)
		}
	})

	t.Run("StringsAtTheirLimits", func(t *testing.T) { testLimits(t, open) })

	t.Run("Ping", func(t *testing.T) {
		if err := open(t).Ping(ctx); err != nil {
			t.Error(err)
		}
	})
}
