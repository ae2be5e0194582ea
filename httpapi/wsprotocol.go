package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
)

// strictWS holds graphql-transport-ws connections to the close codes of the
// protocol's PROTOCOL.md, which gqlgen's transport answers with a generic
// 1002 or not at all: no connection_init in time → 4408, subscribe before
// connection_init → 4401, a second connection_init → 4429, an operation id
// already in use → 4409, an invalid message → 4400. It reads each client
// message before gqlgen does and closes with the prescribed code; everything
// else passes through unchanged. Legacy graphql-ws connections are not
// touched.
type strictWS struct {
	inner       transport.WebsocketImplementation
	initTimeout time.Duration
}

func (s strictWS) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	c, err := s.inner.Accept(w, r, opts)
	if err != nil || c.Subprotocol() != "graphql-transport-ws" {
		return c, err
	}
	sc := &strictConn{WebsocketConn: c, ids: map[string]bool{}}
	sc.timer = time.AfterFunc(s.initTimeout, func() {
		sc.mu.Lock()
		inited := sc.inited
		sc.mu.Unlock()
		if !inited {
			sc.fail(4408, "Connection initialisation timeout")
		}
	})
	return sc, nil
}

type strictConn struct {
	transport.WebsocketConn
	timer *time.Timer

	mu     sync.Mutex
	inited bool
	ids    map[string]bool // operations in flight
	failed bool
}

type wsMessage struct {
	Type string `json:"type"`
	ID   string `json:"id,omitempty"`
}

func (c *strictConn) NextReader() (int, io.Reader, error) {
	typ, r, err := c.WebsocketConn.NextReader()
	if err != nil {
		return typ, r, err
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return typ, nil, err
	}
	var m wsMessage
	if json.Unmarshal(b, &m) != nil || m.Type == "" {
		return c.reject(4400, "Invalid message received")
	}
	c.mu.Lock()
	code, reason := 0, ""
	switch m.Type {
	case "connection_init":
		if c.inited {
			code, reason = 4429, "Too many initialisation requests"
		}
		c.inited = true
	case "subscribe":
		switch {
		case !c.inited:
			code, reason = 4401, "Unauthorized"
		case m.ID == "":
			code, reason = 4400, "Invalid message received"
		case c.ids[m.ID]:
			code, reason = 4409, fmt.Sprintf("Subscriber for %s already exists", m.ID)
		default:
			c.ids[m.ID] = true
		}
	case "complete":
		delete(c.ids, m.ID)
	case "ping", "pong":
	default:
		code, reason = 4400, "Invalid message received"
	}
	c.mu.Unlock()
	if code != 0 {
		return c.reject(code, reason)
	}
	return typ, bytes.NewReader(b), nil
}

// WriteJSON frees an operation id when the server completes it.
func (c *strictConn) WriteJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	// Almost every frame is a "next"; gqlgen writes the type as the last
	// field, so those are recognised without decoding the payload again.
	if bytes.HasSuffix(b, []byte(`"type":"next"}`)) {
		return c.WebsocketConn.WriteJSON(json.RawMessage(b))
	}
	var m wsMessage
	if json.Unmarshal(b, &m) == nil && (m.Type == "complete" || m.Type == "error") && m.ID != "" {
		c.mu.Lock()
		delete(c.ids, m.ID)
		c.mu.Unlock()
	}
	return c.WebsocketConn.WriteJSON(json.RawMessage(b))
}

// SendText and LastSubscribeID pass the fan-out through.
func (c *strictConn) SendText(parts ...[]byte) bool {
	fs, ok := c.WebsocketConn.(frameSender)
	return ok && fs.SendText(parts...)
}

func (c *strictConn) LastSubscribeID() string {
	if n, ok := c.WebsocketConn.(idNoter); ok {
		return n.LastSubscribeID()
	}
	return ""
}

func (c *strictConn) Close() error {
	c.timer.Stop()
	return c.WebsocketConn.Close()
}

func (c *strictConn) reject(code int, reason string) (int, io.Reader, error) {
	c.fail(code, reason)
	return 0, nil, transport.ErrWebsocketClosed
}

func (c *strictConn) fail(code int, reason string) {
	c.mu.Lock()
	if c.failed {
		c.mu.Unlock()
		return
	}
	c.failed = true
	c.mu.Unlock()
	_ = c.WebsocketConn.WriteClose(code, reason)
	_ = c.WebsocketConn.Close()
}
