package rabbit_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/broker"
	"github.com/meridian-graphql/meridian/broker/brokertest"
	"github.com/meridian-graphql/meridian/broker/rabbit"
	"github.com/meridian-graphql/meridian/internal/faultsvc"
	"github.com/meridian-graphql/meridian/internal/testlog"
)

// TestFaultRabbitOutageLogs kills a private RabbitMQ node under a bus with
// five consumers, keeps it down 5 s and starts it again: the outage must be
// told as state changes (a WARN when the connection goes, an INFO when it
// is back with its duration and attempts, one line for the consumers'
// re-attachment), not a line per reconnect attempt and per queue as it
// used to be (~10 "connect failed" in 10 s, plus a re-attach per queue).
// After the outage the bus still delivers.
func TestFaultRabbitOutageLogs(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a RabbitMQ node of its own")
	}
	node := faultsvc.StartRabbitMQ(t)
	logs := &testlog.Buffer{}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	b, err := rabbit.Open(ctx, rabbit.Config{URL: node.URL(), Prefix: "outage.", QueueType: "classic",
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })

	const queues = 5
	got := make(chan string, 100)
	for i := range queues {
		brokertest.Start(t, b, broker.Subscription{
			Queue: fmt.Sprintf("q%d", i), Exchange: broker.ExchangeDataProcessing, Bindings: []string{fmt.Sprintf("k%d", i)},
		}, func(_ context.Context, m broker.Message) error { got <- m.ID; return nil })
	}
	before := len(strings.Split(strings.TrimSpace(logs.String()), "\n"))
	if logs.String() == "" {
		before = 0
	}

	down := time.Now()
	node.Down(5 * time.Second)
	// Reconnected once the bus publishes again (Publish waits for it).
	if err := b.Publish(ctx, broker.ExchangeDataProcessing, broker.Message{ID: "after", Type: "k0", Body: []byte(`{}`)}); err != nil {
		t.Fatalf("publish after the outage: %v\n%s", err, logs)
	}
	select {
	case id := <-got:
		if id != "after" {
			t.Errorf("delivered %q, want after", id)
		}
	case <-ctx.Done():
		t.Fatalf("nothing delivered after the outage\n%s", logs)
	}
	for wait := time.Now().Add(20 * time.Second); logs.Count("consumers re-attached") == 0 && time.Now().Before(wait); {
		time.Sleep(50 * time.Millisecond)
	}
	all := strings.Split(strings.TrimSpace(logs.String()), "\n")
	outage := all[before:]
	t.Logf("a %s outage (5 s down, then the node's start) with %d consumers logged %d lines:\n%s",
		time.Since(down).Round(100*time.Millisecond), queues, len(outage), strings.Join(outage, "\n"))
	if len(outage) > 5 {
		t.Errorf("the outage logged %d lines, want at most 5 (a state change each, not a line per attempt and queue)", len(outage))
	}
	for _, want := range [][]string{
		{"level=WARN", `msg="RabbitMQ unreachable"`},
		{"level=INFO", `msg="RabbitMQ reachable again"`, "connect attempts"},
		{"level=INFO", `msg="consumers re-attached"`, fmt.Sprintf("queues=%d", queues)},
	} {
		if n := logs.Count(want...); n != 1 {
			t.Errorf("lines with %q: %d, want 1", want, n)
		}
	}
}
