package mongostore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/meridian-graphql/meridian/analytics"
)

// profileDoc is a profile document as read back. Fields never set are
// absent from the document and read as empty.
type profileDoc struct {
	Username       string             `bson:"_id"`
	Email          string             `bson:"email"`
	Interests      []string           `bson:"interests"`
	ExpertiseLevel string             `bson:"expertise_level"`
	Metrics        map[string]float64 `bson:"metrics"`
	Subscriptions  []string           `bson:"subscriptions"`
	UpdatedAt      time.Time          `bson:"updated_at"`
}

func (d *profileDoc) profile() *analytics.Profile {
	p := &analytics.Profile{
		Username:       d.Username,
		Email:          d.Email,
		Interests:      sortedTags(d.Interests),
		ExpertiseLevel: d.ExpertiseLevel,
		Metrics:        d.Metrics,
		Subscriptions:  sortedTags(d.Subscriptions),
		UpdatedAt:      d.UpdatedAt.UTC(),
	}
	if p.Metrics == nil {
		p.Metrics = map[string]float64{}
	}
	return p
}

// sortedTags: $addToSet appends, so interests are sorted on read; never
// nil, so that an empty list is [] and not null in JSON.
func sortedTags(tags []string) []string {
	out := slices.Clone(tags)
	if out == nil {
		out = []string{}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// now is the updated_at of a write, at the millisecond precision of BSON.
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// notFound is the error of a missing profile, worded as in sqlstore.
func notFound(username string) error {
	return &analytics.NotFoundError{What: fmt.Sprintf("profile %q", username)}
}

// maxInterests is the cap of analytics.NormaliseTags, kept by AddInterest.
const maxInterests = 100

// UpsertProfile creates the profile or sets the fields the input sets:
// one findOneAndUpdate with upsert. The input is validated and normalised
// first (analytics.CheckProfile), whoever the caller is, as in sqlstore:
// metric names then cannot turn into other paths ("a.b", "$x"). Fields the
// input leaves nil are not written; a profile created without them reads
// them as empty. ($setOnInsert is not used to write the empty lists:
// FerretDB v1.24 silently drops empty arrays from $setOnInsert.) Metrics,
// when given, replace the whole map.
func (s *Store) UpsertProfile(ctx context.Context, in analytics.ProfileInput) (*analytics.Profile, error) {
	if err := analytics.CheckProfile(&in); err != nil {
		return nil, err
	}
	set := bson.D{{Key: "updated_at", Value: now()}}
	if in.Email != nil {
		set = append(set, bson.E{Key: "email", Value: *in.Email})
	}
	if in.Interests != nil {
		set = append(set, bson.E{Key: "interests", Value: sortedTags(in.Interests)})
	}
	if in.ExpertiseLevel != nil {
		set = append(set, bson.E{Key: "expertise_level", Value: *in.ExpertiseLevel})
	}
	if in.Metrics != nil {
		set = append(set, bson.E{Key: "metrics", Value: maps.Clone(in.Metrics)})
	}
	if in.Subscriptions != nil {
		set = append(set, bson.E{Key: "subscriptions", Value: sortedTags(in.Subscriptions)})
	}
	update := bson.D{{Key: "$set", Value: set}}
	opts := options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)
	var d profileDoc
	err := s.profiles.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: in.Username}}, update, opts).Decode(&d)
	if mongo.IsDuplicateKeyError(err) {
		// Two upserts of a new username raced and the other inserted
		// first: now it exists, and the retry updates it.
		err = s.profiles.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: in.Username}}, update, opts).Decode(&d)
	}
	if err != nil {
		return nil, fmt.Errorf("mongostore: upsert profile %s: %w", in.Username, err)
	}
	return d.profile(), nil
}

// AddInterest adds the normalised interest with one findOneAndUpdate and
// $addToSet (FerretDB runs it correctly, duplicates included; the contract
// suite checks it). The filter also requires that the profile has the
// interest already or fewer than 100 ("interests.99" does not exist), so
// the cap holds without a read-modify-write; only when nothing matched does
// a second read tell a missing profile from a full one.
func (s *Store) AddInterest(ctx context.Context, username, interest string) (*analytics.Profile, error) {
	tags, err := analytics.NormaliseTags("interest", []string{interest})
	if err != nil {
		return nil, err
	}
	interest = tags[0]
	filter := bson.D{{Key: "_id", Value: username}, {Key: "$or", Value: bson.A{
		bson.D{{Key: "interests", Value: interest}},
		bson.D{{Key: fmt.Sprintf("interests.%d", maxInterests-1), Value: bson.D{{Key: "$exists", Value: false}}}},
	}}}
	update := bson.D{
		{Key: "$addToSet", Value: bson.D{{Key: "interests", Value: interest}}},
		{Key: "$set", Value: bson.D{{Key: "updated_at", Value: now()}}},
	}
	var d profileDoc
	err = s.profiles.FindOneAndUpdate(ctx, filter, update, options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		p, err := s.Profile(ctx, username)
		switch {
		case err != nil:
			return nil, err
		case p == nil:
			return nil, notFound(username)
		default:
			return nil, &analytics.FieldError{Field: "interests", Msg: fmt.Sprintf("at most %d entries", maxInterests)}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("mongostore: add interest to profile %s: %w", username, err)
	}
	return d.profile(), nil
}

// UpdateMetrics sets the given metrics with $set on metrics.<name>, keeping
// the others: one findOneAndUpdate.
// (Names are checked by analytics.CheckMetrics, so none is a path.)
func (s *Store) UpdateMetrics(ctx context.Context, username string, metrics map[string]float64) (*analytics.Profile, error) {
	if err := analytics.CheckMetrics(metrics); err != nil {
		return nil, err
	}
	set := bson.D{{Key: "updated_at", Value: now()}}
	for _, k := range slices.Sorted(maps.Keys(metrics)) {
		set = append(set, bson.E{Key: "metrics." + k, Value: metrics[k]})
	}
	var d profileDoc
	err := s.profiles.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: username}}, bson.D{{Key: "$set", Value: set}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, notFound(username)
	}
	if err != nil {
		return nil, fmt.Errorf("mongostore: update metrics of profile %s: %w", username, err)
	}
	return d.profile(), nil
}

// Profile: one find by _id; nil when there is none.
func (s *Store) Profile(ctx context.Context, username string) (*analytics.Profile, error) {
	var d profileDoc
	err := s.profiles.FindOne(ctx, bson.D{{Key: "_id", Value: username}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("mongostore: profile %s: %w", username, err)
	}
	return d.profile(), nil
}

// UsersByInterest: one find on the multikey interests index, sorted by
// username (_id), limited. Interests are stored normalised, so the
// argument is lower-cased and trimmed too; no limit or no interest is an
// empty list, as in sqlstore.
func (s *Store) UsersByInterest(ctx context.Context, interest string, limit int) ([]*analytics.Profile, error) {
	interest = strings.ToLower(strings.TrimSpace(interest))
	if limit <= 0 || interest == "" {
		return []*analytics.Profile{}, nil
	}
	cur, err := s.profiles.Find(ctx, bson.D{{Key: "interests", Value: interest}}, options.Find().
		SetSort(bson.D{{Key: "_id", Value: 1}}).
		SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("mongostore: users by interest %q: %w", interest, err)
	}
	var docs []profileDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("mongostore: users by interest %q: %w", interest, err)
	}
	out := make([]*analytics.Profile, len(docs))
	for i := range docs {
		out[i] = docs[i].profile()
	}
	return out, nil
}
