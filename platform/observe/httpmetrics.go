package observe

import (
	"net/http"
	"strconv"
	"time"
)

// Middleware counts requests and measures their latency by status code and
// method. Wrap the whole mux with it (inside RequestID and the tracing
// middleware, so latency exemplars carry the trace id).
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		record := func(code int) {
			labels := []string{strconv.Itoa(code), methodLabel(r.Method)}
			m.httpRequests.WithLabelValues(labels...).Inc()
			if !sw.stream() {
				observe(r.Context(), m.httpDuration.WithLabelValues(labels...), time.Since(start).Seconds())
			}
		}
		defer func() {
			// A handler that panics (http.Server recovers it and drops the
			// connection) still counts, as a 500; the panic goes on.
			if v := recover(); v != nil {
				record(http.StatusInternalServerError)
				panic(v)
			}
		}()
		next.ServeHTTP(sw, r)
		record(sw.status())
	})
}

// methodLabel keeps the method label to the standard methods: the method is
// whatever token the client sent.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return labelOther
}
