// Package broker is the message-bus port of meridian: the envelope every
// event travels in, the publisher/subscriber interfaces the application
// depends on, and the fixed exchange topology taken from the seed.
//
// Adapters live in subpackages so that the domain never imports a broker
// client: broker/inproc is the embedded default (single process, no
// infrastructure), broker/rabbit talks AMQP 0-9-1 to RabbitMQ. Both are held
// to the same behaviour by the contract suite in broker/brokertest.
//
// Delivery is at-least-once: a message is acknowledged only after its handler
// returned nil, so handlers must be idempotent and should dedupe by
// Message.ID.
package broker

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Message is the envelope every event travels in.
type Message struct {
	ID            string    // unique; consumers dedupe by it
	Type          string    // e.g. "user.created", "event.tracked" — also the routing key
	OccurredAt    time.Time // when the domain event happened, not when it was published
	SchemaVersion int
	CorrelationID string
	Attempt       int // 1 on first delivery; set by the adapter from retry headers
	// Deferrals counts the retries caused by Unavailable failures, which
	// do not spend attempts; it only makes their delays grow.
	Deferrals int
	// Headers carry the trace context of the operation that caused the
	// message (see Headers); nil when there is none.
	Headers Headers
	Body    []byte // JSON payload
}

// Publisher sends messages to an exchange of the topology.
type Publisher interface {
	// Publish returns once the broker has confirmed every message
	// (publisher confirms), or an error. The routing key is Message.Type.
	// On error some messages may already have been delivered; callers that
	// retry must reuse the same IDs so consumers can dedupe. While the
	// broker is away Publish waits for it, until ctx ends: callers bound the
	// wait with a deadline (the outbox relay does) rather than hold
	// resources through an outage.
	Publish(ctx context.Context, exchange string, msgs ...Message) error
}

// Handler processes one message. Returning nil acknowledges it; any other
// error schedules a retry with backoff (up to Subscription.MaxAttempts, then
// the message is dead-lettered); an error wrapped with Permanent is
// dead-lettered at once because retrying cannot help.
type Handler func(ctx context.Context, m Message) error

// BatchHandler processes up to Subscription.Batch messages at once, for
// consumers whose work is cheaper in bulk (one insert, one commit). A nil
// return acknowledges every message; a BatchErrors return settles them one
// by one; any other error applies to each message as if a Handler had
// returned it.
type BatchHandler func(ctx context.Context, msgs []Message) error

// BatchErrors is the per-message outcome of a batch: element i is the error
// of msgs[i], nil when it succeeded. Its length must equal the batch's.
type BatchErrors []error

func (e BatchErrors) Error() string {
	n, first := 0, error(nil)
	for _, err := range e {
		if err != nil {
			if first == nil {
				first = err
			}
			n++
		}
	}
	if first == nil {
		return "no message failed"
	}
	return fmt.Sprintf("%d of %d messages failed; first: %v", n, len(e), first)
}

// Outcomes expands a BatchHandler's result into one error per message. A
// BatchErrors of the wrong length is treated as a failure of the whole
// batch, never as success.
func Outcomes(n int, err error) []error {
	out := make([]error, n)
	if err == nil {
		return out
	}
	var be BatchErrors
	if errors.As(err, &be) && len(be) == n {
		copy(out, be)
		return out
	}
	for i := range out {
		out[i] = err
	}
	return out
}

// Single adapts a Handler to a batch of one.
func Single(h Handler) BatchHandler {
	return func(ctx context.Context, msgs []Message) error {
		if len(msgs) != 1 {
			return fmt.Errorf("broker: single-message handler got %d messages", len(msgs))
		}
		return h(ctx, msgs[0])
	}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return "permanent: " + e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as not worth retrying: the message goes to the dead
// letter queue immediately. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err (or anything it wraps) was marked with
// Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

type unavailableError struct{ err error }

func (e *unavailableError) Error() string { return "unavailable: " + e.err.Error() }
func (e *unavailableError) Unwrap() error { return e.err }

// Unavailable marks err as the failure of something the handler depends on
// (the event store restarting), not of the message: the message is retried
// through the delay queues with growing delays, capped at the last backoff
// step, for as long as the outage lasts, and these retries do not count
// toward MaxAttempts. Without it a long outage would dead-letter every good
// message; with it only messages that fail by themselves are. Subscriptions
// with MaxAttempts 1 have no delay queues and treat it as any failure.
// Unavailable(nil) is nil.
func Unavailable(err error) error {
	if err == nil {
		return nil
	}
	return &unavailableError{err: err}
}

// IsUnavailable reports whether err (or anything it wraps) was marked with
// Unavailable.
func IsUnavailable(err error) bool {
	var u *unavailableError
	return errors.As(err, &u)
}

// Defaults applied by Subscription.WithDefaults.
const (
	DefaultMaxAttempts = 3
	DefaultPrefetch    = 16
	DefaultBatchWait   = 25 * time.Millisecond
)

// DefaultBackoff returns the seed's retry schedule (2s, 4s, 8s). It is a
// function rather than a variable so no caller can mutate a shared slice.
func DefaultBackoff() []time.Duration {
	return []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second}
}

