// Per-user activity: UserActivity (the ranking) and ActivitySummaries, and
// the fallback path's helpers that find exact first and last timestamps
// with $group counts and finds only.

package mongostore

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/meridian-graphql/meridian/analytics"
)

// UserActivity ranks the users of the matching events.
//
// Capable path: one aggregation, $group by user with the count, $addToSet
// of types and $max of ts, sorted and limited by the server.
//
// Fallback path, four round trips, each bounded by the limit, not by the
// number of events:
//  1. $group by user counting, $sort (count desc, user asc), $limit: the
//     ranking, done by the server.
//  2. for those users, $group on (user, type, month) counting: distinct
//     types, and each user's last active month.
//  3. for each user's last month, $group on (user, day): the last day.
//  4. find (projection user_id, ts) of each user's events of its last day:
//     the exact last timestamp, as the maximum in Go.
//
// Without $max that is the cheapest exact answer: a find sorted by ts desc
// would have to read until every user showed up (unbounded for a user
// inactive of late), and grouping by day straight away returns a row per
// active day per user. Rows read: ≤ limit×types×months, ≤ limit×31, and
// the events of one day per user.
func (s *Store) UserActivity(ctx context.Context, r analytics.Range, f analytics.Filter, limit int) ([]analytics.UserActivity, error) {
	if limit <= 0 {
		return []analytics.UserActivity{}, nil
	}
	m := match(r, f)
	if s.capable {
		var res []struct {
			U     int64     `bson:"_id"`
			N     int64     `bson:"n"`
			Types []string  `bson:"types"`
			Last  time.Time `bson:"last"`
		}
		p := mongo.Pipeline{matchStage(m),
			stage("$group", bson.D{{Key: "_id", Value: "$user_id"},
				{Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}},
				{Key: "types", Value: bson.D{{Key: "$addToSet", Value: "$type"}}},
				{Key: "last", Value: bson.D{{Key: "$max", Value: "$ts"}}}}),
			stage("$sort", bson.D{{Key: "n", Value: -1}, {Key: "_id", Value: 1}}),
			stage("$limit", limit),
		}
		if err := s.aggregate(ctx, "user activity", p, &res); err != nil {
			return nil, err
		}
		out := make([]analytics.UserActivity, 0, len(res))
		for _, x := range res {
			out = append(out, analytics.UserActivity{UserID: int(x.U), Events: x.N, DistinctTypes: len(x.Types), LastSeen: x.Last.UTC()})
		}
		return out, nil
	}

	var ranked []struct {
		U int64 `bson:"_id"`
		N int64 `bson:"n"`
	}
	p := mongo.Pipeline{matchStage(m), groupCount("$user_id"),
		stage("$sort", bson.D{{Key: "n", Value: -1}, {Key: "_id", Value: 1}}),
		stage("$limit", limit),
	}
	if err := s.aggregate(ctx, "user activity ranking", p, &ranked); err != nil {
		return nil, err
	}
	if len(ranked) == 0 {
		return []analytics.UserActivity{}, nil
	}
	users := make([]int64, len(ranked))
	for i, x := range ranked {
		users[i] = x.U
	}
	// The ranked users all match f, so their ids replace f.UserID.
	mu := match(r, analytics.Filter{Types: f.Types, Country: f.Country})
	mu = with(mu, "user_id", bson.D{{Key: "$in", Value: users}})
	months, err := s.typesAndMonths(ctx, mu)
	if err != nil {
		return nil, err
	}
	lastMonth := map[int64][]time.Time{}
	for u, um := range months {
		lastMonth[u] = []time.Time{um.last}
	}
	edges, err := s.edgeTimes(ctx, match(r, analytics.Filter{Types: f.Types, Country: f.Country}), lastMonth, false)
	if err != nil {
		return nil, err
	}
	out := make([]analytics.UserActivity, 0, len(ranked))
	for _, x := range ranked {
		out = append(out, analytics.UserActivity{UserID: int(x.U), Events: x.N, DistinctTypes: len(months[x.U].types), LastSeen: edges[x.U].last})
	}
	return out, nil
}

// ActivitySummaries: each user's all-time count, distinct types, first
// and last event.
//
// Capable path: one aggregation, $group by user with the count, $addToSet
// of types, $min and $max of ts.
//
// Fallback path, three round trips (see UserActivity for why): $group on
// (user, type, month) counting — the counts, distinct types and first and
// last months; then $group on (user, day) within those two months; then a
// find of the events of each user's first and last days for the exact
// timestamps.
func (s *Store) ActivitySummaries(ctx context.Context, ids []int) (map[int]analytics.ActivitySummary, error) {
	out := map[int]analytics.ActivitySummary{}
	users := userIDs(ids)
	if len(users) == 0 {
		return out, nil
	}
	m := bson.D{{Key: "user_id", Value: bson.D{{Key: "$in", Value: users}}}}
	if s.capable {
		var res []struct {
			U     int64     `bson:"_id"`
			N     int64     `bson:"n"`
			Types []string  `bson:"types"`
			First time.Time `bson:"first"`
			Last  time.Time `bson:"last"`
		}
		p := mongo.Pipeline{matchStage(m),
			stage("$group", bson.D{{Key: "_id", Value: "$user_id"},
				{Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}},
				{Key: "types", Value: bson.D{{Key: "$addToSet", Value: "$type"}}},
				{Key: "first", Value: bson.D{{Key: "$min", Value: "$ts"}}},
				{Key: "last", Value: bson.D{{Key: "$max", Value: "$ts"}}}}),
		}
		if err := s.aggregate(ctx, "activity summaries", p, &res); err != nil {
			return nil, err
		}
		for _, x := range res {
			out[int(x.U)] = analytics.ActivitySummary{Events: x.N, DistinctTypes: len(x.Types), FirstSeen: x.First.UTC(), LastSeen: x.Last.UTC()}
		}
		return out, nil
	}

	months, err := s.typesAndMonths(ctx, m)
	if err != nil {
		return nil, err
	}
	edgeMonths := map[int64][]time.Time{}
	for u, um := range months {
		edgeMonths[u] = []time.Time{um.first, um.last}
	}
	edges, err := s.edgeTimes(ctx, bson.D{}, edgeMonths, true)
	if err != nil {
		return nil, err
	}
	for u, um := range months {
		out[int(u)] = analytics.ActivitySummary{Events: um.events, DistinctTypes: len(um.types), FirstSeen: edges[u].first, LastSeen: edges[u].last}
	}
	return out, nil
}

