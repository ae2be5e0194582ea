package httpapi

import (
	"bufio"
	"encoding/base64"
	"net"
	"net/http"
	"strings"

	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/platform/apperr"
)

// handshakes lets a real WebSocket handshake on /query through without
// credentials: the socket authenticates in connection_init (see
// auth.Authenticator.WebsocketInit), so the handshake's own authentication
// is deferred. Every other request, whatever headers it carries, meets
// authentication in full. A deferred request can only become a WebSocket:
// any other answer that is not an error is replaced by 401.
func handshakes(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isHandshake(r) {
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(&upgradeOnly{w: w}, auth.Defer(r))
	})
}

// isHandshake reports a WebSocket opening handshake as RFC 6455 §4.2.1
// defines it and coder/websocket accepts it: the same request always goes
// to gqlgen's WebSocket transport, the first of its transports, which
// takes any request with an Upgrade header.
func isHandshake(r *http.Request) bool {
	if r.Method != http.MethodGet || !r.ProtoAtLeast(1, 1) ||
		!hasToken(r.Header, "Connection", "upgrade") || !hasToken(r.Header, "Upgrade", "websocket") ||
		r.Header.Get("Sec-WebSocket-Version") != "13" {
		return false
	}
	keys := r.Header.Values("Sec-WebSocket-Key")
	if len(keys) != 1 {
		return false
	}
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(keys[0]))
	return err == nil && len(k) == 16
}

// hasToken reports whether the comma-separated header name holds token,
// ignoring case.
func hasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// upgradeOnly passes a switch of protocols (and the hijack after it) and
// error answers; anything else, which would be a result computed for a
// caller whose authentication was deferred, becomes a 401.
type upgradeOnly struct {
	w       http.ResponseWriter
	wrote   bool
	refused bool
}

func (u *upgradeOnly) Header() http.Header { return u.w.Header() }

func (u *upgradeOnly) WriteHeader(code int) {
	if u.wrote {
		return
	}
	u.wrote = true
	if code == http.StatusSwitchingProtocols || code >= http.StatusBadRequest {
		u.w.WriteHeader(code)
		return
	}
	u.refused = true
	for k := range u.w.Header() {
		u.w.Header().Del(k)
	}
	writeJSON(u.w, http.StatusUnauthorized, map[string]any{"errors": []any{map[string]any{
		"message":    "authentication required: a WebSocket authenticates in connection_init; other requests send an API key or a JWT",
		"extensions": map[string]any{"code": apperr.Unauthenticated},
	}}})
}

func (u *upgradeOnly) Write(b []byte) (int, error) {
	if !u.wrote {
		u.WriteHeader(http.StatusOK)
	}
	if u.refused {
		return len(b), nil
	}
	return u.w.Write(b)
}

// Hijack hands the connection to the WebSocket once the switch is sent.
func (u *upgradeOnly) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(u.w).Hijack()
}
