package analytics

import "time"

// Range is a half-open time interval [From, To); a zero bound is open.
type Range struct {
	From, To time.Time
}

// Contains reports whether t lies in r.
func (r Range) Contains(t time.Time) bool {
	return (r.From.IsZero() || !t.Before(r.From)) && (r.To.IsZero() || t.Before(r.To))
}

// Filter narrows the events a query reads. Zero values do not filter.
type Filter struct {
	Types   []string
	UserID  int
	Country string // ISO alpha-2 of Event.Geo
}

// TypeCount is one row of the event distribution.
type TypeCount struct {
	Type  string
	Count int64
}

// UserActivity is one user's activity within a range.
type UserActivity struct {
	UserID        int
	Events        int64
	DistinctTypes int
	LastSeen      time.Time
}

// ActivitySummary is a user's all-time activity (User.activity).
type ActivitySummary struct {
	Events        int64
	DistinctTypes int
	FirstSeen     time.Time
	LastSeen      time.Time
}

// GroupBy is how purchase analytics groups purchases.
type GroupBy string

// Purchase groupings.
const (
	ByCategory GroupBy = "CATEGORY"
	ByCountry  GroupBy = "COUNTRY"
	ByDay      GroupBy = "DAY"
	ByWeek     GroupBy = "WEEK"
	ByMonth    GroupBy = "MONTH"
)

// PurchaseGroup is one group of purchase analytics. Key is the category or
// country ("" for purchases without one), or the period start as RFC 3339
// for the time groupings (then Start is set too).
type PurchaseGroup struct {
	Key           string
	Start         *time.Time
	Revenue       float64
	Orders        int64
	UniqueBuyers  int64
	AvgOrderValue float64
}

// Period is the width of a retention period.
type Period string

// Retention periods.
const (
	Day   Period = "DAY"
	Week  Period = "WEEK"
	Month Period = "MONTH"
)

// UserPeriod says that a user had at least one matching event in the period
// starting at Start.
type UserPeriod struct {
	UserID int
	Start  time.Time
}

// UserEventsQuery pages through the events of many users at once, newest
// first: at most Limit per user, older than Before when it is set.
type UserEventsQuery struct {
	UserIDs []int
	Types   []string
	Before  *EventCursor
	Limit   int
}

// EventCursor is the position of an event in newest-first order.
type EventCursor struct {
	Timestamp time.Time
	ID        string
}
