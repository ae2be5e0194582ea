// Topology: the queue type, the names and declaration of a
// subscription's work, delay and dead-letter queues, and Teardown.

package rabbit

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/meridian-graphql/meridian/broker"
)

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
