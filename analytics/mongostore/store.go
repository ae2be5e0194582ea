// Package mongostore owns the MongoDB backend of analytics.Store: the
// document layout of events and profiles, their indexes, and every query of
// the contract expressed in the small subset of MongoDB that FerretDB (the
// MongoDB stand-in of the tests) runs correctly.
//
// # Documents
//
//	events   {_id: event id, user_id, type, ts, day, week, month (BSON dates,
//	          ms), cell, revenue, category, country, city, lon, lat,
//	          metadata: {…}}
//	profiles {_id: username, email, interests: [], expertise_level,
//	          metrics: {}, subscriptions: [], updated_at}
//
// country and category are always written ("" when absent) so that a group
// key never turns into a missing field; lon/lat/city exist only for events
// with a Geo. Metadata is a sub-document; it comes back as encoding/json
// would decode it (numbers as float64, objects as map[string]any, arrays as
// []any), like the SQL backends' JSON column.
//
// # Insert: idempotent retry instead of all-or-nothing
//
// The contract says "all or none of a call's events are written". FerretDB
// has no transactions (and a multi-document transaction is a poor fit for
// 10 000-event batches on MongoDB too), so this backend gives at-least-once
// semantics instead: insertMany, unordered, with the event id as _id. A
// duplicate-key error (E11000; _id is the only unique index of events) means
// the event is already stored and counts as skipped. Any other failure is
// returned as an error — some events of the call may then be stored, and
// retrying the same call converges: what was written is skipped, the rest
// is written. Callers that retry on error get the contract's end state.
//
// Errors are classified (errors.go: analytics.ErrRefused for documents the
// server refuses, analytics.ErrUnavailable for outages). FerretDB answers
// a document its PostgreSQL refuses (an index row too large) with an
// InternalError carrying the SQLSTATE, after storing the documents before
// it, and says nothing of those: they are not counted as inserted (a
// retry, or Track's bisection, sees them as duplicates).
//
// # The query subset ("THE RULE")
//
// Every query uses only what FerretDB v1.24 runs correctly: insertMany,
// find with filter/sort/projection ($in, $or, $gte/$lt, $exists),
// findOneAndUpdate with $set/$addToSet (upsert too), deleteMany, and
// aggregations made of $match, $sort, $limit and $group with exactly ONE
// accumulator ($sum of 1 or of a field path; a $group may follow a $group).
// Never $project/$set with field paths and never two accumulators in one
// $group: FerretDB silently computes only the first (the others come back
// 0) and returns field paths as literal strings. Averages, min/max and
// merges are computed in Go, distinct counts by a $group on the pair
// followed by a counting $group; each method takes a small fixed number of
// round trips, whatever the number of users or events:
//
//	                      fallback  capable
//	Insert                1         1        (one per 100 000 events / 48 MB)
//	EventDistribution     1         1
//	UserPeriods           1         1
//	InCells, Export       1         1        (one cursor; getMores per batch)
//	UserEvents            1         1        (cursor; capable: ≤500 users)
//	PurchaseAnalytics     3         1
//	UserActivity          4         1
//	ActivitySummaries     3         1
//	DeleteBefore          1         1
//	profiles              1         1        (AddInterest: 2 when refused)
//
// When the server proves at start (New runs a probe aggregation on a
// scratch collection and checks its exact answer) that it has real
// $group accumulators ($min/$max/$addToSet, several per stage) and
// $unionWith, the Store uses single-round-trip pipelines for UserActivity,
// ActivitySummaries, PurchaseAnalytics and UserEvents instead: that is the
// "capable" path, used on a real MongoDB (4.4+). FerretDB fails the probe, so
// the tests cover the capable path only when MONGODB_TEST_URI names a real
// MongoDB; the fallback path is covered everywhere (Options.ForceFallback).
//
// # Indexes and sharding
//
// events: _id (unique: the event id), (user_id, ts desc, _id desc) for a
// user's newest-first pages, (type, ts), (ts, _id) for ranges, export order
// and DeleteBefore, (cell) for the geohash prefix ranges, (day).
// profiles: _id (the username, unique), interests (multikey).
// No TTL index: FerretDB has none, and DeleteBefore is the retention job.
//
// To shard: events on {user_id: "hashed"} (spreads writes; or {user_id: 1,
// ts: 1} to keep a user's history on one shard and range-split it), and
// profiles on {_id: 1} (the username). Then UserEvents, ActivitySummaries,
// and any query with Filter.UserID are targeted (they name the users); the
// per-user refinement finds of the fallback path are targeted as well.
// EventDistribution, UserActivity's ranking, PurchaseAnalytics,
// UserPeriods, InCells, Export and DeleteBefore read all users' events and
// are scatter-gather: each shard matches and pre-groups its own events and
// mongos merges the groups (Export merges the shards' sorted streams).
// UsersByInterest is scatter-gather on the interests index; Profile,
// UpsertProfile, AddInterest and UpdateMetrics are targeted by _id.
//
// Caveat of sharding events on user_id: MongoDB enforces the unique _id only
// within a shard when _id is not the shard key. A retried Insert carries
// the same user_id, lands on the same shard and is still deduplicated; two
// different events given the same id by clients but for different users
// would both be stored. Shard on {_id: "hashed"} instead if client-chosen
// ids must be unique across users (then every per-user query is
// scatter-gather).
package mongostore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.opentelemetry.io/otel/trace"

	"github.com/meridian-graphql/meridian/analytics"
)

