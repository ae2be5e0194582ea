package stats

import (
	"context"
	"fmt"
	"strings"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/meridian-graphql/meridian/ent/address"
	"github.com/meridian-graphql/meridian/ent/city"
	"github.com/meridian-graphql/meridian/ent/country"
	"github.com/meridian-graphql/meridian/ent/order"
	"github.com/meridian-graphql/meridian/ent/user"
)

// The methods of this file return entities together with aggregates. They run
// as ent queries whose selector is extended (joins, GROUP BY, window
// functions, extra columns read back with Value): the statement is still one
// and goes through the counting driver, and the entities come out bound to
// the client, so that the GraphQL resolvers of their edges (country.cities,
// user.orders, …) work on them. Hand-filled structs would carry no client.

// Names of the extra columns.
const (
	colUsers      = "stat_users"
	colShare      = "stat_share"
	colOrders     = "stat_orders"
	colSpent      = "stat_spent"
	colRank       = "stat_rank"
	colPercentile = "stat_percentile"
)

// joinUsersOfCities joins addresses and users to a selector over cities
// (whose id column is cityID), so that there is one row per user.
func joinUsersOfCities(sel *sql.Selector, cityID string) {
	b := sql.Dialect(sel.Dialect())
	a := b.Table(address.Table).As("a")
	u := b.Table(user.Table).As("u")
	sel.Join(a).On(cityID, a.C(address.FieldCityID)).
		Join(u).On(a.C(address.FieldID), u.C(user.FieldAddressID))
}

// UsersByCountry returns the countries with users, with their number of users
// (through address → city → country), largest first, ties by code.
func (s *Stats) UsersByCountry(ctx context.Context, limit int) ([]*CountryUserCount, error) {
	limit, err := checkLimit(limit, defaultLimit)
	if err != nil {
		return nil, err
	}
	countries, err := s.db.Client.Country.Query().
		Limit(limit).
		Modify(func(sel *sql.Selector) {
			ci := sql.Dialect(sel.Dialect()).Table(city.Table).As("ci")
			sel.Join(ci).On(sel.C(country.FieldID), ci.C(city.FieldCountryID))
			joinUsersOfCities(sel, ci.C(city.FieldID))
			sel.GroupBy(sel.Columns(country.Columns...)...).
				AppendSelectExprAs(sql.Raw("COUNT(*)"), colUsers).
				OrderExpr(sql.Raw(colUsers + " DESC")).
				OrderBy(sel.C(country.FieldCode))
		}).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("users by country: %w", err)
	}
	out := make([]*CountryUserCount, len(countries))
	for i, c := range countries {
		n, err := intValue(c, colUsers)
		if err != nil {
			return nil, fmt.Errorf("users by country: %w", err)
		}
		out[i] = &CountryUserCount{Country: c, Users: n}
	}
	return out, nil
}

// UsersByCity returns the cities with users, with their number of users,
// largest first, ties by name then id. A non-empty countryCode (ISO alpha-2,
// any case) keeps the cities of that country only.
func (s *Stats) UsersByCity(ctx context.Context, countryCode string, limit int) ([]*CityUserCount, error) {
	limit, err := checkLimit(limit, defaultLimit)
	if err != nil {
		return nil, err
	}
	// Codes are stored upper case (the schema enforces it).
	countryCode = strings.ToUpper(strings.TrimSpace(countryCode))
	cities, err := s.db.Client.City.Query().
		Limit(limit).
		Modify(func(sel *sql.Selector) {
			if countryCode != "" {
				co := sql.Dialect(sel.Dialect()).Table(country.Table).As("co")
				sel.Join(co).On(sel.C(city.FieldCountryID), co.C(country.FieldID)).
					Where(sql.EQ(co.C(country.FieldCode), countryCode))
			}
			joinUsersOfCities(sel, sel.C(city.FieldID))
			sel.GroupBy(sel.Columns(city.Columns...)...).
				AppendSelectExprAs(sql.Raw("COUNT(*)"), colUsers).
				OrderExpr(sql.Raw(colUsers+" DESC")).
				OrderBy(sel.C(city.FieldName), sel.C(city.FieldID))
		}).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("users by city: %w", err)
	}
	out := make([]*CityUserCount, len(cities))
	for i, c := range cities {
		n, err := intValue(c, colUsers)
		if err != nil {
			return nil, fmt.Errorf("users by city: %w", err)
		}
		out[i] = &CityUserCount{City: c, Users: n}
	}
	return out, nil
}

// UserDistribution returns every country with users, its number of users and
// its share of all users with an address, largest first, ties by code.
func (s *Stats) UserDistribution(ctx context.Context) ([]*CountryShare, error) {
	// The total is a window over the grouped rows, so the shares come from
	// the same scan. Both sides are cast to double precision: SQLite would
	// divide integers, PostgreSQL's SUM of bigint is numeric.
	const share = "CAST(COUNT(*) AS DOUBLE PRECISION) / CAST(SUM(COUNT(*)) OVER () AS DOUBLE PRECISION)"
	countries, err := s.db.Client.Country.Query().
		Modify(func(sel *sql.Selector) {
			ci := sql.Dialect(sel.Dialect()).Table(city.Table).As("ci")
			sel.Join(ci).On(sel.C(country.FieldID), ci.C(city.FieldCountryID))
			joinUsersOfCities(sel, ci.C(city.FieldID))
			sel.GroupBy(sel.Columns(country.Columns...)...).
				AppendSelectExprAs(sql.Raw("COUNT(*)"), colUsers).
				AppendSelectExprAs(sql.Raw(share), colShare).
				OrderExpr(sql.Raw(colUsers + " DESC")).
				OrderBy(sel.C(country.FieldCode))
		}).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("user distribution: %w", err)
	}
	out := make([]*CountryShare, len(countries))
	for i, c := range countries {
		n, err := intValue(c, colUsers)
		if err != nil {
			return nil, fmt.Errorf("user distribution: %w", err)
		}
		sh, err := floatValue(c, colShare)
		if err != nil {
			return nil, fmt.Errorf("user distribution: %w", err)
		}
		out[i] = &CountryShare{Country: c, Users: n, Share: sh}
	}
	return out, nil
}

