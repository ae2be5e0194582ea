// Package rabbit is the RabbitMQ adapter of the broker port (AMQP 0-9-1 via
// amqp091-go).
//
// Shape of the adapter:
//   - One connection per Bus, re-dialled with exponential backoff whenever
//     it closes; the exchanges are re-declared and every running Consume
//     re-attaches (re-declaring its queues) on the new connection. The
//     outage is logged as state changes (outage.go), not per attempt.
//   - One publisher channel in confirm mode. Publish waits for the broker's
//     ack of each of its messages; messages whose confirm was lost with the
//     connection are republished on the next one (same MessageId, so
//     consumers may see duplicates but nothing is lost). A nack is an error.
//   - One channel per Consume with QoS(prefetch) and manual acks; the ack is
//     sent only after the handler returned nil.
//   - Retries go through per-queue delay queues "<queue>.retry.<n>" whose
//     TTL is the n-th backoff and whose dead-letter target is the work
//     queue, so a failing message never occupies a consumer while it waits.
//     Exhausted or Permanent failures go to "<queue>.dlq".
//
// Work queues and dead-letter queues are quorum queues when the server
// supports them (RabbitMQ 3.8 and later; Config.QueueType overrides): they
// are replicated on a cluster and keep messages through a node restart.
// Delay queues stay classic, as they only hold messages for their TTL and
// per-message TTL on quorum queues needs 3.10. A queue's type cannot change
// once declared: switching an existing deployment means deleting its
// queues first. Exclusive subscriptions get a per-instance exclusive
// auto-delete (classic) queue; their retry queues expire on their own (x-expires) and their dead
// letters are logged and dropped, because nobody could replay them.
//
// Files: rabbit.go (Config, Bus, Open, Ping, Close), connection.go (dial,
// reconnect supervisor, sessions), message.go (wire format), publish.go
// (publisher confirms), consume.go (consumer loop, ack, retry and
// dead-letter hand-off), topology.go (queue declaration, Teardown),
// admin.go (broker.Admin: depths, dead-letter replay and purge) and
// outage.go (how an outage is logged).
package rabbit

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/meridian-graphql/meridian/broker"
)

// Config configures a Bus.
type Config struct {
	// URL is the AMQP URL, e.g. amqp://guest:guest@127.0.0.1:5672/.
	URL string
	// Prefix is prepended to every exchange and queue name. Tests use a
	// unique prefix so parallel runs never share topology; production
	// leaves it empty.
	Prefix string
	// ConnectionName shows up in rabbitmqctl list_connections.
	ConnectionName string
	// QueueType is "quorum" or "classic" for work and dead-letter queues;
	// empty picks quorum when the server supports it.
	QueueType string
	// ReconnectMaxInterval caps the reconnect backoff (default 5s).
	ReconnectMaxInterval time.Duration
	Logger               *slog.Logger
}

// ConfigFromEnv reads AMQP_URL.
func ConfigFromEnv() (Config, error) {
	url := os.Getenv("AMQP_URL")
	if url == "" {
		return Config{}, errors.New("rabbit: AMQP_URL is not set")
	}
	return Config{URL: url}, nil
}

// Bus is the RabbitMQ adapter. Create it with Open.
type Bus struct {
	cfg    Config
	log    *slog.Logger
	ctx    context.Context // ends on Close
	cancel context.CancelFunc

	queueType string // of durable work and dead-letter queues
	outage    *outage

	mu       sync.Mutex
	closed   bool
	sess     *session
	changed  chan struct{}       // closed and replaced whenever sess changes
	declared map[string]struct{} // queues this bus declared, for Teardown
	// wg counts the supervisor, session watchers and running Consume
	// calls; Add happens under mu while !closed (or from a goroutine that
	// is itself counted), so it never races Wait.
	wg sync.WaitGroup
}

var (
	_ broker.Bus   = (*Bus)(nil)
	_ broker.Admin = (*Bus)(nil)
)

// Open connects (retrying until ctx ends), declares the topology and starts
// the reconnect supervisor.
func Open(ctx context.Context, cfg Config) (*Bus, error) {
	if cfg.URL == "" {
		return nil, errors.New("rabbit: empty URL")
	}
	if cfg.ConnectionName == "" {
		cfg.ConnectionName = "meridian"
	}
	if cfg.ReconnectMaxInterval <= 0 {
		cfg.ReconnectMaxInterval = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	bctx, cancel := context.WithCancel(context.Background())
	b := &Bus{
		cfg:      cfg,
		log:      cfg.Logger.With("component", "broker.rabbit"),
		ctx:      bctx,
		cancel:   cancel,
		changed:  make(chan struct{}),
		declared: make(map[string]struct{}),
	}
	b.outage = newOutage(b.log)
	s, err := b.dial(ctx)
	if err != nil {
		cancel()
		return nil, err
	}
	b.sess = s
	b.queueType = queueType(cfg.QueueType, s.conn)
	b.wg.Add(1)
	go b.supervise(s)
	return b, nil
}

func (b *Bus) name(n string) string { return b.cfg.Prefix + n }

// Ping reports whether a live connection exists right now.
func (b *Bus) Ping(ctx context.Context) error {
	b.mu.Lock()
	s, closed := b.sess, b.closed
	b.mu.Unlock()
	if closed {
		return broker.ErrClosed
	}
	if s.isDead() || s.conn.IsClosed() {
		return errors.New("rabbit: not connected")
	}
	return ctx.Err()
}

// Close stops consumers (their unacked deliveries return to the queues),
// closes the connection and waits for every goroutine of the bus.
func (b *Bus) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	b.mu.Unlock()
	b.cancel()
	b.wg.Wait()
	return nil
}

// Prefix is the configured name prefix of exchanges and queues.
func (b *Bus) Prefix() string { return b.cfg.Prefix }
