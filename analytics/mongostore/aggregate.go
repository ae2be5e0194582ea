// Aggregations: the pipeline stage helpers and aggregate, and the two
// one-pipeline reports, EventDistribution and UserPeriods.

package mongostore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/meridian-graphql/meridian/analytics"
)

// Pipeline stage helpers: they keep the pipelines below readable.
func stage(name string, v any) bson.D { return bson.D{{Key: name, Value: v}} }

func matchStage(m bson.D) bson.D { return stage("$match", m) }

// groupCount is a $group with the one accumulator FerretDB gets right.
func groupCount(id any) bson.D {
	return stage("$group", bson.D{{Key: "_id", Value: id}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}})
}

// groupSum is a $group summing one field path (the only accumulator).
func groupSum(id any, path string) bson.D {
	return stage("$group", bson.D{{Key: "_id", Value: id}, {Key: "n", Value: bson.D{{Key: "$sum", Value: path}}}})
}

// aggregate runs p and decodes every result document into out (a pointer to
// a slice): for group results, which are small by construction.
func (s *Store) aggregate(ctx context.Context, what string, p mongo.Pipeline, out any) error {
	cur, err := s.events.Aggregate(ctx, p)
	if err != nil {
		return fmt.Errorf("mongostore: %s: %w", what, err)
	}
	if err := cur.All(ctx, out); err != nil {
		return fmt.Errorf("mongostore: %s: %w", what, err)
	}
	return nil
}

// EventDistribution: one $match + $group by type with a count; the order
// (count desc, type asc) is applied in Go.
func (s *Store) EventDistribution(ctx context.Context, r analytics.Range, f analytics.Filter) ([]analytics.TypeCount, error) {
	var rows []struct {
		Type string `bson:"_id"`
		N    int64  `bson:"n"`
	}
	if err := s.aggregate(ctx, "event distribution", mongo.Pipeline{matchStage(match(r, f)), groupCount("$type")}, &rows); err != nil {
		return nil, err
	}
	out := make([]analytics.TypeCount, 0, len(rows))
	for _, row := range rows {
		out = append(out, analytics.TypeCount{Type: row.Type, Count: row.N})
	}
	slices.SortFunc(out, func(a, b analytics.TypeCount) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Type, b.Type)
	})
	return out, nil
}

// UserPeriods: one $match + $group on (user, period bucket); the buckets
// were computed at ingest.
func (s *Store) UserPeriods(ctx context.Context, p analytics.Period, r analytics.Range, f analytics.Filter) ([]analytics.UserPeriod, error) {
	field, err := periodField(p)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		ID struct {
			U int64     `bson:"u"`
			P time.Time `bson:"p"`
		} `bson:"_id"`
	}
	p2 := mongo.Pipeline{matchStage(match(r, f)), groupCount(bson.D{{Key: "u", Value: "$user_id"}, {Key: "p", Value: "$" + field}})}
	if err := s.aggregate(ctx, "user periods", p2, &rows); err != nil {
		return nil, err
	}
	out := make([]analytics.UserPeriod, 0, len(rows))
	for _, row := range rows {
		out = append(out, analytics.UserPeriod{UserID: int(row.ID.U), Start: row.ID.P.UTC()})
	}
	slices.SortFunc(out, func(a, b analytics.UserPeriod) int {
		if c := cmp.Compare(a.UserID, b.UserID); c != 0 {
			return c
		}
		return a.Start.Compare(b.Start)
	})
	return out, nil
}

func periodField(p analytics.Period) (string, error) {
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
