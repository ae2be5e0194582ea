package live_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/broker/inproc"
	"github.com/meridian-graphql/meridian/live"
)

func events(n, from int) []analytics.Event {
	out := make([]analytics.Event, n)
	for i := range out {
		out[i] = analytics.Event{ID: "e" + strconv.Itoa(from+i), UserID: 1, Type: "click", Timestamp: time.Now().UTC()}
	}
	return out
}

// runHub is a hub on the in-process bus, running until ctx ends.
func runHub(t *testing.T, ctx context.Context) *live.Hub {
	t.Helper()
	bus := inproc.New(inproc.Options{})
	t.Cleanup(func() { bus.Close() })
	hub := live.New(bus, nil)
	go hub.Run(ctx) //nolint:errcheck // ends with ctx
	return hub
}

// TestSlowSubscriberIsDroppedNotWaitedFor: a subscriber that never reads
// loses events beyond its buffer and is disconnected after MaxDrops in a
// row, while a reading subscriber receives every event and ingest never
// blocks.
func TestSlowSubscriberIsDroppedNotWaitedFor(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	hub := runHub(t, ctx)

	slow := hub.Subscribe(ctx, nil, 4)
	// Big enough for a burst: a message carries a whole ingest batch.
	fast := hub.Subscribe(ctx, func(e *analytics.Event) bool { return e.Type == "click" }, 4096)
	const total = live.DefaultMaxDrops + 200
	received := make(chan int)
	go func() {
		n := 0
		for range fast {
			n++
			if n == total {
				break
			}
		}
		received <- n
	}()
	// The consumer attaches asynchronously: send until the fast subscriber
	// sees traffic, then the measured batch.
	for hub.Stats().Published == 0 || len(slow) == 0 {
		hub.Stored(events(1, -1))
		time.Sleep(10 * time.Millisecond)
		if ctx.Err() != nil {
			t.Fatal("hub never delivered")
		}
	}
	start := time.Now()
	for i := 0; i < total; i += 50 {
		hub.Stored(events(50, i))
	}
	if el := time.Since(start); el > time.Second {
		t.Errorf("handing %d events to the hub took %s", total, el)
	}
	select {
	case n := <-received:
		if n != total {
			t.Errorf("fast subscriber got %d of %d", n, total)
		}
	case <-ctx.Done():
		t.Fatal("fast subscriber starved")
	}
	// The slow one was disconnected: its channel drains its buffer, then closes.
	deadline := time.After(5 * time.Second)
	for open := true; open; {
		select {
		case _, open = <-slow:
		case <-deadline:
			t.Fatal("slow subscriber still connected")
		}
	}
	if st := hub.Stats(); st.Dropped <= live.DefaultMaxDrops || st.Subscribers != 1 {
		t.Errorf("stats = %+v", st)
	}
}

// TestMetricsWindowsAreShared: subscribers of the same (window, interval,
// groupBy) share one rolling count — one hub subscription — and each gets
// its snapshots; another shape is another window; the last subscriber to
// leave stops it.
func TestMetricsWindowsAreShared(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	hub := runHub(t, ctx)

	subCtx, unsubscribe := context.WithCancel(ctx)
	a := hub.Metrics(subCtx, time.Minute, 50*time.Millisecond, live.ByType)
	b := hub.Metrics(subCtx, time.Minute, 50*time.Millisecond, live.ByType)
	c := hub.Metrics(subCtx, time.Minute, 50*time.Millisecond, live.ByCountry)
	if w, s := hub.Windows(), hub.Stats().Subscribers; w != 2 || s != 2 {
		t.Fatalf("windows = %d, hub subscribers = %d; want 2 and 2 for 3 subscribers of 2 shapes", w, s)
	}
	hub.Stored(events(3, 0))
	for name, ch := range map[string]<-chan live.Snapshot{"a": a, "b": b, "c": c} {
		for {
			snap, ok := <-ch
			if !ok {
				t.Fatalf("%s closed", name)
			}
			if snap.Total == 3 {
				break
			}
		}
	}
	unsubscribe()
	for _, ch := range []<-chan live.Snapshot{a, b, c} {
		for range ch { // drains to the close
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for hub.Windows() != 0 || hub.Stats().Subscribers != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("windows = %d, hub subscribers = %d after everyone left", hub.Windows(), hub.Stats().Subscribers)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
