package broker

// Headers are a message's propagation headers: the W3C trace context
// ("traceparent", "tracestate") and "baggage" of the operation that
// caused the message, so that its consumers' work joins that trace.
// Adapters carry them as they are (RabbitMQ as AMQP string headers under
// the same names; retries and dead letters keep them). Headers implements
// OpenTelemetry's propagation.TextMapCarrier; Set needs a non-nil map.
// Nil when the message carries none.
type Headers map[string]string

// Get returns the value of key, "" when absent.
func (h Headers) Get(key string) string { return h[key] }

// Set stores value under key.
func (h Headers) Set(key, value string) { h[key] = value }

// Keys lists the header names.
func (h Headers) Keys() []string {
	out := make([]string, 0, len(h))
	for k := range h {
		out = append(out, k)
	}
	return out
}
