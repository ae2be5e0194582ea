package httpapi

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// errWSPeerNotReading ends a connection whose outgoing buffer passed twice
// its bound.
var errWSPeerNotReading = errors.New("websocket: the peer does not read its frames")

// errWSProtocol is a frame the protocol forbids; the connection closes
// with 1002.
var errWSProtocol = errors.New("websocket: protocol error")

// NextReader returns the next data message, answering pings and the peer's
// close on the way.
func (c *wsConn) NextReader() (int, io.Reader, error) {
	var msg []byte
	var op ws.OpCode
	for {
		h, err := ws.ReadHeader(c.br)
		if err != nil {
			return 0, nil, c.readErr(err)
		}
		if !h.Masked || h.Rsv != 0 || (h.OpCode.IsControl() && (!h.Fin || h.Length > wsMaxControl)) || h.OpCode.IsReserved() {
			c.closeWith(ws.StatusProtocolError, "protocol error")
			return 0, nil, errWSProtocol
		}
		limit := c.readLimit
		if limit <= 0 {
			// "No limit" still may not ask for an allocation past 1 GB.
			limit = 1 << 30
		}
		if int64(len(msg))+h.Length > limit {
			c.closeWith(ws.StatusMessageTooBig, "message too big")
			return 0, nil, fmt.Errorf("websocket: message over %d bytes", limit)
		}
		payload := make([]byte, h.Length)
		if _, err := io.ReadFull(c.br, payload); err != nil {
			return 0, nil, c.readErr(err)
		}
		ws.Cipher(payload, h.Mask, 0)
		switch h.OpCode {
		case ws.OpPing:
			c.queue(false, ws.OpPong, payload)
			continue
		case ws.OpPong:
			continue
		case ws.OpClose:
			c.mu.Lock()
			c.peerGone = true
			c.mu.Unlock()
			code, _ := ws.ParseCloseFrameData(payload)
			if code.Empty() {
				code = ws.StatusNormalClosure
			}
			c.closeWith(code, "")
			return 0, nil, transport.ErrWebsocketClosed
		case ws.OpContinuation:
			if op == 0 {
				c.closeWith(ws.StatusProtocolError, "continuation without a message")
				return 0, nil, errWSProtocol
			}
		default: // text or binary
			if op != 0 {
				c.closeWith(ws.StatusProtocolError, "new message inside a fragmented one")
				return 0, nil, errWSProtocol
			}
			op = h.OpCode
		}
		msg = append(msg, payload...)
		if h.Fin {
			c.noteID(msg)
			return int(op), bytes.NewReader(msg), nil
		}
	}
}

// noteID remembers the id of a subscribe (graphql-transport-ws) or start
// (graphql-ws) message.
func (c *wsConn) noteID(msg []byte) {
	if !bytes.Contains(msg, []byte(`"subscribe"`)) && !bytes.Contains(msg, []byte(`"start"`)) {
		return
	}
	var m wsMessage
	if json.Unmarshal(msg, &m) == nil && (m.Type == "subscribe" || m.Type == "start") {
		c.lastID = m.ID
	}
}

func (c *wsConn) readErr(err error) error {
	select {
	case <-c.closed:
		return net.ErrClosed
	default:
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return transport.ErrWebsocketClosed
	}
	return err
}

// WriteJSON queues one text frame; it is never dropped.
func (c *wsConn) WriteJSON(v any) error {
	var b []byte
	if raw, ok := v.(json.RawMessage); ok {
		b = raw
	} else {
		var err error
		if b, err = json.Marshal(v); err != nil {
			return err
		}
	}
	if !c.queue(false, ws.OpText, b) {
		return c.writeErr()
	}
	return nil
}

// SendText queues one text frame made of parts unless the connection's
// buffer is full (or the connection is closing): the fan-out's delivery.
func (c *wsConn) SendText(parts ...[]byte) bool {
	return c.queue(true, ws.OpText, parts...)
}

func (c *wsConn) writeErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err
	}
	return net.ErrClosed
}

// queue appends one frame of opcode op, its payload made of parts, to the
// outgoing buffer and makes sure a writer runs. droppable frames are
// refused when the buffer holds maxPending bytes.
func (c *wsConn) queue(droppable bool, op ws.OpCode, parts ...[]byte) bool {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	c.mu.Lock()
	if c.err != nil || c.closing || (droppable && len(c.out) >= c.maxPending) {
		c.mu.Unlock()
		return false
	}
	if len(c.out) >= 2*c.maxPending {
		// Frames that may not be dropped (pongs, acks, completes) are not
		// held without bound either: a peer that sends and never reads
		// (a ping flood) is cut off here rather than costing memory.
		c.err = errWSPeerNotReading
		c.out = nil
		c.mu.Unlock()
		c.closeNow()
		return false
	}
	c.out = appendHeader(c.out, op, n)
	for _, p := range parts {
		c.out = append(c.out, p...)
	}
	if c.writing {
		// The writer takes it with whatever else is pending: one write.
		c.mu.Unlock()
		return true
	}
	c.writing = true
	buf := c.out
	c.out = nil
	c.mu.Unlock()
	c.flush(buf)
	return true
}

