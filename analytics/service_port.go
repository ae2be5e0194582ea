package analytics

import (
	"context"
	"log/slog"
	"strings"
)

// Invalidator drops cached results by tag (cache.Cache).
type Invalidator interface {
	Invalidate(ctx context.Context, tags ...string)
}

// Announcer hands newly stored events to live subscribers (live.Hub).
type Announcer interface {
	Stored(events []Event)
}

// ServiceConfig are the parts of the service NewService composes. Cache and
// Live are optional (nil: that side effect is left out).
type ServiceConfig struct {
	Store  Store
	Policy Policy // zero: DefaultPolicy()
	Log    *slog.Logger
	Cache  Invalidator
	Live   Announcer
}

// NewService is the service with the side effects of storing new events:
// everything cached from events (CacheTag) is dropped, and live
// subscriptions get the events. The API and the bus consumers share one,
// so that an event tracked either way has the same effects.
func NewService(c ServiceConfig) *Service {
	if c.Policy.Types == nil {
		c.Policy = DefaultPolicy()
	}
	s := &Service{Store: c.Store, Policy: c.Policy, Log: c.Log}
	if c.Cache != nil || c.Live != nil {
		s.OnStored = func(ctx context.Context, events []Event) {
			if c.Cache != nil {
				c.Cache.Invalidate(ctx, CacheTag)
			}
			if c.Live != nil {
				c.Live.Stored(events)
			}
		}
	}
	return s
}

// The operations below are the API's port to the store: each validates
// its input here (as Track does), so that every caller gets the same
// rules, and the resolvers only translate.

// UpsertProfile checks the input (CheckProfile) and creates or replaces
// the profile.
func (s *Service) UpsertProfile(ctx context.Context, in ProfileInput) (*Profile, error) {
	if err := CheckProfile(&in); err != nil {
		return nil, err
	}
	return s.Store.UpsertProfile(ctx, in)
}

// AddInterest normalises interest (NormaliseTags) and adds it to the
// profile of username.
func (s *Service) AddInterest(ctx context.Context, username, interest string) (*Profile, error) {
	tags, err := NormaliseTags("interest", []string{interest})
	if err != nil {
		return nil, err
	}
	return s.Store.AddInterest(ctx, strings.TrimSpace(username), tags[0])
}

// UpdateMetrics checks that every metric is a number within the limits
// (CheckMetrics) and merges them into the profile of username.
func (s *Service) UpdateMetrics(ctx context.Context, username string, metrics map[string]any) (*Profile, error) {
	m, err := MetricsFrom(metrics)
	if err != nil {
		return nil, err
	}
	return s.Store.UpdateMetrics(ctx, strings.TrimSpace(username), m)
}

// MetricsFrom reads a JSON object of metrics: every value a number, within
// the limits of CheckMetrics.
func MetricsFrom(metrics map[string]any) (map[string]float64, error) {
	m := make(map[string]float64, len(metrics))
	for k, v := range metrics {
		f, ok := Number(v)
		if !ok {
			return nil, &FieldError{Field: "metrics." + k, Msg: "must be a number"}
		}
		m[k] = f
	}
	if err := CheckMetrics(m); err != nil {
		return nil, err
	}
	return m, nil
}

// Profile is the profile of username, or nil.
func (s *Service) Profile(ctx context.Context, username string) (*Profile, error) {
	return s.Store.Profile(ctx, strings.TrimSpace(username))
}

// UsersByInterest lists up to limit profiles with interest (normalised as
// AddInterest stores it).
func (s *Service) UsersByInterest(ctx context.Context, interest string, limit int) ([]*Profile, error) {
	tags, err := NormaliseTags("interest", []string{interest})
	if err != nil {
		return nil, err
	}
	return s.Store.UsersByInterest(ctx, tags[0], limit)
}

// EventDistribution counts the events of rg and f by type.
func (s *Service) EventDistribution(ctx context.Context, rg Range, f Filter) ([]TypeCount, error) {
	return s.Store.EventDistribution(ctx, rg, f)
}

// UserActivity lists the limit most active users of rg and f.
func (s *Service) UserActivity(ctx context.Context, rg Range, f Filter, limit int) ([]UserActivity, error) {
	return s.Store.UserActivity(ctx, rg, f, limit)
}

// PurchaseAnalytics sums the purchases of rg by groupBy.
func (s *Service) PurchaseAnalytics(ctx context.Context, rg Range, groupBy GroupBy) ([]PurchaseGroup, error) {
	return s.Store.PurchaseAnalytics(ctx, rg, groupBy)
}

// Retention is the cohort table of q (see Retention).
func (s *Service) Retention(ctx context.Context, q RetentionQuery) ([]RetentionRow, error) {
	return Retention(ctx, s.Store, q)
}

// EventsNear lists the events near q's point (see EventsNear).
func (s *Service) EventsNear(ctx context.Context, q NearQuery) ([]EventDistance, error) {
	return EventsNear(ctx, s.Store, q)
}
