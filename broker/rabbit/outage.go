package rabbit

import (
	"context"
	"log/slog"
	"sync"

	"github.com/meridian-graphql/meridian/platform/observe"
)

// outage tells a lost connection as state changes, not as a line per
// reconnect attempt and per consumer: a WARN when the connection goes
// ("RabbitMQ unreachable"), at most a summary per interval while the dial
// keeps failing, an INFO when a connection is back ("RabbitMQ reachable
// again", with the outage's duration and its failed attempts), and one
// line when every consumer the outage detached is attached again. A 10 s
// outage with five consumers used to log ~10 "connect failed" lines and a
// "consumer detached" per queue.
type outage struct {
	flood *observe.Flood
	log   *slog.Logger

	mu sync.Mutex
	// detached counts consumers the connection loss detached and not
	// attached again yet; back those that re-attached since the last
	// summary.
	detached, back int
}

func newOutage(log *slog.Logger) *outage {
	return &outage{flood: observe.NewFlood(log, "RabbitMQ", 0), log: log}
}

// lost reports the connection gone (err is why, nil if unknown).
func (o *outage) lost(ctx context.Context, err error) { o.flood.Fail(ctx, "connection lost", err) }

// dialFailed reports one failed connect attempt.
func (o *outage) dialFailed(ctx context.Context, err error) {
	o.flood.Fail(ctx, "connect attempts", err)
}

// connected reports a connection established: the outage, if any, is over.
func (o *outage) connected(ctx context.Context) { o.flood.Over(ctx) }

// consumerLost counts a consumer detached by the connection loss.
func (o *outage) consumerLost() {
	o.mu.Lock()
	o.detached++
	o.mu.Unlock()
}

// consumerBack counts a detached consumer attached again; the last one of
// the outage logs the summary.
func (o *outage) consumerBack(ctx context.Context) {
	o.mu.Lock()
	o.detached--
	o.back++
	n, done := o.back, o.detached == 0
	if done {
		o.back = 0
	}
	o.mu.Unlock()
	if done {
		o.log.InfoContext(ctx, "consumers re-attached", "queues", n)
	}
}

// consumerGone uncounts a detached consumer that stopped before it could
// attach again.
func (o *outage) consumerGone(ctx context.Context) {
	o.mu.Lock()
	o.detached--
	n, done := o.back, o.detached == 0 && o.back > 0
	if done {
		o.back = 0
	}
	o.mu.Unlock()
	if done {
		o.log.InfoContext(ctx, "consumers re-attached", "queues", n)
	}
}
