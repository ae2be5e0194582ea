package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/broker"
	"github.com/meridian-graphql/meridian/broker/inproc"
	"github.com/meridian-graphql/meridian/httpapi"
	"github.com/meridian-graphql/meridian/internal/gqltest"
	"github.com/meridian-graphql/meridian/internal/testbus"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/live"
)

// instance is one server: its own bus connection, live hub and HTTP server,
// on the shared database and RabbitMQ.
func instance(t *testing.T, dbURL string, bus broker.Bus) *gqltest.Client {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	hub := live.New(bus, nil)
	go hub.Run(ctx) //nolint:errcheck // ends with ctx
	db := testdb.OpenURL(t, dbURL)
	return gqltest.Serve(t, httpapi.Deps{DB: db, Auth: gqltest.Grant(auth.Analyst), Live: hub})
}

// TestSubscriptionAcrossInstances: a subscriber connected to instance B
// over graphql-transport-ws receives an event tracked on instance A.
func TestSubscriptionAcrossInstances(t *testing.T) {
	url := testdb.NewPostgresDatabase(t)
	buses := testbus.Open(t, 2)
	a := instance(t, url, buses[0])
	b := instance(t, url, buses[1])

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, strings.Replace(b.URL(), "http", "ws", 1)+"/query", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	send := func(v any) {
		if err := wsjson.Write(ctx, conn, v); err != nil {
			t.Fatal(err)
		}
	}
	type msg struct {
		ID      string         `json:"id"`
		Type    string         `json:"type"`
		Payload map[string]any `json:"payload"`
	}
	read := func() msg {
		for {
			var m msg
			if err := wsjson.Read(ctx, conn, &m); err != nil {
				t.Fatalf("read: %v", err)
			}
			if m.Type != "ping" && m.Type != "pong" {
				return m
			}
		}
	}
	send(map[string]any{"type": "connection_init"})
	if m := read(); m.Type != "connection_ack" {
		t.Fatalf("want connection_ack, got %+v", m)
	}
	send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
		"query": `subscription { eventTracked(filter: {types: ["purchase"], country: "UA"}) { id type userId geo { city } } }`}})
	// The subscription is live once B's exclusive queue is bound; keep
	// tracking until the first event arrives.
	got := make(chan msg, 1)
	go func() { got <- read() }()
	deadline := time.After(15 * time.Second)
	for i := 0; ; i++ {
		a.MustDo(`mutation($id: String!) { t1: trackEvent(input: {id: $id, userId: 7, type: "purchase", metadata: {price: 3}, geo: {country: "UA", city: "Lviv", lon: 24.03, lat: 49.84}}) { id }
			t2: trackEvent(input: {userId: 7, type: "click", geo: {country: "UA", lon: 24.03, lat: 49.84}}) { id } }`,
			map[string]any{"id": "live-" + string(rune('a'+i%26)) + rand.Text()[:6]}, nil)
		select {
		case m := <-got:
			if m.Type != "next" || m.ID != "1" {
				t.Fatalf("want next for 1, got %+v", m)
			}
			ev := m.Payload["data"].(map[string]any)["eventTracked"].(map[string]any)
			if ev["type"] != "purchase" || ev["geo"].(map[string]any)["city"] != "Lviv" {
				t.Fatalf("event = %v (the click must be filtered out)", ev)
			}
			send(map[string]any{"id": "1", "type": "complete"})
			return
		case <-time.After(300 * time.Millisecond):
		case <-deadline:
			t.Fatal("no event reached the subscriber on B within 15 s")
		}
	}
}

// TestSubscriptionOverSSE: the same subscription over Server-Sent Events on
// one instance with the in-process bus.
func TestSubscriptionOverSSE(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c := liveServer(t, ctx)

	res := subscribeSSE(t, ctx, c, `subscription { eventTracked(filter: {types: ["signup"]}) { type userId } }`)
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("Content-Type = %q", ct)
	}
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	for i := 0; ; i++ {
		c.MustDo(`mutation { trackEvent(input: {userId: 42, type: "signup"}) { id } }`, nil, nil)
		select {
		case l, ok := <-lines:
			// Skip the stream's preamble and blank separators up to a data line.
			for ok && !strings.HasPrefix(l, "data:") {
				l, ok = <-lines
			}
			if !ok {
				t.Fatal("SSE stream ended")
			}
			if !strings.Contains(l, `"eventTracked":{"type":"signup","userId":"42"}`) {
				t.Fatalf("SSE data = %s", l)
			}
			return
		case <-time.After(200 * time.Millisecond):
			if i > 50 {
				t.Fatal("no SSE event")
			}
		}
	}
}