// flush writes buf, and whatever is queued meanwhile, on the caller's
// goroutine for as long as the socket takes each write whole without
// blocking — the common case, a frame to a reader keeping up, costs one
// write(2) and no goroutine. What the socket does not take (its send
// buffer is full: a slow reader) is left, with everything queued after
// it, to a writer goroutine that blocks on it.
func (c *wsConn) flush(buf []byte) {
	for {
		n, err := c.tryWrite(buf)
		c.mu.Lock()
		if err != nil {
			if c.err == nil {
				c.err = fmt.Errorf("websocket write: %w", err)
			}
			c.out, c.writing = nil, false
			c.mu.Unlock()
			c.closeNow()
			return
		}
		if n < len(buf) {
			c.out = append(buf[n:], c.out...)
			c.mu.Unlock()
			go c.write()
			return
		}
		if len(c.out) == 0 {
			c.writing = false
			if cap(buf) <= wsKeepBuffer {
				c.out = buf[:0]
			}
			c.mu.Unlock()
			return
		}
		next := c.out
		c.out = nil
		if cap(buf) <= wsKeepBuffer {
			c.out = buf[:0]
		}
		buf = next
		c.mu.Unlock()
	}
}

// tryWrite writes what the socket takes of b without waiting (one
// write(2) on the non-blocking descriptor through syscall.RawConn); n is
// 0 when the socket's buffer is full. A connection without a raw
// descriptor (TLS) writes nothing here: its writer goroutine does.
func (c *wsConn) tryWrite(b []byte) (n int, err error) {
	if c.raw == nil {
		return 0, nil
	}
	var errno error
	if err := c.raw.Write(func(fd uintptr) bool {
		for {
			n, errno = syscall.Write(int(fd), b)
			if errno != syscall.EINTR {
				return true
			}
		}
	}); err != nil {
		return 0, err
	}
	switch {
	case errno == syscall.EAGAIN:
		return 0, nil
	case errno != nil:
		return 0, errno
	case n < 0:
		return 0, nil
	}
	return n, nil
}

// write sends whatever is queued, one blocking write per round (bounded
// by wsWriteTimeout), until the buffer is empty: the slow path of flush.
func (c *wsConn) write() {
	var spare []byte // the last buffer written, reused for what queues next
	for {
		c.mu.Lock()
		if len(c.out) == 0 || c.err != nil {
			c.writing = false
			if cap(c.out) > wsKeepBuffer {
				c.out = nil
			}
			c.mu.Unlock()
			// The deadline bounded this blocking write only: left set, it
			// would fail the next non-blocking one (RawConn.Write checks
			// it) once passed.
			_ = c.nc.SetWriteDeadline(time.Time{})
			return
		}
		buf := c.out
		c.out = spare[:0]
		c.mu.Unlock()
		timeout := c.writeTimeout
		if timeout <= 0 {
			timeout = wsWriteTimeout
		}
		_ = c.nc.SetWriteDeadline(time.Now().Add(timeout))
		_, err := c.nc.Write(buf)
		spare = nil
		if cap(buf) <= wsKeepBuffer {
			spare = buf
		}
		if err != nil {
			c.mu.Lock()
			if c.err == nil {
				c.err = fmt.Errorf("websocket write: %w", err)
			}
			c.out = nil
			c.mu.Unlock()
			c.closeNow()
		}
	}
}

// WriteClose queues a close frame; the connection closes once the peer
// answers it, or after wsCloseHandshake.
func (c *wsConn) WriteClose(code int, reason string) error {
	c.closeWith(ws.StatusCode(code), reason)
	return nil
}

func (c *wsConn) closeWith(code ws.StatusCode, reason string) {
	c.mu.Lock()
	if c.closing || c.err != nil {
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	c.queue(false, ws.OpClose, ws.NewCloseFrameBody(code, reason))
	c.mu.Lock()
	c.closing = true
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

// appendHeader appends the header of an unmasked, final server frame of n
// payload bytes (RFC 6455 §5.2: FIN and the opcode, then the length in 7
// bits, or 126 and 16 bits, or 127 and 64 bits). Written out rather than
// through ws.WriteHeader, which needs an io.Writer and so an allocation per
// frame on the fan-out's path; wsconn_internal_test.go reads these headers
// back with ws.ReadHeader.
func appendHeader(dst []byte, op ws.OpCode, n int) []byte {
	dst = append(dst, 0x80|byte(op))
	switch {
	case n < 126:
		return append(dst, byte(n))
	case n <= 0xffff:
		return append(dst, 126, byte(n>>8), byte(n))
	default:
		return append(dst, 127, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
}
