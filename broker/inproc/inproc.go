// Package inproc is the in-process adapter of the broker port: the embedded
// default when no AMQP_URL is configured, and a fast double in tests.
//
// It mimics the RabbitMQ adapter closely enough that both pass the same
// contract suite: direct/topic/fanout routing with RabbitMQ's topic
// wildcards, durable-looking named queues that keep messages between
// consumers, per-instance exclusive queues, retries with the same backoff
// schedule and attempt counting, and an inspectable dead-letter list per
// queue. Nothing survives the process, which is the trade-off for needing no
// infrastructure.
package inproc

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"strconv"
	"sync"
	"time"

	"github.com/meridian-graphql/meridian/broker"
)

// DefaultCapacity is the per-queue buffer size when Options.Capacity is 0.
const DefaultCapacity = 1024

// Options configures a Bus.
type Options struct {
	// Capacity bounds every queue. Publishing to a full named queue blocks
	// until there is room or ctx ends (back-pressure instead of unbounded
	// memory); a full exclusive (live) queue drops the message instead,
	// so one slow live subscriber cannot stall the fanout publisher.
	Capacity int
	Logger   *slog.Logger
}

// DeadLetter is a message that exhausted its attempts or failed permanently.
type DeadLetter struct {
	Message broker.Message
	Err     string
	At      time.Time
}

type binding struct {
	q   *queue
	key string
}

type queue struct {
	name      string
	exclusive bool
	ch        chan broker.Message
	gone      chan struct{} // closed when an exclusive queue is deleted

	mu   sync.Mutex
	dead []DeadLetter
}

// Bus is the in-process broker. The zero value is not usable; call New.
type Bus struct {
	log      *slog.Logger
	capacity int
	ctx      context.Context // ends on Close; bounds every goroutine we own
	cancel   context.CancelFunc

	mu       sync.Mutex
	closed   bool
	seq      int // names exclusive queues
	queues   map[string]*queue
	bindings map[string][]binding // exchange name → bindings
	// wg counts running Consume calls and pending retry timers, so Close
	// can wait for them; Add happens only under mu while !closed, which
	// keeps Add and Wait from racing.
	wg sync.WaitGroup
}

var (
	_ broker.Bus   = (*Bus)(nil)
	_ broker.Admin = (*Bus)(nil)
)

// New returns a ready bus with the broker topology.
func New(opts Options) *Bus {
	if opts.Capacity <= 0 {
		opts.Capacity = DefaultCapacity
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Bus{
		log:      opts.Logger.With("component", "broker.inproc"),
		capacity: opts.Capacity,
		ctx:      ctx,
		cancel:   cancel,
		queues:   make(map[string]*queue),
		bindings: make(map[string][]binding),
	}
}

// Publish routes msgs to the queues bound to exchange. It returns once every
// message is enqueued, which is the in-process equivalent of a publisher
// confirm. Unroutable messages are dropped, as RabbitMQ does without the
// mandatory flag.
func (b *Bus) Publish(ctx context.Context, exchange string, msgs ...broker.Message) error {
	kind, ok := broker.KindOf(exchange)
	if !ok {
		return fmt.Errorf("inproc: publish: unknown exchange %q", exchange)
	}
	for _, m := range msgs {
		if m.ID == "" {
			return fmt.Errorf("inproc: publish to %s: message without ID", exchange)
		}
		b.mu.Lock()
		if b.closed {
			b.mu.Unlock()
			return broker.ErrClosed
		}
		var targets []*queue
		seen := make(map[*queue]bool)
		for _, bd := range b.bindings[exchange] {
			// A queue bound twice still gets one copy, like RabbitMQ.
			if !seen[bd.q] && broker.Routes(kind, bd.key, m.Type) {
				seen[bd.q] = true
				targets = append(targets, bd.q)
			}
		}
		b.mu.Unlock()

		m.Attempt, m.Deferrals = 1, 0
		m.Body = bytes.Clone(m.Body) // the caller may reuse its buffer; a real broker copies too
		m.Headers = maps.Clone(m.Headers)
		for _, q := range targets {
			if err := b.put(ctx, q, m); err != nil {
				return fmt.Errorf("inproc: publish %s to %s: %w", m.ID, q.name, err)
			}
		}
	}
	return nil
}

// put enqueues m, blocking on a full named queue.
func (b *Bus) put(ctx context.Context, q *queue, m broker.Message) error {
	if q.exclusive {
		select {
		case q.ch <- m:
		case <-q.gone:
		default:
			b.log.Warn("live queue full, dropping message", "queue", q.name, "id", m.ID)
		}
		return nil
	}
	select {
	case q.ch <- m:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-b.ctx.Done():
		return broker.ErrClosed
	}
}

// Consume declares the subscription's queue and bindings and runs h for
// every message until ctx ends (nil) or the bus closes (ErrClosed).
func (b *Bus) Consume(ctx context.Context, sub broker.Subscription, h broker.Handler) error {
	sub.Batch = 1
	return b.ConsumeBatch(ctx, sub, broker.Single(h))
}

// ConsumeBatch is Consume with up to sub.Batch messages per handler call.
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
	q := b.declareLocked(sub)
	b.mu.Unlock()
	defer b.wg.Done()
	if q.exclusive {
		defer b.deleteQueue(sub.Exchange, q)
	}

	// Handlers see a ctx that also ends on Close, so Close cannot hang on a
	// handler that honours its ctx.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(b.ctx, cancel)
	defer stop()

	if sub.Ready != nil {
		sub.Ready()
	}
	batch := make([]broker.Message, 0, sub.Batch)
	for {
		batch = batch[:0]
		select {
		case <-b.ctx.Done():
			return broker.ErrClosed
		case <-ctx.Done():
			return nil
		case m := <-q.ch:
			batch = append(batch, m)
		}
		batch, _ = broker.FillBatch(cctx, q.ch, batch, sub)
		b.handle(cctx, q, sub, h, batch)
	}
}

