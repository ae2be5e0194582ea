// The write side of a wsConn: frames queued into one bounded buffer and
// written without a goroutine while the socket takes them, by a writer
// goroutine when it is full.

package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"github.com/gobwas/ws"
)

// errWSPeerNotReading ends a connection whose outgoing buffer passed twice
// its bound.
var errWSPeerNotReading = errors.New("websocket: the peer does not read its frames")

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
	if op == ws.OpClose {
		// Under the same lock as the frame: a write racing the close
		// (a subscription's complete as the peer closes) must not be
		// queued behind it, which the peer takes for a broken handshake.
		c.closing = true
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
