package analytics

import (
	"context"
	"fmt"
	"time"
)

// CacheTag is the cache tag of everything computed from events: storing
// new events invalidates it.
const CacheTag = "events"

// Service is the entry point of the API layer: validation by policy, then
// the store.
type Service struct {
	Store  Store
	Policy Policy
	Now    func() time.Time
	// OnStored, when set, runs after a Track call stored new events, with
	// the call's valid events (the cache drops its "events" entries; live
	// subscriptions get the events).
	OnStored func(ctx context.Context, events []Event)
}

// TrackResult is the outcome of one input of Track: the stored event (also
// when it was a duplicate of one already stored), or why it was refused.
type TrackResult struct {
	Event     *Event
	Duplicate bool
	Err       *FieldError
}

// Track validates every input and stores the valid ones in one Insert.
// Refused inputs are reported per item; the valid ones are stored all the
// same. An error is returned only when the store fails; the call can then be
// retried as it is (see Store.Insert).
func (s *Service) Track(ctx context.Context, in []EventInput) ([]TrackResult, int, error) {
	if len(in) > MaxBatch {
		return nil, 0, &FieldError{"inputs", fmt.Sprintf("at most %d events per call, got %d", MaxBatch, len(in))}
	}
	now := s.now()
	out := make([]TrackResult, len(in))
	valid := make([]Event, 0, len(in))
	seen := make(map[string]bool, len(in))
	for i, e := range in {
		ev, err := s.Policy.Prepare(e, now)
		if err != nil {
			fe, ok := err.(*FieldError)
			if !ok {
				fe = &FieldError{"input", err.Error()}
			}
			out[i].Err = fe
			continue
		}
		out[i].Event = &ev
		if seen[ev.ID] {
			out[i].Duplicate = true
			continue
		}
		seen[ev.ID] = true
		valid = append(valid, ev)
	}
	n, err := s.Store.Insert(ctx, valid)
	if err != nil {
		return nil, 0, fmt.Errorf("store events: %w", err)
	}
	if n > 0 && s.OnStored != nil {
		s.OnStored(ctx, valid)
	}
	return out, n, nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}
