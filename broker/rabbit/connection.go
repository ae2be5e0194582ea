// The connection: a session (one AMQP connection and its publisher
// channel), dialling with backoff, the supervisor that replaces a dead
// session, and current, which every operation uses to get a live one.

package rabbit

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/meridian-graphql/meridian/broker"
)

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
