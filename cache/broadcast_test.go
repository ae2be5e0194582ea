package cache

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// sends records what Broadcast handed to send; block, when set, holds the
// first send until it is closed; fail makes the first send fail.
type sends struct {
	mu      sync.Mutex
	got     [][]string
	started chan struct{}
	block   chan struct{}
	fail    bool
}

func (s *sends) send(ctx context.Context, tags []string) error {
	s.mu.Lock()
	s.got = append(s.got, slices.Clone(tags))
	first := len(s.got) == 1
	s.mu.Unlock()
	if first && s.started != nil {
		close(s.started)
	}
	if first && s.block != nil {
		<-s.block
	}
	if first && s.fail {
		return errors.New("bus away")
	}
	return nil
}

func (s *sends) all() [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got)
}

// runBroadcast runs c.Broadcast(send) until the end of the test and waits
// until it keeps tags.
func runBroadcast(t *testing.T, c *Cache, send func(context.Context, []string) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Broadcast(ctx, send); close(done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("Broadcast did not return after its ctx ended")
		}
	})
	eventually(t, 5*time.Second, "Broadcast running", func() bool {
		c.out.mu.Lock()
		defer c.out.mu.Unlock()
		return c.out.on
	})
}

// TestBroadcastCoalesces: the invalidations made while a send is under
// way go out together in ONE next send, deduplicated, whatever their
// number; InvalidateLocal (news from another instance) is not sent on.
func TestBroadcastCoalesces(t *testing.T) {
	c := newTestCache(t, Config{})
	s := &sends{started: make(chan struct{}), block: make(chan struct{})}
	runBroadcast(t, c, s.send)

	c.Invalidate(context.Background(), "events")
	<-s.started
	for range 100 {
		c.Invalidate(context.Background(), "events", "users")
		c.InvalidateLocal("geo")
	}
	c.Invalidate(context.Background(), "orders")
	close(s.block)
	eventually(t, 5*time.Second, "the second send", func() bool { return len(s.all()) == 2 })
	got := s.all()
	if !slices.Equal(got[0], []string{"events"}) || !slices.Equal(got[1], []string{"events", "users", "orders"}) {
		t.Errorf("sends = %v; want [[events] [events users orders]]", got)
	}
	// Nothing else is waiting: no third send comes.
	c.Invalidate(context.Background(), "geo")
	eventually(t, 5*time.Second, "the third send", func() bool { return len(s.all()) == 3 })
	if got := s.all(); len(got) != 3 || !slices.Equal(got[2], []string{"geo"}) {
		t.Errorf("sends = %v; want a third of [geo] only", got)
	}
	if st := c.Stats(); st.Broadcasts != 3 || st.BroadcastErrors != 0 {
		t.Errorf("Broadcasts = %d, BroadcastErrors = %d; want 3, 0", st.Broadcasts, st.BroadcastErrors)
	}
}

// TestBroadcastRetriesFailedSend: the tags of a failed send go out again,
// with the ones invalidated meanwhile, in one send.
func TestBroadcastRetriesFailedSend(t *testing.T) {
	c := newTestCache(t, Config{})
	s := &sends{started: make(chan struct{}), block: make(chan struct{}), fail: true}
	runBroadcast(t, c, s.send)

	c.Invalidate(context.Background(), "events")
	<-s.started
	c.Invalidate(context.Background(), "users")
	close(s.block)
	eventually(t, 5*time.Second, "the retry", func() bool { return len(s.all()) == 2 })
	got := s.all()
	slices.Sort(got[1])
	if !slices.Equal(got[1], []string{"events", "users"}) {
		t.Errorf("retry sent %v; want [events users]", got[1])
	}
	if st := c.Stats(); st.BroadcastErrors != 1 {
		t.Errorf("BroadcastErrors = %d; want 1", st.BroadcastErrors)
	}
}

// TestNoBroadcastKeepsNothing: without a Broadcast loop Invalidate keeps
// no tags (a single instance pays nothing), and one started later does not
// send old news.
func TestNoBroadcastKeepsNothing(t *testing.T) {
	c := newTestCache(t, Config{})
	c.Invalidate(context.Background(), "events")
	if n := len(c.out.take()); n != 0 {
		t.Fatalf("%d tags kept with no Broadcast running", n)
	}
	s := &sends{}
	runBroadcast(t, c, s.send)
	c.Invalidate(context.Background(), "users")
	eventually(t, 5*time.Second, "a send", func() bool { return len(s.all()) == 1 })
	if got := s.all(); !slices.Equal(got[0], []string{"users"}) {
		t.Errorf("sent %v; want [users]", got[0])
	}
}