func (b *Bus) declareLocked(sub broker.Subscription) *queue {
	var q *queue
	if sub.Exclusive {
		b.seq++
		name := sub.Queue
		if name == "" {
			name = "live"
		}
		q = &queue{name: name + ".excl." + strconv.Itoa(b.seq), exclusive: true}
	} else {
		q = b.queues[sub.Queue]
	}
	if q == nil || q.exclusive {
		if q == nil {
			q = &queue{name: sub.Queue}
		}
		q.ch = make(chan broker.Message, b.capacity)
		q.gone = make(chan struct{})
		b.queues[q.name] = q
	}
	keys := sub.Bindings
	if len(keys) == 0 {
		keys = []string{""} // fanout needs a binding, its key is irrelevant
	}
	for _, k := range keys {
		dup := false
		for _, bd := range b.bindings[sub.Exchange] {
			if bd.q == q && bd.key == k {
				dup = true
				break
			}
		}
		if !dup {
			b.bindings[sub.Exchange] = append(b.bindings[sub.Exchange], binding{q: q, key: k})
		}
	}
	return q
}

func (b *Bus) deleteQueue(exchange string, q *queue) {
	b.mu.Lock()
	defer b.mu.Unlock()
	kept := b.bindings[exchange][:0:0]
	for _, bd := range b.bindings[exchange] {
		if bd.q != q {
			kept = append(kept, bd)
		}
	}
	b.bindings[exchange] = kept
	delete(b.queues, q.name)
	close(q.gone)
}

// handle runs h on a batch and settles every message by its own outcome.
func (b *Bus) handle(ctx context.Context, q *queue, sub broker.Subscription, h broker.BatchHandler, batch []broker.Message) {
	errs := broker.Outcomes(len(batch), call(ctx, h, batch))
	for i, m := range batch {
		b.settle(ctx, q, sub, m, errs[i])
	}
}

func (b *Bus) settle(ctx context.Context, q *queue, sub broker.Subscription, m broker.Message, err error) {
	if err == nil {
		return // ack
	}
	log := b.log.With("queue", q.name, "id", m.ID, "attempt", m.Attempt, "err", err)
	switch {
	case ctx.Err() != nil && !broker.IsPermanent(err):
		// Shutting down mid-handler is not the message's fault: put it back
		// without spending an attempt, like an unacked AMQP delivery.
		b.later(0, q, m)
	default:
		next, step, dead := sub.Retry(m, err)
		if dead {
			b.deadLetter(q, m, err)
			return
		}
		delay := sub.Delay(step)
		// A deferral (the handler's store is unavailable) recurs for every
		// message until the outage ends: the subscriber reports the outage
		// (Meridian's consumers, through an observe.Flood), so each is
		// debug. A retry that spends an attempt is rare and worth a line.
		level := slog.LevelInfo
		if next.Deferrals > m.Deferrals {
			level = slog.LevelDebug
		}
		log.Log(ctx, level, "handler failed, retrying", "delay", delay, "deferrals", next.Deferrals)
		b.later(delay, q, next)
	}
}

