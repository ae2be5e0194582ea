// Publishing: Publish and the confirm loop that republishes what a lost
// connection left unconfirmed.

package rabbit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/meridian-graphql/meridian/broker"
)

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
