package ratelimit

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
)

// CodeRateLimited is the extensions.code of a refused request.
const CodeRateLimited = "RATE_LIMITED"

// Middleware limits requests by keyOf(r). keyOf should return a stable,
// non-secret identifier (a user ID, a hash of the API key, the client IP);
// an empty key is not limited, for requests the caller chooses to exempt.
//
// Every limited response carries RateLimit-Limit and RateLimit-Remaining. A
// refused one is a 429 with Retry-After and a GraphQL-shaped body, so that
// GraphQL clients handle it like any other error:
//
//	{"errors":[{"message":"rate limit exceeded","extensions":{"code":"RATE_LIMITED","retryAfterSeconds":N}}]}
//
// If the limiter fails (only when the request's context has ended) the
// request is let through: it is going nowhere, and failing closed would turn
// a limiter problem into an outage.
func Middleware(l *Limiter, keyOf func(*http.Request) string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			key := keyOf(r)
			if key == "" {
				next.ServeHTTP(w, r)
				return
			}
			d, err := l.Allow(r.Context(), key)
			if err != nil {
				l.log.DebugContext(r.Context(), "ratelimit: letting request through", "err", err)
				next.ServeHTTP(w, r)
				return
			}
			h := w.Header()
			h.Set("RateLimit-Limit", strconv.Itoa(d.Limit))
			h.Set("RateLimit-Remaining", strconv.Itoa(d.Remaining))
			if d.Allowed {
				next.ServeHTTP(w, r)
				return
			}
			Refuse(w, d)
		})
	}
}

// Refuse writes the 429 response for d, the one Middleware sends: for
// limits applied elsewhere (failed authentications) that answer alike.
func Refuse(w http.ResponseWriter, d Decision) {
	secs := d.RetryAfterSeconds()
	body, _ := json.Marshal(map[string]any{
		"errors": []any{map[string]any{
			"message": "rate limit exceeded",
			"extensions": map[string]any{
				"code":              CodeRateLimited,
				"retryAfterSeconds": secs,
			},
		}},
	})
	h := w.Header()
	h.Set("Retry-After", strconv.Itoa(secs))
	h.Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = w.Write(body)
}

// RetryAfterSeconds is d.RetryAfter in whole seconds, rounded up so that a
// client retrying on time is allowed; at least 1, since 0 would invite an
// immediate retry. Refusals outside HTTP (WebSocket operations) report it
// as extensions.retryAfterSeconds, like the 429.
func (d Decision) RetryAfterSeconds() int {
	return max(int(math.Ceil(d.RetryAfter.Seconds())), 1)
}
