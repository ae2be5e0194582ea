package live

import (
	"context"
	"sync"
	"sync/atomic"
)

// topic is one kind of live item and its local subscribers. Delivery never
// blocks: each subscriber has a bounded buffer, an item that finds it full
// is dropped for that subscriber, and a subscriber that dropped more than
// DefaultMaxDrops items in a row is disconnected (its channel closes).
type topic[T any] struct {
	mu      sync.Mutex
	subs    map[*subscriber[T]]struct{}
	dropped *atomic.Int64 // shared by the hub's topics
}

type subscriber[T any] struct {
	ch     chan T
	filter func(T) bool
	drops  int
	closed bool
}

func newTopic[T any](dropped *atomic.Int64) *topic[T] {
	return &topic[T]{subs: map[*subscriber[T]]struct{}{}, dropped: dropped}
}

// subscribe returns a channel of the items that pass filter (nil passes
// all), closed when ctx ends or the subscriber is disconnected.
func (t *topic[T]) subscribe(ctx context.Context, filter func(T) bool, buffer int) <-chan T {
	if buffer <= 0 {
		buffer = DefaultBuffer
	}
	s := &subscriber[T]{ch: make(chan T, buffer), filter: filter}
	t.mu.Lock()
	t.subs[s] = struct{}{}
	t.mu.Unlock()
	context.AfterFunc(ctx, func() { t.remove(s) })
	return s.ch
}

func (t *topic[T]) remove(s *subscriber[T]) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closeLocked(s)
}

func (t *topic[T]) closeLocked(s *subscriber[T]) {
	if !s.closed {
		s.closed = true
		close(s.ch)
		delete(t.subs, s)
	}
}

// deliver offers every item to every matching subscriber without blocking.
func (t *topic[T]) deliver(items []T) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for s := range t.subs {
		for _, it := range items {
			if s.closed {
				break
			}
			if s.filter != nil && !s.filter(it) {
				continue
			}
			select {
			case s.ch <- it:
				s.drops = 0
			default:
				t.dropped.Add(1)
				s.drops++
				if s.drops > DefaultMaxDrops {
					t.closeLocked(s)
				}
			}
		}
	}
}

func (t *topic[T]) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.subs)
}
