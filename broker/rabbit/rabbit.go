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
package rabbit

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/meridian-graphql/meridian/broker"
)

// Header names carried on every message.
const (
	headerAttempt       = "x-attempt"
	headerDeferrals     = "x-deferrals"
	headerSchemaVersion = "x-schema-version"
	headerOccurredAt    = "x-occurred-at"
	headerError         = "x-last-error"
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

// session is one live connection with its publisher channel. It is replaced
// as a whole on reconnect, which keeps the state machine trivial: a session
// is either alive or dead (dead closed), never repaired in place.
type session struct {
	conn  *amqp.Connection
	pubMu sync.Mutex // serialises publishes so confirms map to our messages
	pub   *amqp.Channel
	dead  chan struct{}
	err   error // why it died (nil for our own Close); set before dead closes
}

func (s *session) isDead() bool {
	select {
	case <-s.dead:
		return true
	default:
		return false
	}
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

// queueType resolves the configured queue type against the server's
// version: quorum queues exist since RabbitMQ 3.8.
func queueType(configured string, conn *amqp.Connection) string {
	if configured != "" {
		return configured
	}
	v, _ := conn.Properties["version"].(string)
	var major, minor int
	if _, err := fmt.Sscanf(v, "%d.%d", &major, &minor); err == nil && (major > 3 || major == 3 && minor >= 8) {
		return "quorum"
	}
	return "classic"
}

// QueueType is the type of the durable queues this bus declares.
func (b *Bus) QueueType() string { return b.queueType }

func (b *Bus) newBackoff() *backoff.ExponentialBackOff {
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval = 50 * time.Millisecond
	bo.MaxInterval = b.cfg.ReconnectMaxInterval
	return bo
}

// dial retries connect with backoff until it succeeds or ctx/the bus ends.
func (b *Bus) dial(ctx context.Context) (*session, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(b.ctx, cancel)
	defer stop()
	s, err := backoff.Retry(ctx, func() (*session, error) {
		s, err := b.connect()
		if err != nil {
			// Every attempt of an outage fails alike: told once, then
			// summarised (outage).
			b.outage.dialFailed(ctx, err)
		}
		return s, err
	}, backoff.WithBackOff(b.newBackoff()), backoff.WithMaxElapsedTime(0))
	if err != nil {
		return nil, fmt.Errorf("rabbit: connect: %w", err)
	}
	b.outage.connected(ctx)
	return s, nil
}

func (b *Bus) connect() (*session, error) {
	conn, err := amqp.DialConfig(b.cfg.URL, amqp.Config{
		Heartbeat:  10 * time.Second,
		Properties: amqp.Table{"connection_name": b.cfg.ConnectionName},
	})
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	fail := func(err error) (*session, error) {
		_ = conn.Close()
		return nil, err
	}
	pub, err := conn.Channel()
	if err != nil {
		return fail(fmt.Errorf("open publisher channel: %w", err))
	}
	for _, ex := range broker.Exchanges() {
		kind, _ := broker.KindOf(ex)
		// Durable so bindings of durable queues survive a broker restart.
		if err := pub.ExchangeDeclare(b.name(ex), string(kind), true, false, false, false, nil); err != nil {
			return fail(fmt.Errorf("declare exchange %s: %w", ex, err))
		}
	}
	if err := pub.Confirm(false); err != nil {
		return fail(fmt.Errorf("enable publisher confirms: %w", err))
	}
	s := &session{conn: conn, pub: pub, dead: make(chan struct{})}
	connClosed := conn.NotifyClose(make(chan *amqp.Error, 1))
	pubClosed := pub.NotifyClose(make(chan *amqp.Error, 1))
	b.wg.Add(1) // callers are Open (before any Close) or the counted supervisor
	go func() {
		defer b.wg.Done()
		select {
		case e := <-connClosed:
			if e != nil {
				s.err = e // the supervisor reports it (outage)
			}
		case e := <-pubClosed:
			// A lone publisher-channel failure is rare (we validate
			// exchanges before publishing); recycling the whole
			// connection keeps recovery on one code path. A nil error is
			// our own Close.
			if e != nil {
				b.log.Warn("publisher channel closed; recycling connection", "err", e)
			}
			_ = conn.Close()
		}
		close(s.dead)
	}()
	return s, nil
}

// supervise replaces the session each time it dies, until Close.
func (b *Bus) supervise(s *session) {
	defer b.wg.Done()
	for {
		select {
		case <-b.ctx.Done():
			_ = s.conn.Close()
			return
		case <-s.dead:
		}
		b.outage.lost(b.ctx, s.err)
		ns, err := b.dial(b.ctx)
		if err != nil {
			return // bus closed
		}
		b.mu.Lock()
		b.sess = ns
		close(b.changed)
		b.changed = make(chan struct{})
		b.mu.Unlock()
		s = ns
	}
}

// current returns a live session, waiting for a reconnect if necessary.
func (b *Bus) current(ctx context.Context) (*session, error) {
	for {
		b.mu.Lock()
		s, changed, closed := b.sess, b.changed, b.closed
		b.mu.Unlock()
		if closed {
			return nil, broker.ErrClosed
		}
		if !s.isDead() {
			return s, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-b.ctx.Done():
			return nil, broker.ErrClosed
		}
	}
}

func encode(m broker.Message) amqp.Publishing {
	attempt := m.Attempt
	if attempt < 1 {
		attempt = 1
	}
	return amqp.Publishing{
		ContentType:   "application/json",
		DeliveryMode:  amqp.Persistent,
		MessageId:     m.ID,
		Type:          m.Type,
		CorrelationId: m.CorrelationID,
		Timestamp:     m.OccurredAt, // seconds only; the header keeps full precision
		Headers: amqp.Table{
			headerAttempt:       int64(attempt),
			headerDeferrals:     int64(m.Deferrals),
			headerSchemaVersion: int64(m.SchemaVersion),
			headerOccurredAt:    m.OccurredAt.Format(time.RFC3339Nano),
		},
		Body: m.Body,
	}
}

func decode(d amqp.Delivery) broker.Message {
	m := broker.Message{
		ID:            d.MessageId,
		Type:          d.Type,
		OccurredAt:    d.Timestamp,
		SchemaVersion: int(headerInt(d.Headers, headerSchemaVersion, 0)),
		CorrelationID: d.CorrelationId,
		Attempt:       int(headerInt(d.Headers, headerAttempt, 1)),
		Deferrals:     int(headerInt(d.Headers, headerDeferrals, 0)),
		Body:          d.Body,
	}
	if s, ok := d.Headers[headerOccurredAt].(string); ok {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			m.OccurredAt = t
		}
	}
	if m.Type == "" {
		m.Type = d.RoutingKey
	}
	return m
}

// headerInt accepts every integer width because other clients (and the
// management UI) may write headers with a different AMQP type.
func headerInt(h amqp.Table, key string, def int64) int64 {
	switch v := h[key].(type) {
	case int8:
		return int64(v)
	case int16:
		return int64(v)
	case int32:
		return int64(v)
	case int64:
		return v
	case int:
		return int64(v)
	case uint8:
		return int64(v)
	case uint16:
		return int64(v)
	case uint32:
		return int64(v)
	case string:
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
	}
	return def
}

// Publish sends msgs to exchange with Message.Type as routing key and
// returns once RabbitMQ confirmed all of them. Messages whose confirm was
// lost with the connection are republished after the reconnect, until ctx
// ends.
func (b *Bus) Publish(ctx context.Context, exchange string, msgs ...broker.Message) error {
	if _, ok := broker.KindOf(exchange); !ok {
		// Checked here because publishing to a missing exchange would
		// close the shared publisher channel.
		return fmt.Errorf("rabbit: publish: unknown exchange %q", exchange)
	}
	keys := make([]string, len(msgs))
	pubs := make([]amqp.Publishing, len(msgs))
	for i, m := range msgs {
		if m.ID == "" {
			return fmt.Errorf("rabbit: publish to %s: message without ID", exchange)
		}
		m.Attempt, m.Deferrals = 1, 0
		keys[i], pubs[i] = m.Type, encode(m)
	}
	if err := b.publish(ctx, b.name(exchange), keys, pubs); err != nil {
		return fmt.Errorf("rabbit: publish to %s: %w", exchange, err)
	}
	return nil
}

func (b *Bus) publish(ctx context.Context, exchange string, keys []string, pubs []amqp.Publishing) error {
	pending := make([]int, len(pubs))
	for i := range pending {
		pending[i] = i
	}
	for {
		s, err := b.current(ctx)
		if err != nil {
			return err
		}
		var retry []int
		var lastErr error
		dcs := make([]*amqp.DeferredConfirmation, 0, len(pending))
		s.pubMu.Lock()
		for i, idx := range pending {
			dc, err := s.pub.PublishWithDeferredConfirmWithContext(ctx, exchange, keys[idx], false, false, pubs[idx])
			if err != nil {
				if ctx.Err() != nil {
					s.pubMu.Unlock()
					return fmt.Errorf("publish %s: %w", pubs[idx].MessageId, err)
				}
				// Usually a write on a connection that is going away
				// (reset by peer) before the library noticed; the wait
				// for s.dead below tells the two cases apart.
				lastErr = fmt.Errorf("publish %s: %w", pubs[idx].MessageId, err)
				retry = append(retry, pending[i:]...)
				break
			}
			dcs = append(dcs, dc)
		}
		s.pubMu.Unlock()
		for i, dc := range dcs {
			ok, err := dc.WaitContext(ctx)
			if err != nil {
				return fmt.Errorf("wait for confirm of %s: %w", pubs[pending[i]].MessageId, err)
			}
			if ok {
				continue
			}
			// The library nacks pending confirms when the channel shuts
			// down (after marking it closed), so a closed channel means
			// "outcome unknown": republish. Otherwise it was a real nack.
			if s.pub.IsClosed() {
				retry = append(retry, pending[i])
				continue
			}
			return fmt.Errorf("broker nacked message %s", pubs[pending[i]].MessageId)
		}
		if len(retry) == 0 {
			return nil
		}
		slices.Sort(retry) // keep the caller's order as far as possible
		pending = retry
		// Debug: the connection loss is told once by the supervisor.
		b.log.Debug("connection lost during publish; republishing", "messages", len(pending))
		// Wait until the watcher has marked the session dead so current()
		// does not hand us the same broken session again.
		t := time.NewTimer(5 * time.Second)
		select {
		case <-s.dead:
			t.Stop()
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
			if lastErr == nil {
				lastErr = errors.New("publisher channel closed")
			}
			return fmt.Errorf("connection still up after failed publish: %w", lastErr)
		}
	}
}

// Consume declares the subscription's queues and bindings and runs h for
// every delivery until ctx ends (nil) or the bus closes (ErrClosed). After a
// connection loss it waits for the reconnect and attaches again.
func (b *Bus) Consume(ctx context.Context, sub broker.Subscription, h broker.Handler) error {
	sub.Batch = 1
	return b.ConsumeBatch(ctx, sub, broker.Single(h))
}

// ConsumeBatch is Consume with up to sub.Batch deliveries per handler call.
func (b *Bus) ConsumeBatch(ctx context.Context, sub broker.Subscription, h broker.BatchHandler) error {
	if err := sub.Validate(); err != nil {
		return err
	}
	sub = sub.WithDefaults()
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return broker.ErrClosed
	}
	b.wg.Add(1)
	b.mu.Unlock()
	defer b.wg.Done()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(b.ctx, cancel)
	defer stop()

	// lost: the connection loss detached this consumer and it is not
	// attached again yet (the outage counts it, to tell the re-attachment
	// of every consumer in one line).
	lost := false
	defer func() {
		if lost {
			b.outage.consumerGone(b.ctx)
		}
	}()
	attachedAgain := func() {
		if lost {
			lost = false
			b.outage.consumerBack(b.ctx)
		}
	}
	bo := b.newBackoff()
	for {
		s, err := b.current(ctx)
		if err != nil {
			break
		}
		attached, err := b.consumeOnce(ctx, s, sub, h, attachedAgain)
		if ctx.Err() != nil {
			break
		}
		if attached {
			bo.Reset()
		}
		wait := bo.NextBackOff()
		// IsClosed turns true as the library starts shutting the
		// connection down, before the watcher marks the session dead.
		if s.isDead() || s.conn.IsClosed() {
			if !lost {
				lost = true
				b.outage.consumerLost()
			}
			b.log.Debug("consumer detached by the connection loss; re-attaching", "queue", sub.Queue, "err", err, "in", wait)
		} else {
			b.log.Warn("consumer detached; re-attaching", "queue", sub.Queue, "err", err, "in", wait)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
	if b.ctx.Err() != nil {
		return broker.ErrClosed
	}
	return nil
}

type queueNames struct {
	work string
	dlq  string // empty for exclusive queues
}

func (n queueNames) retry(attempt int) string { return n.work + ".retry." + strconv.Itoa(attempt) }

// declare creates the work queue, its delay queues and its DLQ, and binds
// the work queue. Re-declaring is idempotent, which is what makes
// re-attaching after a reconnect safe.
func (b *Bus) declare(ch *amqp.Channel, sub broker.Subscription) (queueNames, error) {
	var n queueNames
	durable, exclusive, autoDelete := true, false, false
	args := amqp.Table{"x-queue-type": b.queueType}
	if sub.Exclusive {
		args = amqp.Table{"x-queue-type": "classic"}
		base := sub.Queue
		if base == "" {
			base = "live"
		}
		// A fresh name per attachment: the old exclusive queue may still be
		// being deleted after a connection loss.
		n.work = b.name(base) + ".excl." + rand.Text()[:12]
		durable, exclusive, autoDelete = false, true, true
	} else {
		n.work = b.name(sub.Queue)
		n.dlq = n.work + ".dlq"
	}
	if _, err := ch.QueueDeclare(n.work, durable, autoDelete, exclusive, false, args); err != nil {
		return n, fmt.Errorf("declare %s: %w", n.work, err)
	}
	names := []string{n.work}
	for attempt := 1; attempt < sub.MaxAttempts; attempt++ {
		rargs := amqp.Table{
			"x-queue-type":              "classic",
			"x-message-ttl":             sub.Delay(attempt).Milliseconds(),
			"x-dead-letter-exchange":    "",
			"x-dead-letter-routing-key": n.work,
		}
		if sub.Exclusive {
			// Nobody deletes these explicitly; let RabbitMQ drop them once
			// idle for well beyond their TTL.
			rargs["x-expires"] = sub.Delay(attempt).Milliseconds() + time.Minute.Milliseconds()
		}
		name := n.retry(attempt)
		if _, err := ch.QueueDeclare(name, !sub.Exclusive, false, false, false, rargs); err != nil {
			return n, fmt.Errorf("declare %s: %w", name, err)
		}
		names = append(names, name)
	}
	if n.dlq != "" {
		if _, err := ch.QueueDeclare(n.dlq, true, false, false, false, args); err != nil {
			return n, fmt.Errorf("declare %s: %w", n.dlq, err)
		}
		names = append(names, n.dlq)
	}
	keys := sub.Bindings
	if len(keys) == 0 {
		keys = []string{""}
	}
	for _, k := range keys {
		if err := ch.QueueBind(n.work, k, b.name(sub.Exchange), false, nil); err != nil {
			return n, fmt.Errorf("bind %s to %s/%s: %w", n.work, sub.Exchange, k, err)
		}
	}
	b.mu.Lock()
	for _, q := range names {
		b.declared[q] = struct{}{}
	}
	b.mu.Unlock()
	return n, nil
}

// consumeOnce serves one attachment on session s, calling onAttach once it
// consumes. attached reports whether it got as far.
func (b *Bus) consumeOnce(ctx context.Context, s *session, sub broker.Subscription, h broker.BatchHandler, onAttach func()) (attached bool, err error) {
	ch, err := s.conn.Channel()
	if err != nil {
		return false, fmt.Errorf("open consumer channel: %w", err)
	}
	// Closing the channel returns every unacked delivery to the queue:
	// that is what makes "ack only after success" safe on shutdown.
	defer func() { _ = ch.Close() }()
	if err := ch.Qos(sub.Prefetch, 0, false); err != nil {
		return false, fmt.Errorf("qos: %w", err)
	}
	names, err := b.declare(ch, sub)
	if err != nil {
		return false, err
	}
	deliveries, err := ch.Consume(names.work, "", false, sub.Exclusive, false, false, nil)
	if err != nil {
		return false, fmt.Errorf("consume %s: %w", names.work, err)
	}
	onAttach()
	if sub.Ready != nil {
		sub.Ready()
	}
	batch := make([]amqp.Delivery, 0, sub.Batch)
	for {
		batch = batch[:0]
		select {
		case <-ctx.Done():
			return true, nil
		case d, ok := <-deliveries:
			if !ok {
				return true, errors.New("delivery stream closed")
			}
			batch = append(batch, d)
		}
		var closed bool
		if batch, closed = broker.FillBatch(ctx, deliveries, batch, sub); closed {
			// The channel is gone, so these deliveries can no longer be
			// acked: RabbitMQ requeues them. Handling them now would only
			// make duplicates.
			return true, errors.New("delivery stream closed")
		}
		b.handle(ctx, batch, names, sub, h)
	}
}

func call(ctx context.Context, h broker.BatchHandler, msgs []broker.Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("handler panic: %v", r)
		}
	}()
	return h(ctx, msgs)
}

