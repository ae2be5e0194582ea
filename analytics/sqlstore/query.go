// The reports: EventDistribution, UserActivity, PurchaseAnalytics,
// UserPeriods and ActivitySummaries, and the WHERE-clause builder (conds)
// every read shares.

package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/meridian-graphql/meridian/analytics"
)

// conds collects the AND-ed conditions of a WHERE clause and their
// arguments.
type conds struct {
	where []string
	args  []any
}

func (c *conds) add(cond string, args ...any) {
	c.where = append(c.where, cond)
	c.args = append(c.args, args...)
}

// sql is " WHERE …", or "" without conditions.
func (c *conds) sql() string {
	if len(c.where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(c.where, " AND ")
}

// eventConds are the conditions of a range and a filter on events.
func (s *Store) eventConds(r analytics.Range, f analytics.Filter) *conds {
	c := &conds{}
	if !r.From.IsZero() {
		c.add("ts >= ?", s.boundArg(r.From))
	}
	if !r.To.IsZero() {
		c.add("ts < ?", s.boundArg(r.To))
	}
	typeConds(c, f)
	if f.UserID != 0 {
		c.add("user_id = ?", int64(f.UserID))
	}
	return c
}

// typeConds adds the type and country conditions of f, the ones that both
// events and the rollup can answer. Types are few (the policy's list): one
// placeholder each.
func typeConds(c *conds, f analytics.Filter) {
	if types := uniqueStrings(f.Types); len(types) > 0 {
		args := make([]any, len(types))
		for i, t := range types {
			args[i] = t
		}
		c.add("type IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(types)), ", ")+")", args...)
	}
	if country := strings.ToUpper(strings.TrimSpace(f.Country)); country != "" {
		c.add("country = ?", country)
	}
}

func uniqueStrings(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.Compact(out)
}

// EventDistribution counts events per type. The whole UTC days of the range
// are read from the daily rollup, the partial days at its edges from the
// events, in one UNION ALL statement; a filter on a user, which the rollup
// does not carry, reads the events throughout (through the user's index).
func (s *Store) EventDistribution(ctx context.Context, r analytics.Range, f analytics.Filter) ([]analytics.TypeCount, error) {
	var (
		parts []string
		args  []any
	)
	raw := func(rr analytics.Range) {
		c := s.eventConds(rr, f)
		parts = append(parts, "SELECT type, COUNT(*) AS n FROM events"+c.sql()+" GROUP BY type")
		args = append(args, c.args...)
	}
	lo, hi, whole := wholeDays(r)
	if f.UserID != 0 || !whole {
		raw(r)
	} else {
		c := &conds{}
		if !lo.IsZero() {
			c.add("day >= ?", s.dayArg(lo))
		}
		if !hi.IsZero() {
			c.add("day < ?", s.dayArg(hi))
		}
		typeConds(c, f)
		parts = append(parts, "SELECT type, SUM(count) AS n FROM event_counts_daily"+c.sql()+" GROUP BY type")
		args = append(args, c.args...)
		if !r.From.IsZero() && r.From.Before(lo) {
			raw(analytics.Range{From: r.From, To: lo})
		}
		if !r.To.IsZero() && hi.Before(r.To) {
			raw(analytics.Range{From: hi, To: r.To})
		}
	}
	rows, err := s.query(ctx, `SELECT type, CAST(SUM(n) AS BIGINT) FROM (`+strings.Join(parts, " UNION ALL ")+`) x GROUP BY type HAVING SUM(n) > 0`, args...)
	if err != nil {
		return nil, fmt.Errorf("event distribution: %w", err)
	}
	defer rows.Close()
	out := []analytics.TypeCount{}
	for rows.Next() {
		var tc analytics.TypeCount
		if err := rows.Scan(&tc.Type, &tc.Count); err != nil {
			return nil, fmt.Errorf("event distribution: %w", err)
		}
		out = append(out, tc)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("event distribution: %w", err)
	}
	// A handful of rows: sorted here, in byte order like every backend.
	slices.SortFunc(out, func(a, b analytics.TypeCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Type, b.Type))
	})
	return out, nil
}

// wholeDays splits r at UTC midnights: [lo, hi) are the whole days inside it
// (a zero bound is open, as in r), and whole is false when there is none.
func wholeDays(r analytics.Range) (lo, hi time.Time, whole bool) {
	if !r.From.IsZero() {
		lo = ceilDay(r.From)
	}
	if !r.To.IsZero() {
		hi, _, _ = analytics.Buckets(r.To)
	}
	return lo, hi, lo.IsZero() || hi.IsZero() || lo.Before(hi)
}

// ceilDay is the first UTC midnight at or after t.
func ceilDay(t time.Time) time.Time {
	d, _, _ := analytics.Buckets(t)
	if d.Before(t) {
		d = d.AddDate(0, 0, 1)
	}
	return d
}