// Subscription describes what a consumer reads and how failures are handled.
type Subscription struct {
	// Queue is the durable work queue shared by every instance of a consumer
	// group (competing consumers). For Exclusive subscriptions it is only a
	// name prefix and may be empty.
	Queue string
	// Exchange is one of the topology's exchanges; Bindings are the routing
	// keys (topic patterns for topic exchanges, ignored by fanout).
	Exchange string
	Bindings []string
	// Prefetch bounds the number of unacknowledged messages held by this
	// consumer (AMQP QoS) or the in-process buffer size.
	Prefetch int
	// MaxAttempts is the total number of deliveries before dead-lettering
	// (default 3).
	MaxAttempts int
	// Backoff is the delay before retry n (Backoff[n-1]); missing entries
	// double the last one. Default 2s, 4s, 8s.
	Backoff []time.Duration
	// Batch is the most messages ConsumeBatch hands to one call (default
	// 1). A batch is cut when it is full or BatchWait after its first
	// message arrived, so a quiet queue adds at most BatchWait of latency.
	Batch     int
	BatchWait time.Duration
	// Exclusive gives this instance its own auto-deleted queue, the shape
	// live (GraphQL) subscriptions need on a fanout exchange. Exclusive
	// queues are ephemeral: their dead letters are logged and dropped.
	Exclusive bool
	// Ready, if set, is called every time the consumer is attached to its
	// queue (again after a reconnect). The queue and its bindings exist when
	// it runs, so messages published afterwards are not lost; tests use it
	// to avoid racing the declaration.
	Ready func()
}

// WithDefaults returns sub with zero fields replaced by defaults.
func (s Subscription) WithDefaults() Subscription {
	if s.MaxAttempts <= 0 {
		s.MaxAttempts = DefaultMaxAttempts
	}
	if s.Prefetch <= 0 {
		s.Prefetch = DefaultPrefetch
	}
	if len(s.Backoff) == 0 {
		s.Backoff = DefaultBackoff()
	}
	if s.Batch <= 0 {
		s.Batch = 1
	}
	if s.BatchWait <= 0 {
		s.BatchWait = DefaultBatchWait
	}
	// A batch can only fill from messages the broker lets us hold.
	if s.Prefetch < s.Batch {
		s.Prefetch = s.Batch
	}
	return s
}

// Validate reports a subscription the adapters cannot serve.
func (s Subscription) Validate() error {
	if _, ok := KindOf(s.Exchange); !ok {
		return fmt.Errorf("broker: unknown exchange %q", s.Exchange)
	}
	if s.Queue == "" && !s.Exclusive {
		return errors.New("broker: subscription needs a queue name (or Exclusive)")
	}
	return nil
}

// Delay returns how long to wait before redelivering a message whose attempt
// number failed (attempt is 1-based).
func (s Subscription) Delay(attempt int) time.Duration {
	b := s.Backoff
	if len(b) == 0 {
		b = DefaultBackoff()
	}
	if attempt < 1 {
		attempt = 1
	}
	if attempt <= len(b) {
		return b[attempt-1]
	}
	d := b[len(b)-1]
	for i := len(b); i < attempt && d < time.Hour; i++ {
		d *= 2
	}
	return d
}

// Retry decides what happens to m after its handler failed with err:
// deadLetter, or a retry after step (1-based index into the delay queues,
// at most MaxAttempts-1) with next's counters advanced.
func (s Subscription) Retry(m Message, err error) (next Message, step int, deadLetter bool) {
	next = m
	unavailable := IsUnavailable(err) && !IsPermanent(err) && s.MaxAttempts > 1
	if IsPermanent(err) || (!unavailable && m.Attempt >= s.MaxAttempts) {
		return next, 0, true
	}
	step = min(max(m.Attempt+m.Deferrals, 1), s.MaxAttempts-1)
	if unavailable {
		next.Deferrals++
	} else {
		next.Attempt++
	}
	return next, step, false
}