// userMonths is what one (user, type, month) grouping tells about a user.
type userMonths struct {
	events      int64
	types       map[string]bool
	first, last time.Time // months
}

// typesAndMonths: one $group on (user, type, month) counting the events
// that match m.
func (s *Store) typesAndMonths(ctx context.Context, m bson.D) (map[int64]*userMonths, error) {
	var rows []struct {
		ID struct {
			U int64     `bson:"u"`
			T string    `bson:"t"`
			M time.Time `bson:"m"`
		} `bson:"_id"`
		N int64 `bson:"n"`
	}
	p := mongo.Pipeline{matchStage(m), groupCount(bson.D{{Key: "u", Value: "$user_id"}, {Key: "t", Value: "$type"}, {Key: "m", Value: "$month"}})}
	if err := s.aggregate(ctx, "types and months", p, &rows); err != nil {
		return nil, err
	}
	out := map[int64]*userMonths{}
	for _, row := range rows {
		u, mo := row.ID.U, row.ID.M.UTC()
		um := out[u]
		if um == nil {
			um = &userMonths{types: map[string]bool{}, first: mo, last: mo}
			out[u] = um
		}
		um.events += row.N
		um.types[row.ID.T] = true
		if mo.Before(um.first) {
			um.first = mo
		}
		if mo.After(um.last) {
			um.last = mo
		}
	}
	return out, nil
}

type firstLast struct{ first, last time.Time }

// edgeTimes finds, for each user, the exact last (and with first, the
// first) ts of its events that match base and lie in the given months (the
// user's edge months): two round trips, a $group on (user, day) narrowing
// the months to the edge days, then a find of the events of those days.
func (s *Store) edgeTimes(ctx context.Context, base bson.D, months map[int64][]time.Time, first bool) (map[int64]firstLast, error) {
	out := map[int64]firstLast{}
	if len(months) == 0 {
		return out, nil
	}
	var or bson.A
	for u, ms := range months {
		or = append(or, bson.D{{Key: "user_id", Value: u}, {Key: "month", Value: bson.D{{Key: "$in", Value: ms}}}})
	}
	var days []struct {
		ID struct {
			U int64     `bson:"u"`
			D time.Time `bson:"d"`
		} `bson:"_id"`
	}
	p := mongo.Pipeline{matchStage(with(base, "$or", or)), groupCount(bson.D{{Key: "u", Value: "$user_id"}, {Key: "d", Value: "$day"}})}
	if err := s.aggregate(ctx, "edge days", p, &days); err != nil {
		return nil, err
	}
	edgeDays := map[int64]firstLast{}
	for _, row := range days {
		u, d := row.ID.U, row.ID.D.UTC()
		e, ok := edgeDays[u]
		if !ok {
			e = firstLast{d, d}
		}
		if d.Before(e.first) {
			e.first = d
		}
		if d.After(e.last) {
			e.last = d
		}
		edgeDays[u] = e
	}
	var dayOr bson.A
	for u, e := range edgeDays {
		in := bson.A{e.last}
		if first && !e.first.Equal(e.last) {
			in = append(in, e.first)
		}
		dayOr = append(dayOr, bson.D{{Key: "user_id", Value: u}, {Key: "day", Value: bson.D{{Key: "$in", Value: in}}}})
	}
	if len(dayOr) == 0 {
		return out, nil
	}
	cur, err := s.events.Find(ctx, with(base, "$or", dayOr), options.Find().
		SetProjection(bson.D{{Key: "user_id", Value: 1}, {Key: "ts", Value: 1}}).
		SetBatchSize(s.batchSize))
	if err != nil {
		return nil, fmt.Errorf("mongostore: edge times: %w", err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	for cur.Next(ctx) {
		var ev struct {
			U  int64     `bson:"user_id"`
			TS time.Time `bson:"ts"`
		}
		if err := cur.Decode(&ev); err != nil {
			return nil, fmt.Errorf("mongostore: edge times: %w", err)
		}
		ts := ev.TS.UTC()
		e, ok := out[ev.U]
		if !ok {
			e = firstLast{ts, ts}
		}
		if ts.Before(e.first) {
			e.first = ts
		}
		if ts.After(e.last) {
			e.last = ts
		}
		out[ev.U] = e
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("mongostore: edge times: %w", err)
	}
	return out, nil
}
