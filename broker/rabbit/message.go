// The wire format: how a broker.Message maps to an AMQP publishing (its
// properties and x- headers) and back.

package rabbit

import (
	"strconv"
	"time"

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
