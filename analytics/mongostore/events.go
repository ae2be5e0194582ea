package mongostore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/meridian-graphql/meridian/analytics"
)

// eventDoc builds the stored document of an event.
func eventDoc(e *analytics.Event) bson.D {
	d := bson.D{
		{Key: "_id", Value: e.ID},
		{Key: "user_id", Value: int64(e.UserID)},
		{Key: "type", Value: e.Type},
		{Key: "ts", Value: e.Timestamp.UTC()},
		{Key: "day", Value: e.Day.UTC()},
		{Key: "week", Value: e.Week.UTC()},
		{Key: "month", Value: e.Month.UTC()},
		{Key: "cell", Value: e.Cell},
		{Key: "revenue", Value: e.Revenue},
		{Key: "category", Value: e.Category},
	}
	country := ""
	if e.Geo != nil {
		country = e.Geo.Country
	}
	// Always written: a group key must never be a missing field.
	d = append(d, bson.E{Key: "country", Value: country})
	if g := e.Geo; g != nil {
		if g.City != "" {
			d = append(d, bson.E{Key: "city", Value: g.City})
		}
		d = append(d, bson.E{Key: "lon", Value: g.Lon}, bson.E{Key: "lat", Value: g.Lat})
	}
	if e.Metadata != nil {
		d = append(d, bson.E{Key: "metadata", Value: e.Metadata})
	}
	return d
}

// storedEvent is an event document as read back.
type storedEvent struct {
	ID       string    `bson:"_id"`
	UserID   int64     `bson:"user_id"`
	Type     string    `bson:"type"`
	TS       time.Time `bson:"ts"`
	Day      time.Time `bson:"day"`
	Week     time.Time `bson:"week"`
	Month    time.Time `bson:"month"`
	Cell     string    `bson:"cell"`
	Revenue  float64   `bson:"revenue"`
	Category string    `bson:"category"`
	Country  string    `bson:"country"`
	City     string    `bson:"city"`
	Lon      *float64  `bson:"lon"`
	Lat      *float64  `bson:"lat"`
	Metadata bson.Raw  `bson:"metadata"`
}

func decodeEvent(raw bson.Raw) (analytics.Event, error) {
	var d storedEvent
	if err := bson.Unmarshal(raw, &d); err != nil {
		return analytics.Event{}, fmt.Errorf("decode event: %w", err)
	}
	e := analytics.Event{
		ID: d.ID, UserID: int(d.UserID), Type: d.Type, Timestamp: d.TS.UTC(),
		Day: d.Day.UTC(), Week: d.Week.UTC(), Month: d.Month.UTC(),
		Cell: d.Cell, Revenue: d.Revenue, Category: d.Category,
	}
	if d.Lon != nil && d.Lat != nil {
		e.Geo = &analytics.Geo{Country: d.Country, City: d.City, Lon: *d.Lon, Lat: *d.Lat}
	}
	if d.Metadata != nil {
		m, err := jsonish(bson.RawValue{Type: bson.TypeEmbeddedDocument, Value: d.Metadata})
		if err != nil {
			return analytics.Event{}, fmt.Errorf("decode event %s metadata: %w", d.ID, err)
		}
		e.Metadata, _ = m.(map[string]any)
	}
	return e, nil
}

// jsonish converts a BSON value to what encoding/json would give for the
// same JSON: numbers float64, documents map[string]any, arrays []any.
// Metadata arrives as JSON and the SQL backends give it back that way.
func jsonish(v bson.RawValue) (any, error) {
	switch v.Type {
	case bson.TypeEmbeddedDocument:
		elems, err := v.Document().Elements()
		if err != nil {
			return nil, err
		}
		m := make(map[string]any, len(elems))
		for _, el := range elems {
			if m[el.Key()], err = jsonish(el.Value()); err != nil {
				return nil, err
			}
		}
		return m, nil
	case bson.TypeArray:
		vals, err := v.Array().Values()
		if err != nil {
			return nil, err
		}
		a := make([]any, len(vals))
		for i, x := range vals {
			if a[i], err = jsonish(x); err != nil {
				return nil, err
			}
		}
		return a, nil
	case bson.TypeDouble:
		return v.Double(), nil
	case bson.TypeInt32:
		return float64(v.Int32()), nil
	case bson.TypeInt64:
		return float64(v.Int64()), nil
	case bson.TypeString:
		return v.StringValue(), nil
	case bson.TypeBoolean:
		return v.Boolean(), nil
	case bson.TypeNull, bson.TypeUndefined:
		return nil, nil
	case bson.TypeDateTime:
		return v.Time().UTC().Format(time.RFC3339Nano), nil
	default:
		return v.String(), nil
	}
}

