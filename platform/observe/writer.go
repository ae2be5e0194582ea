package observe

import (
	"bufio"
	"net"
	"net/http"
	"strings"
)

// statusWriter remembers the status code written through it. It keeps the
// optional interfaces the transports rely on reachable: gqlgen's SSE
// transport asserts http.Flusher directly, WebSocket libraries assert
// http.Hijacker or unwrap (coder/websocket), and http.ResponseController
// unwraps.
type statusWriter struct {
	http.ResponseWriter
	code     int
	hijacked bool
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush flushes if the underlying writer can; a writer that cannot leaves
// nothing buffered here to flush.
func (w *statusWriter) Flush() {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil {
		w.hijacked = true
		if w.code == 0 {
			w.code = http.StatusSwitchingProtocols
		}
	}
	return c, rw, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// status is the code the client saw: 200 when the handler wrote nothing.
func (w *statusWriter) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}

// stream reports a long-lived response (a WebSocket or Server-Sent
// Events): its duration is the client's session, not a latency.
func (w *statusWriter) stream() bool {
	return w.hijacked || w.code == http.StatusSwitchingProtocols ||
		strings.HasPrefix(w.Header().Get("Content-Type"), "text/event-stream")
}
