package cache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The tests run against a real Redis: REDIS_ADDR, default 127.0.0.1:6379
// (start one with: redis-server --daemonize yes --bind 127.0.0.1 --port 6379
// --save "" --appendonly no).
func redisAddr() string {
	if a := os.Getenv("REDIS_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

func redisURL() string { return "redis://" + redisAddr() + "/0" }

// rawRedis is a plain client for inspecting Redis; it fails the test when
// Redis is not running.
func rawRedis(t testing.TB) *redis.Client {
	t.Helper()
	r := redis.NewClient(&redis.Options{Addr: redisAddr()})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := r.Ping(ctx).Err(); err != nil {
		_ = r.Close()
		t.Fatalf("Redis is needed on %s: %v", redisAddr(), err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// testPrefix returns a prefix of the test's own and deletes its keys at the
// end.
func testPrefix(t testing.TB) string {
	t.Helper()
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	p := "meridian-test:" + name + ":" + hex.EncodeToString(b[:]) + ":"
	r := rawRedis(t)
	t.Cleanup(func() {
		ctx := context.Background()
		var keys []string
		iter := r.Scan(ctx, 0, p+"*", 1000).Iterator()
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if len(keys) > 0 {
			r.Del(ctx, keys...)
		}
	})
	return p
}

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

// proxy is a TCP proxy to Redis that a test can take down and bring back on
// the same address.
type proxy struct {
	t     testing.TB
	addr  string
	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func newProxy(t testing.TB) *proxy {
	t.Helper()
	p := &proxy{t: t, conns: map[net.Conn]struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(func() { p.down(); p.wg.Wait() })
	return p
}

func (p *proxy) url() string { return "redis://" + p.addr + "/0" }

func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Go(func() { p.pipe(c) })
		}
	})
}

func (p *proxy) pipe(c net.Conn) {
	up, err := net.DialTimeout("tcp", redisAddr(), time.Second)
	if err != nil {
		_ = c.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil { // went down meanwhile
		p.mu.Unlock()
		_ = c.Close()
		_ = up.Close()
		return
	}
	p.conns[c] = struct{}{}
	p.conns[up] = struct{}{}
	p.mu.Unlock()
	var wg sync.WaitGroup
	cp := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		_ = dst.Close()
		_ = src.Close()
	}
	wg.Go(func() { cp(up, c) })
	wg.Go(func() { cp(c, up) })
	wg.Wait()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

// down closes the listener and every proxied connection.
func (p *proxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		_ = c.Close()
	}
}

// up listens again on the same address.
func (p *proxy) up() {
	p.t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the port may take a moment to be free again
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		p.t.Fatalf("proxy up: %v", err)
	}
	p.serve(ln)
}