// Collection names.
const (
	eventsCollection   = "events"
	profilesCollection = "profiles"
)

// defaultBatchSize is how many events a streaming cursor (Export,
// UserEvents, InCells) fetches per round trip: the "page" of Export's
// memory bound.
const defaultBatchSize = 1000

// maxUnionUsers bounds the users of one capable-path UserEvents pipeline
// (one $unionWith stage per user; MongoDB caps a pipeline at 1000 stages).
// Larger batches take the cursor path, which works for any number.
const maxUnionUsers = 500

// Options tune New.
type Options struct {
	// ForceFallback uses the FerretDB-safe queries even when the server
	// passes the capability probe: tests run the fallback path against a
	// real MongoDB with it.
	ForceFallback bool
	// TracerProvider, when set, spans every command (see newCommandMonitor);
	// give it only when tracing is on, ideally observe.ChildSpansOnly.
	TracerProvider trace.TracerProvider
}

// Store is the MongoDB implementation of analytics.Store.
type Store struct {
	client   *mongo.Client
	db       *mongo.Database
	events   *mongo.Collection
	profiles *mongo.Collection

	// capable: the server passed the probe (real multi-accumulator $group,
	// $min/$max/$addToSet, $unionWith) and ForceFallback is off.
	capable bool
	// server describes the server from buildInfo, for logs and tests.
	server string
	// batchSize of streaming cursors; tests lower it to cross page
	// boundaries with little data.
	batchSize int32
}

var _ analytics.Store = (*Store)(nil)

// New connects to uri, pings, creates the indexes (idempotently) and probes
// the server's aggregation capabilities.
func New(ctx context.Context, uri, database string) (*Store, error) {
	return NewWithOptions(ctx, uri, database, Options{})
}

// NewWithOptions is New with options.
func NewWithOptions(ctx context.Context, uri, database string, opts Options) (*Store, error) {
	if database == "" {
		return nil, errors.New("mongostore: empty database name")
	}
	copts := options.Client().ApplyURI(uri)
	if opts.TracerProvider != nil {
		copts.SetMonitor(newCommandMonitor(opts.TracerProvider))
	}
	client, err := mongo.Connect(copts)
	if err != nil {
		return nil, fmt.Errorf("mongostore: connect: %w", err)
	}
	db := client.Database(database)
	s := &Store{
		client:    client,
		db:        db,
		events:    db.Collection(eventsCollection),
		profiles:  db.Collection(profilesCollection),
		batchSize: defaultBatchSize,
	}
	if err := s.init(ctx, opts); err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, err
	}
	return s, nil
}

func (s *Store) init(ctx context.Context, opts Options) error {
	if err := s.client.Ping(ctx, nil); err != nil {
		return fmt.Errorf("mongostore: ping: %w", err)
	}
	if err := s.createIndexes(ctx); err != nil {
		return err
	}
	s.server = describeServer(ctx, s.db)
	capable, err := probeCapabilities(ctx, s.db)
	if err != nil {
		return err
	}
	s.capable = capable && !opts.ForceFallback
	return nil
}

// Capable reports whether the Store uses the single-round-trip pipelines of
// a real MongoDB rather than the FerretDB-safe fallbacks.
func (s *Store) Capable() bool { return s.capable }

// Server describes the server (version, and FerretDB's own when it is one).
func (s *Store) Server() string { return s.server }

// Ping checks the connection.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx, nil); err != nil {
		return fmt.Errorf("mongostore: ping: %w", classify(err))
	}
	return nil
}

// Close disconnects.
func (s *Store) Close(ctx context.Context) error {
	if err := s.client.Disconnect(ctx); err != nil {
		return fmt.Errorf("mongostore: disconnect: %w", err)
	}
	return nil
}

type index struct {
	coll *mongo.Collection
	keys bson.D
}

