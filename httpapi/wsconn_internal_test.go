package httpapi

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// TestAppendHeaderReadsBack: every header appendHeader writes is what
// gobwas/ws reads, at each of the three length encodings and their edges.
func TestAppendHeaderReadsBack(t *testing.T) {
	for _, n := range []int{0, 1, 125, 126, 127, 65535, 65536, 1 << 20} {
		b := appendHeader(nil, ws.OpText, n)
		h, err := ws.ReadHeader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if !h.Fin || h.OpCode != ws.OpText || h.Masked || h.Length != int64(n) || ws.HeaderSize(h) != len(b) {
			t.Errorf("n=%d: read back %+v from % x", n, h, b)
		}
	}
}

// tcpPair is a real loopback TCP connection, both ends closed when the
// test ends.
func tcpPair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	client, err = net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	t.Cleanup(func() { client.Close(); server.Close() })
	return server, client
}

// TestFramesPendingLeaveInOneWrite: frames queued while a write is under
// way leave together in the next write, and the peer reads them all, in
// order, as whole frames. The connection is a real loopback TCP pair; the
// first frame is larger than the sockets' buffers hold and the reader
// starts only once everything is queued, so the first write cannot drain
// and the frames queue behind it.
func TestFramesPendingLeaveInOneWrite(t *testing.T) {
	server, client := tcpPair(t)
	c := &wsConn{nc: server, maxPending: 64 << 20, closed: make(chan struct{})}
	c.raw, _ = server.(*net.TCPConn).SyscallConn()
	counting := &countingConn{Conn: server}
	c.nc = counting

	big := bytes.Repeat([]byte("x"), 64<<20) // more than both socket buffers hold
	if !c.SendText(big) {
		t.Fatal("first frame refused")
	}
	const more = 50
	for i := range more {
		if !c.SendText([]byte{'a' + byte(i%26)}) {
			t.Fatalf("frame %d refused", i)
		}
	}
	r := bufio.NewReader(client)
	for i := range more + 1 {
		h, err := ws.ReadHeader(r)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		p := make([]byte, h.Length)
		if _, err := io.ReadFull(r, p); err != nil {
			c.mu.Lock()
			werr := c.err
			c.mu.Unlock()
			t.Fatalf("frame %d: %v (writer: %v)", i, err, werr)
		}
		if i == 0 && len(p) != len(big) || i > 0 && (len(p) != 1 || p[0] != 'a'+byte((i-1)%26)) {
			t.Fatalf("frame %d: %d bytes %q…", i, len(p), p[:min(len(p), 8)])
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		idle := !c.writing
		c.mu.Unlock()
		if idle || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	// The big frame went out in part without blocking and the rest from
	// the writer goroutine, whose writes carried the 50 small frames too:
	// far fewer than one write per frame.
	if w := counting.writes.Load(); w == 0 || w > 5 {
		t.Errorf("the writer made %d blocking writes for the remainder and %d frames; want 1 to 5", w, more)
	}
}

// countingConn counts the writes made through net.Conn (the writer
// goroutine's); the non-blocking first attempt goes through the raw
// descriptor.
type countingConn struct {
	net.Conn
	writes atomic.Int64
}

func (c *countingConn) Write(b []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(b)
}

// TestWriteAfterTheSlowPathDeadline: a connection whose writer once had to
// block (a full socket) still writes, without blocking, after that write's
// deadline has passed — the deadline bounds the blocking write only.
func TestWriteAfterTheSlowPathDeadline(t *testing.T) {
	server, client := tcpPair(t)
	c := &wsConn{nc: server, maxPending: 256 << 20, writeTimeout: 2 * time.Second, closed: make(chan struct{})}
	c.raw, _ = server.(*net.TCPConn).SyscallConn()
	r := bufio.NewReader(client)
	readFrame := func() int {
		t.Helper()
		h, err := ws.ReadHeader(r)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.CopyN(io.Discard, r, h.Length); err != nil {
			t.Fatal(err)
		}
		return int(h.Length)
	}
	if !c.SendText(bytes.Repeat([]byte("x"), 64<<20)) { // past the socket buffers: the writer blocks
		t.Fatal("refused")
	}
	if n := readFrame(); n != 64<<20 {
		t.Fatalf("frame of %d bytes", n)
	}
	time.Sleep(2500 * time.Millisecond) // the blocking write's deadline is past
	if !c.SendText([]byte("after")) {
		c.mu.Lock()
		defer c.mu.Unlock()
		t.Fatalf("refused after the deadline: %v", c.err)
	}
	if n := readFrame(); n != 5 {
		t.Fatalf("frame of %d bytes", n)
	}
}

// TestNoFrameAfterTheCloseFrame: a close frame is the last frame a
// connection sends, however a write races it (RFC 6455 §5.5.1; Chromium
// fails the connection, "Data frame received after close", when a
// subscription's complete raced the close handshake as GraphiQL stopped
// it). Each round, one goroutine writes frames while another closes; a
// frame that slipped in behind the close frame follows it at once, so the
// reader waits a little for one before the next round.
func TestNoFrameAfterTheCloseFrame(t *testing.T) {
	for round := range 300 {
		server, client := tcpPair(t)
		c := &wsConn{nc: server, maxPending: 1 << 20, closed: make(chan struct{})}
		c.raw, _ = server.(*net.TCPConn).SyscallConn()
		go func() {
			for c.WriteJSON(map[string]string{"type": "complete"}) == nil {
			}
		}()
		_ = c.WriteClose(1000, "")
		r := bufio.NewReader(client)
		_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
		for closed := false; ; {
			h, err := ws.ReadHeader(r)
			if closed {
				if err == nil {
					t.Fatalf("round %d: a %v frame after the close frame", round, h.OpCode)
				}
				break
			}
			if err != nil {
				t.Fatalf("round %d: no close frame: %v", round, err)
			}
			if _, err := io.CopyN(io.Discard, r, h.Length); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			if closed = h.OpCode == ws.OpClose; closed {
				_ = client.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
			}
		}
		c.closeNow()
	}
}
