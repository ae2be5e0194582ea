package faultsvc

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// need skips the test when a tool is missing, or fails it under CI, where
// the machine is set up to have it.
func need(tb testing.TB, tools ...string) {
	tb.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				tb.Fatalf("faultsvc: %s is needed under CI: %v", tool, err)
			}
			tb.Skipf("faultsvc: %s not installed (%v); the fault test needs a private instance", tool, err)
		}
	}
	if os.Geteuid() != 0 {
		tb.Skip("faultsvc: private service instances are started as root (see /work/shared/notes/private-services.md)")
	}
}

// sh runs a command and returns its combined output, failing with it.
func sh(ctx context.Context, name string, args ...string) (string, error) {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return out.String(), nil
}

// freePort is a TCP port nothing listens on at the moment.
func freePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("faultsvc: free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// pidFile reads the first line of a pid file.
func pidFile(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read pid file: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		return 0, fmt.Errorf("pid file %s: %w", path, err)
	}
	return pid, nil
}

// signal sends sig to the process in the pid file.
func signal(path string, sig syscall.Signal) error {
	pid, err := pidFile(path)
	if err != nil {
		return err
	}
	if err := syscall.Kill(pid, sig); err != nil {
		return fmt.Errorf("signal %d to %d: %w", sig, pid, err)
	}
	return nil
}

// gone waits until the process has exited (kill -9 is asynchronous).
func gone(pid int, within time.Duration) bool {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if err := syscall.Kill(pid, 0); err != nil {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// waitTCP waits until addr accepts connections.
func waitTCP(addr string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not accepting connections after %s: %w", addr, within, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// uniqueName is a short name of the test's own for a cluster or node.
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s%d%04d", prefix, os.Getpid()%100000, time.Now().UnixNano()%10000)
}
