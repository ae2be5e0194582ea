package live

import (
	"context"
	"sort"
	"time"

	"meridian/analytics"
)

// Group is one key of a metrics snapshot.
type Group struct {
	Key   string
	Count int
}

// Snapshot is the rolling count of the events of the last Window.
type Snapshot struct {
	At     time.Time
	Window time.Duration
	Total  int
	Groups []Group // largest first, ties by key
}

// Metrics streams a snapshot every interval of the events seen in the last
// window, grouped by key(event). It subscribes to the hub like any client,
// so it counts the events of every instance. The channel closes with ctx.
func (h *Hub) Metrics(ctx context.Context, window, interval time.Duration, key func(*analytics.Event) string) <-chan Snapshot {
	events := h.Subscribe(ctx, nil, 4096)
	out := make(chan Snapshot, 1)
	go func() {
		defer close(out)
		type seen struct {
			at  time.Time
			key string
		}
		var buf []seen // arrival order; pruned from the front
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-events:
				if !ok {
					return
				}
				buf = append(buf, seen{time.Now(), key(e)})
			case now := <-t.C:
				cut := 0
				for cut < len(buf) && now.Sub(buf[cut].at) > window {
					cut++
				}
				buf = buf[cut:]
				counts := map[string]int{}
				for _, s := range buf {
					counts[s.key]++
				}
				snap := Snapshot{At: now.UTC(), Window: window, Total: len(buf)}
				for k, n := range counts {
					snap.Groups = append(snap.Groups, Group{Key: k, Count: n})
				}
				sort.Slice(snap.Groups, func(i, j int) bool {
					if snap.Groups[i].Count != snap.Groups[j].Count {
						return snap.Groups[i].Count > snap.Groups[j].Count
					}
					return snap.Groups[i].Key < snap.Groups[j].Key
				})
				select {
				case out <- snap:
				default: // the client has not taken the last one: skip this tick
				}
			}
		}
	}()
	return out
}
