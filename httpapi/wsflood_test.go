package httpapi_test

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"meridian/httpapi"
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
	d := ws.Dialer{Protocols: []string{"graphql-transport-ws"}, NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			_ = conn.(*net.TCPConn).SetReadBuffer(16 << 10) // fills fast
		}
		return conn, err
	}}
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
	deadline := time.Now().Add(45 * time.Second)
	for time.Now().Before(deadline) {
		_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if err := ws.WriteFrame(w, ws.MaskFrameInPlace(ws.NewPingFrame(payload))); err != nil {
			t.Logf("cut off after %d pings (%d KB of pongs owed): %v", sent, sent*127/1024, err)
			return
		}
		if err := w.Flush(); err != nil {
			t.Logf("cut off after %d pings (%d KB of pongs owed): %v", sent, sent*127/1024, err)
			return
		}
		sent++
		if sent > 2_000_000 {
			break
		}
	}
	t.Fatalf("the server still read after %d pings (%d MB of pongs it holds) without being read from", sent, sent*127>>20)
}
