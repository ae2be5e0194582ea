package analytics

import (
	"context"
	"fmt"
	"time"
)

// RetentionType chooses the cohorts.
type RetentionType string

// Retention types, as PostHog names them.
const (
	// FirstTime: a user belongs to the cohort of the period of their first
	// matching event ever.
	FirstTime RetentionType = "FIRST_TIME"
	// Recurring: a user belongs to the cohort of every period they were
	// active in.
	Recurring RetentionType = "RECURRING"
)

// RetentionQuery asks for Intervals cohorts of width Period starting at
// From (rounded down to a period start), each followed for the periods up
// to the last one.
type RetentionQuery struct {
	Period    Period
	Intervals int
	Type      RetentionType
	From      time.Time
	Filter    Filter
}

// RetentionRow is one cohort: Values[k] is the number of its users active
// k periods after the cohort's own (Values[0] is the cohort size).
type RetentionRow struct {
	CohortStart time.Time
	CohortSize  int
	Values      []int
}

// MaxIntervals bounds a retention query.
const MaxIntervals = 52

// Retention computes retention rows from the store's (user, period) pairs:
// one round trip for the cohort window, plus one over all earlier history
// for first-time cohorts.
func Retention(ctx context.Context, s Store, q RetentionQuery) ([]RetentionRow, error) {
	if q.Intervals < 1 || q.Intervals > MaxIntervals {
		return nil, &FieldError{"intervals", fmt.Sprintf("must be between 1 and %d", MaxIntervals)}
	}
	start := PeriodStart(q.Period, q.From)
	end := AddPeriods(q.Period, start, q.Intervals)
	window, err := s.UserPeriods(ctx, q.Period, Range{From: start, To: end}, q.Filter)
	if err != nil {
		return nil, fmt.Errorf("retention periods: %w", err)
	}
	index := map[time.Time]int{}
	for k := range q.Intervals {
		index[AddPeriods(q.Period, start, k)] = k
	}
	active := make([]map[int]bool, q.Intervals)
	for k := range active {
		active[k] = map[int]bool{}
	}
	for _, up := range window {
		if k, ok := index[up.Start.UTC()]; ok {
			active[k][up.UserID] = true
		}
	}
	cohorts := active
	if q.Type == FirstTime {
		// A user's first period may lie before the window: read the history.
		before, err := s.UserPeriods(ctx, q.Period, Range{To: start}, q.Filter)
		if err != nil {
			return nil, fmt.Errorf("retention history: %w", err)
		}
		earlier := map[int]bool{}
		for _, up := range before {
			earlier[up.UserID] = true
		}
		cohorts = make([]map[int]bool, q.Intervals)
		seen := map[int]bool{}
		for k := range q.Intervals {
			cohorts[k] = map[int]bool{}
			for u := range active[k] {
				if !earlier[u] && !seen[u] {
					cohorts[k][u] = true
				}
			}
			for u := range cohorts[k] {
				seen[u] = true
			}
		}
	}
	rows := make([]RetentionRow, q.Intervals)
	for k := range q.Intervals {
		row := RetentionRow{CohortStart: AddPeriods(q.Period, start, k), CohortSize: len(cohorts[k])}
		for j := k; j < q.Intervals; j++ {
			n := 0
			for u := range cohorts[k] {
				if active[j][u] {
					n++
				}
			}
			row.Values = append(row.Values, n)
		}
		rows[k] = row
	}
	return rows, nil
}

// PeriodStart is the start of the period containing t (UTC; weeks start on
// Monday).
func PeriodStart(p Period, t time.Time) time.Time {
	d, w, m := Buckets(t)
	switch p {
	case Week:
		return w
	case Month:
		return m
	default:
		return d
	}
}

// AddPeriods moves a period start n periods on.
func AddPeriods(p Period, t time.Time, n int) time.Time {
	switch p {
	case Week:
		return t.AddDate(0, 0, 7*n)
	case Month:
		return t.AddDate(0, n, 0)
	default:
		return t.AddDate(0, 0, n)
	}
}