// UsersRankedByActivity ranks the users with orders by their number of orders
// (only those created at or after since, when given). Ties share a rank and
// the next rank skips (RANK, not DENSE_RANK); within a rank users come by id.
// Spent is the sum of the counted orders' amounts.
func (s *Stats) UsersRankedByActivity(ctx context.Context, limit int, since *time.Time) ([]*RankedUser, error) {
	limit, err := checkLimit(limit, defaultRankingLimit)
	if err != nil {
		return nil, err
	}
	users, err := s.db.Client.User.Query().
		Limit(limit).
		Modify(func(sel *sql.Selector) {
			// Orders are counted per user in a subquery (over the
			// orders(user_id, created_at) index) and joined to the users,
			// rather than grouping the wide user rows. The inner join drops
			// users without (counted) orders.
			b := sql.Dialect(sel.Dialect())
			o := b.Table(order.Table)
			activity := b.Select(o.C(order.FieldUserID)).
				AppendSelectExprAs(sql.Raw("COUNT(*)"), colOrders).
				AppendSelectExprAs(sql.Raw("SUM("+o.C(order.FieldAmount)+")"), colSpent).
				From(o).
				GroupBy(o.C(order.FieldUserID)).
				As("activity")
			if since != nil {
				activity.Where(sql.GTE(o.C(order.FieldCreatedAt), utcArg(*since)))
			}
			sel.Join(activity).On(sel.C(user.FieldID), activity.C(order.FieldUserID)).
				AppendSelectAs(activity.C(colOrders), colOrders).
				AppendSelectAs(activity.C(colSpent), colSpent).
				AppendSelectExprAs(sql.Raw("RANK() OVER (ORDER BY "+activity.C(colOrders)+" DESC)"), colRank).
				OrderExpr(sql.Raw(colRank)).
				OrderBy(sel.C(user.FieldID))
		}).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("users ranked by activity: %w", err)
	}
	out := make([]*RankedUser, len(users))
	for i, u := range users {
		r := &RankedUser{User: u}
		if r.Rank, err = intValue(u, colRank); err == nil {
			if r.Orders, err = intValue(u, colOrders); err == nil {
				r.Spent, err = floatValue(u, colSpent)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("users ranked by activity: %w", err)
		}
		out[i] = r
	}
	return out, nil
}

// HighValueUsers selects users by spend: total_spent at least minSpent, the
// top N, or a cumulative distribution of at least percentile (0.99 = the top
// 1%). Criteria combine; at least one is required. Percentile is computed
// over all users before filtering, so it does not depend on the criteria.
// Results come by total_spent descending, then id.
func (s *Stats) HighValueUsers(ctx context.Context, minSpent *float64, top *int, percentile *float64) ([]*HighValueUser, error) {
	if minSpent == nil && top == nil && percentile == nil {
		return nil, &InputError{Field: "minSpent", Msg: "at least one of minSpent, top or percentile is required"}
	}
	if minSpent != nil && (!finite(*minSpent) || *minSpent < 0) {
		return nil, &InputError{Field: "minSpent", Msg: "must be a finite number >= 0"}
	}
	if top != nil && (*top < 1 || *top > maxLimit) {
		return nil, &InputError{Field: "top", Msg: fmt.Sprintf("must be between 1 and %d, got %d", maxLimit, *top)}
	}
	if percentile != nil && !(*percentile > 0 && *percentile <= 1) {
		return nil, &InputError{Field: "percentile", Msg: "must be greater than 0 and at most 1"}
	}
	q := s.db.Client.User.Query()
	if top != nil {
		q.Limit(*top)
	}
	users, err := q.Modify(func(sel *sql.Selector) {
		b := sql.Dialect(sel.Dialect())
		// CUME_DIST is the share of users with total_spent ≤ the row's. It
		// is computed in a subquery over all users: in the outer query the
		// WHERE clause would run first and shrink its population.
		dist := b.Select(user.FieldID).
			AppendSelectExprAs(sql.Raw("CUME_DIST() OVER (ORDER BY "+b.Table(user.Table).C(user.FieldTotalSpent)+")"), colPercentile).
			From(b.Table(user.Table)).
			As("dist")
		sel.Join(dist).On(sel.C(user.FieldID), dist.C(user.FieldID)).
			AppendSelectAs(dist.C(colPercentile), colPercentile)
		if minSpent != nil {
			sel.Where(sql.GTE(sel.C(user.FieldTotalSpent), *minSpent))
		}
		if percentile != nil {
			sel.Where(sql.GTE(dist.C(colPercentile), *percentile))
		}
		sel.OrderBy(sql.Desc(sel.C(user.FieldTotalSpent)), sel.C(user.FieldID))
	}).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("high-value users: %w", err)
	}
	out := make([]*HighValueUser, len(users))
	for i, u := range users {
		p, err := floatValue(u, colPercentile)
		if err != nil {
			return nil, fmt.Errorf("high-value users: %w", err)
		}
		out[i] = &HighValueUser{User: u, TotalSpent: u.TotalSpent, Percentile: p}
	}
	return out, nil
}
