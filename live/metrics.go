package live

import (
	"context"
	"sort"
	"time"

	"github.com/meridian-graphql/meridian/analytics"
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

// GroupBy is what a metrics window counts events by.
type GroupBy string

// The keys of a metrics window.
const (
	ByType    GroupBy = "type"
	ByCountry GroupBy = "country"
)

func (g GroupBy) key(e *analytics.Event) string {
	if g == ByCountry {
		if e.Geo == nil {
			return ""
		}
		return e.Geo.Country
	}
	return e.Type
}

// windowKey identifies the windows every subscriber of the same shape
// shares.
type windowKey struct {
	window, interval time.Duration
	by               GroupBy
}

// metricsWindow is one rolling count and the subscribers it sends snapshots to.
type metricsWindow struct {
	subs   map[chan Snapshot]struct{} // under Hub.mu
	cancel context.CancelFunc
}

// Metrics streams a snapshot every interval of the events seen in the last
// window, grouped by. Every subscriber of the same (window, interval, by)
// shares one rolling count: one hub subscription and one tally per tick,
// whatever the number of subscribers. It counts the events of every
// instance. The channel closes with ctx, or when the shared count ends
// (its hub subscription fell too far behind).
func (h *Hub) Metrics(ctx context.Context, window, interval time.Duration, by GroupBy) <-chan Snapshot {
	k := windowKey{window, interval, by}
	out := make(chan Snapshot, 1)
	h.mu.Lock()
	w := h.windows[k]
	if w == nil {
		wctx, cancel := context.WithCancel(context.Background())
		w = &metricsWindow{subs: map[chan Snapshot]struct{}{}, cancel: cancel}
		h.windows[k] = w
		go h.count(wctx, k, w, h.Subscribe(wctx, nil, 4096))
	}
	w.subs[out] = struct{}{}
	h.mu.Unlock()
	context.AfterFunc(ctx, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if _, ok := w.subs[out]; !ok {
			return // the window ended first and closed it
		}
		delete(w.subs, out)
		close(out)
		if len(w.subs) == 0 {
			if h.windows[k] == w {
				delete(h.windows, k)
			}
			w.cancel()
		}
	})
	return out
}

// count runs one shared window until its last subscriber leaves.
func (h *Hub) count(ctx context.Context, k windowKey, w *metricsWindow, events <-chan *analytics.Event) {
	defer func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.windows[k] == w {
			delete(h.windows, k)
		}
		for out := range w.subs {
			delete(w.subs, out)
			close(out)
		}
		w.cancel()
	}()
	type seen struct {
		at  time.Time
		key string
	}
	var buf []seen // arrival order; pruned from the front
	t := time.NewTicker(k.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-events:
			if !ok {
				return
			}
			buf = append(buf, seen{time.Now(), k.by.key(e)})
		case now := <-t.C:
			cut := 0
			for cut < len(buf) && now.Sub(buf[cut].at) > k.window {
				cut++
			}
			buf = buf[cut:]
			counts := map[string]int{}
			for _, s := range buf {
				counts[s.key]++
			}
			snap := Snapshot{At: now.UTC(), Window: k.window, Total: len(buf)}
			for key, n := range counts {
				snap.Groups = append(snap.Groups, Group{Key: key, Count: n})
			}
			sort.Slice(snap.Groups, func(i, j int) bool {
				if snap.Groups[i].Count != snap.Groups[j].Count {
					return snap.Groups[i].Count > snap.Groups[j].Count
				}
				return snap.Groups[i].Key < snap.Groups[j].Key
			})
			h.mu.Lock()
			for out := range w.subs {
				select {
				case out <- snap:
				default: // that client has not taken the last one: skip this tick
				}
			}
			h.mu.Unlock()
		}
	}
}

// Windows is the number of shared metrics windows running.
func (h *Hub) Windows() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.windows)
}
