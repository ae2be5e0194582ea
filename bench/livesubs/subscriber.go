package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// Metadata keys of the producer's events: the send time in Unix
// nanoseconds, as a string (a JSON number would pass through float64).
const (
	sentKey = "sentNs" // measured events
	warmKey = "warmNs" // the warm-up event, not measured
)

var (
	sentMarker = []byte(`"` + sentKey + `":"`)
	warmMarker = []byte(`"` + warmKey + `":"`)
	pongFrame  = []byte(`{"type":"pong"}`)
)

// sub is one WebSocket subscriber. Only its reader goroutine touches
// latencies; the counters are read by the coordinator while it runs.
type sub struct {
	conn      net.Conn
	br        *bufio.Reader
	wmu       sync.Mutex // frames are written by open, then by the reader (pongs)
	instance  int        // index of its server
	expected  int64      // measured events it is owed
	run       []byte
	ctx       context.Context // its own, so per-read cancellation hooks do not share a parent's lock
	cancel    context.CancelFunc
	latencies []int64 // ns
	received  atomic.Int64
	warm      atomic.Bool
	done      chan struct{}
	opened    time.Time
	ended     time.Time
	end       error // why the reader stopped before the run ended, if it did
	completed bool  // the server completed the subscription
	errored   bool  // the server sent an error message
}

type pool struct {
	ctx    context.Context
	cancel context.CancelFunc
	urls   []string // one per server
	plan   plan
	run    []byte // this run's event id prefix
	client *http.Client

	mu   sync.Mutex
	subs []*sub
}

// newPool makes the subscribers of pl on the servers at addrs (host:port,
// in instance order); runID is the producer's (eventIDPrefix).
func newPool(ctx context.Context, addrs []string, pl plan, runID string) *pool {
	ctx, cancel := context.WithCancel(ctx)
	tr := &http.Transport{
		Proxy:       nil,
		DialContext: (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
	}
	urls := make([]string, len(addrs))
	for i, a := range addrs {
		urls[i] = "ws://" + a + "/query"
	}
	return &pool{ctx: ctx, cancel: cancel, urls: urls, plan: pl, run: []byte(eventIDPrefix(runID)), client: &http.Client{Transport: tr}}
}

type connectResult struct {
	ok, failed int
	expected   int64 // measured deliveries owed to the connected ones
	onInstance []int // connected ones by server
	took       time.Duration
	firstErr   string
}

// connect opens the subscribers numbered from..to-1 of the plan, conc at a
// time; each is subscribed (its subscribe message sent after
// connection_ack) when connect returns.
func (p *pool) connect(ctx context.Context, from, to, conc int) connectResult {
	start, n := time.Now(), to-from
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	var failed atomic.Int64
	var firstErr sync.Once
	var first string
	lastLog := time.Now()
	for i := 0; i < n; i++ {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			failed.Add(int64(n - i))
			firstErr.Do(func() { first = ctx.Err().Error() })
			i = n
			continue
		}
		if time.Since(lastLog) > 2*time.Second {
			lastLog = time.Now()
			slog.Info("connecting", "started", i, "of", n)
		}
		wg.Add(1)
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			s, err := p.open(ctx, i)
			if err != nil {
				failed.Add(1)
				firstErr.Do(func() { first = err.Error() })
				return
			}
			p.mu.Lock()
			p.subs = append(p.subs, s)
			p.mu.Unlock()
			go s.read()
		}(from + i)
	}
	wg.Wait()
	on := make([]int, len(p.urls))
	for _, s := range p.snapshot() {
		on[s.instance]++
	}
	return connectResult{ok: len(p.subs), failed: int(failed.Load()), expected: p.expected(), onInstance: on, took: time.Since(start), firstErr: first}
}

// expected sums what the connected subscribers are owed.
func (p *pool) expected() int64 {
	var n int64
	for _, s := range p.snapshot() {
		n += s.expected
	}
	return n
}

