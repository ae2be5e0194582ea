package rabbit_test

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/broker"
	"github.com/meridian-graphql/meridian/broker/brokertest"
	"github.com/meridian-graphql/meridian/broker/rabbit"
	"github.com/meridian-graphql/meridian/internal/testbus"
)

// open returns a bus on a fresh topology, removed at cleanup.
func open(t *testing.T) *rabbit.Bus {
	t.Helper()
	return testbus.Open(t, 1)[0]
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

// TestQueuesAreQuorumWhereSupported: the local 3.10 broker supports quorum
// queues, so work and dead-letter queues are declared as such (a passive
// declare with another type would fail, so ask the broker directly).
func TestQueuesAreQuorumWhereSupported(t *testing.T) {
	b := open(t)
	if b.QueueType() != "quorum" {
		t.Skipf("broker without quorum queues: %s", b.QueueType())
	}
	brokertest.Start(t, b, broker.Subscription{Queue: "q", Exchange: broker.ExchangeDataProcessing, Bindings: []string{"user.data"}}, func(context.Context, broker.Message) error { return nil })
	ctl, err := exec.LookPath("rabbitmqctl")
	if err != nil {
		t.Skip("rabbitmqctl not installed")
	}
	out, err := exec.Command(ctl, "list_queues", "-q", "--no-table-headers", "name", "type").CombinedOutput()
	if err != nil {
		t.Fatalf("list_queues: %v: %s", err, out)
	}
	types := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			types[f[0]] = f[1]
		}
	}
	for _, q := range []string{"q", "q.dlq"} {
		name := b.Prefix() + q
		if types[name] != "quorum" {
			t.Errorf("queue %s has type %q, want quorum", name, types[name])
		}
	}
	if name := b.Prefix() + "q.retry.1"; types[name] != "classic" {
		t.Errorf("delay queue %s has type %q, want classic", name, types[name])
	}
}
