package loaders

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/platform/apperr"
)

// MaxEventsFirst caps a page of User.events.
const MaxEventsFirst = 500

// EventsPage is one user's page of events, newest first.
type EventsPage struct {
	Events  []analytics.Event
	HasNext bool
}

// EventsOf returns a page of the user's events. All the users of one query
// position with the same arguments share one store round trip.
func (l *Loaders) EventsOf(ctx context.Context, userID, first int, after *string, types []string) (*EventsPage, error) {
	if first < 0 || first > MaxEventsFirst {
		return nil, apperr.BadInput("first", "must be between 0 and %d", MaxEventsFirst)
	}
	var before *analytics.EventCursor
	if after != nil {
		c, err := DecodeEventCursor(*after)
		if err != nil {
			return nil, err
		}
		before = c
	}
	args, err := json.Marshal([]any{first, after, types})
	if err != nil {
		return nil, fmt.Errorf("events loader key: %w", err)
	}
	return levelAt(l, ctx, "events|"+positionKey(ctx)+"|"+string(args), userID, func(ctx context.Context, ids []int) []*dataloader.Result[*EventsPage] {
		return l.loadEvents(ctx, ids, first, before, types)
	})
}

func (l *Loaders) loadEvents(ctx context.Context, ids []int, first int, before *analytics.EventCursor, types []string) []*dataloader.Result[*EventsPage] {
	out := make([]*dataloader.Result[*EventsPage], len(ids))
	var got map[int][]analytics.Event
	var err error
	if first > 0 {
		// One more than asked tells whether there is a next page.
		got, err = l.cfg.Events.UserEvents(ctx, analytics.UserEventsQuery{UserIDs: ids, Types: types, Before: before, Limit: first + 1})
	}
	for i, id := range ids {
		if err != nil {
			out[i] = &dataloader.Result[*EventsPage]{Error: fmt.Errorf("user events: %w", err)}
			continue
		}
		evs := got[id]
		p := &EventsPage{Events: evs}
		if len(evs) > first {
			p.Events, p.HasNext = evs[:first], true
		}
		out[i] = &dataloader.Result[*EventsPage]{Data: p}
	}
	return out
}

// Activity returns the user's all-time activity, nil before any event.
func (l *Loaders) Activity(ctx context.Context, userID int) (*analytics.ActivitySummary, error) {
	return levelAt(l, ctx, "activity|"+positionKey(ctx), userID, fromMap(func(ctx context.Context, ids []int) (map[int]*analytics.ActivitySummary, error) {
		m, err := l.cfg.Events.ActivitySummaries(ctx, ids)
		if err != nil {
			return nil, fmt.Errorf("activity summaries: %w", err)
		}
		out := make(map[int]*analytics.ActivitySummary, len(m))
		for id, s := range m {
			out[id] = &s
		}
		return out, nil
	}))
}

// EncodeEventCursor is the opaque cursor of an event in newest-first order.
func EncodeEventCursor(e *analytics.Event) string {
	return base64.RawURLEncoding.EncodeToString([]byte(e.Timestamp.UTC().Format(time.RFC3339Nano) + "|" + e.ID))
}

// DecodeEventCursor reads a cursor made by EncodeEventCursor.
func DecodeEventCursor(s string) (*analytics.EventCursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		if ts, id, ok := strings.Cut(string(b), "|"); ok && id != "" {
			if t, err := time.Parse(time.RFC3339Nano, ts); err == nil {
				return &analytics.EventCursor{Timestamp: t, ID: id}, nil
			}
		}
	}
	return nil, apperr.BadInput("after", "is not a cursor of this connection")
}
