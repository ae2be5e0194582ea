// The WebSocket under gqlgen's transport: the design (on wsImpl), the
// upgrade (Accept), the connection's state, and closing it. Reading frames
// is in wsread.go, queueing and writing them in wswrite.go.

package httpapi

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gobwas/ws"
)

// wsImpl is the WebSocket under gqlgen's transport: gqlgen keeps the
// protocols (graphql-transport-ws, graphql-ws), this owns the frames. It is
// built on github.com/gobwas/ws, the frame-level library made for servers
// holding very many connections, rather than gqlgen's default
// (coder/websocket), because a live fan-out needs what a message-level
// library hides:
//
//   - frames queued, not written: every write of a connection goes into
//     one bounded outgoing buffer, and whatever is pending when its writer
//     runs leaves in one write(2) — several subscriptions' frames, or a
//     burst of events, cost one syscall, not one per frame;
//   - frames assembled from shared bytes: the fan-out (package fanout)
//     appends a frame made of a payload encoded once for every subscriber
//     and the subscriber's own id, without marshalling it again;
//   - writes without a goroutine: a frame to a socket with room is written
//     at once, without blocking, on the goroutine that queued it; only a
//     full socket gets a writer goroutine, which ends when the buffer is
//     empty;
//   - small fixed state per connection: a 512-byte read buffer and no
//     write buffer kept beyond a few KB.
//
// A connection whose peer stops reading fills its buffer: droppable frames
// (fan-out deliveries) are then refused and counted by the fan-out, which
// ends the subscriber that keeps falling behind; the connection itself is
// closed when a write has not drained within wsWriteTimeout.
//
// Like coder/websocket's default, a browser may only connect from the
// server's own origin (cross-site WebSocket hijacking).
type wsImpl struct {
	// maxPending bounds a connection's queued bytes for droppable frames.
	maxPending int
}

const (
	wsReadBuffer     = 512
	wsMaxPending     = 1 << 20
	wsKeepBuffer     = 4 << 10
	wsWriteTimeout   = 10 * time.Second
	wsCloseHandshake = 2 * time.Second
	wsMaxControl     = 125
)

func (i wsImpl) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || !strings.EqualFold(u.Host, r.Host) {
			http.Error(w, "WebSocket connections are accepted from the server's own origin only", http.StatusForbidden)
			return nil, fmt.Errorf("websocket: origin %q not allowed for host %q", o, r.Host)
		}
	}
	up := ws.HTTPUpgrader{
		Header:   opts.ResponseHeader,
		Protocol: func(p string) bool { return slices.Contains(opts.Subprotocols, p) },
	}
	nc, rw, hs, err := up.Upgrade(r, w)
	if err != nil {
		if nc != nil {
			// Hijacked and answered with the rejection: nothing else will
			// close it.
			_ = nc.Close()
		}
		return nil, fmt.Errorf("websocket: upgrade: %w", err)
	}
	br := rw.Reader
	if br.Buffered() == 0 {
		// The server's 4 KB reader holds nothing yet: a small one is enough
		// for a client that sends a few short messages.
		br = bufio.NewReaderSize(nc, wsReadBuffer)
	}
	max := i.maxPending
	if max <= 0 {
		max = wsMaxPending
	}
	c := &wsConn{nc: nc, br: br, proto: hs.Protocol, maxPending: max, readLimit: 1 << 20, closed: make(chan struct{})}
	if sc, ok := nc.(syscall.Conn); ok {
		c.raw, _ = sc.SyscallConn()
	}
	return c, nil
}

// wsConn is one accepted WebSocket.
type wsConn struct {
	nc         net.Conn
	raw        syscall.RawConn // nil when nc has no descriptor of its own (TLS)
	br         *bufio.Reader
	proto      string
	maxPending int
	// writeTimeout bounds a blocking write (wsWriteTimeout when 0).
	writeTimeout time.Duration
	readLimit    int64 // set by gqlgen before the first read
	closed       chan struct{}
	closeOnce    sync.Once

	// lastID is the id of the last subscribe (start) message read: gqlgen
	// creates the operation's context in its read loop right after reading
	// it, which is where wsSocket picks the id up. Read-loop only.
	lastID string

	mu       sync.Mutex
	out      []byte // frames queued
	writing  bool   // a write is under way (flush, or the writer goroutine)
	err      error  // the write side failed: nothing more is queued
	closing  bool   // a close frame is queued: nothing more is queued
	peerGone bool   // the peer's close frame was read
}

var (
	_ transport.WebsocketConn          = (*wsConn)(nil)
	_ transport.WebsocketReadLimiter   = (*wsConn)(nil)
	_ transport.WebsocketReadDeadliner = (*wsConn)(nil)
	_ frameSender                      = (*wsConn)(nil)
)

// frameSender is what the fan-out writes to: a connection that queues a
// text frame made of parts, or refuses it when its buffer is full.
type frameSender interface {
	SendText(parts ...[]byte) bool
	Subprotocol() string
}

// LastSubscribeID is the id of the last subscribe (start) message read.
func (c *wsConn) LastSubscribeID() string { return c.lastID }

func (c *wsConn) Subprotocol() string               { return c.proto }
func (c *wsConn) SetReadLimit(n int64)              { c.readLimit = n }
func (c *wsConn) SetReadDeadline(t time.Time) error { return c.nc.SetReadDeadline(t) }

// WriteClose queues a close frame; the connection closes once the peer
// answers it, or after wsCloseHandshake.
func (c *wsConn) WriteClose(code int, reason string) error {
	c.closeWith(ws.StatusCode(code), reason)
	return nil
}

func (c *wsConn) closeWith(code ws.StatusCode, reason string) {
	// queue sets closing with the frame: nothing is queued after it.
	if !c.queue(false, ws.OpClose, ws.NewCloseFrameBody(code, reason)) {
		return // another close, or a failed write, came first
	}
	c.mu.Lock()
	peerGone := c.peerGone
	c.mu.Unlock()
	go func() {
		// Let the writer send the close frame, then wait for the peer's.
		deadline := time.Now().Add(wsCloseHandshake)
		for time.Now().Before(deadline) {
			c.mu.Lock()
			flushed := !c.writing
			gone := c.peerGone
			c.mu.Unlock()
			if flushed && (gone || peerGone) {
				break
			}
			select {
			case <-c.closed:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
		c.closeNow()
	}()
}

// Close ends the connection, at once unless a close handshake is under way
// (which then closes it).
func (c *wsConn) Close() error {
	c.mu.Lock()
	closing := c.closing
	c.mu.Unlock()
	if closing {
		return nil
	}
	c.closeNow()
	return nil
}

func (c *wsConn) closeNow() {
	c.closeOnce.Do(func() {
		close(c.closed)
		_ = c.nc.Close()
	})
}
