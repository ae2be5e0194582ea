// The wire format: how a broker.Message maps to an AMQP publishing (its
// properties and x- headers) and back.

package rabbit

import (
	"strconv"
	"strings"
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
	headers := amqp.Table{
		headerAttempt:       int64(attempt),
		headerDeferrals:     int64(m.Deferrals),
		headerSchemaVersion: int64(m.SchemaVersion),
		headerOccurredAt:    m.OccurredAt.Format(time.RFC3339Nano),
	}
	c := TableCarrier(headers)
	for k, v := range m.Headers {
		c.Set(k, v)
	}
	return amqp.Publishing{
		ContentType:   "application/json",
		DeliveryMode:  amqp.Persistent,
		MessageId:     m.ID,
		Type:          m.Type,
		CorrelationId: m.CorrelationID,
		Timestamp:     m.OccurredAt, // seconds only; the header keeps full precision
		Headers:       headers,
		Body:          m.Body,
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
	c := TableCarrier(d.Headers)
	if keys := c.Keys(); len(keys) > 0 {
		m.Headers = make(broker.Headers, len(keys))
		for _, k := range keys {
			m.Headers[k] = c.Get(k)
		}
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

// TableCarrier is OpenTelemetry's propagation.TextMapCarrier over the
// headers of an AMQP message: the trace context travels as string headers
// under their W3C names ("traceparent", "tracestate", "baggage"), the way
// other AMQP clients' instrumentations read and write them. The "x-"
// headers are the adapter's own (attempts, delays, errors): Set never
// overwrites them and Keys does not list them. Set needs a non-nil table.
type TableCarrier amqp.Table

// Get returns the string header key, "" when absent or of another type.
func (c TableCarrier) Get(key string) string {
	s, _ := c[key].(string)
	return s
}

// Set stores value as the string header key, unless key is an "x-" header.
func (c TableCarrier) Set(key, value string) {
	if isOwnHeader(key) {
		return
	}
	c[key] = value
}

// Keys lists the string headers other than the "x-" ones.
func (c TableCarrier) Keys() []string {
	var out []string
	for k, v := range c {
		if _, ok := v.(string); ok && !isOwnHeader(k) {
			out = append(out, k)
		}
	}
	return out
}

func isOwnHeader(key string) bool { return strings.HasPrefix(strings.ToLower(key), "x-") }

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