// call runs h and turns a panic into an error so one bad message cannot
// kill the consumer.
func call(ctx context.Context, h broker.BatchHandler, msgs []broker.Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("handler panic: %v", r)
		}
	}()
	// The handler may keep or modify the slice; give it its own.
	return h(ctx, append([]broker.Message(nil), msgs...))
}

// later re-enqueues m after delay on a goroutine tracked by wg, so the
// consumer never sleeps and keeps serving other messages.
func (b *Bus) later(delay time.Duration, q *queue, m broker.Message) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		b.log.Warn("bus closed, dropping pending retry", "queue", q.name, "id", m.ID)
		return
	}
	b.wg.Add(1)
	b.mu.Unlock()
	go func() {
		defer b.wg.Done()
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-q.gone:
			return
		case <-b.ctx.Done():
			return
		}
		if err := b.put(b.ctx, q, m); err != nil {
			b.log.Warn("dropping retry", "queue", q.name, "id", m.ID, "err", err)
		}
	}()
}

func (b *Bus) deadLetter(q *queue, m broker.Message, err error) {
	if q.exclusive {
		b.log.Warn("live subscription gave up on message", "queue", q.name, "id", m.ID, "attempt", m.Attempt, "err", err)
		return
	}
	b.log.Warn("dead-lettering message", "queue", q.name, "id", m.ID, "attempt", m.Attempt, "err", err)
	q.mu.Lock()
	q.dead = append(q.dead, DeadLetter{Message: m, Err: err.Error(), At: time.Now()})
	q.mu.Unlock()
}

func (b *Bus) queue(name string) (*queue, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, broker.ErrClosed
	}
	q, ok := b.queues[name]
	if !ok || q.exclusive {
		return nil, fmt.Errorf("inproc: queue %q not declared", name)
	}
	return q, nil
}

// Depths returns the ready messages of queue and the size of its dead
// letter list.
func (b *Bus) Depths(_ context.Context, name string) (ready, dlq int, err error) {
	q, err := b.queue(name)
	if err != nil {
		return 0, 0, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.ch), len(q.dead), nil
}

// DeadLetters returns a copy of queue's dead letters, oldest first.
func (b *Bus) DeadLetters(name string) []DeadLetter {
	q, err := b.queue(name)
	if err != nil {
		return nil
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]DeadLetter(nil), q.dead...)
}

// ReplayDeadLetters moves up to max dead letters (all if max <= 0) back to
// the work queue with Attempt reset to 1.
func (b *Bus) ReplayDeadLetters(ctx context.Context, name string, max int) (int, error) {
	q, err := b.queue(name)
	if err != nil {
		return 0, err
	}
	// "All" means the letters there now: a replayed message that fails
	// again comes straight back to the list while the loop runs, and would
	// otherwise be replayed again (and counted twice) in the same call.
	q.mu.Lock()
	if max <= 0 || max > len(q.dead) {
		max = len(q.dead)
	}
	q.mu.Unlock()
	n := 0
	for n < max {
		q.mu.Lock()
		if len(q.dead) == 0 {
			q.mu.Unlock()
			break
		}
		dl := q.dead[0]
		q.dead = q.dead[1:]
		q.mu.Unlock()

		m := dl.Message
		m.Attempt, m.Deferrals = 1, 0
		if err := b.put(ctx, q, m); err != nil {
			// Put it back at the head so nothing is lost.
			q.mu.Lock()
			q.dead = append([]DeadLetter{dl}, q.dead...)
			q.mu.Unlock()
			return n, fmt.Errorf("inproc: replay %s: %w", name, err)
		}
		n++
	}
	return n, nil
}

// PurgeDeadLetters drops queue's dead letters and returns how many there
// were.
func (b *Bus) PurgeDeadLetters(_ context.Context, name string) (int, error) {
	q, err := b.queue(name)
	if err != nil {
		return 0, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	n := len(q.dead)
	q.dead = nil
	return n, nil
}

// Ping fails only after Close: there is nothing remote to reach.
func (b *Bus) Ping(context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return broker.ErrClosed
	}
	return nil
}

// Close stops every consumer and pending retry and waits for them. Messages
// still queued are lost; that is inherent to an in-process broker.
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
