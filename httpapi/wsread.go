// The read side of a wsConn: the next data message, with pings answered,
// the peer's close honoured and protocol errors closed with their code.

package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gobwas/ws"
)

// errWSProtocol is a frame the protocol forbids; the connection closes
// with 1002.
var errWSProtocol = errors.New("websocket: protocol error")

// NextReader returns the next data message, answering pings and the peer's
// close on the way.
func (c *wsConn) NextReader() (int, io.Reader, error) {
	var msg []byte
	var op ws.OpCode
	for {
		h, err := ws.ReadHeader(c.br)
		if err != nil {
			return 0, nil, c.readErr(err)
		}
		if !h.Masked || h.Rsv != 0 || (h.OpCode.IsControl() && (!h.Fin || h.Length > wsMaxControl)) || h.OpCode.IsReserved() {
			c.closeWith(ws.StatusProtocolError, "protocol error")
			return 0, nil, errWSProtocol
		}
		limit := c.readLimit
		if limit <= 0 {
			// "No limit" still may not ask for an allocation past 1 GB.
			limit = 1 << 30
		}
		if int64(len(msg))+h.Length > limit {
			c.closeWith(ws.StatusMessageTooBig, "message too big")
			return 0, nil, fmt.Errorf("websocket: message over %d bytes", limit)
		}
		payload := make([]byte, h.Length)
		if _, err := io.ReadFull(c.br, payload); err != nil {
			return 0, nil, c.readErr(err)
		}
		ws.Cipher(payload, h.Mask, 0)
		switch h.OpCode {
		case ws.OpPing:
			c.queue(false, ws.OpPong, payload)
			continue
		case ws.OpPong:
			continue
		case ws.OpClose:
			c.mu.Lock()
			c.peerGone = true
			c.mu.Unlock()
			code, _ := ws.ParseCloseFrameData(payload)
			if code.Empty() {
				code = ws.StatusNormalClosure
			}
			c.closeWith(code, "")
			return 0, nil, transport.ErrWebsocketClosed
		case ws.OpContinuation:
			if op == 0 {
				c.closeWith(ws.StatusProtocolError, "continuation without a message")
				return 0, nil, errWSProtocol
			}
		default: // text or binary
			if op != 0 {
				c.closeWith(ws.StatusProtocolError, "new message inside a fragmented one")
				return 0, nil, errWSProtocol
			}
			op = h.OpCode
		}
		msg = append(msg, payload...)
		if h.Fin {
			c.noteID(msg)
			return int(op), bytes.NewReader(msg), nil
		}
	}
}

// noteID remembers the id of a subscribe (graphql-transport-ws) or start
// (graphql-ws) message.
func (c *wsConn) noteID(msg []byte) {
	if !bytes.Contains(msg, []byte(`"subscribe"`)) && !bytes.Contains(msg, []byte(`"start"`)) {
		return
	}
	var m wsMessage
	if json.Unmarshal(msg, &m) == nil && (m.Type == "subscribe" || m.Type == "start") {
		c.lastID = m.ID
	}
}

func (c *wsConn) readErr(err error) error {
	select {
	case <-c.closed:
		return net.ErrClosed
	default:
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return transport.ErrWebsocketClosed
	}
	return err
}
