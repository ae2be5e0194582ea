package gqlhttp

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	// allowMethods is both the Allow header of 405 and OPTIONS answers and
	// the methods granted to preflights.
	allowMethods = "GET, POST, OPTIONS"
	// allowHeaders are the request headers browser clients may send: the
	// body's type, the two credentials the API reads, and Accept with a
	// non-safelisted value such as application/graphql-response+json.
	allowHeaders = "Content-Type, Authorization, X-API-Key, Accept"
	// exposeHeaders are the response headers that browser scripts would
	// otherwise not see: when to retry after a 429, and which
	// authentication a 401 wants.
	exposeHeaders = "Retry-After, WWW-Authenticate"
)

// cors is Config's CORS policy, prepared once.
type cors struct {
	origins     map[string]bool // explicitly allowed, lower-cased
	any         bool            // "*" was listed
	credentials bool
	maxAge      string // Access-Control-Max-Age, "" for none
}

func newCORS(cfg Config) cors {
	c := cors{origins: map[string]bool{}, credentials: cfg.AllowCredentials}
	for _, o := range cfg.AllowedOrigins {
		switch o = strings.TrimSpace(o); o {
		case "":
		case "*":
			c.any = true
		default:
			// Browsers send origins lower-case and without a trailing
			// slash; configuration written by hand may have either.
			c.origins[strings.ToLower(strings.TrimSuffix(o, "/"))] = true
		}
	}
	if secs := int64(cfg.MaxAge / time.Second); secs > 0 {
		c.maxAge = strconv.FormatInt(secs, 10)
	}
	return c
}

func (c cors) enabled() bool { return c.any || len(c.origins) > 0 }

// allow returns the Access-Control-Allow-Origin value for an origin, and
// whether credentials go with it: only for a listed origin, never for "*".
func (c cors) allow(origin string) (value string, credentials, ok bool) {
	if origin == "" {
		return "", false, false
	}
	if c.origins[strings.ToLower(origin)] {
		return origin, c.credentials, true
	}
	if c.any {
		return "*", false, true
	}
	return "", false, false
}

// vary marks responses that differ by Origin, so that shared caches keep
// one copy per origin. With only "*" the answer is the same for all.
func (c cors) vary(h http.Header, names ...string) {
	if len(c.origins) > 0 {
		for _, n := range names {
			h.Add("Vary", n)
		}
	}
}

// preflight answers a CORS preflight (an OPTIONS with Origin and
// Access-Control-Request-Method) and reports whether the request was one.
// Preflights never carry credentials, so they are answered here, before
// the authentication that would refuse them.
func (c cors) preflight(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodOptions || r.Header.Get("Origin") == "" || r.Header.Get("Access-Control-Request-Method") == "" {
		return false
	}
	h := w.Header()
	c.vary(h, "Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers")
	origin, credentials, ok := c.allow(r.Header.Get("Origin"))
	if !ok {
		writeError(w, http.StatusForbidden, mediaJSON, codeForbidden, "origin not allowed")
		return true
	}
	h.Set("Access-Control-Allow-Origin", origin)
	if credentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	// The whole policy goes back whatever was asked: the browser compares
	// it with the request it is about to make, and a cached answer then
	// covers the API's other requests too.
	h.Set("Access-Control-Allow-Methods", allowMethods)
	h.Set("Access-Control-Allow-Headers", allowHeaders)
	if c.maxAge != "" {
		h.Set("Access-Control-Max-Age", c.maxAge)
	}
	w.WriteHeader(http.StatusNoContent)
	return true
}

// annotate adds the CORS headers of an actual request from an allowed
// origin. They are set before the request goes on, so every answer
// carries them, the inner middlewares' 401 and 429 included, and browser
// clients can read why they were refused.
func (c cors) annotate(h http.Header, r *http.Request) {
	if !c.enabled() {
		return
	}
	c.vary(h, "Origin")
	origin, credentials, ok := c.allow(r.Header.Get("Origin"))
	if !ok {
		return
	}
	h.Set("Access-Control-Allow-Origin", origin)
	if credentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	h.Set("Access-Control-Expose-Headers", exposeHeaders)
}
