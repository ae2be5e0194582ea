// Consuming: the re-attaching Consume loop, one attachment's delivery
// loop, and the settling of each delivery (ack, retry queue or DLQ).

package rabbit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/meridian-graphql/meridian/broker"
)

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
