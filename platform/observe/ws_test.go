package observe

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// TestWebSocketQuery runs a query over graphql-transport-ws, the one
// transport that calls the response handler again after the answer (to
// learn the stream ended): the operation must be counted and traced once,
// and the upgraded connection counted as a 101 without a latency.
func TestWebSocketQuery(t *testing.T) {
	ts := newTestserver()
	ts.AddTransport(transport.Websocket{})
	tr, rec := recordingTracing(t, TraceOptions{})
	s := newStack(t, stackOptions{gql: ts.Server, tracing: tr})

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.srv.URL, "http")+"/query", &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"},
		HTTPHeader:   map[string][]string{"X-Request-Id": {"ws-1"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if got := resp.Header.Get("X-Request-ID"); got != "ws-1" {
		t.Errorf("upgrade response id %q", got)
	}

	send := func(v any) {
		if err := wsjson.Write(ctx, c, v); err != nil {
			t.Fatal(err)
		}
	}
	recv := func() map[string]any {
		var m map[string]any
		if err := wsjson.Read(ctx, c, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	send(map[string]any{"type": "connection_init"})
	if m := recv(); m["type"] != "connection_ack" {
		t.Fatalf("got %v", m)
	}
	send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": "query W { name }"}})
	var got []string
	for len(got) == 0 || got[len(got)-1] != "complete" {
		m := recv()
		b, _ := json.Marshal(m["payload"])
		got = append(got, m["type"].(string))
		if m["type"] == "next" && !strings.Contains(string(b), `"name":"test"`) {
			t.Fatalf("payload %s", b)
		}
	}
	if strings.Join(got, ",") != "next,complete" {
		t.Fatalf("messages %v", got)
	}
	c.Close(websocket.StatusNormalClosure, "")

	// The connection's handler returns, and is counted, once the server
	// has seen the close.
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(s.scrape(t, ""), `meridian_http_requests_total{code="101",method="GET",route="/query"} 1`) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	page := s.scrape(t, "")
	wantLines(t, page,
		`meridian_graphql_operation_duration_seconds_count{operation="W",type="query"} 1`,
		`meridian_http_requests_total{code="101",method="GET",route="/query"} 1`,
	)
	if strings.Contains(page, `meridian_http_request_duration_seconds_count{code="101"`) {
		t.Error("the WebSocket connection was timed")
	}
	if n := len(spansByName(rec)["W"]); n != 1 {
		t.Errorf("%d spans for one query over a WebSocket", n)
	}
}
