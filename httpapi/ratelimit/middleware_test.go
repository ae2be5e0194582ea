package ratelimit

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestMiddleware(t *testing.T) {
	l := newLimiter(t, Config{Rate: 0.5, Burst: 1}, nil)
	h := Middleware(l, func(r *http.Request) string { return r.Header.Get("X-Key") })(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) }))

	get := func(key string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/graphql", nil)
		if key != "" {
			r.Header.Set("X-Key", key)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}

	w := get("alice")
	if w.Code != http.StatusOK || w.Body.String() != "ok" {
		t.Fatalf("first request: %d %q", w.Code, w.Body)
	}
	if w.Header().Get("RateLimit-Limit") != "1" || w.Header().Get("RateLimit-Remaining") != "0" {
		t.Errorf("headers %v, want RateLimit-Limit 1, RateLimit-Remaining 0", w.Header())
	}

	w = get("alice")
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("second request: %d, want 429", w.Code)
	}
	// 1 token at 0.5 tokens/s: 2 s.
	if got := w.Header().Get("Retry-After"); got != "2" {
		t.Errorf("Retry-After = %q, want 2", got)
	}
	if got := w.Header().Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q", got)
	}
	var body struct {
		Errors []struct {
			Message    string `json:"message"`
			Extensions struct {
				Code              string `json:"code"`
				RetryAfterSeconds int    `json:"retryAfterSeconds"`
			} `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q: %v", w.Body, err)
	}
	if len(body.Errors) != 1 || body.Errors[0].Message != "rate limit exceeded" ||
		body.Errors[0].Extensions.Code != CodeRateLimited || body.Errors[0].Extensions.RetryAfterSeconds != 2 {
		t.Errorf("body = %s", w.Body)
	}

	if w := get("bob"); w.Code != http.StatusOK {
		t.Errorf("another key: %d, want 200", w.Code)
	}
	for range 3 {
		if w := get(""); w.Code != http.StatusOK || w.Header().Get("RateLimit-Limit") != "" {
			t.Errorf("no key: %d %v, want 200 without limiting", w.Code, w.Header())
		}
	}
}
