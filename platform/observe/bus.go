package observe

// Outcomes of a handled bus message (the outcome label of
// meridian_bus_consumed_total).
const (
	OutcomeOK         = "ok"
	OutcomeRetry      = "retry"
	OutcomeDeadLetter = "dead_letter"
)

// ObserveMessage counts one handled bus message of queue: ok when err is
// nil, dead_letter when deadLettered, retry otherwise. attempt is the
// message's 1-based delivery attempt; later attempts are also counted as
// redeliveries. The caller decides deadLettered because only it knows the
// subscription's retry policy (meridian: broker.Subscription.Retry).
func (m *Metrics) ObserveMessage(queue string, attempt int, err error, deadLettered bool) {
	q := m.queueNames.admit(queue)
	outcome := OutcomeOK
	switch {
	case err == nil:
	case deadLettered:
		outcome = OutcomeDeadLetter
	default:
		outcome = OutcomeRetry
	}
	m.busConsumed.WithLabelValues(q, outcome).Inc()
	if attempt > 1 {
		m.busRedelivered.WithLabelValues(q).Inc()
	}
}

// ObservePublish counts n messages published to exchange, as errors when
// err is not nil. A failed batch counts whole even though some of it may
// have been delivered: the publisher cannot tell which.
func (m *Metrics) ObservePublish(exchange string, n int, err error) {
	if n <= 0 {
		return
	}
	outcome := OutcomeOK
	if err != nil {
		outcome = "error"
	}
	m.busPublished.WithLabelValues(m.exchanges.admit(exchange), outcome).Add(float64(n))
}
