package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// server is the meridian child process.
type server struct {
	cmd     *exec.Cmd
	addr    string // host:port
	dataDir string
	exited  chan struct{}
	waitErr error
}

// startServer starts c.serverBin on a free loopback port with a fresh data
// directory (the embedded SQLite database, or databaseURL when not empty)
// and waits until /readyz answers 200.
func startServer(ctx context.Context, c config, databaseURL string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "livesubs-")
	if err != nil {
		return nil, err
	}
	s := &server{addr: fmt.Sprintf("127.0.0.1:%d", port), dataDir: dir, exited: make(chan struct{})}
	env := []string{
		"MERIDIAN_ADDR=" + s.addr,
		"MERIDIAN_DATA_DIR=" + dir,
		"MERIDIAN_DEMO_USERS=" + strconv.Itoa(c.demoUsers),
		"MERIDIAN_LOG_LEVEL=warn",
		// The producer tracks events without a key; the demo default lets
		// anonymous callers only read.
		"MERIDIAN_ANONYMOUS_ROLE=analyst",
		"MERIDIAN_ANONYMOUS_WRITES=true",
		// Every subscriber connects from 127.0.0.1: one anonymous rate
		// bucket, which would refuse all but the first burst of them (429).
		"MERIDIAN_RATE_LIMIT=0",
		// The producer's keep-alive connection, opened before the
		// subscribers (producer.prime), must outlive their connect.
		"MERIDIAN_IDLE_TIMEOUT=30m",
	}
	if c.amqpURL != "" {
		env = append(env, "AMQP_URL="+c.amqpURL)
	}
	if databaseURL != "" {
		env = append(env, "DATABASE_URL="+databaseURL)
	}
	s.cmd = exec.Command(c.serverBin)
	s.cmd.Env = append(append(serverEnv(os.Environ()), env...), c.env...)
	s.cmd.Stdout = os.Stderr
	s.cmd.Stderr = os.Stderr
	s.cmd.SysProcAttr = childAttr()
	if err := s.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s: %w", c.serverBin, err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitReady(ctx, 60*time.Second); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// serverEnv is the bench's environment without the variables that would
// point the server at external backends or change its configuration.
func serverEnv(environ []string) []string {
	var env []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "MERIDIAN_"), name == "DATABASE_URL", name == "AMQP_URL", name == "REDIS_URL", strings.HasPrefix(name, "MONGODB_"):
			continue
		}
		env = append(env, kv)
	}
	return env
}

func (s *server) waitReady(ctx context.Context, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	url := "http://" + s.addr + "/readyz"
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{Proxy: nil}}
	start := time.Now()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if res, err := client.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				slog.Info("server answered /readyz", "after", time.Since(start).Round(time.Millisecond))
				return nil
			}
		}
		select {
		case <-s.exited:
			return fmt.Errorf("%w before it was ready: %v", errServerExited, s.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("server not ready after %s: %w", time.Since(start).Round(time.Millisecond), ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// alive reports an error when the server has exited.
func (s *server) alive() error {
	select {
	case <-s.exited:
		return fmt.Errorf("%w during the run: %v", errServerExited, s.waitErr)
	default:
		return nil
	}
}

// stop ends the server (SIGTERM, then SIGKILL after 10 s) and removes its
// data directory.
func (s *server) stop() {
	select {
	case <-s.exited:
	default:
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			slog.Warn("server did not stop on SIGTERM; killing it")
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	}
	os.RemoveAll(s.dataDir)
}

type memory struct{ rss, hwm int64 } // KB

// mem reads VmRSS and VmHWM of the server from /proc (zero elsewhere).
func (s *server) mem() memory {
	var m memory
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.pid()))
	if err != nil {
		return m
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		var dst *int64
		switch name {
		case "VmRSS":
			dst = &m.rss
		case "VmHWM":
			dst = &m.hwm
		default:
			continue
		}
		*dst, _ = strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
	}
	return m
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// cpu returns the server's user+system CPU time so far, from /proc (zero
// elsewhere). Clock ticks are taken as 100 per second, Linux's USER_HZ.
func (s *server) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.pid()))
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:])) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// machineCPU returns the busy and total CPU time of the machine so far, from
// the first line of /proc/stat (zero elsewhere).
func machineCPU() (busy, total time.Duration) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 5 || f[0] != "cpu" {
		return 0, 0
	}
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		if i >= 8 { // guest time is already in user
			break
		}
		total += time.Duration(n) * 10 * time.Millisecond
		if i != 3 && i != 4 { // idle, iowait
			busy += time.Duration(n) * 10 * time.Millisecond
		}
	}
	return busy, total
}
