// Package testbus connects tests to the real RabbitMQ: each test gets its
// own topology prefix, shared by every bus it opens (several server
// instances on one broker), and the topology is deleted when it ends.
//
// Tested by the tests that use it: broker/rabbit's, broker/consumers' and
// httpapi's flow tests across instances.
package testbus

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/broker/rabbit"
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

// VHost creates a RabbitMQ virtual host of the test's own (with rabbitmqctl,
// as root on the development and CI machines) and returns AMQP_URL for it;
// the vhost and everything in it is deleted at cleanup. A whole server
// started with that URL then declares its topology where no other test's
// consumers can reach it, and leaves nothing behind. Skipped without
// rabbitmqctl, except under CI.
func VHost(t testing.TB) string {
	t.Helper()
	ctl, err := exec.LookPath("rabbitmqctl")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("rabbitmqctl is needed under CI: %v", err)
		}
		t.Skipf("no rabbitmqctl to create a private vhost: %v", err)
	}
	name := "meridian-test-" + strings.ToLower(rand.Text()[:10])
	run := func(args ...string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, ctl, args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("rabbitmqctl %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	if err := run("add_vhost", name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := run("delete_vhost", name); err != nil {
			t.Logf("testbus: %v", err)
		}
	})
	u, err := url.Parse(URL())
	if err != nil {
		t.Fatalf("testbus: AMQP_URL: %v", err)
	}
	user := "guest"
	if u.User != nil {
		user = u.User.Username()
	}
	if err := run("set_permissions", "-p", name, user, ".*", ".*", ".*"); err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
