// The broker.Admin operations: queue depths, and replaying or purging
// dead letters, each on a throwaway channel.

package rabbit

import (
	"context"
	"fmt"

	amqp "github.com/rabbitmq/amqp091-go"
)

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