// handle runs h on a batch and settles every delivery by its own outcome.
func (b *Bus) handle(ctx context.Context, batch []amqp.Delivery, names queueNames, sub broker.Subscription, h broker.BatchHandler) {
	msgs := make([]broker.Message, len(batch))
	for i, d := range batch {
		msgs[i] = decode(d)
	}
	errs := broker.Outcomes(len(msgs), call(ctx, h, msgs))
	for i, d := range batch {
		b.settle(ctx, d, msgs[i], errs[i], names, sub)
	}
}

// settle acks d after success, or hands it to its retry or dead-letter
// queue after a failure.
func (b *Bus) settle(ctx context.Context, d amqp.Delivery, m broker.Message, herr error, names queueNames, sub broker.Subscription) {
	log := b.log.With("queue", names.work, "id", m.ID, "attempt", m.Attempt)
	if herr == nil {
		if err := d.Ack(false); err != nil {
			log.Warn("ack failed; message will be redelivered", "err", err)
		}
		return
	}
	permanent := broker.IsPermanent(herr)
	if ctx.Err() != nil && !permanent {
		// Stopped mid-handler: hand the message back without spending an
		// attempt.
		_ = d.Nack(false, true)
		return
	}
	target := ""
	next, step, dead := sub.Retry(m, herr)
	switch {
	case dead:
		if names.dlq == "" {
			log.Warn("live subscription gave up on message", "err", herr)
			_ = d.Ack(false)
			return
		}
		log.Warn("dead-lettering message", "err", herr)
		target = names.dlq
	default:
		// A deferral (the handler's store is unavailable) recurs for every
		// message until the outage ends: the subscriber reports the outage
		// (Meridian's consumers, through an observe.Flood), so each is
		// debug. A retry that spends an attempt is rare and worth a line.
		level := slog.LevelInfo
		if next.Deferrals > m.Deferrals {
			level = slog.LevelDebug
		}
		log.Log(ctx, level, "handler failed; scheduling retry", "err", herr, "delay", sub.Delay(step), "deferrals", next.Deferrals)
		target = names.retry(step)
	}
	p := encode(next)
	p.Headers[headerError] = truncate(herr.Error(), 1024)
	// The copy must be confirmed before the original is acked, otherwise a
	// crash in between would lose the message. The publish uses the bus ctx,
	// not the consumer's: finishing the hand-off is worth a short delay.
	pctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := b.publish(pctx, "", []string{target}, []amqp.Publishing{p}); err != nil {
		log.Warn("could not hand message to retry/dead-letter queue; requeueing", "target", target, "err", err)
		_ = d.Nack(false, true)
		return
	}
	if err := d.Ack(false); err != nil {
		log.Warn("ack after hand-off failed; message may be duplicated", "err", err)
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// withChannel runs fn on a throwaway channel: admin commands such as a
// passive declare of a missing queue close their channel, and that must not
// take the publisher down.
func (b *Bus) withChannel(ctx context.Context, fn func(*amqp.Channel) error) error {
	s, err := b.current(ctx)
	if err != nil {
		return err
	}
	ch, err := s.conn.Channel()
	if err != nil {
		return fmt.Errorf("open admin channel: %w", err)
	}
	defer func() { _ = ch.Close() }()
	return fn(ch)
}

// Depths returns the ready (not unacked) messages of queue and of its DLQ.
func (b *Bus) Depths(ctx context.Context, queue string) (ready, dlq int, err error) {
	err = b.withChannel(ctx, func(ch *amqp.Channel) error {
		q, err := ch.QueueDeclarePassive(b.name(queue), true, false, false, false, nil)
		if err != nil {
			return err
		}
		d, err := ch.QueueDeclarePassive(b.name(queue)+".dlq", true, false, false, false, nil)
		if err != nil {
			return err
		}
		ready, dlq = q.Messages, d.Messages
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("rabbit: depths of %s: %w", queue, err)
	}
	return ready, dlq, nil
}

// ReplayDeadLetters moves up to max dead letters (all present when called if
// max <= 0) back to the work queue with the attempt counter reset. Each
// message is acked on the DLQ only after its copy was confirmed.
func (b *Bus) ReplayDeadLetters(ctx context.Context, queue string, max int) (int, error) {
	work := b.name(queue)
	n := 0
	err := b.withChannel(ctx, func(ch *amqp.Channel) error {
		q, err := ch.QueueDeclarePassive(work+".dlq", true, false, false, false, nil)
		if err != nil {
			return err
		}
		// Bound by the depth seen now so messages that fail again and come
		// back to the DLQ are not replayed in a loop.
		if max <= 0 || max > q.Messages {
			max = q.Messages
		}
		for n < max {
			d, ok, err := ch.Get(work+".dlq", false)
			if err != nil {
				return err
			}
			if !ok {
				return nil
			}
			m := decode(d)
			m.Attempt, m.Deferrals = 1, 0
			if err := b.publish(ctx, "", []string{work}, []amqp.Publishing{encode(m)}); err != nil {
				_ = d.Nack(false, true)
				return err
			}
			if err := d.Ack(false); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("rabbit: replay dead letters of %s: %w", queue, err)
	}
	return n, nil
}

// PurgeDeadLetters empties the DLQ of queue.
func (b *Bus) PurgeDeadLetters(ctx context.Context, queue string) (int, error) {
	var n int
	err := b.withChannel(ctx, func(ch *amqp.Channel) error {
		var err error
		n, err = ch.QueuePurge(b.name(queue)+".dlq", false)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("rabbit: purge dead letters of %s: %w", queue, err)
	}
	return n, nil
}

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

// Teardown deletes every queue this bus declared and its prefixed
// exchanges. It exists for tests and throw-away environments and refuses to
// run without a Prefix so it can never delete production topology. It uses
// its own connection so it also works after Close.
func (b *Bus) Teardown(ctx context.Context) error {
	if b.cfg.Prefix == "" {
		return errors.New("rabbit: teardown needs a prefix")
	}
	b.mu.Lock()
	queues := make([]string, 0, len(b.declared))
	for q := range b.declared {
		queues = append(queues, q)
	}
	b.mu.Unlock()
	conn, err := amqp.DialConfig(b.cfg.URL, amqp.Config{Dial: amqp.DefaultDial(10 * time.Second)})
	if err != nil {
		return fmt.Errorf("rabbit: teardown: %w", err)
	}
	defer func() { _ = conn.Close() }()
	ch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("rabbit: teardown: %w", err)
	}
	defer func() { _ = ch.Close() }()
	for _, q := range queues {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if _, err := ch.QueueDelete(q, false, false, false); err != nil {
			return fmt.Errorf("rabbit: teardown: delete queue %s: %w", q, err)
		}
	}
	for _, ex := range broker.Exchanges() {
		if err := ch.ExchangeDelete(b.name(ex), false, false); err != nil {
			return fmt.Errorf("rabbit: teardown: delete exchange %s: %w", ex, err)
		}
	}
	return nil
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
