package stats

import (
	"time"

	"github.com/meridian-graphql/meridian/ent"
)

// CountryStats aggregates a country's cities, users and their orders.
type CountryStats struct {
	CountryID     int `json:"-"`
	UserCount     int
	CityCount     int
	AvgTotalSpent float64
	TotalRevenue  float64
}

// CityStats aggregates a city's addresses, users and their orders.
type CityStats struct {
	CityID        int `json:"-"`
	UserCount     int
	AddressCount  int
	AvgTotalSpent float64
	TotalRevenue  float64
}

// UserStats are totals over all users.
type UserStats struct {
	Total      int
	Active     int
	TotalSpent float64
	AvgSpent   float64
}

// CountryUserCount is a country with its number of users.
type CountryUserCount struct {
	Country *ent.Country
	Users   int
}

// CityUserCount is a city with its number of users.
type CityUserCount struct {
	City  *ent.City
	Users int
}

// CountryShare is a country's count and share of the users with an address.
type CountryShare struct {
	Country *ent.Country
	Users   int
	Share   float64
}

// RankedUser is a user ranked by number of orders.
type RankedUser struct {
	Rank   int
	User   *ent.User
	Orders int
	Spent  float64
}

// HighValueUser is a user selected by spend.
type HighValueUser struct {
	User       *ent.User
	TotalSpent float64
	Percentile float64
}

// Period is the width of a registration cohort.
type Period string

// Cohort periods.
const (
	Week  Period = "WEEK"
	Month Period = "MONTH"
)

// RegistrationCohort is the users who signed up in one period.
type RegistrationCohort struct {
	Start    time.Time
	Signups  int
	Retained []int
	Revenue  float64
}
