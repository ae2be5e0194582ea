package observe

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Flood logs a failure that repeats — every request, message and retry
// meeting the same unreachable database — as state changes instead of one
// line each: a WARN at the first failure ("database unreachable"), then at
// most one summary per interval with what failed since ("database still
// unreachable"), and an INFO at the first success after ("database
// reachable again") with the outage's duration and totals. A 10 s
// PostgreSQL outage used to write 25,091 lines; through a Flood it writes
// three.
//
// Each call site says what failed ("requests", "messages deferred", "relay
// passes"), and one Flood is shared by every component that depends on the
// same resource, so the outage is told once whoever met it. The zero value
// is not usable: see NewFlood. A nil *Flood logs nothing and counts nothing.
type Flood struct {
	log   *slog.Logger
	name  string
	every time.Duration
	now   func() time.Time // time.Now; tests step it

	// isDown mirrors down for OK's fast path: OK is called on every
	// success, and most of the time nothing is down.
	isDown atomic.Bool

	mu       sync.Mutex
	down     bool
	since    time.Time // the first failure of the outage
	lastLog  time.Time
	lastFail time.Time
	lastErr  error
	interval map[string]int // failures since the last line
	total    map[string]int // failures of the outage
}

// floodSettle is how long after the last failure a success must come to
// end an outage: requests in flight when the database went away, or a
// pooled connection that still answered, succeed among the failures, and
// each would otherwise log a recovery and a new outage.
const floodSettle = time.Second

// NewFlood returns a Flood about resource name ("database"), logging to
// log a summary at most every interval (10 s when zero or less).
func NewFlood(log *slog.Logger, name string, every time.Duration) *Flood {
	if log == nil {
		log = slog.Default()
	}
	if every <= 0 {
		every = 10 * time.Second
	}
	return &Flood{log: log, name: name, every: every, now: time.Now}
}

// Fail counts one failure of kind what caused by err: the first of an
// outage is logged at once, later ones in the next summary.
func (f *Flood) Fail(ctx context.Context, what string, err error) {
	if f == nil {
		return
	}
	f.mu.Lock()
	now := f.now()
	f.lastErr, f.lastFail = err, now
	if !f.down {
		f.down, f.since, f.lastLog = true, now, now
		f.isDown.Store(true)
		f.interval, f.total = map[string]int{}, map[string]int{what: 1}
		f.mu.Unlock()
		f.log.WarnContext(ctx, f.name+" unreachable", "what", what, "err", err)
		return
	}
	f.interval[what]++
	f.total[what]++
	if now.Sub(f.lastLog) < f.every {
		f.mu.Unlock()
		return
	}
	counts := f.interval
	f.interval, f.lastLog = map[string]int{}, now
	since := now.Sub(f.since)
	f.mu.Unlock()
	f.log.WarnContext(ctx, f.name+" still unreachable", "for", since.Round(time.Millisecond).String(), "failed", group(counts), "err", err)
}

// OK reports a success that needed the resource: after an outage, once a
// second has passed without a failure, it logs the recovery, with how long
// the outage lasted and what failed in it.
func (f *Flood) OK(ctx context.Context) {
	if f == nil || !f.isDown.Load() {
		return
	}
	f.mu.Lock()
	if !f.down || f.now().Sub(f.lastFail) < floodSettle {
		f.mu.Unlock()
		return
	}
	f.endLocked(ctx)
}

// Over ends the outage at once, without OK's settling second: for a
// caller that knows the resource is back (a connection re-established),
// not merely that one call got through among failures.
func (f *Flood) Over(ctx context.Context) {
	if f == nil || !f.isDown.Load() {
		return
	}
	f.mu.Lock()
	if !f.down {
		f.mu.Unlock()
		return
	}
	f.endLocked(ctx)
}

// endLocked logs the recovery and resets the outage; it is called with
// f.mu held and releases it before logging.
func (f *Flood) endLocked(ctx context.Context) {
	took := f.now().Sub(f.since)
	total, last := f.total, f.lastErr
	f.down, f.interval, f.total, f.lastErr = false, nil, nil, nil
	f.isDown.Store(false)
	f.mu.Unlock()
	f.log.InfoContext(ctx, f.name+" reachable again", "after", took.Round(time.Millisecond).String(), "failed", group(total), "last_err", last)
}

// Down reports whether the last word was a failure.
func (f *Flood) Down() bool {
	if f == nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.down
}

// group is counts as a log group, its keys in a stable order.
func group(counts map[string]int) slog.Value {
	attrs := make([]slog.Attr, 0, len(counts))
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		attrs = append(attrs, slog.Int(k, counts[k]))
	}
	return slog.GroupValue(attrs...)
}
