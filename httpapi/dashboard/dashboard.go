// Package dashboard serves Meridian's built-in dashboard at /dashboard/: a
// static page, bundled by esbuild from web/ into dist/ (committed, so that
// `go run .` needs no Node.js) and embedded here. The page is a client of
// the public GraphQL API only (POST /query, graphql-transport-ws on the same
// path); nothing is loaded from another origin, which its
// Content-Security-Policy enforces. `make dashboard` rebuilds dist/.
package dashboard

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed dist
var dist embed.FS

// Files is the bundle: index.html, app.js and app.css.
func Files() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic("dashboard: embedded dist: " + err.Error()) // the directory is embedded above
	}
	return sub
}

// CSP is the page's Content-Security-Policy for a request to host: this
// origin only, with the WebSocket of the live panels on the same host.
func CSP(host string) string {
	return strings.Join([]string{
		"default-src 'self'",
		"script-src 'self'",
		"style-src 'self'",
		"img-src 'self' data:",
		"connect-src 'self' ws://" + host + " wss://" + host,
		"object-src 'none'",
		"base-uri 'none'",
		"form-action 'self'",
		"frame-ancestors 'none'",
	}, "; ")
}

// Handler serves the dashboard under prefix (e.g. "/dashboard/"); a request
// for the prefix without its slash is redirected to it.
func Handler(prefix string) http.Handler {
	files := http.StripPrefix(prefix, http.FileServerFS(Files()))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == strings.TrimSuffix(prefix, "/") {
			http.Redirect(w, r, prefix, http.StatusMovedPermanently)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", CSP(r.Host))
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		// The bundle's names do not change with its content: revalidate.
		h.Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
