package gqltest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// WS is a GraphQL client on one WebSocket, speaking graphql-transport-ws or
// the legacy graphql-ws frame by frame, so that tests see every frame the
// server sends (errors, completions) and not just the data.
type WS struct {
	t      testing.TB
	ctx    context.Context
	conn   *websocket.Conn
	proto  string
	frames chan Frame
	closed chan struct{}
	err    error // why the socket ended; set before closed is closed
}

// Frame is one server message; keep-alives are left out.
type Frame struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

// ErrorCode is the extensions.code of the frame's first error: the
// payload's array in an error frame, its errors in a next/data frame.
func (f Frame) ErrorCode() string {
	type gqlErr struct {
		Extensions map[string]any `json:"extensions"`
	}
	var errs []gqlErr
	if json.Unmarshal(f.Payload, &errs) != nil {
		var resp struct{ Errors []gqlErr }
		_ = json.Unmarshal(f.Payload, &resp)
		errs = resp.Errors
	}
	if len(errs) == 0 {
		return ""
	}
	c, _ := errs[0].Extensions["code"].(string)
	return c
}

// Last reports whether the frame ends its operation (complete or error).
func (f Frame) Last() bool { return f.Type == "complete" || f.Type == "error" }

// DialWS opens a WebSocket to baseURL's /query with the subprotocol proto
// ("graphql-transport-ws" or "graphql-ws"), sends connection_init with
// init as its payload (nil: none) and waits for the acknowledgement. The
// socket closes when ctx ends or the test does.
func DialWS(t testing.TB, ctx context.Context, baseURL, proto string, init map[string]any) *WS {
	t.Helper()
	conn, _, err := websocket.Dial(ctx, strings.Replace(baseURL, "http", "ws", 1)+"/query", &websocket.DialOptions{Subprotocols: []string{proto}})
	if err != nil {
		t.Fatalf("dial %s: %v", proto, err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	w := &WS{t: t, ctx: ctx, conn: conn, proto: proto, frames: make(chan Frame, 1024), closed: make(chan struct{})}
	go w.read()
	msg := map[string]any{"type": "connection_init"}
	if init != nil {
		msg["payload"] = init
	}
	w.send(msg)
	if f := w.Next(); f.Type != "connection_ack" {
		t.Fatalf("%s: want connection_ack, got %s %s", proto, f.Type, f.Payload)
	}
	return w
}

func (w *WS) read() {
	defer close(w.closed)
	for {
		var f Frame
		if err := wsjson.Read(w.ctx, w.conn, &f); err != nil {
			w.err = err
			return
		}
		switch f.Type {
		case "ka", "ping", "pong":
			continue
		}
		select {
		case w.frames <- f:
		case <-w.ctx.Done():
			w.err = w.ctx.Err()
			return
		}
	}
}

func (w *WS) send(v any) {
	w.t.Helper()
	if err := wsjson.Write(w.ctx, w.conn, v); err != nil {
		w.t.Fatalf("write: %v", err)
	}
}

// Start starts operation id: a subscribe (graphql-transport-ws) or start
// (graphql-ws) message with the query.
func (w *WS) Start(id, query string) {
	w.t.Helper()
	typ := "subscribe"
	if w.proto == "graphql-ws" {
		typ = "start"
	}
	w.send(map[string]any{"id": id, "type": typ, "payload": map[string]any{"query": query}})
}

// Stop ends operation id from the client's side (complete or stop).
func (w *WS) Stop(id string) {
	w.t.Helper()
	typ := "complete"
	if w.proto == "graphql-ws" {
		typ = "stop"
	}
	w.send(map[string]any{"id": id, "type": typ})
}

// Next is the next frame; the test fails if the socket closes or ctx ends
// first.
func (w *WS) Next() Frame {
	w.t.Helper()
	f, ok := w.NextWithin(time.Until(deadline(w.ctx)))
	if !ok {
		w.t.Fatalf("no frame: the socket ended (%v)", w.err)
	}
	return f
}

// NextWithin is the next frame, or false when none arrives within d or the
// socket ends first.
func (w *WS) NextWithin(d time.Duration) (Frame, bool) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case f := <-w.frames:
		return f, true
	case <-w.closed:
		// Frames read before the close still count.
		select {
		case f := <-w.frames:
			return f, true
		default:
			return Frame{}, false
		}
	case <-timer.C:
		return Frame{}, false
	}
}

// Closed reports whether the server has ended the socket, and why.
func (w *WS) Closed() (bool, error) {
	select {
	case <-w.closed:
		return true, w.err
	default:
		return false, nil
	}
}

func deadline(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return time.Now().Add(time.Minute)
}

// Finish reads frames until n operations have ended and tells how they
// ended: ran counts the operations that sent data, refused the error
// frames by extensions.code ("" for none).
func (w *WS) Finish(n int) (ran int, refused map[string]int) {
	w.t.Helper()
	refused = map[string]int{}
	for done := 0; done < n; {
		f := w.Next()
		switch f.Type {
		case "error":
			refused[f.ErrorCode()]++
		case "next", "data":
			ran++
		}
		if f.Last() {
			done++
		}
	}
	return ran, refused
}
