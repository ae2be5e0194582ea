package httpapi_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/meridian-graphql/meridian/internal/fixture"
	"github.com/meridian-graphql/meridian/internal/gqltest"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/platform/database"
)

// TestAnalyticsOverGraphQL checks the analytics fields end to end on the
// grid, whose numbers are known: 3 countries × 2 cities × 4 users, user k of
// a city has spent k+1 and placed one order of that amount.
func TestAnalyticsOverGraphQL(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		g, err := fixture.NewGrid(context.Background(), db.Client, 3, 2, 4)
		if err != nil {
			t.Fatal(err)
		}
		c := gqltest.NewAdmin(t, db)
		var d struct {
			UserStats struct {
				Total, Active        int
				TotalSpent, AvgSpent float64
			}
			UsersByCountry []struct {
				Country struct{ Code string }
				Users   int
			}
			UsersByCity []struct {
				City  struct{ Name string }
				Users int
			}
			UserDistribution []struct {
				Country struct{ Code string }
				Users   int
				Share   float64
			}
			UsersRankedByActivity []struct {
				Rank, Orders int
				Spent        float64
				User         struct{ Username string }
			}
			RegistrationCohorts []struct {
				Start    string
				Signups  int
				Retained []int
				Revenue  float64
			}
			HighValueUsers []struct {
				TotalSpent, Percentile float64
				User                   struct{ Username string }
			}
			Country struct {
				Stats struct {
					UserCount, CityCount        int
					AvgTotalSpent, TotalRevenue float64
				}
				Cities struct {
					Edges []struct {
						Node struct {
							Stats struct {
								UserCount, AddressCount int
								TotalRevenue            float64
							}
						}
					}
				}
			}
		}
		c.MustDo(`{
			userStats(activeWithinDays: 3650) { total active totalSpent avgSpent }
			usersByCountry(limit: 2) { country { code } users }
			usersByCity(countryCode: "ab", limit: 5) { city { name } users }
			userDistribution { country { code } users share }
			usersRankedByActivity(limit: 3) { rank orders spent user { username } }
			registrationCohorts(period: MONTH, periods: 2) { start signups retained revenue }
			highValueUsers(minSpent: 4) { totalSpent percentile user { username } }
			country(code: "AC") { stats { userCount cityCount avgTotalSpent totalRevenue }
				cities(first: 5) { edges { node { stats { userCount addressCount totalRevenue } } } } }
		}`, nil, &d)
		if d.UserStats.Total != 24 || d.UserStats.TotalSpent != 60 || d.UserStats.AvgSpent != 2.5 {
			t.Errorf("userStats = %+v, want 24 users spending 60, 2.5 on average", d.UserStats)
		}
		if len(d.UsersByCountry) != 2 || d.UsersByCountry[0].Users != 8 || d.UsersByCountry[0].Country.Code != "AA" {
			t.Errorf("usersByCountry = %+v", d.UsersByCountry)
		}
		if len(d.UsersByCity) != 2 || d.UsersByCity[0].Users != 4 || d.UsersByCity[0].City.Name != "C1-0" {
			t.Errorf("usersByCity(AB) = %+v", d.UsersByCity)
		}
		var share float64
		for _, s := range d.UserDistribution {
			share += s.Share
		}
		if len(d.UserDistribution) != 3 || share < 0.999 || share > 1.001 {
			t.Errorf("userDistribution = %+v (shares sum to %v)", d.UserDistribution, share)
		}
		// Everyone has one order: all tie at rank 1.
		if len(d.UsersRankedByActivity) != 3 || d.UsersRankedByActivity[0].Rank != 1 || d.UsersRankedByActivity[2].Rank != 1 {
			t.Errorf("ranking = %+v", d.UsersRankedByActivity)
		}
		// 24 hourly signups from 2025-01-01: one January cohort.
		if len(d.RegistrationCohorts) != 1 || d.RegistrationCohorts[0].Signups != 24 || len(d.RegistrationCohorts[0].Retained) != 2 ||
			d.RegistrationCohorts[0].Start[:10] != "2025-01-01" || d.RegistrationCohorts[0].Revenue != 60 {
			t.Errorf("cohorts = %+v", d.RegistrationCohorts)
		}
		// total_spent 4 is the top quarter: 6 users.
		if len(d.HighValueUsers) != 6 || d.HighValueUsers[0].TotalSpent != 4 || d.HighValueUsers[0].Percentile != 1 {
			t.Errorf("highValueUsers = %+v", d.HighValueUsers)
		}
		st := d.Country.Stats
		if st.UserCount != 8 || st.CityCount != 2 || st.AvgTotalSpent != 2.5 || st.TotalRevenue != 20 {
			t.Errorf("AC stats = %+v", st)
		}
		for _, e := range d.Country.Cities.Edges {
			if s := e.Node.Stats; s.UserCount != 4 || s.AddressCount != 4 || s.TotalRevenue != 10 {
				t.Errorf("city stats = %+v", s)
			}
		}

		// node resolves any id to its type; nested filters reach through edges.
		var n struct {
			Node  map[string]any
			Nodes []map[string]any
			Users struct{ TotalCount int }
		}
		c.MustDo(fmt.Sprintf(`{ node(id: %d) { __typename ... on City { name } } nodes(ids: [%d, %d]) { __typename id }
			users(where: {totalSpentGTE: 3, hasAddressWith: {hasCityWith: {hasCountryWith: {code: "AB"}}}}) { totalCount } }`,
			g.Cities[1].ID, g.Countries[0].ID, g.Users[0].ID), nil, &n)
		if n.Node["__typename"] != "City" || n.Node["name"] != "C0-1" {
			t.Errorf("node = %v", n.Node)
		}
		if len(n.Nodes) != 2 || n.Nodes[0]["__typename"] != "Country" || n.Nodes[1]["__typename"] != "User" {
			t.Errorf("nodes = %v", n.Nodes)
		}
		if n.Users.TotalCount != 4 {
			t.Errorf("users in AB spending ≥ 3 = %d, want 4", n.Users.TotalCount)
		}
	})
}