// TestLiveMetricsOverSSE: rolling counts per type arrive every interval.
func TestLiveMetricsOverSSE(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := liveServer(t, ctx)

	res := subscribeSSE(t, ctx, c, `subscription { liveMetrics(windowSeconds: 10, intervalSeconds: 1) { total groups { key count } } }`)
	sc := bufio.NewScanner(res.Body)
	tracked := false
	for sc.Scan() {
		l := sc.Text()
		if !strings.HasPrefix(l, "data:") {
			continue
		}
		if !tracked {
			// The first snapshot proves the subscription is attached.
			c.MustDo(`mutation { a: trackEvent(input: {userId: 1, type: "click"}) { id } b: trackEvent(input: {userId: 2, type: "click"}) { id }
				c: trackEvent(input: {userId: 3, type: "purchase", metadata: {price: 1}}) { id } }`, nil, nil)
			tracked = true
			continue
		}
		if strings.Contains(l, `"total":3`) {
			if !strings.Contains(l, `"groups":[{"key":"click","count":2},{"key":"purchase","count":1}]`) {
				t.Fatalf("snapshot = %s", l)
			}
			return
		}
	}
	t.Fatalf("no snapshot with the 3 events (scan error %v)", sc.Err())
}

// liveServer serves a SQLite database with the in-process bus and a live hub.
func liveServer(t *testing.T, ctx context.Context) *gqltest.Client {
	t.Helper()
	bus := inproc.New(inproc.Options{})
	t.Cleanup(func() { bus.Close() })
	hub := live.New(bus, nil)
	go hub.Run(ctx) //nolint:errcheck // ends with ctx
	return gqltest.Serve(t, httpapi.Deps{DB: testdb.Open(t, "sqlite"), Auth: gqltest.Grant(auth.Analyst), Live: hub})
}

// subscribeSSE starts a subscription over Server-Sent Events; the body is
// closed when the test ends.
func subscribeSSE(t *testing.T, ctx context.Context, c *gqltest.Client, query string) *http.Response {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"query": query})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, c.URL()+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

// TestSubscriptionOutlivesRequestTimeout: MERIDIAN_REQUEST_TIMEOUT bounds
// queries and mutations, not the WebSocket a subscription lives on; and
// subscription frames carry no per-request extensions (their duration
// would include the wait for the event).
func TestSubscriptionOutlivesRequestTimeout(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	bus := inproc.New(inproc.Options{})
	t.Cleanup(func() { bus.Close() })
	hub := live.New(bus, nil)
	go hub.Run(ctx) //nolint:errcheck // ends with ctx
	const timeout = 300 * time.Millisecond
	c := gqltest.Serve(t, httpapi.Deps{DB: testdb.Open(t, "sqlite"), Auth: gqltest.Grant(auth.Analyst), Live: hub, RequestTimeout: timeout})

	conn, _, err := websocket.Dial(ctx, strings.Replace(c.URL(), "http", "ws", 1)+"/query", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	type msg struct {
		ID      string          `json:"id"`
		Type    string          `json:"type"`
		Payload json.RawMessage `json:"payload"`
	}
	if err := wsjson.Write(ctx, conn, map[string]any{"type": "connection_init"}); err != nil {
		t.Fatal(err)
	}
	if err := wsjson.Write(ctx, conn, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": `subscription { eventTracked { type } }`}}); err != nil {
		t.Fatal(err)
	}
	got := make(chan msg, 16)
	go func() {
		for {
			var m msg
			if err := wsjson.Read(ctx, conn, &m); err != nil {
				close(got)
				return
			}
			if m.Type == "next" || m.Type == "complete" || m.Type == "error" {
				got <- m
			}
		}
	}()
	time.Sleep(3 * timeout) // well past the request timeout
	for i := 0; ; i++ {
		c.MustDo(`mutation { trackEvent(input: {userId: 1, type: "click"}) { id } }`, nil, nil)
		select {
		case m, ok := <-got:
			if !ok {
				t.Fatal("the WebSocket closed: the request timeout ended the subscription")
			}
			if m.Type != "next" {
				t.Fatalf("got %s %s", m.Type, m.Payload)
			}
			if strings.Contains(string(m.Payload), "durationMs") || strings.Contains(string(m.Payload), "sqlStatements") {
				t.Errorf("subscription frame carries request extensions: %s", m.Payload)
			}
			return
		case <-time.After(200 * time.Millisecond):
			if i > 25 {
				t.Fatal("no event on the subscription")
			}
		}
	}
}
