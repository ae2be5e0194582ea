package rabbit_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"meridian/broker"
	"meridian/broker/brokertest"
	"meridian/broker/rabbit"
)

func url() string {
	if u := os.Getenv("AMQP_URL"); u != "" {
		return u
	}
	return "amqp://guest:guest@127.0.0.1:5672/"
}

func logger() *slog.Logger {
	if testing.Verbose() && os.Getenv("BROKER_LOG") != "" {
		return slog.Default()
	}
	return slog.New(slog.DiscardHandler)
}

// open connects with a unique prefix and removes the test's topology at
// cleanup. Tests are skipped, not failed, when no broker is reachable so the
// package stays usable on machines without RabbitMQ.
func open(t *testing.T) *rabbit.Bus {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	b, err := rabbit.Open(ctx, rabbit.Config{
		URL:                  url(),
		Prefix:               "test." + strings.ToLower(rand.Text()[:8]) + ".",
		ConnectionName:       "meridian-test " + t.Name(),
		ReconnectMaxInterval: 500 * time.Millisecond,
		Logger:               logger(),
	})
	if err != nil {
		// CI starts RabbitMQ (.ci/run): there, an unreachable broker is a failure.
		if os.Getenv("CI") != "" {
			t.Fatalf("RabbitMQ not reachable at %s: %v", url(), err)
		}
		t.Skipf("RabbitMQ not reachable at %s: %v", url(), err)
	}
	// Registered first so it runs last, after the bus is closed and no
	// consumer re-declares anything.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := b.Teardown(ctx); err != nil {
			t.Errorf("teardown: %v", err)
		}
	})
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func TestContract(t *testing.T) {
	brokertest.Run(t, func(t *testing.T) broker.Bus { return open(t) })
}

// TestSurvivesConnectionKills publishes 2,000 messages while every broker
// connection is killed three times, and checks that none is lost.
func TestSurvivesConnectionKills(t *testing.T) {
	ctl, err := exec.LookPath("rabbitmqctl")
	if err != nil {
		t.Skip("rabbitmqctl not installed: cannot inject connection failures")
	}
	if testing.Short() {
		t.Skip("fault injection is slow")
	}
	const total = 2000
	b := open(t)

	var mu sync.Mutex
	seen := make(map[string]int)
	all := make(chan struct{})
	brokertest.Start(t, b, broker.Subscription{
		Queue: "fault", Exchange: broker.ExchangeDataProcessing, Bindings: []string{"user.data"}, Prefetch: 50,
		Backoff: []time.Duration{10 * time.Millisecond},
	}, func(_ context.Context, m broker.Message) error {
		mu.Lock()
		defer mu.Unlock()
		seen[m.ID]++
		if len(seen) == total && seen[m.ID] == 1 {
			close(all)
		}
		return nil
	})

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	publishing := make(chan struct{})
	kills := make(chan string, 3)
	go func() {
		// Spread the kills over the publishing run; rabbitmqctl itself takes
		// about a second to start, which is part of the spacing.
		defer close(kills)
		for i := range 3 {
			select {
			case <-publishing:
				kills <- fmt.Sprintf("kill %d skipped: publishing already finished", i+1)
				continue
			case <-time.After(300 * time.Millisecond):
			}
			out, err := exec.CommandContext(ctx, ctl, "close_all_connections", "test").CombinedOutput()
			if err != nil {
				kills <- fmt.Sprintf("kill %d failed: %v: %s", i+1, err, out)
				continue
			}
			kills <- fmt.Sprintf("kill %d at %s", i+1, time.Now().Format("15:04:05.000"))
		}
	}()

	start := time.Now()
	for i := range total {
		m := brokertest.Msg("user.data")
		m.ID = fmt.Sprintf("fault-%04d", i)
		// Publish retries internally across reconnects; an error here
		// would mean a message could be lost.
		if err := b.Publish(ctx, broker.ExchangeDataProcessing, m); err != nil {
			t.Fatalf("publish %s: %v", m.ID, err)
		}
		time.Sleep(2 * time.Millisecond) // stretch the run so the kills land mid-stream
	}
	close(publishing)
	pubTime := time.Since(start)
	for k := range kills {
		t.Log(k)
	}

	select {
	case <-all:
	case <-ctx.Done():
	}
	mu.Lock()
	defer mu.Unlock()
	dups := 0
	for _, n := range seen {
		dups += n - 1
	}
	t.Logf("published %d in %v; handled %d distinct, %d duplicate deliveries, total %v",
		total, pubTime, len(seen), dups, time.Since(start))
	if len(seen) != total {
		t.Fatalf("lost messages: handled %d distinct IDs, want %d", len(seen), total)
	}
}
