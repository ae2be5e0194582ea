package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"time"
)

// childArg as the first argument runs the bench as a client process of
// another one (-procs). It is not a flag, so the usage does not list it.
const childArg = "-client-process"

// The parent and a child talk in JSON values, one per line: the parent
// writes a shardSpec to the child's stdin and reads a reply when the child
// has connected; then each command gets one reply on the child's stdout.
// The latencies of finish go through a file, as raw little-endian int64
// nanoseconds: a million samples are 8 MB, no reason to encode them.
type shardSpec struct {
	Addrs    []string // servers, in instance order
	Plan     plan
	From, To int // the child's subscribers
	DialConc int
	RunID    string
	Deadline time.Time
	Proc     int // 1-based, for the logs
}

type command struct {
	Cmd   string        // warm, drain or finish
	Limit time.Duration // warm, drain
	Path  string        // finish: where to write the latencies
}

type reply struct {
	Err string `json:",omitempty"`
	// connect
	OK, Failed int
	Expected   int64
	OnInstance []int
	FirstErr   string
	// warm, drain
	Warm     int
	Received int64
	CPU      time.Duration // the child's user+system time when it replied
	// finish
	Samples                          int
	PerInstance                      []int64
	Extra                            int64
	Disconnected, Completed, Errored int
	FirstEnd                         string
	FirstEndAfter                    time.Duration
}

// childMain is the client process: it opens its share of the subscribers
// and answers the parent's commands until finish.
func childMain(in io.Reader, out io.Writer) int {
	dec, enc := json.NewDecoder(in), json.NewEncoder(out)
	var spec shardSpec
	if err := dec.Decode(&spec); err != nil {
		fmt.Fprintln(os.Stderr, "livesubs client process: reading its spec:", err)
		return 2
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})).With("proc", spec.Proc))
	// A Ctrl-C reaches the whole process group; the parent ends its
	// children itself, after it has reported what it can.
	signal.Ignore(os.Interrupt)
	if lim, err := raiseNoFile(); err != nil {
		slog.Warn("could not raise the open-files limit", "error", err)
	} else if lim < uint64(spec.To-spec.From)+256 {
		slog.Warn("open-files limit below what the client process needs", "limit", lim, "subs", spec.To-spec.From)
	}
	ctx, cancel := context.WithDeadline(context.Background(), spec.Deadline)
	defer cancel()
	p := newPool(ctx, spec.Addrs, spec.Plan, spec.RunID)
	defer p.close()
	res := p.connect(ctx, spec.From, spec.To, spec.DialConc)
	if err := enc.Encode(reply{OK: res.ok, Failed: res.failed, Expected: res.expected, OnInstance: res.onInstance, FirstErr: res.firstErr}); err != nil {
		return 2
	}
	for {
		var c command
		if err := dec.Decode(&c); err != nil {
			// The parent closed the pipe: it gave up on the run.
			return 2
		}
		var r reply
		switch c.Cmd {
		case "warm":
			r.Warm, r.CPU = p.waitWarm(ctx, c.Limit), selfCPU()
		case "drain":
			waited := p.waitDeliveries(ctx, p.expected(), c.Limit)
			r.Received, r.CPU = p.received(), selfCPU()
			slog.Info("deliveries", "received", r.Received, "expected", p.expected(), "waited", waited.Round(time.Millisecond), "cpu", r.CPU.Round(time.Millisecond))
		case "finish":
			st := p.finish()
			if err := writeSamples(c.Path, st.latencies); err != nil {
				r.Err = err.Error()
			}
			r.Samples, r.PerInstance, r.Extra = len(st.latencies), st.perInstance, st.extra
			r.Disconnected, r.Completed, r.Errored = st.disconnected, st.completed, st.errored
			r.FirstEnd, r.FirstEndAfter = st.firstEnd, st.firstEndAfter
		default:
			r.Err = fmt.Sprintf("unknown command %q", c.Cmd)
		}
		if err := enc.Encode(r); err != nil {
			return 2
		}
		if c.Cmd == "finish" {
			return 0
		}
	}
}

