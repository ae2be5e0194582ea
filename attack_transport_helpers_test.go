package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/analytics/eventstore"
	"github.com/meridian-graphql/meridian/platform/database"
)

// Helpers of the attack suite's transport sections (1–3): raw TCP
// connections that behave like the clients of the reports.

// rawRequest opens a TCP connection to addr and writes head (a request's
// line and headers, each line ending in \r\n, without the blank line that
// ends them) followed by the blank line.
func rawRequest(t testing.TB, addr, head string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, head+"\r\n"); err != nil {
		t.Fatalf("write request head: %v", err)
	}
	return c
}

// drip writes one byte to c every interval until stop closes or a write
// fails (the server closed the connection).
func drip(c net.Conn, interval time.Duration, stop <-chan struct{}) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			if _, err := c.Write([]byte("x")); err != nil {
				return
			}
		}
	}
}

// closedAfter reads c until the server closes it (EOF or a reset) or
// limit passes, and returns how long that took, what it read, and whether
// the server closed it.
func closedAfter(c net.Conn, limit time.Duration) (time.Duration, string, bool) {
	start := time.Now()
	_ = c.SetReadDeadline(start.Add(limit))
	b, err := io.ReadAll(c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return time.Since(start), string(b), false
	}
	return time.Since(start), string(b), true
}

// dialSmallWindow dials addr with a small receive buffer, set before the
// handshake so that the TCP window stays small: a client that stops
// reading stalls the server's writes soon.
func dialSmallWindow(t testing.TB, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		if err != nil {
			return err
		}
		return serr
	}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// addEvents stores n events of user into the server's event store
