// PurchaseAnalytics: purchases grouped by category, country or period, in
// one aggregation or, where the server lacks the accumulators (FerretDB),
// three with one accumulator each, merged in Go.

package mongostore

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/meridian-graphql/meridian/analytics"
)

// groupField is the stored field of a purchase grouping, and whether its
// values are period starts (dates) rather than strings.
func groupField(by analytics.GroupBy) (string, bool, error) {
	switch by {
	case analytics.ByCategory:
		return "category", false, nil
	case analytics.ByCountry:
		return "country", false, nil
	case analytics.ByDay:
		return "day", true, nil
	case analytics.ByWeek:
		return "week", true, nil
	case analytics.ByMonth:
		return "month", true, nil
	}
	return "", false, &analytics.FieldError{Field: "groupBy", Msg: fmt.Sprintf("unknown grouping %q", by)}
}

// purchaseRow is one group's totals, however they were computed.
type purchaseRow struct {
	key     bson.RawValue
	revenue float64
	orders  int64
	buyers  int64
}

// PurchaseAnalytics groups the purchases in r by category, country or
// period.
//
// Capable path: one aggregation, $group on (key, user) with revenue and
// order sums, then $group on key summing them and counting the users.
//
// Fallback path, three aggregations with one accumulator each: revenue per
// key ($sum of revenue), orders per key ($sum of 1), and unique buyers per
// key ($group on (key, user) then $group on key counting the pairs — the
// distinct count is done by the server, the result stays one row per
// key). They are merged by key in Go.
func (s *Store) PurchaseAnalytics(ctx context.Context, r analytics.Range, by analytics.GroupBy) ([]analytics.PurchaseGroup, error) {
	field, isTime, err := groupField(by)
	if err != nil {
		return nil, err
	}
	m := matchStage(match(r, analytics.Filter{Types: []string{"purchase"}}))
	key := "$" + field
	pair := bson.D{{Key: "k", Value: key}, {Key: "u", Value: "$user_id"}}
	rows := map[string]*purchaseRow{}
	row := func(k bson.RawValue) *purchaseRow {
		id := k.String()
		if rows[id] == nil {
			rows[id] = &purchaseRow{key: k}
		}
		return rows[id]
	}
	if s.capable {
		var res []struct {
			K bson.RawValue `bson:"_id"`
			R float64       `bson:"r"`
			O int64         `bson:"o"`
			B int64         `bson:"b"`
		}
		p := mongo.Pipeline{m,
			stage("$group", bson.D{{Key: "_id", Value: pair},
				{Key: "r", Value: bson.D{{Key: "$sum", Value: "$revenue"}}},
				{Key: "o", Value: bson.D{{Key: "$sum", Value: 1}}}}),
			stage("$group", bson.D{{Key: "_id", Value: "$_id.k"},
				{Key: "r", Value: bson.D{{Key: "$sum", Value: "$r"}}},
				{Key: "o", Value: bson.D{{Key: "$sum", Value: "$o"}}},
				{Key: "b", Value: bson.D{{Key: "$sum", Value: 1}}}}),
		}
		if err := s.aggregate(ctx, "purchase analytics", p, &res); err != nil {
			return nil, err
		}
		for _, x := range res {
			g := row(x.K)
			g.revenue, g.orders, g.buyers = x.R, x.O, x.B
		}
	} else {
		type sumRow struct {
			K bson.RawValue `bson:"_id"`
			N float64       `bson:"n"`
		}
		var revenue, orders, buyers []sumRow
		if err := s.aggregate(ctx, "purchase revenue", mongo.Pipeline{m, groupSum(key, "$revenue")}, &revenue); err != nil {
			return nil, err
		}
		if err := s.aggregate(ctx, "purchase orders", mongo.Pipeline{m, groupCount(key)}, &orders); err != nil {
			return nil, err
		}
		if err := s.aggregate(ctx, "purchase buyers", mongo.Pipeline{m, groupCount(pair), groupCount("$_id.k")}, &buyers); err != nil {
			return nil, err
		}
		for _, x := range revenue {
			row(x.K).revenue = x.N
		}
		for _, x := range orders {
			row(x.K).orders = int64(x.N)
		}
		for _, x := range buyers {
			row(x.K).buyers = int64(x.N)
		}
	}
	out := make([]analytics.PurchaseGroup, 0, len(rows))
	for _, x := range rows {
		g := analytics.PurchaseGroup{
			// Each revenue is rounded to cents at ingest; the float sum
			// is rounded back so that 0.1 + 0.2 reads 0.30 everywhere.
			Revenue:      math.Round(x.revenue*100) / 100,
			Orders:       x.orders,
			UniqueBuyers: x.buyers,
		}
		if isTime {
			t, ok := x.key.TimeOK()
			if !ok {
				return nil, fmt.Errorf("mongostore: purchase analytics: %s group key %v is not a date", field, x.key)
			}
			t = t.UTC()
			g.Start, g.Key = &t, t.Format(time.RFC3339)
		} else {
			g.Key, _ = x.key.StringValueOK() // "" for a null key
		}
		if g.Orders > 0 {
			g.AvgOrderValue = g.Revenue / float64(g.Orders)
		}
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b analytics.PurchaseGroup) int {
		if isTime {
			return a.Start.Compare(*b.Start)
		}
		if c := cmp.Compare(b.Revenue, a.Revenue); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
	return out, nil
}
