package gqlhttp

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// Server-Sent Events are a stream: the POST goes to gqlgen's SSE transport
// untouched (no negotiation, which would refuse text/event-stream, and no
// buffering), but still gets the CORS headers.
func TestSSEPassesThrough(t *testing.T) {
	f := newFixture(t, Config{AllowedOrigins: []string{origin}})
	req, err := http.NewRequest(http.MethodPost, f.URL+"/query", strings.NewReader(`{"query":"subscription { tick }"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Origin", origin)
	res, err := f.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d, Content-Type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if got := res.Header.Get("Access-Control-Allow-Origin"); got != origin {
		t.Errorf("Access-Control-Allow-Origin %q", got)
	}
	var events []string
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "data: ") {
			events = append(events, strings.TrimPrefix(line, "data: "))
		}
		if line == "event: complete" {
			break
		}
	}
	want := []string{`{"data":{"tick":1}}`, `{"data":{"tick":2}}`}
	if strings.Join(events, "\n") != strings.Join(want, "\n") {
		t.Errorf("events %q, want %q", events, want)
	}
}

// WebSocket upgrades are not GraphQL-over-HTTP: they reach gqlgen's
// transport untouched, and the subscription runs over graphql-transport-ws.
func TestWebSocketPassesThrough(t *testing.T) {
	f := newFixture(t, Config{AllowedOrigins: []string{origin}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, res, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(f.URL, "http")+"/query",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	if res.StatusCode != http.StatusSwitchingProtocols || res.Header.Get("Vary") != "" {
		t.Errorf("handshake: status %d, Vary %q: the upgrade should be untouched", res.StatusCode, res.Header.Get("Vary"))
	}
	type msg struct {
		ID      string         `json:"id,omitempty"`
		Type    string         `json:"type"`
		Payload map[string]any `json:"payload,omitempty"`
	}
	if err := wsjson.Write(ctx, conn, msg{Type: "connection_init"}); err != nil {
		t.Fatal(err)
	}
	var m msg
	if err := wsjson.Read(ctx, conn, &m); err != nil || m.Type != "connection_ack" {
		t.Fatalf("after init: %+v, %v", m, err)
	}
	if err := wsjson.Write(ctx, conn, msg{ID: "1", Type: "subscribe", Payload: map[string]any{"query": "subscription { tick }"}}); err != nil {
		t.Fatal(err)
	}
	var ticks []any
	for {
		var m msg
		if err := wsjson.Read(ctx, conn, &m); err != nil {
			t.Fatal(err)
		}
		if m.Type == "complete" {
			break
		}
		if m.Type != "next" {
			t.Fatalf("unexpected message %+v", m)
		}
		ticks = append(ticks, m.Payload["data"].(map[string]any)["tick"])
	}
	if len(ticks) != 2 || ticks[0] != float64(1) || ticks[1] != float64(2) {
		t.Errorf("ticks %v, want [1 2]", ticks)
	}
	conn.Close(websocket.StatusNormalClosure, "")
}
