package faultsvc

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// RabbitMQ is a private RabbitMQ node, run as the rabbitmq user with the
// Debian scripts, on a free AMQP port; guest/guest works on loopback.
type RabbitMQ struct {
	Node string // faultsNNN@localhost
	Port int
	dir  string
	tb   testing.TB
}

// StartRabbitMQ starts a node of the test's own (about 5 s); it is killed
// and its files removed at cleanup.
func StartRabbitMQ(tb testing.TB) *RabbitMQ {
	tb.Helper()
	need(tb, "rabbitmqctl", "/usr/lib/rabbitmq/bin/rabbitmq-server")
	u, err := user.Lookup("rabbitmq")
	if err != nil {
		tb.Skipf("faultsvc: no rabbitmq user: %v", err)
	}
	dir, err := os.MkdirTemp("", "faultsvc-rabbit-")
	if err != nil {
		tb.Fatal(err)
	}
	r := &RabbitMQ{Node: uniqueName("faults") + "@localhost", Port: freePort(tb), dir: dir, tb: tb}
	tb.Cleanup(func() {
		_ = signal(r.pidFile(), syscall.SIGKILL)
		_ = os.RemoveAll(dir)
	})
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	// The node runs as rabbitmq, which must reach and own its directory.
	if err := os.Chmod(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	files := map[string]string{
		"rabbitmq.conf":   fmt.Sprintf("listeners.tcp.1 = 127.0.0.1:%d\nloopback_users.guest = true\n", r.Port),
		"enabled_plugins": "[].\n",
		"advanced.config": "[].\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		tb.Fatal(err)
	}
	r.Start()
	return r
}

// URL is AMQP_URL of the node's default vhost.
func (r *RabbitMQ) URL() string { return fmt.Sprintf("amqp://guest:guest@127.0.0.1:%d/", r.Port) }

func (r *RabbitMQ) pidFile() string { return filepath.Join(r.dir, "node.pid") }

// Start starts (or restarts, after Kill) the node and waits until it
// serves AMQP. Its durable queues and their messages survive a Kill.
func (r *RabbitMQ) Start() {
	r.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	distPort := freePort(r.tb)
	env := strings.Join([]string{
		"HOME=/var/lib/rabbitmq",
		"RABBITMQ_NODENAME=" + r.Node,
		"RABBITMQ_NODE_PORT=" + strconv.Itoa(r.Port),
		"RABBITMQ_NODE_IP_ADDRESS=127.0.0.1",
		"RABBITMQ_DIST_PORT=" + strconv.Itoa(distPort),
		"RABBITMQ_CONFIG_FILE=" + filepath.Join(r.dir, "rabbitmq.conf"),
		"RABBITMQ_ENABLED_PLUGINS_FILE=" + filepath.Join(r.dir, "enabled_plugins"),
		"RABBITMQ_ADVANCED_CONFIG_FILE=" + filepath.Join(r.dir, "advanced.config"),
		"RABBITMQ_MNESIA_BASE=" + filepath.Join(r.dir, "mnesia"),
		"RABBITMQ_LOG_BASE=" + filepath.Join(r.dir, "log"),
		"RABBITMQ_PID_FILE=" + r.pidFile(),
	}, " ")
	script := "cd /var/lib/rabbitmq && env " + env + " /usr/lib/rabbitmq/bin/rabbitmq-server -detached"
	if out, err := sh(ctx, "su", "rabbitmq", "-s", "/bin/sh", "-c", script); err != nil {
		r.tb.Fatalf("faultsvc: start rabbitmq: %v\n%s", err, out)
	}
	// -detached returns before the node registers with epmd; wait reads
	// the pid file and waits for the boot to finish.
	if out, err := sh(ctx, "rabbitmqctl", "-n", r.Node, "--timeout", "80", "wait", r.pidFile()); err != nil {
		r.tb.Fatalf("faultsvc: rabbitmq did not start: %v\n%s\n%s", err, out, r.logTail())
	}
	if err := waitTCP(fmt.Sprintf("127.0.0.1:%d", r.Port), 30*time.Second); err != nil {
		r.tb.Fatalf("faultsvc: rabbitmq: %v", err)
	}
}

// Kill is kill -9 of the node (the Erlang VM).
func (r *RabbitMQ) Kill() {
	r.tb.Helper()
	pid, err := pidFile(r.pidFile())
	if err != nil {
		r.tb.Fatalf("faultsvc: kill rabbitmq: %v", err)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	if !gone(pid, 10*time.Second) {
		r.tb.Fatalf("faultsvc: rabbitmq %d alive after kill -9", pid)
	}
}

// Down kills the node, keeps it down for d, then starts it again.
func (r *RabbitMQ) Down(d time.Duration) {
	r.tb.Helper()
	r.Kill()
	time.Sleep(d)
	r.Start()
}

// Ctl runs rabbitmqctl against the node (list_queues name messages, …).
func (r *RabbitMQ) Ctl(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return sh(ctx, "rabbitmqctl", append([]string{"-n", r.Node, "-q"}, args...)...)
}

func (r *RabbitMQ) logTail() string {
	out, _ := exec.Command("sh", "-c", "tail -20 "+filepath.Join(r.dir, "log")+"/*.log").CombinedOutput()
	return string(out)
}
