package httpapi_test

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/meridian-graphql/meridian/httpapi"
)

// TestPingFloodWithoutReadingIsCutOff attacks the real server as a client
// that sends WebSocket pings and never reads the pongs: every pong must be
// sent (a control frame is never dropped), so without a bound the server
// would hold them all in memory. It must close the connection once its
// outgoing buffer passes the bound; the attacker's writes then fail.
func TestPingFloodWithoutReadingIsCutOff(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := wsServer(t, ctx, httpapi.Deps{})
	d := ws.Dialer{Protocols: []string{"graphql-transport-ws"}}
	conn, br, _, err := d.Dial(ctx, strings.Replace(c.URL(), "http", "ws", 1)+"/query")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if br != nil {
		ws.PutReader(br)
	}
	w := bufio.NewWriterSize(conn, 64<<10)
	if err := wsutil.WriteClientText(w, []byte(`{"type":"connection_init"}`)); err != nil {
		t.Fatal(err)
	}
	payload := []byte(strings.Repeat("p", 125))
	sent := 0
	cut := func(err error) {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("after %d pings the attacker's writes stalled (%v) but the server did not close the connection", sent, err)
		}
		t.Logf("cut off after %d pings (%d KB of pongs owed): %v", sent, sent*127/1024, err)
	}
	deadline := time.Now().Add(45 * time.Second)
	for time.Now().Before(deadline) {
		_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if err := ws.WriteFrame(w, ws.MaskFrameInPlace(ws.NewPingFrame(payload))); err != nil {
			cut(err)
			return
		}
		if err := w.Flush(); err != nil {
			cut(err)
			return
		}
		sent++
		if sent > 2_000_000 {
			break
		}
	}
	t.Fatalf("the server still read after %d pings (%d MB of pongs it holds) without being read from", sent, sent*127>>20)
}

// TestOversizedMessageIsRefused: a message past the 1 MB read limit closes
// the socket with 1009 (message too big) before the server buffers it.
func TestOversizedMessageIsRefused(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := wsServer(t, ctx, httpapi.Deps{})
	conn, br, _, err := ws.Dialer{Protocols: []string{"graphql-transport-ws"}}.Dial(ctx, strings.Replace(c.URL(), "http", "ws", 1)+"/query")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	if br != nil {
		r = br
	}
	// Only the header of a 2 MB frame, then nothing: the limit is enforced
	// on the length the frame announces.
	h := ws.Header{Fin: true, OpCode: ws.OpText, Masked: true, Mask: [4]byte{1, 2, 3, 4}, Length: 2 << 20}
	if err := ws.WriteHeader(conn, h); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		f, err := ws.ReadFrame(r)
		if err != nil {
			t.Fatalf("no close frame: %v", err)
		}
		if f.Header.OpCode == ws.OpClose {
			if code, _ := ws.ParseCloseFrameData(f.Payload); code != ws.StatusMessageTooBig {
				t.Fatalf("close code %d; want 1009", code)
			}
			return
		}
	}
}