// directly (the export tests need more than the seed's).
func addEvents(t testing.TB, s *prodServer, user, n int) {
	t.Helper()
	ctx := context.Background()
	db, err := database.Open(ctx, s.DatabaseURL, "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store, _, err := eventstore.Open(ctx, "", "", db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close(ctx)
	p := analytics.DefaultPolicy()
	start := time.Now().Add(-24 * time.Hour).UTC()
	for done := 0; done < n; {
		batch := make([]analytics.Event, 0, 5000)
		for ; done < n && len(batch) < cap(batch); done++ {
			id, ts := fmt.Sprintf("bulk-%d-%d", user, done), start.Add(time.Duration(done)*time.Millisecond)
			e, err := p.Prepare(analytics.EventInput{
				ID: &id, UserID: user, Type: "page_view", Timestamp: &ts,
				Metadata: map[string]any{"path": "/a/fairly/long/path/to/make/each/row/of/the/export/a/little/bigger", "n": done},
			}, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			batch = append(batch, e)
		}
		if _, err := store.Insert(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
}

// statusOf is the status code of the first response in raw ("" when raw
// holds none).
func statusOf(raw string) string {
	line, _, _ := strings.Cut(raw, "\r\n")
	if f := strings.Fields(line); len(f) >= 2 && strings.HasPrefix(f[0], "HTTP/") {
		return f[1]
	}
	return ""
}

// readResponseHead reads a response's status line and headers from br.
func readResponseHead(t testing.TB, br *bufio.Reader) string {
	t.Helper()
	var b strings.Builder
	for {
		line, err := br.ReadString('\n')
		b.WriteString(line)
		if err != nil {
			t.Fatalf("response head: %v (read %q)", err, b.String())
		}
		if line == "\r\n" {
			return b.String()
		}
	}
}

// request sends method path with body and headers (name, value pairs) and
// returns the answer with its body read.
func (s *prodServer) request(t testing.TB, method, path, body string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

// wsInit opens a real WebSocket (graphql-transport-ws) to path, sends
// connection_init with payload, and reports whether the server acknowledged
// it, else the close code it answered with.
func (s *prodServer) wsInit(t testing.TB, path string, payload map[string]any) (acked bool, code websocket.StatusCode) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, res, err := websocket.Dial(ctx, "ws://"+s.Addr+path, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		t.Fatalf("WebSocket handshake on %s: %d %v", path, status, err)
	}
	defer c.CloseNow()
	if err := wsjson.Write(ctx, c, map[string]any{"type": "connection_init", "payload": payload}); err != nil {
		t.Fatal(err)
	}
	var m struct {
		Type string `json:"type"`
	}
	if err := wsjson.Read(ctx, c, &m); err != nil {
		return false, websocket.CloseStatus(err)
	}
	return m.Type == "connection_ack", -1
}

// slowBodies opens n connections to addr that each send head (announcing a
// body of 1,000 bytes) and then drip the body a byte every 500 ms, and
// reports how many the server closed within limit and the longest it took.
func slowBodies(t testing.TB, addr, head string, n int, limit time.Duration) (closed int, longest time.Duration) {
	t.Helper()
	stop := make(chan struct{})
	defer close(stop)
	type result struct {
		took   time.Duration
		closed bool
	}
	results := make(chan result, n)
	for range n {
		c := rawRequest(t, addr, head+"\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n")
		go drip(c, 500*time.Millisecond, stop)
		go func() {
			took, _, ok := closedAfter(c, limit)
			results <- result{took, ok}
		}()
	}
	for range n {
		r := <-results
		if r.closed {
			closed++
		}
		longest = max(longest, r.took)
	}
	return closed, longest
}

// exportOverSmallWindow asks for path as the caller with key over a
// connection with a small receive window, stops reading for pause, then
// reads at most one chunk of chunk bytes every every, and reports how
// many body bytes arrived, whether the body arrived whole, and how long
// the reading took.
func (s *prodServer) exportOverSmallWindow(t testing.TB, key, path string, pause time.Duration, chunk int, every time.Duration) (n int, whole bool, took time.Duration) {
	t.Helper()
	c := dialSmallWindow(t, s.Addr)
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: meridian\r\nAuthorization: %s\r\n\r\n", path, key)
	time.Sleep(pause)
	start := time.Now()
	_ = c.SetReadDeadline(start.Add(2 * time.Minute))
	res, err := http.ReadResponse(bufio.NewReaderSize(c, chunk), nil)
	if err != nil {
		t.Fatalf("export response: %v", err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("export: %d", res.StatusCode)
	}
	buf := make([]byte, chunk)
	for {
		m, err := res.Body.Read(buf)
		n += m
		if err == io.EOF {
			return n, res.Trailer.Get("X-Export-Error") == "", time.Since(start)
		}
		if err != nil {
			return n, false, time.Since(start)
		}
		time.Sleep(every)
	}
}

// sse subscribes over Server-Sent Events as the caller with key and
// returns the stream's data lines.
func (s *prodServer) sse(t testing.TB, key, query string) <-chan string {
	t.Helper()
	return s.sseLines(t, key, query, func(l string) bool { return strings.HasPrefix(l, "data:") })
}

// sseLines is sse with the lines keep selects (event: lines too, say);
// the channel closes when the stream ends.
func (s *prodServer) sseLines(t testing.TB, key, query string, keep func(string) bool) <-chan string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"query": query})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("SSE subscription: %d %s", res.StatusCode, b)
	}
	lines := make(chan string, 64)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if l := sc.Text(); keep(l) {
				lines <- l
			}
		}
	}()
	return lines
}

// Durations for the attack tests, which import no time package of their
// own (attack_test.go's imports are shared by every section).
const (
	second      = time.Second
	millisecond = time.Millisecond
)

// repeat is strings.Repeat, for the same reason.
func repeat(s string, n int) string { return strings.Repeat(s, n) }

// csvRows parses a CSV export.
func csvRows(t testing.TB, b []byte) [][]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v: %.300s", err, b)
	}
	return rows
}

// wait pauses the test (the scenario's own wait, never an assertion).
func wait(d time.Duration) { time.Sleep(d) }

// next is the next line of lines within limit; false when the stream
// ended or nothing came.
func next(lines <-chan string, limit time.Duration) (string, bool) {
	select {
	case l, ok := <-lines:
		return l, ok
	case <-time.After(limit):
		return "", false
	}
}

// contains is strings.Contains (see second).
func contains(s, sub string) bool { return strings.Contains(s, sub) }
