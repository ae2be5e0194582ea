package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
)

// fuzzWSConn is a graphql-transport-ws connection whose client frames come
// from a list; it records what the server side wrote.
type fuzzWSConn struct {
	frames     [][]byte
	closeCodes []int
	closed     int
	written    [][]byte
}

func (c *fuzzWSConn) NextReader() (int, io.Reader, error) {
	if len(c.frames) == 0 {
		return 0, nil, transport.ErrWebsocketClosed
	}
	f := c.frames[0]
	c.frames = c.frames[1:]
	return 1, bytes.NewReader(f), nil
}

func (c *fuzzWSConn) WriteJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.written = append(c.written, b)
	return nil
}

func (c *fuzzWSConn) WriteClose(code int, _ string) error {
	c.closeCodes = append(c.closeCodes, code)
	return nil
}

func (c *fuzzWSConn) Close() error        { c.closed++; return nil }
func (c *fuzzWSConn) Subprotocol() string { return "graphql-transport-ws" }

type fuzzWSImpl struct{ conn *fuzzWSConn }

func (i fuzzWSImpl) Accept(http.ResponseWriter, *http.Request, transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	return i.conn, nil
}

// fuzzWSModel is graphql-transport-ws as PROTOCOL.md states it, for the
// frames strictConn judges.
type fuzzWSModel struct {
	inited bool
	ids    map[string]bool
}

// client returns the close code a client frame must get (0: passed on).
func (m *fuzzWSModel) client(b []byte) int {
	var msg struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	}
	if json.Unmarshal(b, &msg) != nil || msg.Type == "" {
		return 4400
	}
	switch msg.Type {
	case "connection_init":
		if m.inited {
			return 4429
		}
		m.inited = true
	case "subscribe":
		switch {
		case !m.inited:
			return 4401
		case msg.ID == "":
			return 4400
		case m.ids[msg.ID]:
			return 4409
		}
		m.ids[msg.ID] = true
	case "complete":
		delete(m.ids, msg.ID)
	case "ping", "pong":
	default:
		return 4400
	}
	return 0
}

// server records what a server frame does to the operations in flight.
func (m *fuzzWSModel) server(b []byte) {
	var msg struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	}
	if json.Unmarshal(b, &msg) == nil && (msg.Type == "complete" || msg.Type == "error") && msg.ID != "" {
		delete(m.ids, msg.ID)
	}
}

// FuzzWSProtocol drives the graphql-transport-ws wrapper (strictConn) with a
// conversation: frames separated by newlines, client frames as they are and
// server frames (what gqlgen writes) prefixed with '<'. Against a model of
// PROTOCOL.md: every client frame the protocol allows is passed on
// byte-for-byte; the first one it forbids closes the connection once, with
// the prescribed code (4400, 4401, 4409, 4429), and nothing after it is
// read; server frames are written unchanged; an operation id is reusable
// once the client or the server completed it.
func FuzzWSProtocol(f *testing.F) {
	for _, s := range []string{
		`{"type":"connection_init"}
{"type":"subscribe","id":"1","payload":{"query":"subscription { eventTracked { id } }"}}
<{"id":"1","payload":{"data":{}},"type":"next"}
<{"id":"1","type":"complete"}
{"type":"subscribe","id":"1","payload":{}}
{"type":"ping"}
{"type":"complete","id":"1"}
{"type":"subscribe","id":"1"}`,
		`{"type":"subscribe","id":"1"}`,
		`{"type":"connection_init"}
{"type":"connection_init"}`,
		`{"type":"connection_init"}
{"type":"subscribe","id":"a"}
{"type":"subscribe","id":"a"}`,
		`{"type":"connection_init"}
{"type":"subscribe"}`,
		`{"type":"connection_init"}
{"type":"subscribe","id":1}`,
		`{"type":"connection_init","payload":{"Authorization":"Bearer x"}}
<{"type":"connection_ack"}
{"type":"pong"}
{"type":"subscribe","id":"x"}
<{"id":"x","type":"error","payload":[]}
{"type":"subscribe","id":"x"}`,
		`{"type":"start","id":"1"}`,
		`{"type":"connection_terminate"}`,
		`{"type":""}`, `{}`, `null`, `[]`, `not json`, `{"type":"ping"} trailing`,
		`{"type":"connection_init","type":"subscribe","id":"1"}`,
		`{"TYPE":"connection_init"}
{"Type":"subscribe","ID":"1"}`,
		`{"type":"connection_init"}
<{"type":"complete","id":"1"}
<not json
{"type":"complete","id":"never-started"}`,
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, convo []byte) {
		conn := &fuzzWSConn{}
		var clientFrames [][]byte
		type step struct {
			server bool
			frame  []byte
		}
		var steps []step
		for _, line := range bytes.Split(convo, []byte("\n")) {
			if s, ok := bytes.CutPrefix(line, []byte("<")); ok {
				steps = append(steps, step{server: true, frame: s})
			} else {
				steps = append(steps, step{frame: line})
				clientFrames = append(clientFrames, line)
			}
		}
		conn.frames = clientFrames
		wc, err := strictWS{inner: fuzzWSImpl{conn}, initTimeout: time.Hour}.Accept(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/query", nil), transport.WebsocketAcceptOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer wc.Close()
		model := &fuzzWSModel{ids: map[string]bool{}}
		for i, s := range steps {
			if s.server {
				before := len(conn.written)
				err := wc.WriteJSON(json.RawMessage(s.frame))
				if json.Valid(s.frame) {
					if err != nil || len(conn.written) != before+1 {
						t.Fatalf("step %d: server frame %q not written: %v", i, s.frame, err)
					}
					// The same JSON value (encoding/json compacts it and
					// escapes <, > and & on the way).
					var want, got any
					if json.Unmarshal(s.frame, &want) != nil || json.Unmarshal(conn.written[before], &got) != nil || !reflect.DeepEqual(want, got) {
						t.Fatalf("step %d: server frame %q written as %q", i, s.frame, conn.written[before])
					}
					model.server(s.frame)
				} else if err == nil {
					t.Fatalf("step %d: invalid server frame %q written", i, s.frame)
				}
				continue
			}
			want := model.client(s.frame)
			_, r, err := wc.NextReader()
			if want != 0 {
				if !errors.Is(err, transport.ErrWebsocketClosed) || r != nil {
					t.Fatalf("step %d: frame %q should close with %d, got reader %v, error %v", i, s.frame, want, r != nil, err)
				}
				if len(conn.closeCodes) != 1 || conn.closeCodes[0] != want || conn.closed != 1 {
					t.Fatalf("step %d: frame %q: close codes %v (closed %d), want [%d] once", i, s.frame, conn.closeCodes, conn.closed, want)
				}
				return // the transport reads nothing after a close
			}
			if err != nil {
				t.Fatalf("step %d: frame %q refused (%v), the protocol allows it", i, s.frame, err)
			}
			got, _ := io.ReadAll(r)
			if !bytes.Equal(got, s.frame) {
				t.Fatalf("step %d: frame %q passed on as %q", i, s.frame, got)
			}
			if len(conn.closeCodes) != 0 {
				t.Fatalf("step %d: closed with %v on an allowed frame %q", i, conn.closeCodes, s.frame)
			}
		}
	})
}
