package observe

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
)

// RequestIDHeader is the header a request id is read from and echoed in.
const RequestIDHeader = "X-Request-ID"

// maxRequestIDLen bounds an incoming id: it is copied into every log
// record of the request.
const maxRequestIDLen = 64

type requestIDKey struct{}

// RequestID gives each request an id: the client's X-Request-ID when it is
// sane (at most 64 characters of A-Z a-z 0-9 - _ .), so a proxy's id follows
// the request through, or a new random one. The id is set on the response's
// X-Request-ID header before the handler runs (so it is there on upgrades
// and streams too) and put in the request's context for RequestIDFrom and
// LogHandler. It should be the outermost middleware.
func RequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if !saneRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set(RequestIDHeader, id)
		next.ServeHTTP(w, r.WithContext(WithRequestID(r.Context(), id)))
	})
}

// WithRequestID returns ctx carrying id, for work that does not arrive over
// HTTP (a bus message's correlation id, say) but should log like it.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestIDFrom returns the request id in ctx, "" when there is none.
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// saneRequestID accepts ids that are safe to copy into logs and headers
// as they are: no spaces, quotes or control characters to forge log lines
// with, and short.
func saneRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}

// newRequestID returns 128 random bits in hex: unique without coordination
// between instances, and crypto/rand never fails (Go 1.24+).
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