// Insert stores the events with one unordered insertMany (the driver splits
// it into 48 MB messages): one round trip per message. Already stored ids
// come back as E11000 write errors and count as skipped. See the package
// doc for why this is idempotent retry rather than all-or-nothing.
//
// Errors are classified (see classify). When the server refuses some
// documents (analytics.ErrRefused), the others of the unordered insert are
// stored all the same and counted in the result, so that the caller can
// find the refused ones by inserting again (analytics.Service.Track): what
// is stored is skipped then.
func (s *Store) Insert(ctx context.Context, events []analytics.Event) (int, error) {
	if len(events) == 0 {
		return 0, nil
	}
	docs := make([]any, len(events))
	for i := range events {
		docs[i] = eventDoc(&events[i])
	}
	_, err := s.events.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err == nil {
		return len(events), nil
	}
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) {
		return 0, fmt.Errorf("mongostore: insert %d events: %w", len(events), classify(err))
	}
	dups, failed := 0, 0
	var first error
	for _, we := range bwe.WriteErrors {
		if we.Code == 11000 || we.Code == 11001 {
			dups++
			continue
		}
		failed++
		if first == nil {
			first = fmt.Errorf("event %d: %s (code %d)", we.Index, we.Message, we.Code)
		}
	}
	if failed > 0 {
		stored := 0
		if bwe.WriteConcernError == nil {
			stored = len(events) - dups - failed
		}
		return stored, fmt.Errorf("mongostore: insert: %d of %d events failed (a retry skips the ones stored): %w: %w", failed, len(events), first, classify(err))
	}
	if bwe.WriteConcernError != nil {
		return 0, fmt.Errorf("mongostore: insert: write concern: %w", classify(err))
	}
	return len(events) - dups, nil
}

// match is the filter of events in r that pass f.
func match(r analytics.Range, f analytics.Filter) bson.D {
	m := bson.D{}
	if !r.From.IsZero() || !r.To.IsZero() {
		ts := bson.D{}
		if !r.From.IsZero() {
			ts = append(ts, bson.E{Key: "$gte", Value: r.From.UTC()})
		}
		if !r.To.IsZero() {
			ts = append(ts, bson.E{Key: "$lt", Value: r.To.UTC()})
		}
		m = append(m, bson.E{Key: "ts", Value: ts})
	}
	if len(f.Types) > 0 {
		m = append(m, bson.E{Key: "type", Value: bson.D{{Key: "$in", Value: f.Types}}})
	}
	if f.UserID != 0 {
		m = append(m, bson.E{Key: "user_id", Value: int64(f.UserID)})
	}
	if c := strings.ToUpper(strings.TrimSpace(f.Country)); c != "" {
		m = append(m, bson.E{Key: "country", Value: c})
	}
	return m
}

// with returns m plus one more condition (m is not modified).
func with(m bson.D, key string, v any) bson.D {
	return append(slices.Clip(m), bson.E{Key: key, Value: v})
}