func writeSamples(path string, s []int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := binary.Write(f, binary.LittleEndian, s); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func readSamples(path string, n int) ([]int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s := make([]int64, n)
	if err := binary.Read(f, binary.LittleEndian, s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// childShard is a client process seen from the parent.
type childShard struct {
	proc    int
	cmd     *exec.Cmd
	stdin   *os.File // write end
	stdout  *os.File // read end
	enc     *json.Encoder
	dec     *json.Decoder
	lastCPU time.Duration
	waited  bool
}

// startChild re-executes the bench as a client process of spec.
func startChild(spec shardSpec) (*childShard, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	// os.Pipe rather than StdinPipe/StdoutPipe: Wait closes those when
	// the process exits, possibly before its last reply was read.
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	cmd := exec.Command(exe, childArg)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, os.Stderr
	cmd.SysProcAttr = childAttr()
	err = cmd.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, fmt.Errorf("start client process %d: %w", spec.Proc, err)
	}
	c := &childShard{proc: spec.Proc, cmd: cmd, stdin: inW, stdout: outR, enc: json.NewEncoder(inW), dec: json.NewDecoder(outR)}
	if err := c.enc.Encode(spec); err != nil {
		c.close()
		return nil, fmt.Errorf("client process %d: %w", spec.Proc, err)
	}
	return c, nil
}

// call sends cmd (none when Cmd is empty) and reads the reply; it kills the
// child when ctx ends first.
func (c *childShard) call(ctx context.Context, cmd command) (reply, error) {
	var r reply
	if cmd.Cmd != "" {
		if err := c.enc.Encode(cmd); err != nil {
			return r, fmt.Errorf("client process %d: %w", c.proc, err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- c.dec.Decode(&r) }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = c.cmd.Process.Kill()
		<-done
		return r, fmt.Errorf("client process %d: %w", c.proc, context.Cause(ctx))
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = errors.New("exited without replying")
		}
		return r, fmt.Errorf("client process %d: %w", c.proc, err)
	}
	if r.Err != "" {
		return r, fmt.Errorf("client process %d: %s", c.proc, r.Err)
	}
	return r, nil
}

func (c *childShard) connect(ctx context.Context) (connectResult, error) {
	r, err := c.call(ctx, command{})
	return connectResult{ok: r.OK, failed: r.Failed, expected: r.Expected, onInstance: r.OnInstance, firstErr: r.FirstErr}, err
}

func (c *childShard) waitWarm(ctx context.Context, limit time.Duration) (int, error) {
	r, err := c.call(ctx, command{Cmd: "warm", Limit: limit})
	c.lastCPU = r.CPU
	return r.Warm, err
}

func (c *childShard) drain(ctx context.Context, limit time.Duration) (int64, error) {
	r, err := c.call(ctx, command{Cmd: "drain", Limit: limit})
	c.lastCPU = r.CPU
	return r.Received, err
}

func (c *childShard) cpu() time.Duration { return c.lastCPU }

func (c *childShard) finish(ctx context.Context) (poolStats, error) {
	var st poolStats
	f, err := os.CreateTemp("", "livesubs-samples-")
	if err != nil {
		return st, err
	}
	path := f.Name()
	f.Close()
	defer os.Remove(path)
	r, err := c.call(ctx, command{Cmd: "finish", Path: path})
	if err != nil {
		return st, err
	}
	if st.latencies, err = readSamples(path, r.Samples); err != nil {
		return st, fmt.Errorf("client process %d: %w", c.proc, err)
	}
	st.perInstance, st.extra = r.PerInstance, r.Extra
	st.disconnected, st.completed, st.errored = r.Disconnected, r.Completed, r.Errored
	st.firstEnd, st.firstEndAfter = r.FirstEnd, r.FirstEndAfter
	return st, nil
}

// close ends the child: its stdin closes, which ends a child waiting for a
// command; one still busy is killed after 10 s.
func (c *childShard) close() {
	if c.waited {
		return
	}
	c.waited = true
	c.stdin.Close()
	exited := make(chan struct{})
	go func() {
		_ = c.cmd.Wait()
		close(exited)
	}()
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-exited
	}
	c.stdout.Close()
}