// UserActivity ranks users by events in the range.
func (s *Store) UserActivity(ctx context.Context, r analytics.Range, f analytics.Filter, limit int) ([]analytics.UserActivity, error) {
	out := []analytics.UserActivity{}
	if limit <= 0 {
		return out, nil
	}
	c := s.eventConds(r, f)
	rows, err := s.query(ctx, `SELECT user_id, COUNT(*) AS n, COUNT(DISTINCT type), MAX(ts) FROM events`+c.sql()+
		` GROUP BY user_id ORDER BY n DESC, user_id LIMIT ?`, append(c.args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("user activity: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a analytics.UserActivity
		if err := rows.Scan(&a.UserID, &a.Events, &a.DistinctTypes, timeValue{&a.LastSeen}); err != nil {
			return nil, fmt.Errorf("user activity: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("user activity: %w", err)
	}
	return out, nil
}

// PurchaseAnalytics groups the purchases of the range by a precomputed
// column. Revenue is summed in integer cents, so it is exact.
func (s *Store) PurchaseAnalytics(ctx context.Context, r analytics.Range, by analytics.GroupBy) ([]analytics.PurchaseGroup, error) {
	col, timed := "", true
	switch by {
	case analytics.ByCategory:
		col, timed = "category", false
	case analytics.ByCountry:
		col, timed = "country", false
	case analytics.ByDay:
		col = "day"
	case analytics.ByWeek:
		col = "week"
	case analytics.ByMonth:
		col = "month"
	default:
		return nil, &analytics.FieldError{Field: "groupBy", Msg: fmt.Sprintf("unknown grouping %q", by)}
	}
	// The literal (not a bound value) lets both planners match the partial
	// index events_purchases.
	c := s.eventConds(r, analytics.Filter{})
	c.add("type = 'purchase'")
	rows, err := s.query(ctx, `SELECT `+col+`, CAST(SUM(revenue_cents) AS BIGINT), COUNT(*), COUNT(DISTINCT user_id) FROM events`+c.sql()+
		` GROUP BY `+col, c.args...)
	if err != nil {
		return nil, fmt.Errorf("purchase analytics by %s: %w", by, err)
	}
	defer rows.Close()
	out := []analytics.PurchaseGroup{}
	for rows.Next() {
		var (
			g     analytics.PurchaseGroup
			cents int64
			key   any = &g.Key
			start time.Time
		)
		if timed {
			key = timeValue{&start}
		}
		if err := rows.Scan(key, &cents, &g.Orders, &g.UniqueBuyers); err != nil {
			return nil, fmt.Errorf("purchase analytics by %s: %w", by, err)
		}
		if timed {
			g.Key, g.Start = start.Format(time.RFC3339), &start
		}
		g.Revenue = float64(cents) / 100
		if g.Orders > 0 {
			g.AvgOrderValue = g.Revenue / float64(g.Orders)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("purchase analytics by %s: %w", by, err)
	}
	// Few groups; sorted here so that ties order by byte, as on every backend.
	slices.SortFunc(out, func(a, b analytics.PurchaseGroup) int {
		if timed {
			return a.Start.Compare(*b.Start)
		}
		return cmp.Or(cmp.Compare(b.Revenue, a.Revenue), strings.Compare(a.Key, b.Key))
	})
	return out, nil
}

// periodCol is the precomputed bucket column of a period.
func periodCol(p analytics.Period) (string, error) {
	switch p {
	case analytics.Day:
		return "day", nil
	case analytics.Week:
		return "week", nil
	case analytics.Month:
		return "month", nil
	}
	return "", &analytics.FieldError{Field: "period", Msg: fmt.Sprintf("unknown period %q", p)}
}

// UserPeriods lists the distinct (user, period) pairs of matching events.
func (s *Store) UserPeriods(ctx context.Context, p analytics.Period, r analytics.Range, f analytics.Filter) ([]analytics.UserPeriod, error) {
	col, err := periodCol(p)
	if err != nil {
		return nil, err
	}
	c := s.eventConds(r, f)
	rows, err := s.query(ctx, `SELECT DISTINCT user_id, `+col+` FROM events`+c.sql()+` ORDER BY user_id, `+col, c.args...)
	if err != nil {
		return nil, fmt.Errorf("user periods: %w", err)
	}
	defer rows.Close()
	out := []analytics.UserPeriod{}
	for rows.Next() {
		var up analytics.UserPeriod
		if err := rows.Scan(&up.UserID, timeValue{&up.Start}); err != nil {
			return nil, fmt.Errorf("user periods: %w", err)
		}
		out = append(out, up)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("user periods: %w", err)
	}
	return out, nil
}

// ActivitySummaries aggregates the users' events in one GROUP BY.
func (s *Store) ActivitySummaries(ctx context.Context, userIDs []int) (map[int]analytics.ActivitySummary, error) {
	out := map[int]analytics.ActivitySummary{}
	users := uniqueIDs(userIDs)
	if len(users) == 0 {
		return out, nil
	}
	set, arg := s.userSet("user_id", users)
	rows, err := s.query(ctx, `SELECT user_id, COUNT(*), COUNT(DISTINCT type), MIN(ts), MAX(ts) FROM events WHERE `+set+` GROUP BY user_id`, arg)
	if err != nil {
		return nil, fmt.Errorf("activity summaries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			user int
			a    analytics.ActivitySummary
		)
		if err := rows.Scan(&user, &a.Events, &a.DistinctTypes, timeValue{&a.FirstSeen}, timeValue{&a.LastSeen}); err != nil {
			return nil, fmt.Errorf("activity summaries: %w", err)
		}
		out[user] = a
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("activity summaries: %w", err)
	}
	return out, nil
}
