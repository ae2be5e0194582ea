package httpapi_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/internal/gqltest"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/platform/database"
)

func TestProfilesOverGraphQL(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		c := gqltest.NewAdmin(t, db)
		var p struct {
			UpsertProfile struct {
				Username, ExpertiseLevel string
				Interests                []string
				Metrics                  map[string]float64
			}
		}
		c.MustDo(`mutation { upsertProfile(input: {username: "olena", email: "Olena@Example.com", interests: ["Go", "ML", "go"],
			expertiseLevel: "advanced", metrics: {engagement_score: 0.8}}) { username expertiseLevel interests metrics } }`, nil, &p)
		if fmt.Sprint(p.UpsertProfile.Interests) != "[go ml]" || p.UpsertProfile.Metrics["engagement_score"] != 0.8 {
			t.Errorf("upsert = %+v", p.UpsertProfile)
		}
		c.MustDo(`mutation { addInterest(username: "olena", interest: "Rust") { interests } }`, nil, nil)
		var m struct {
			UpdateMetrics struct{ Metrics map[string]float64 }
		}
		c.MustDo(`mutation { updateMetrics(username: "olena", metrics: {sessions: 12}) { metrics } }`, nil, &m)
		if m.UpdateMetrics.Metrics["sessions"] != 12 || m.UpdateMetrics.Metrics["engagement_score"] != 0.8 {
			t.Errorf("metrics = %v", m.UpdateMetrics.Metrics)
		}
		var q struct {
			UsersByInterest []struct{ Username string }
			Profile         *struct{ Email string }
			Nobody          *struct{ Email string } `json:"nobody"`
		}
		c.MustDo(`{ usersByInterest(interest: "RUST") { username } profile(username: "olena") { email } nobody: profile(username: "nobody") { email } }`, nil, &q)
		if len(q.UsersByInterest) != 1 || q.Profile == nil || q.Profile.Email != "olena@example.com" || q.Nobody != nil {
			t.Errorf("queries = %+v", q)
		}
		for query, want := range map[string]string{
			`mutation { addInterest(username: "nobody", interest: "go") { username } }`:                   "NOT_FOUND",
			`mutation { updateMetrics(username: "olena", metrics: {score: "high"}) { username } }`:        "BAD_USER_INPUT",
			`mutation { upsertProfile(input: {username: "x y"}) { username } }`:                           "BAD_USER_INPUT",
			`mutation { upsertProfile(input: {username: "olena", expertiseLevel: "guru"}) { username } }`: "BAD_USER_INPUT",
			`mutation { upsertProfile(input: {username: "olena", email: "nope"}) { username } }`:          "BAD_USER_INPUT",
			`{ usersByInterest(interest: "go", limit: 0) { username } }`:                                  "BAD_USER_INPUT",
		} {
			if e := c.ErrorCode(query, nil); e.Code() != want {
				t.Errorf("%s → %s (%s), want %s", query, e.Code(), e.Message, want)
			}
		}
	})
}

func TestEventQueriesOverGraphQL(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		c := gqltest.NewAdmin(t, db)
		// Monday 10:00 two weeks ago: all of a week's events stay in it.
		_, monday, _ := analytics.Buckets(time.Now().UTC().AddDate(0, 0, -14))
		week := monday.Add(10 * time.Hour)
		items := []map[string]any{
			{"userId": 1, "type": "purchase", "timestamp": week.Format(time.RFC3339), "metadata": map[string]any{"price": 10, "quantity": 2, "category": "books"}, "geo": map[string]any{"country": "FR", "city": "Paris", "lon": 2.35, "lat": 48.86}},
			{"userId": 2, "type": "purchase", "timestamp": week.Add(time.Hour).Format(time.RFC3339), "metadata": map[string]any{"price": 5, "category": "music"}, "geo": map[string]any{"country": "GB", "city": "London", "lon": -0.13, "lat": 51.51}},
			{"userId": 1, "type": "page_view", "timestamp": week.AddDate(0, 0, 7).Format(time.RFC3339)},
		}
		c.MustDo(gqltest.TrackEvents, map[string]any{"in": items}, nil)
		var d struct {
			PurchaseAnalytics []struct {
				Key                  string
				Revenue              float64
				Orders, UniqueBuyers int
				AvgOrderValue        float64
			}
			Retention []struct {
				CohortSize int
				Values     []int
			}
			EventsNear []struct {
				DistanceKm float64
				Event      struct{ Geo struct{ City string } }
			}
			UserActivity []struct {
				UserID string
				Events int
			}
		}
		c.MustDo(`query($from: Time!) {
			purchaseAnalytics(groupBy: CATEGORY) { key revenue orders uniqueBuyers avgOrderValue }
			retention(period: WEEK, intervals: 2, type: RECURRING, from: $from) { cohortSize values }
			eventsNear(lon: 2.35, lat: 48.86, radiusKm: 400, limit: 5) { distanceKm event { geo { city } } }
			userActivity(limit: 1) { userId events }
		}`, map[string]any{"from": week.Format(time.RFC3339)}, &d)
		if len(d.PurchaseAnalytics) != 2 || d.PurchaseAnalytics[0].Key != "books" || d.PurchaseAnalytics[0].Revenue != 20 || d.PurchaseAnalytics[0].AvgOrderValue != 20 {
			t.Errorf("purchases = %+v", d.PurchaseAnalytics)
		}
		if len(d.Retention) != 2 || d.Retention[0].CohortSize != 2 || fmt.Sprint(d.Retention[0].Values) != "[2 1]" {
			t.Errorf("retention = %+v", d.Retention)
		}
		if len(d.EventsNear) != 2 || d.EventsNear[0].Event.Geo.City != "Paris" || d.EventsNear[1].DistanceKm < 330 || d.EventsNear[1].DistanceKm > 350 {
			t.Errorf("near = %+v", d.EventsNear)
		}
		if len(d.UserActivity) != 1 || d.UserActivity[0].UserID != "1" || d.UserActivity[0].Events != 2 {
			t.Errorf("activity = %+v", d.UserActivity)
		}
		for q, want := range map[string]string{
			`{ eventsNear(lon: 0, lat: 0, radiusKm: 5000) { distanceKm } }`:                            "BAD_USER_INPUT",
			`{ eventsNear(lon: 190, lat: 0, radiusKm: 5) { distanceKm } }`:                             "BAD_USER_INPUT",
			`{ retention(period: DAY, intervals: 0, from: "2026-01-01T00:00:00Z") { cohortSize } }`:    "BAD_USER_INPUT",
			`{ eventDistribution(from: "2026-02-01T00:00:00Z", to: "2026-01-01T00:00:00Z") { type } }`: "BAD_USER_INPUT",
			`{ userActivity(limit: 5000) { events } }`:                                                 "BAD_USER_INPUT",
		} {
			if e := c.ErrorCode(q, nil); e.Code() != want {
				t.Errorf("%s → %s (%s), want %s", q, e.Code(), e.Message, want)
			}
		}
	})
}