// open connects subscriber i of the plan.
func (p *pool) open(ctx context.Context, i int) (*sub, error) {
	hctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	inst := p.plan.instance(i)
	// gobwas/ws, the server's own WebSocket library, rather than a
	// message-level client: the clients share the server's two cores, and
	// reading a frame off a bufio.Reader costs a fraction of a context-
	// aware Read, so more of the machine is left to the server measured.
	conn, br, hs, err := ws.Dialer{Protocols: []string{"graphql-transport-ws"}, Timeout: 30 * time.Second}.Dial(hctx, p.urls[inst])
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	fail := func(err error) (*sub, error) {
		conn.Close()
		return nil, err
	}
	if hs.Protocol != "graphql-transport-ws" {
		return fail(fmt.Errorf("server chose subprotocol %q", hs.Protocol))
	}
	if br == nil {
		br = bufio.NewReaderSize(conn, 4096)
	}
	s := &sub{conn: conn, br: br}
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	if err := s.write([]byte(`{"type":"connection_init","payload":{}}`)); err != nil {
		return fail(fmt.Errorf("connection_init: %w", err))
	}
	for {
		b, err := s.next(nil)
		if err != nil {
			return fail(fmt.Errorf("waiting for connection_ack: %w", err))
		}
		var m struct{ Type string }
		if err := json.Unmarshal(b, &m); err != nil {
			return fail(fmt.Errorf("waiting for connection_ack: %w", err))
		}
		if m.Type == "connection_ack" {
			break
		}
		if m.Type == "ping" {
			if err := s.write(pongFrame); err != nil {
				return fail(err)
			}
			continue
		}
		return fail(fmt.Errorf("waiting for connection_ack, got %s", b))
	}
	msg, _ := json.Marshal(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": p.plan.document(i)}})
	if err := s.write(msg); err != nil {
		return fail(fmt.Errorf("subscribe: %w", err))
	}
	_ = conn.SetDeadline(time.Time{})
	sctx, scancel := context.WithCancel(p.ctx)
	s.instance, s.expected, s.run = inst, p.plan.expected(i), p.run
	s.ctx, s.cancel, s.latencies, s.done, s.opened = sctx, scancel, make([]int64, 0, 64), make(chan struct{}), time.Now()
	return s, nil
}

// write sends one masked text frame.
func (s *sub) write(b []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return wsutil.WriteClientText(s.conn, b)
}

// next reads the next data message into buf; server control frames
// (close) end the read.
func (s *sub) next(buf []byte) ([]byte, error) {
	buf = buf[:0]
	for {
		h, err := ws.ReadHeader(s.br)
		if err != nil {
			return nil, err
		}
		if h.OpCode == ws.OpClose {
			return nil, io.EOF
		}
		n := len(buf)
		if int64(cap(buf)-n) < h.Length {
			buf = append(buf[:cap(buf)], make([]byte, int(h.Length)-(cap(buf)-n))...)
		}
		buf = buf[:n+int(h.Length)]
		if _, err := io.ReadFull(s.br, buf[n:]); err != nil {
			return nil, err
		}
		if h.OpCode.IsControl() {
			buf = buf[:n]
			continue
		}
		if h.Fin {
			return buf, nil
		}
	}
}

// read records the latency of every delivery until the connection ends.
func (s *sub) read() {
	defer close(s.done)
	defer func() { s.ended = time.Now() }()
	defer s.conn.Close()
	stop := context.AfterFunc(s.ctx, func() { s.conn.Close() })
	defer stop()
	buf := make([]byte, 0, 4096)
	for {
		var err error
		buf, err = s.next(buf)
		now := time.Now().UnixNano()
		if err != nil {
			if s.ctx.Err() == nil {
				s.end = err
			}
			return
		}
		// Events of another run on the same RabbitMQ (a bench started
		// beside this one) reach this server too: only this run's count.
		if i := bytes.Index(buf, sentMarker); i >= 0 {
			if sent, ok := parseNs(buf[i+len(sentMarker):]); ok {
				if bytes.Contains(buf, s.run) {
					s.latencies = append(s.latencies, now-sent)
					s.received.Add(1)
				}
				continue
			}
		}
		if bytes.Contains(buf, warmMarker) {
			if bytes.Contains(buf, s.run) {
				s.warm.Store(true)
			}
			continue
		}
		var m struct{ Type string }
		_ = json.Unmarshal(buf, &m)
		switch m.Type {
		case "ping":
			if err := s.write(pongFrame); err != nil && s.ctx.Err() == nil {
				s.end = err
				return
			}
		case "complete":
			s.completed = true
			s.end = errors.New("the server completed the subscription")
			return
		case "error":
			s.errored = true
			s.end = fmt.Errorf("server error: %s", buf)
			return
		}
	}
}

// parseNs parses the digits up to the closing quote.
func parseNs(b []byte) (int64, bool) {
	end := bytes.IndexByte(b, '"')
	if end < 0 {
		return 0, false
	}
	v, err := strconv.ParseInt(string(b[:end]), 10, 64)
	return v, err == nil
}

func (p *pool) snapshot() []*sub {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.subs
}

// waitWarm waits until every subscriber got the warm-up event, or limit
// passes, and returns how many did.
func (p *pool) waitWarm(ctx context.Context, limit time.Duration) int {
	subs := p.snapshot()
	deadline := time.Now().Add(limit)
	for {
		n := 0
		for _, s := range subs {
			if s.warm.Load() {
				n++
			}
		}
		if n == len(subs) || time.Now().After(deadline) || ctx.Err() != nil {
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *pool) received() int64 {
	var n int64
	for _, s := range p.snapshot() {
		n += s.received.Load()
	}
	return n
}

// waitDeliveries waits until want deliveries arrived, limit passed, or
// every subscriber is gone, and returns how long it waited.
func (p *pool) waitDeliveries(ctx context.Context, want int64, limit time.Duration) time.Duration {
	start := time.Now()
	for time.Since(start) < limit && ctx.Err() == nil {
		if p.received() >= want || p.live() == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

// live counts the subscribers whose reader still runs.
func (p *pool) live() int {
	n := 0
	for _, s := range p.snapshot() {
		select {
		case <-s.done:
		default:
			n++
		}
	}
	return n
}

type poolStats struct {
	latencies                        []int64
	perInstance                      []int64 // deliveries by server
	extra                            int64   // deliveries beyond what a subscriber was owed
	disconnected, completed, errored int
	firstEnd                         string
	firstEndAfter                    time.Duration // connection age at the first disconnect
}

// finish closes every connection, waits for the readers and merges their
// samples.
func (p *pool) finish() poolStats {
	p.cancel()
	var st poolStats
	subs := p.snapshot()
	total := 0
	for _, s := range subs {
		<-s.done
		total += len(s.latencies)
	}
	st.latencies = make([]int64, 0, total)
	st.perInstance = make([]int64, len(p.urls))
	for _, s := range subs {
		st.latencies = append(st.latencies, s.latencies...)
		st.perInstance[s.instance] += int64(len(s.latencies))
		st.extra += max(0, int64(len(s.latencies))-s.expected)
		if s.end != nil {
			st.disconnected++
			if age := s.ended.Sub(s.opened); st.firstEnd == "" || age < st.firstEndAfter {
				st.firstEnd, st.firstEndAfter = s.end.Error(), age
			}
		}
		if s.completed {
			st.completed++
		}
		if s.errored {
			st.errored++
		}
	}
	return st
}

func (p *pool) close() {
	p.cancel()
	for _, s := range p.snapshot() {
		s.cancel()
		<-s.done
	}
}