func userIDs(ids []int) []int64 {
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		out = append(out, int64(id))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Export streams the matching events in (ts, _id) order through one cursor
// of s.batchSize documents per round trip: only the current batch is held.
func (s *Store) Export(ctx context.Context, r analytics.Range, f analytics.Filter, fn func(*analytics.Event) error) error {
	cur, err := s.events.Find(ctx, match(r, f), options.Find().
		SetSort(bson.D{{Key: "ts", Value: 1}, {Key: "_id", Value: 1}}).
		SetBatchSize(s.batchSize))
	if err != nil {
		return fmt.Errorf("mongostore: export: %w", err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	for cur.Next(ctx) {
		e, err := decodeEvent(cur.Current)
		if err != nil {
			return fmt.Errorf("mongostore: export: %w", err)
		}
		if err := fn(&e); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("mongostore: export: %w", err)
	}
	return nil
}

// DeleteBefore removes events with ts < t: one deleteMany.
func (s *Store) DeleteBefore(ctx context.Context, t time.Time) (int64, error) {
	res, err := s.events.DeleteMany(ctx, bson.D{{Key: "ts", Value: bson.D{{Key: "$lt", Value: t.UTC()}}}})
	if err != nil {
		return 0, fmt.Errorf("mongostore: delete before %s: %w", t.UTC().Format(time.RFC3339), err)
	}
	return res.DeletedCount, nil
}

// InCells finds the matching events whose cell starts with one of the
// prefixes: one find whose $or holds a [p, p+"~") range per prefix ('~'
// sorts after every geohash character), so each is a range scan of the cell
// index. Prefixes covered by a shorter one are dropped first; the empty
// prefix covers every event with a cell (cell > "", as events without a Geo
// store "").
func (s *Store) InCells(ctx context.Context, cells []string, r analytics.Range, f analytics.Filter) ([]analytics.Event, error) {
	prefixes := slices.Clone(cells)
	slices.Sort(prefixes)
	prefixes = slices.Compact(prefixes)
	var ranges bson.A
	last, kept := "", false
	for _, p := range prefixes {
		// Sorted, a prefix comes right before the strings it covers.
		if kept && strings.HasPrefix(p, last) {
			continue
		}
		last, kept = p, true
		lower := bson.E{Key: "$gte", Value: p}
		if p == "" {
			lower.Key = "$gt"
		}
		ranges = append(ranges, bson.D{{Key: "cell", Value: bson.D{lower, {Key: "$lt", Value: p + "~"}}}})
	}
	out := []analytics.Event{}
	if len(ranges) == 0 {
		return out, nil
	}
	cur, err := s.events.Find(ctx, with(match(r, f), "$or", ranges), options.Find().
		SetSort(bson.D{{Key: "ts", Value: 1}, {Key: "_id", Value: 1}}).
		SetBatchSize(s.batchSize))
	if err != nil {
		return nil, fmt.Errorf("mongostore: in cells: %w", err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	for cur.Next(ctx) {
		e, err := decodeEvent(cur.Current)
		if err != nil {
			return nil, fmt.Errorf("mongostore: in cells: %w", err)
		}
		out = append(out, e)
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("mongostore: in cells: %w", err)
	}
	return out, nil
}

// newestFirst is the order of UserEvents, served by the (user_id, ts desc,
// _id desc) index.
func newestFirst() bson.D { return bson.D{{Key: "ts", Value: -1}, {Key: "_id", Value: -1}} }

// userEventsMatch is the filter of one or more users' events in q, without
// the user condition.
func userEventsMatch(q analytics.UserEventsQuery) bson.D {
	m := bson.D{}
	if len(q.Types) > 0 {
		m = append(m, bson.E{Key: "type", Value: bson.D{{Key: "$in", Value: q.Types}}})
	}
	if b := q.Before; b != nil {
		ts := b.Timestamp.UTC()
		m = append(m, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "ts", Value: bson.D{{Key: "$lt", Value: ts}}}},
			bson.D{{Key: "ts", Value: ts}, {Key: "_id", Value: bson.D{{Key: "$lt", Value: b.ID}}}},
		}})
	}
	return m
}

// UserEvents returns each user's newest events, at most q.Limit each, in
// one round trip (plus getMores of the same cursor).
//
// Capable path: one aggregation, a $match/$sort/$limit branch per user
// joined by $unionWith, so the server reads at most Limit index entries per
// user.
//
// Fallback path: FerretDB has neither $unionWith nor $push/$topN, so one
// find over all the users sorted by (user_id, ts desc, _id desc) is read as
// a stream and each user's events past the Limit-th are skipped as they go
// by (the cursor is closed early once every user has Limit). The cost: the
// server sends every matching event of those users (after Before), not
// just Limit each — fine for page-sized histories, heavy for a user with a
// very long one. Only Limit events per user are decoded and kept.
func (s *Store) UserEvents(ctx context.Context, q analytics.UserEventsQuery) (map[int][]analytics.Event, error) {
	users := userIDs(q.UserIDs)
	out := map[int][]analytics.Event{}
	if len(users) == 0 || q.Limit <= 0 {
		return out, nil
	}
	base := userEventsMatch(q)
	var cur *mongo.Cursor
	var err error
	if s.capable && len(users) <= maxUnionUsers {
		cur, err = s.events.Aggregate(ctx, unionPipeline(s.events.Name(), base, users, q.Limit), options.Aggregate().SetBatchSize(s.batchSize))
	} else {
		cur, err = s.events.Find(ctx, with(base, "user_id", bson.D{{Key: "$in", Value: users}}), options.Find().
			SetSort(append(bson.D{{Key: "user_id", Value: 1}}, newestFirst()...)).
			SetBatchSize(s.batchSize))
	}
	if err != nil {
		return nil, fmt.Errorf("mongostore: user events: %w", err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	complete := 0
	for complete < len(users) && cur.Next(ctx) {
		uid, ok := cur.Current.Lookup("user_id").AsInt64OK()
		if !ok {
			return nil, fmt.Errorf("mongostore: user events: event %v without user_id", cur.Current.Lookup("_id"))
		}
		u := int(uid)
		if len(out[u]) >= q.Limit {
			continue
		}
		e, err := decodeEvent(cur.Current)
		if err != nil {
			return nil, fmt.Errorf("mongostore: user events: %w", err)
		}
		out[u] = append(out[u], e)
		if len(out[u]) == q.Limit {
			complete++
		}
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("mongostore: user events: %w", err)
	}
	// $unionWith keeps each branch's order but the merge order of branches
	// is not promised; the cursor path is already sorted. Sort either way.
	for _, es := range out {
		slices.SortFunc(es, func(a, b analytics.Event) int {
			if c := b.Timestamp.Compare(a.Timestamp); c != 0 {
				return c
			}
			return strings.Compare(b.ID, a.ID)
		})
	}
	return out, nil
}

// unionPipeline: the first user's branch, then $unionWith one branch per
// other user, each $match (the user, base) + $sort newest first + $limit.
func unionPipeline(coll string, base bson.D, users []int64, limit int) mongo.Pipeline {
	branch := func(u int64) bson.A {
		return bson.A{
			bson.D{{Key: "$match", Value: with(base, "user_id", u)}},
			bson.D{{Key: "$sort", Value: newestFirst()}},
			bson.D{{Key: "$limit", Value: limit}},
		}
	}
	var p mongo.Pipeline
	for _, st := range branch(users[0]) {
		p = append(p, st.(bson.D))
	}
	for _, u := range users[1:] {
		p = append(p, bson.D{{Key: "$unionWith", Value: bson.D{{Key: "coll", Value: coll}, {Key: "pipeline", Value: branch(u)}}}})
	}
	return p
}
