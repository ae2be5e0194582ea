// Contract case on propagation headers: they reach the consumer as
// published, and a retry keeps them.

package brokertest

import (
	"context"
	"errors"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/broker"
)

func testHeaders(t *testing.T, b broker.Bus) {
	want := broker.Headers{
		"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"tracestate":  "meridian=1",
		"baggage":     "tenant=acme",
	}
	var mu sync.Mutex
	var got []broker.Message
	done := make(chan struct{})
	m, plain := Msg("user.data"), Msg("user.data")
	m.Headers = maps.Clone(want)
	Start(t, b, broker.Subscription{
		Queue: "headers", Exchange: broker.ExchangeDataProcessing, Bindings: []string{"user.data"},
		MaxAttempts: 2, Backoff: []time.Duration{50 * time.Millisecond},
	}, func(_ context.Context, d broker.Message) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, d)
		if d.ID != m.ID {
			return nil
		}
		if d.Attempt == 1 {
			return errors.New("fail once, so that the retry's copy is checked too")
		}
		close(done)
		return nil
	})
	publish(t, b, broker.ExchangeDataProcessing, m, plain)
	select {
	case <-done:
	case <-time.After(waitTimeout):
		t.Fatal("the message never succeeded")
	}
	mu.Lock()
	defer mu.Unlock()
	n := 0
	for _, g := range got {
		if g.ID != m.ID {
			if len(g.Headers) != 0 {
				t.Errorf("message without headers delivered with %v", g.Headers)
			}
			continue
		}
		n++
		if !maps.Equal(g.Headers, want) {
			t.Errorf("attempt %d: headers %v, want %v", g.Attempt, g.Headers, want)
		}
	}
	if n != 2 {
		t.Errorf("the message with headers was delivered %d times, want 2 (first delivery and retry)", n)
	}
}
