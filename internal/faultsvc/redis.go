package faultsvc

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Redis is a private redis-server that keeps nothing on disk.
type Redis struct {
	Port int
	dir  string
	tb   testing.TB
}

// StartRedis starts a Redis of the test's own on a free port; it is killed
// at cleanup.
func StartRedis(tb testing.TB) *Redis {
	tb.Helper()
	need(tb, "redis-server")
	r := &Redis{Port: freePort(tb), dir: tb.TempDir(), tb: tb}
	tb.Cleanup(func() {
		_ = signal(r.pidFile(), syscall.SIGCONT)
		_ = signal(r.pidFile(), syscall.SIGKILL)
	})
	r.Start()
	return r
}

// Addr is host:port; URL is the redis:// URL of database 0.
func (r *Redis) Addr() string { return fmt.Sprintf("127.0.0.1:%d", r.Port) }
func (r *Redis) URL() string  { return "redis://" + r.Addr() + "/0" }

func (r *Redis) pidFile() string { return filepath.Join(r.dir, "redis.pid") }

// Start starts (or restarts, after Kill) the server, empty.
func (r *Redis) Start() {
	r.tb.Helper()
	_ = os.Remove(r.pidFile())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := sh(ctx, "redis-server", "--port", strconv.Itoa(r.Port), "--bind", "127.0.0.1", "--daemonize", "yes",
		"--save", "", "--appendonly", "no", "--dir", r.dir, "--pidfile", r.pidFile()); err != nil {
		r.tb.Fatalf("faultsvc: start redis: %v\n%s", err, out)
	}
	if err := waitTCP(r.Addr(), 10*time.Second); err != nil {
		r.tb.Fatalf("faultsvc: redis: %v", err)
	}
	// The pid file is written just after the port opens.
	for range 100 {
		if _, err := pidFile(r.pidFile()); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.tb.Fatalf("faultsvc: redis wrote no pid file")
}

// Kill is kill -9 of the server; its data is gone.
func (r *Redis) Kill() {
	r.tb.Helper()
	pid, err := pidFile(r.pidFile())
	if err != nil {
		r.tb.Fatalf("faultsvc: kill redis: %v", err)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	if !gone(pid, 5*time.Second) {
		r.tb.Fatalf("faultsvc: redis %d alive after kill -9", pid)
	}
}

// Freeze stops the process (SIGSTOP): connections stay open and nothing
// answers, as with a hung server or a partitioned network. Thaw resumes.
func (r *Redis) Freeze() {
	r.tb.Helper()
	if err := signal(r.pidFile(), syscall.SIGSTOP); err != nil {
		r.tb.Fatalf("faultsvc: freeze redis: %v", err)
	}
}

func (r *Redis) Thaw() {
	r.tb.Helper()
	if err := signal(r.pidFile(), syscall.SIGCONT); err != nil {
		r.tb.Fatalf("faultsvc: thaw redis: %v", err)
	}
}
