package httpapi_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// TestGraphQLTransportWSCloseCodes speaks raw frames and checks each close
// code that graphql-transport-ws's PROTOCOL.md prescribes.
func TestGraphQLTransportWSCloseCodes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := liveServer(t, ctx)
	url := strings.Replace(c.URL(), "http", "ws", 1) + "/query"
	sub := map[string]any{"query": `subscription { eventTracked { id } }`}

	dial := func(t *testing.T) *websocket.Conn {
		conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.CloseNow() })
		return conn
	}
	ack := func(t *testing.T, conn *websocket.Conn) {
		if err := wsjson.Write(ctx, conn, map[string]any{"type": "connection_init"}); err != nil {
			t.Fatal(err)
		}
		var m struct{ Type string }
		if err := wsjson.Read(ctx, conn, &m); err != nil || m.Type != "connection_ack" {
			t.Fatalf("ack: %+v %v", m, err)
		}
	}
	// closeCode reads until the server closes and returns its code.
	closeCode := func(conn *websocket.Conn) websocket.StatusCode {
		for {
			var m map[string]any
			err := wsjson.Read(ctx, conn, &m)
			if err == nil {
				continue
			}
			var ce websocket.CloseError
			if errors.As(err, &ce) {
				return ce.Code
			}
			return websocket.CloseStatus(err)
		}
	}
	for _, tc := range []struct {
		name string
		want websocket.StatusCode
		run  func(t *testing.T, conn *websocket.Conn)
	}{
		{"no connection_init in time: 4408", 4408, func(t *testing.T, conn *websocket.Conn) {}},
		{"subscribe before ack: 4401", 4401, func(t *testing.T, conn *websocket.Conn) {
			_ = wsjson.Write(ctx, conn, map[string]any{"id": "1", "type": "subscribe", "payload": sub})
		}},
		{"duplicate operation id: 4409", 4409, func(t *testing.T, conn *websocket.Conn) {
			ack(t, conn)
			_ = wsjson.Write(ctx, conn, map[string]any{"id": "1", "type": "subscribe", "payload": sub})
			_ = wsjson.Write(ctx, conn, map[string]any{"id": "1", "type": "subscribe", "payload": sub})
		}},
		{"second connection_init: 4429", 4429, func(t *testing.T, conn *websocket.Conn) {
			ack(t, conn)
			_ = wsjson.Write(ctx, conn, map[string]any{"type": "connection_init"})
		}},
		{"invalid message: 4400", 4400, func(t *testing.T, conn *websocket.Conn) {
			ack(t, conn)
			_ = conn.Write(ctx, websocket.MessageText, []byte(`{"type":"no-such-type"}`))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn := dial(t)
			tc.run(t, conn)
			if got := closeCode(conn); got != tc.want {
				t.Errorf("close code %d, want %d", got, tc.want)
			}
		})
	}
}
