package observe

import (
	"net/http"
	"strconv"
	"time"
)

// routeUnmatched is the route label of a request that no ServeMux pattern
// matched: a 404, a 405, or a redirect to the canonical path.
const routeUnmatched = "unmatched"

// Middleware counts requests and measures their latency by status code,
// method and route. Wrap the whole mux with it, directly (inside RequestID
// and the tracing middleware, so latency exemplars carry the trace id): the
// route is the path of the ServeMux pattern that served the request
// ("/query", "/readyz", "/dashboard/"), which the mux sets on the request
// it is handed (http.Request.Pattern), never the request's path, so the
// label stays as bounded as the routes. A handler between this and the mux
// that passes a copy of the request (r.WithContext) would hide the pattern:
// every request would count as "unmatched".
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		record := func(code int) {
			labels := []string{strconv.Itoa(code), methodLabel(r.Method), routeLabel(r)}
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

// routeLabel is the path of the pattern that matched r, once the mux has
// routed it, or "unmatched".
func routeLabel(r *http.Request) string {
	if route := routeOf(r.Pattern); route != "" {
		return route
	}
	return routeUnmatched
}
