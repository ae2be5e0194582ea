// Package testbus connects tests to the real RabbitMQ: each test gets its
// own topology prefix, shared by every bus it opens (several server
// instances on one broker), and the topology is deleted when it ends.
package testbus

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"meridian/broker/rabbit"
)

// URL is AMQP_URL, or the local development broker.
func URL() string {
	if u := os.Getenv("AMQP_URL"); u != "" {
		return u
	}
	return "amqp://guest:guest@127.0.0.1:5672/"
}

// Logger discards the adapters' logs unless the run is verbose and
// BROKER_LOG is set.
func Logger() *slog.Logger {
	if testing.Verbose() && os.Getenv("BROKER_LOG") != "" {
		return slog.Default()
	}
	return slog.New(slog.DiscardHandler)
}

// Open returns n buses on one fresh prefix. The test is skipped when no
// broker answers, except under CI (which starts RabbitMQ) where it fails.
// The buses close and the topology is torn down at cleanup.
func Open(t testing.TB, n int) []*rabbit.Bus {
	t.Helper()
	prefix := "test." + strings.ToLower(rand.Text()[:8]) + "."
	out := make([]*rabbit.Bus, 0, n)
	for i := range n {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		b, err := rabbit.Open(ctx, rabbit.Config{
			URL: URL(), Prefix: prefix, ConnectionName: fmt.Sprintf("meridian-test %s #%d", t.Name(), i),
			ReconnectMaxInterval: 500 * time.Millisecond, Logger: Logger(),
		})
		cancel()
		if err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("RabbitMQ not reachable at %s: %v", URL(), err)
			}
			t.Skipf("RabbitMQ not reachable at %s: %v", URL(), err)
		}
		if i == 0 {
			// Registered first so it runs last, after every bus of the
			// test closed and no consumer re-declares anything.
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if err := b.Teardown(ctx); err != nil {
					t.Errorf("teardown: %v", err)
				}
			})
		}
		t.Cleanup(func() { _ = b.Close() })
		out = append(out, b)
	}
	return out
}
