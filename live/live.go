// Package live streams tracked events and sign-ups to GraphQL subscribers
// across server instances: every instance publishes the events it stores to the bus's
// fanout exchange and consumes that exchange through a queue of its own, so
// a subscriber on instance B sees an event tracked on instance A.
//
// Slow subscribers never block publishers: each subscriber has a bounded
// buffer; an event that finds it full is dropped for that subscriber (and
// counted), and a subscriber that dropped more than MaxDrops events in a row
// is disconnected — its channel closes and the client sees the
// subscription complete, free to resubscribe.
package live

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/broker"
)

// Message types on the analytics fanout.
const (
	// EventTracked carries a batch of stored events.
	EventTracked = "event.tracked"
	// UserSignedUp carries one SignUp, announced by the signup consumer.
	UserSignedUp = "user.signed_up"
)

// SignUp is a new user as the signup consumer validated and enriched it.
type SignUp struct {
	UserID      int       `json:"userId"`
	Username    string    `json:"username"`
	CountryCode string    `json:"countryCode,omitempty"`
	City        string    `json:"city,omitempty"`
	EmailDomain string    `json:"emailDomain"`
	SignedUpAt  time.Time `json:"signedUpAt"`
}

// Defaults of a Hub.
const (
	DefaultBuffer   = 256
	DefaultMaxDrops = 1024
	publishQueue    = 64
)

// Hub fans events out to this instance's subscribers and relays stored
// events to the other instances.
type Hub struct {
	bus     broker.Bus
	log     *slog.Logger
	out     chan []analytics.Event
	events  *topic[*analytics.Event]
	signups *topic[*SignUp]

	mu      sync.Mutex
	windows map[windowKey]*metricsWindow // shared liveMetrics windows

	dropped   atomic.Int64
	published atomic.Int64
	lost      atomic.Int64
}

// New returns a hub over bus.
func New(bus broker.Bus, log *slog.Logger) *Hub {
	if log == nil {
		log = slog.Default()
	}
	h := &Hub{bus: bus, log: log, out: make(chan []analytics.Event, publishQueue), windows: map[windowKey]*metricsWindow{}}
	h.events = newTopic[*analytics.Event](&h.dropped)
	h.signups = newTopic[*SignUp](&h.dropped)
	return h
}

// Stored hands newly stored events to the hub for every instance's
// subscribers. It never blocks the ingest path: when the outgoing queue is
// full the batch is dropped from the live stream (not from the store) and
// counted.
func (h *Hub) Stored(events []analytics.Event) {
	if len(events) == 0 {
		return
	}
	select {
	case h.out <- events:
	default:
		h.lost.Add(int64(len(events)))
	}
}

// Run publishes stored events to the fanout and delivers the fanout's
// events to local subscribers, until ctx ends.
func (h *Hub) Run(ctx context.Context) error {
	go h.publishLoop(ctx)
	err := h.bus.Consume(ctx, broker.Subscription{
		Queue:       "live",
		Exchange:    broker.ExchangeAnalytics,
		Exclusive:   true,
		Prefetch:    256,
		MaxAttempts: 1,
	}, h.receive)
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("live: consume: %w", err)
	}
	return nil
}

func (h *Hub) publishLoop(ctx context.Context) {
	n := 0
	for {
		select {
		case <-ctx.Done():
			return
		case evs := <-h.out:
			body, err := json.Marshal(evs)
			if err != nil {
				h.log.ErrorContext(ctx, "live: encode events", "error", err)
				continue
			}
			n++
			msg := broker.Message{ID: fmt.Sprintf("%s-%d", evs[0].ID, n), Type: EventTracked, OccurredAt: evs[0].Timestamp, SchemaVersion: 1, Body: body}
			if err := h.bus.Publish(ctx, broker.ExchangeAnalytics, msg); err != nil {
				h.lost.Add(int64(len(evs)))
				if ctx.Err() == nil {
					h.log.WarnContext(ctx, "live: publish failed; these events are missing from live streams", "events", len(evs), "error", err)
				}
				continue
			}
			h.published.Add(int64(len(evs)))
		}
	}
}

// receive delivers one fanout message to the local subscribers.
func (h *Hub) receive(_ context.Context, m broker.Message) error {
	switch m.Type {
	case EventTracked:
		var evs []analytics.Event
		if err := json.Unmarshal(m.Body, &evs); err != nil {
			return broker.Permanent(fmt.Errorf("live: decode %s: %w", m.ID, err))
		}
		items := make([]*analytics.Event, len(evs))
		for i := range evs {
			items[i] = &evs[i]
		}
		h.events.deliver(items)
	case UserSignedUp:
		var su SignUp
		if err := json.Unmarshal(m.Body, &su); err != nil {
			return broker.Permanent(fmt.Errorf("live: decode %s: %w", m.ID, err))
		}
		h.signups.deliver([]*SignUp{&su})
	}
	return nil
}

// Subscribe returns a channel of the events that pass filter, closed when
// ctx ends or the subscriber is disconnected for falling behind.
func (h *Hub) Subscribe(ctx context.Context, filter func(*analytics.Event) bool, buffer int) <-chan *analytics.Event {
	return h.events.subscribe(ctx, filter, buffer)
}

// SubscribeSignUps returns a channel of the sign-ups in countryCode (every
// sign-up when it is empty), closed like Subscribe's.
func (h *Hub) SubscribeSignUps(ctx context.Context, countryCode string, buffer int) <-chan *SignUp {
	var filter func(*SignUp) bool
	if countryCode != "" {
		filter = func(s *SignUp) bool { return strings.EqualFold(s.CountryCode, countryCode) }
	}
	return h.signups.subscribe(ctx, filter, buffer)
}

// Stats are the hub's counters.
type Stats struct {
	Subscribers int
	Published   int64 // events sent to the fanout by this instance
	Dropped     int64 // deliveries dropped for slow subscribers
	Lost        int64 // events that could not be put on the fanout
}

// Stats returns the counters.
func (h *Hub) Stats() Stats {
	n := h.events.len() + h.signups.len()
	return Stats{Subscribers: n, Published: h.published.Load(), Dropped: h.dropped.Load(), Lost: h.lost.Load()}
}
