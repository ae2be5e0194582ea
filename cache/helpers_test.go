package cache

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/meridian-graphql/meridian/internal/testredis"
)

func redisAddr() string { return testredis.Addr() }

func redisURL() string { return testredis.URL() }

// rawRedis is a plain client for inspecting Redis.
func rawRedis(t testing.TB) *redis.Client { return testredis.Client(t) }

// testPrefix returns a prefix of the test's own and deletes its keys at the
// end.
func testPrefix(t testing.TB) string { return testredis.Prefix(t, rawRedis(t), "") }

// newTestCache returns a Cache closed at the end of the test.
func newTestCache(t testing.TB, cfg Config) *Cache {
	t.Helper()
	c, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// runCache runs c.Run until the end of the test.
func runCache(t testing.TB, c *Cache) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after its ctx ended")
		}
	})
}

// eventually polls cond every 10 ms for up to d.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not after %v: %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// cmdCounter is a go-redis hook counting the commands sent, by name.
type cmdCounter struct {
	mu   sync.Mutex
	cmds []redis.Cmder
}

func (h *cmdCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *cmdCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.mu.Lock()
		h.cmds = append(h.cmds, cmd)
		h.mu.Unlock()
		return next(ctx, cmd)
	}
}

func (h *cmdCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.mu.Lock()
		h.cmds = append(h.cmds, cmds...)
		h.mu.Unlock()
		return next(ctx, cmds)
	}
}

func (h *cmdCounter) reset() {
	h.mu.Lock()
	h.cmds = nil
	h.mu.Unlock()
}

func (h *cmdCounter) names() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, c := range h.cmds {
		out = append(out, c.Name())
	}
	return out
}

func newProxy(t testing.TB) *testredis.Proxy { return testredis.NewProxy(t) }
