package analytics

import (
	"context"
	"errors"
	"time"
)

// Store is the contract of an event store backend. Every method is one
// round trip or a small fixed number of them, whatever the number of users
// or events involved; results are exact (no sampling). The contract suite in
// analytics/storetest runs every behaviour against every backend.
//
// Common rules: a limit ≤ 0 returns an empty result without a query; result
// lists are never nil; timestamps are kept to the millisecond and come back
// in UTC; metadata numbers come back as float64; the derived day, week and
// month are recomputed from the timestamp on insert; Export reads page by
// page, not one snapshot (events inserted meanwhile may or may not appear).
type Store interface {
	// Insert stores prepared events (see Policy.Prepare). An event whose ID
	// is already stored is skipped, so retries are harmless. It returns how
	// many were new. On the SQL backend all or none of a call's events are
	// written (one transaction); MongoDB has no such transactions, so there
	// a failed call may have stored part of the events, and retrying the
	// same call converges on the same state (at-least-once, idempotent).
	//
	// Errors are classified: ErrRefused (errors.Is) when the database
	// refused rows of the call — then inserted counts the events stored all
	// the same (MongoDB's unordered insert stores the others; the SQL
	// backend none) and Service.Track finds the refused rows —,
	// ErrUnavailable for an outage; other errors are unclassified.
	Insert(ctx context.Context, events []Event) (inserted int, err error)

	// UpsertProfile creates the profile or updates the fields the input sets.
	UpsertProfile(ctx context.Context, in ProfileInput) (*Profile, error)
	// AddInterest adds one interest; NotFound when there is no such profile.
	AddInterest(ctx context.Context, username, interest string) (*Profile, error)
	// UpdateMetrics sets the given metrics, keeping the others.
	UpdateMetrics(ctx context.Context, username string, metrics map[string]float64) (*Profile, error)
	// Profile returns the profile, or nil when there is none.
	Profile(ctx context.Context, username string) (*Profile, error)
	// UsersByInterest lists profiles with the interest, by username.
	UsersByInterest(ctx context.Context, interest string, limit int) ([]*Profile, error)

	// EventDistribution counts events per type, largest first, ties by type.
	EventDistribution(ctx context.Context, r Range, f Filter) ([]TypeCount, error)
	// UserActivity ranks users by number of events, largest first, ties by
	// user id, with their distinct event types and last event time.
	UserActivity(ctx context.Context, r Range, f Filter, limit int) ([]UserActivity, error)
	// PurchaseAnalytics groups purchase events; ordered by revenue (largest
	// first, ties by key) for CATEGORY and COUNTRY, by time for the others.
	PurchaseAnalytics(ctx context.Context, r Range, by GroupBy) ([]PurchaseGroup, error)
	// UserPeriods lists the distinct (user, period start) pairs of matching
	// events, the raw material of retention (see Retention).
	UserPeriods(ctx context.Context, p Period, r Range, f Filter) ([]UserPeriod, error)
	// InCells returns the matching events whose Cell starts with one of the
	// geohash prefixes (see CoverCells): the prefilter of EventsNear, which
	// computes exact distances. A prefix p is the range [p, p+"~") of the
	// indexed cell column, so the lookup is an index range scan.
	InCells(ctx context.Context, cells []string, r Range, f Filter) ([]Event, error)
	// UserEvents returns each user's events newest first (timestamp, then
	// id, both descending), at most q.Limit per user, in one round trip.
	UserEvents(ctx context.Context, q UserEventsQuery) (map[int][]Event, error)
	// ActivitySummaries returns each user's all-time activity; users without
	// events are absent from the map.
	ActivitySummaries(ctx context.Context, userIDs []int) (map[int]ActivitySummary, error)
	// Export calls fn for every matching event in timestamp order, streaming:
	// it never holds more than a page of events in memory.
	Export(ctx context.Context, r Range, f Filter, fn func(*Event) error) error
	// DeleteBefore removes events older than t (the retention job where no
	// TTL index does it) and returns how many.
	DeleteBefore(ctx context.Context, t time.Time) (int64, error)

	// Ping checks the connection; Close releases it.
	Ping(ctx context.Context) error
	Close(ctx context.Context) error
}

// NotFoundError is returned for a missing profile.
type NotFoundError struct{ What string }

func (e *NotFoundError) Error() string { return e.What + " does not exist" }

// NotFound lets package apperr map the error to NOT_FOUND.
func (e *NotFoundError) NotFound() string { return e.What + " does not exist" }

// BulkLoader is an optional capability of a Store: filling an EMPTY store
// with a large stream of events far faster than batches of Insert can (the
// demo seeding of 100,000 users is millions of events). Callers check for
// it with a type assertion and fall back to Insert without it, or when
// Load returns ErrNotEmpty.
//
// Load calls fill with a put function; fill generates the events and hands
// them to put batch by batch (put owns a batch once called: the caller must
// not modify it afterwards). Load returns how many events it stored. The
// store must hold no events when Load starts (else ErrNotEmpty, before fill
// is called); the ids of the stream must all differ (a repeated id fails
// the load). The result — events and rollups — is the same as Insert of
// the same events would give; on the SQL backend it is all or none.
type BulkLoader interface {
	Load(ctx context.Context, fill func(put func([]Event) error) error) (int, error)
}

// ErrNotEmpty is BulkLoader.Load's answer for a store that holds events
// already.
var ErrNotEmpty = errors.New("event store is not empty")