// createIndexes creates the indexes one createIndexes command each: on
// FerretDB v1.24 a createIndexes listing two or more indexes that already
// exist drops the connection (its "already exists" filter deletes from a
// slice by the wrong index and panics), so a batched call is not
// idempotent there. One at a time, an existing index is a no-op on both.
func (s *Store) createIndexes(ctx context.Context) error {
	for _, ix := range []index{
		{s.events, bson.D{{Key: "user_id", Value: 1}, {Key: "ts", Value: -1}, {Key: "_id", Value: -1}}},
		{s.events, bson.D{{Key: "type", Value: 1}, {Key: "ts", Value: 1}}},
		{s.events, bson.D{{Key: "ts", Value: 1}, {Key: "_id", Value: 1}}},
		{s.events, bson.D{{Key: "cell", Value: 1}}},
		{s.events, bson.D{{Key: "day", Value: 1}}},
		{s.profiles, bson.D{{Key: "interests", Value: 1}}},
	} {
		if _, err := ix.coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: ix.keys}); err != nil {
			return fmt.Errorf("mongostore: create index %v on %s: %w", ix.keys, ix.coll.Name(), err)
		}
	}
	return nil
}

// describeServer reads buildInfo. FerretDB reports a MongoDB version too
// (7.0.42 for v1.24), so the version says nothing about capabilities: the
// probe decides, this is only for humans.
func describeServer(ctx context.Context, db *mongo.Database) string {
	var info struct {
		Version         string `bson:"version"`
		FerretDBVersion string `bson:"ferretdbVersion"`
	}
	if err := db.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		return "unknown (buildInfo: " + err.Error() + ")"
	}
	if info.FerretDBVersion != "" {
		return "FerretDB " + info.FerretDBVersion + " (reports MongoDB " + info.Version + ")"
	}
	return "MongoDB " + info.Version
}

// probeCapabilities runs, on a scratch collection of three documents, one
// aggregation using everything the capable path needs: $unionWith and a
// $group with five accumulators ($sum of 1, $sum of a field, $min, $max,
// $addToSet). The server is capable only if it answers exactly right — a
// server that refuses (FerretDB: NotImplemented) or silently computes
// wrong values (FerretDB zeroes every accumulator after the first) is not.
// A server's refusal of any step means not capable; another failure
// (network, ctx) fails New.
func probeCapabilities(ctx context.Context, db *mongo.Database) (bool, error) {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	coll := db.Collection("meridian_probe_" + hex.EncodeToString(b))
	defer func() { _ = coll.Drop(context.WithoutCancel(ctx)) }()
	_, err := coll.InsertMany(ctx, []any{
		bson.D{{Key: "_id", Value: 1}, {Key: "k", Value: "a"}, {Key: "v", Value: 2}},
		bson.D{{Key: "_id", Value: 2}, {Key: "k", Value: "b"}, {Key: "v", Value: 5}},
		bson.D{{Key: "_id", Value: 3}, {Key: "k", Value: "a"}, {Key: "v", Value: 1}},
	})
	var se mongo.ServerError
	if errors.As(err, &se) {
		// Refused (e.g. no right to create a collection): use the
		// fallbacks, which are right everywhere.
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("mongostore: capability probe: insert: %w", err)
	}
	cur, err := coll.Aggregate(ctx, mongo.Pipeline{
		{{Key: "$match", Value: bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: bson.A{1, 2}}}}}}},
		{{Key: "$unionWith", Value: bson.D{{Key: "coll", Value: coll.Name()}, {Key: "pipeline", Value: bson.A{
			bson.D{{Key: "$match", Value: bson.D{{Key: "_id", Value: 3}}}},
		}}}}},
		{{Key: "$group", Value: bson.D{
			{Key: "_id", Value: nil},
			{Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}},
			{Key: "s", Value: bson.D{{Key: "$sum", Value: "$v"}}},
			{Key: "lo", Value: bson.D{{Key: "$min", Value: "$v"}}},
			{Key: "hi", Value: bson.D{{Key: "$max", Value: "$v"}}},
			{Key: "ks", Value: bson.D{{Key: "$addToSet", Value: "$k"}}},
		}}},
	})
	if errors.As(err, &se) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("mongostore: capability probe: %w", err)
	}
	var got []struct {
		N  int64    `bson:"n"`
		S  int64    `bson:"s"`
		Lo int64    `bson:"lo"`
		Hi int64    `bson:"hi"`
		Ks []string `bson:"ks"`
	}
	if err := cur.All(ctx, &got); err != nil {
		if errors.As(err, &se) {
			return false, nil
		}
		return false, fmt.Errorf("mongostore: capability probe: %w", err)
	}
	if len(got) != 1 {
		return false, nil
	}
	g := got[0]
	slices.Sort(g.Ks)
	return g.N == 3 && g.S == 8 && g.Lo == 1 && g.Hi == 5 && slices.Equal(g.Ks, []string{"a", "b"}), nil
}