// Subscriber runs handlers for subscriptions.
type Subscriber interface {
	// Consume runs h for every message of sub until ctx ends (it then
	// returns nil) or the bus is closed (ErrClosed). It reconnects by
	// itself. Messages of one Consume call are handled one at a time; call
	// Consume several times on the same queue for parallelism.
	Consume(ctx context.Context, sub Subscription, h Handler) error
	// ConsumeBatch is Consume for handlers that take up to sub.Batch
	// messages per call; each message is acknowledged, retried or
	// dead-lettered on its own according to the handler's outcome.
	ConsumeBatch(ctx context.Context, sub Subscription, h BatchHandler) error
}

// Bus is a complete adapter.
type Bus interface {
	Publisher
	Subscriber
	// Close stops consumers and releases resources; it waits for running
	// handlers to return.
	Close() error
	// Ping reports whether the bus can currently reach its broker.
	Ping(ctx context.Context) error
}

// Admin is the operational surface both adapters implement, so dead letters
// can be inspected and recovered without the RabbitMQ management plugin.
type Admin interface {
	// Depths returns the number of ready messages in the work queue and in
	// its dead letter queue.
	Depths(ctx context.Context, queue string) (ready, dlq int, err error)
	// ReplayDeadLetters moves up to max dead letters (all if max <= 0) back
	// to the work queue with their attempt counter reset.
	ReplayDeadLetters(ctx context.Context, queue string, max int) (int, error)
	// PurgeDeadLetters deletes the dead letters of queue.
	PurgeDeadLetters(ctx context.Context, queue string) (int, error)
}

// ErrClosed is returned by operations on a closed bus.
var ErrClosed = errors.New("broker: bus closed")

// ExchangeKind is the AMQP exchange type.
type ExchangeKind string

// The exchange kinds used by the topology.
const (
	Direct ExchangeKind = "direct"
	Topic  ExchangeKind = "topic"
	Fanout ExchangeKind = "fanout"
)

// The seed's exchanges, declared idempotently when an adapter starts.
const (
	// ExchangeDataProcessing is direct; workers bind "user.data".
	ExchangeDataProcessing = "data_processing"
	// ExchangeNotifications is topic; e.g. "notification.email",
	// "notification.*".
	ExchangeNotifications = "notifications"
	// ExchangeAnalytics is fanout; it feeds live subscriptions.
	ExchangeAnalytics = "analytics"
)

// Exchanges lists the topology's exchanges in declaration order.
func Exchanges() []string {
	return []string{ExchangeDataProcessing, ExchangeNotifications, ExchangeAnalytics}
}

// KindOf returns the kind of a topology exchange; ok is false for names
// outside the topology. A switch instead of a map keeps the topology
// immutable.
func KindOf(exchange string) (kind ExchangeKind, ok bool) {
	switch exchange {
	case ExchangeDataProcessing:
		return Direct, true
	case ExchangeNotifications:
		return Topic, true
	case ExchangeAnalytics:
		return Fanout, true
	}
	return "", false
}

// Routes reports whether a message with routing key key, published to an
// exchange of kind, reaches a queue bound with binding. It mirrors RabbitMQ:
// direct compares keys, fanout ignores them, topic matches dot-separated
// words where "*" is exactly one word and "#" is zero or more.
func Routes(kind ExchangeKind, binding, key string) bool {
	switch kind {
	case Fanout:
		return true
	case Direct:
		return binding == key
	case Topic:
		return matchTopic(splitWords(binding), splitWords(key))
	}
	return false
}

func splitWords(s string) []string {
	if s == "" {
		return nil
	}
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func matchTopic(pat, key []string) bool {
	for len(pat) > 0 {
		switch pat[0] {
		case "#":
			// "#" absorbs zero or more words: try every split point.
			for i := 0; i <= len(key); i++ {
				if matchTopic(pat[1:], key[i:]) {
					return true
				}
			}
			return false
		case "*":
			if len(key) == 0 {
				return false
			}
		default:
			if len(key) == 0 || key[0] != pat[0] {
				return false
			}
		}
		pat, key = pat[1:], key[1:]
	}
	return len(key) == 0
}
