package stats

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// RegistrationCohorts groups users by the UTC week (starting Monday) or month
// of their signup, ordered by period start. For each cohort: Signups,
// Revenue (the sum of its users' total_spent) and Retained, where Retained[k]
// (k = 0…periods-1) counts the users whose last_active_at is at or after the
// start of period k+1 after the cohort's start. from (inclusive) and to
// (exclusive) filter on created_at.
func (s *Stats) RegistrationCohorts(ctx context.Context, period Period, periods int, from, to *time.Time) ([]*RegistrationCohort, error) {
	if period != Week && period != Month {
		return nil, &InputError{Field: "period", Msg: fmt.Sprintf("must be %s or %s, got %q", Week, Month, period)}
	}
	if periods < 1 || periods > maxPeriods {
		return nil, &InputError{Field: "periods", Msg: fmt.Sprintf("must be between 1 and %d, got %d", maxPeriods, periods)}
	}
	if from != nil && to != nil && !from.Before(*to) {
		return nil, &InputError{Field: "from", Msg: "must be before to"}
	}

	// One column per retention period: the number of periods is bounded, so
	// the statement stays one GROUP BY scan of the cohort's users instead of
	// a join against a generated series (which SQLite lacks).
	var b strings.Builder
	b.WriteString("WITH cohort_users AS (\n\tSELECT ")
	b.WriteString(s.periodStart(period, "created_at"))
	b.WriteString(" AS period_start, last_active_at, total_spent\n\tFROM users\n\tWHERE 1 = 1")
	var args []any
	if from != nil {
		b.WriteString(" AND created_at >= ?")
		args = append(args, utcArg(*from))
	}
	if to != nil {
		b.WriteString(" AND created_at < ?")
		args = append(args, utcArg(*to))
	}
	b.WriteString("\n)\nSELECT period_start, COUNT(*), COALESCE(SUM(total_spent), 0)")
	for k := 1; k <= periods; k++ {
		fmt.Fprintf(&b, ",\n\tCOUNT(CASE WHEN %s THEN 1 END)", s.atOrAfterPeriod(period, "last_active_at", "period_start", k))
	}
	b.WriteString("\nFROM cohort_users\nGROUP BY period_start\nORDER BY period_start")

	rows, err := s.query(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("registration cohorts: %w", err)
	}
	defer rows.Close()
	out := []*RegistrationCohort{}
	for rows.Next() {
		var (
			start any
			c     = &RegistrationCohort{Retained: make([]int, periods)}
			dest  = make([]any, 0, 3+periods)
		)
		dest = append(dest, &start, &c.Signups, &c.Revenue)
		for k := range c.Retained {
			dest = append(dest, &c.Retained[k])
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("registration cohorts: scan: %w", err)
		}
		if c.Start, err = scanPeriodStart(start); err != nil {
			return nil, fmt.Errorf("registration cohorts: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("registration cohorts: %w", err)
	}
	return out, nil
}
