// Package brokertest is the contract suite every broker adapter must pass.
// Keeping one suite is what lets the in-process adapter stand in for
// RabbitMQ: if a behaviour matters to the application it is asserted here,
// against both.
//
// Tested by the adapters it checks: broker/inproc's and broker/rabbit's
// tests run it.
package brokertest

import (
	"context"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/broker"
)

// Timeouts are generous because RabbitMQ under -race on a loaded CI box is
// slow; passing tests never wait for them.
const (
	waitTimeout = 10 * time.Second
	// quiet is how long we watch for messages that must not arrive.
	quiet = 300 * time.Millisecond
)

// Run runs the contract suite. open must return a fresh, isolated bus (its
// own queue/exchange namespace) and arrange for its cleanup; the suite closes
// the bus itself as well, so Close must be idempotent. The bus must also
// implement broker.Admin.
func Run(t *testing.T, open func(t *testing.T) broker.Bus) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b broker.Bus)
	}{
		{"DirectRouting", testDirect},
		{"TopicWildcards", testTopic},
		{"FanoutToTwoSubscribers", testFanout},
		{"RetryWithGrowingBackoff", testRetry},
		{"DeadLetterReplayPurge", testDeadLetterReplay},
		{"PermanentGoesToDLQAtOnce", testPermanent},
		{"AckOnlyAfterSuccess", testAckAfterSuccess},
		{"SlowSubscriberDoesNotBlockOthers", testSlowSubscriber},
		{"BatchSettlesEachMessage", testBatch},
		{"UnavailableRetriesWithoutSpendingAttempts", testUnavailable},
		{"HeadersTravelAndSurviveRetry", testHeaders},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := open(t)
			t.Cleanup(func() { _ = b.Close() })
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			if err := b.Ping(ctx); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			tc.fn(t, b)
		})
	}
}
