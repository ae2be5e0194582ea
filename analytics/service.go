package analytics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	// Log receives a WARN for each event the store refused, with the
	// store's reason (nil: slog.Default()).
	Log *slog.Logger
}

// TrackResult is the outcome of one input of Track: the stored event (also
// when it was a duplicate of one already stored), or why it was refused.
type TrackResult struct {
	Event     *Event
	Duplicate bool
	Err       *FieldError
	// Refused is the store's error when the input was valid but the store
	// refused it (analytics.ErrRefused; Err then tells the client, in
	// words that do not expose the database): permanent, retrying cannot
	// help. Event is nil then.
	Refused error
}

// Track validates every input and stores the valid ones in one Insert.
// Refused inputs are reported per item; the valid ones are stored all the
// same. When the store refuses the batch because of some of its rows
// (ErrRefused: a row validation could not foresee, say a constraint of the
// database), Track finds them by bisection — the halves of the batch are
// inserted again, the refused halves split until single rows — so that
// every other event is stored and each refused one is reported with its
// own Err and Refused. An error is returned only when the store fails
// otherwise (an outage); the call can then be retried as it is (see
// Store.Insert: events stored before the failure are skipped).
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
	stored, split := valid, false
	if errors.Is(err, ErrRefused) {
		split, stored = true, nil
		refused := map[string]error{}
		var more int
		more, err = s.bisect(ctx, valid, err, refused, &stored)
		n += more
		s.report(ctx, out, refused)
	}
	// After a split the events stored are known one sub-batch at a time,
	// and some may have gone in before a later sub-batch failed: tell
	// OnStored about them even then (a dropped cache entry too many is
	// harmless, a stale one is not).
	if s.OnStored != nil && len(stored) > 0 && (n > 0 || split) {
		s.OnStored(ctx, stored)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("store events: %w", err)
	}
	return out, n, nil
}

// bisect finds the rows of events, a batch the store refused with cause,
// that the store refuses: it inserts the two halves again and splits each
// refused half down to single rows. The refused rows end in refused (by
// event id, with the store's error), the events of every sub-batch that
// went in are appended to stored. It returns how many were new. With k
// refused rows of n it costs about 2k·log2(n) inserts.
func (s *Service) bisect(ctx context.Context, events []Event, cause error, refused map[string]error, stored *[]Event) (int, error) {
	if len(events) == 1 {
		refused[events[0].ID] = cause
		return 0, nil
	}
	total, mid := 0, len(events)/2
	for _, half := range [][]Event{events[:mid], events[mid:]} {
		n, err := s.Store.Insert(ctx, half)
		total += n
		switch {
		case err == nil:
			*stored = append(*stored, half...)
		case errors.Is(err, ErrRefused):
			n, err := s.bisect(ctx, half, err, refused, stored)
			total += n
			if err != nil {
				return total, err
			}
		default:
			return total, err
		}
	}
	return total, nil
}

// report marks the results of refused events (and of their duplicates in
// the call) and logs why the store refused each.
func (s *Service) report(ctx context.Context, out []TrackResult, refused map[string]error) {
	log := s.Log
	if log == nil {
		log = slog.Default()
	}
	for i := range out {
		r := &out[i]
		if r.Event == nil {
			continue
		}
		err, ok := refused[r.Event.ID]
		if !ok {
			continue
		}
		if !r.Duplicate {
			log.WarnContext(ctx, "the event store refused an event", "id", r.Event.ID, "type", r.Event.Type, "index", i, "err", err)
		}
		r.Event, r.Duplicate, r.Refused = nil, false, err
		r.Err = &FieldError{Msg: "the event store refused this event (a limit or rule of the database that validation does not check); it cannot be stored as it is"}
	}
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}
