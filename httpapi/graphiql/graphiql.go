// Package graphiql serves Meridian's GraphiQL IDE from the binary: the page
// at / and its assets under a prefix (/graphiql/), bundled by esbuild from
// the npm packages in web/ (GraphiQL 5 with its explorer and history
// plugins, React 19, monaco-editor and its three workers, graphql-ws) into
// dist/, which is committed so that `go run .` needs no Node.js, and
// embedded here. Nothing is loaded from another origin, so the IDE works
// offline and air-gapped; the Content-Security-Policy enforces it. It owns
// the bundle, its policy and its headers, not the switch that turns the IDE
// off (MERIDIAN_GRAPHIQL, read by package config and applied by package
// httpapi with Off). `make graphiql` rebuilds dist/.
package graphiql

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

// dist is the bundle: index.html, app.js, app.css, the chunks app.js
// imports lazily (chunk-*.js) and monaco's workers (*.worker.js).
//
//go:embed dist
var dist embed.FS

// CSP is the IDE's Content-Security-Policy for a request to host. Scripts,
// workers and connections are this origin's only (the WebSocket of
// subscriptions on the same host). Two allowances are the bundle's needs,
// not conveniences: style-src 'unsafe-inline', because monaco writes
// <style> elements and style attributes at run time (its theme, line
// layout and decorations; styles cannot run code), and font-src data:,
// because graphiql/style.css carries its fonts (Roboto, Fira Code, the
// codicon icons) inline. worker-src 'self' suffices: monaco's workers are
// files of the bundle, started by URL (see web/src/workers.js), never from
// a blob.
func CSP(host string) string {
	return strings.Join([]string{
		"default-src 'self'",
		"script-src 'self'",
		"worker-src 'self'",
		"style-src 'self' 'unsafe-inline'",
		"font-src 'self' data:",
		"img-src 'self' data:",
		"connect-src 'self' ws://" + host + " wss://" + host,
		"object-src 'none'",
		"base-uri 'none'",
		"form-action 'self'",
		"frame-ancestors 'none'",
	}, "; ")
}

// Page serves the IDE's page, index.html, whose assets are under /graphiql/
// (Assets).
func Page() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serve(w, r, "index.html")
	})
}

// Assets serves the bundle's files under prefix (e.g. "/graphiql/"), not
// the page itself nor a listing: those answer 404.
func Assets(prefix string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutPrefix(r.URL.Path, prefix)
		if !ok || name == "" || name == "index.html" || strings.Contains(name, "/") {
			http.NotFound(w, r)
			return
		}
		serve(w, r, name)
	})
}

// Off answers what the IDE's page would when MERIDIAN_GRAPHIQL is false:
// 404, saying so, and where the API is.
func Off() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte("GraphiQL is turned off on this server (MERIDIAN_GRAPHIQL=false). The GraphQL API is at /query.\n"))
	})
}

// asset is one file of the bundle with what its answers need, computed
// once: a strong ETag, since embedded files have no modification time and
// the names do not change with the content, and a gzip copy, made on its
// first request (the bundle is some 7 MB, about a third of that gzipped).
type asset struct {
	body, gz []byte
	etag     string
	ctype    string
	once     sync.Once
}

var (
	loadAssets sync.Once
	assets     map[string]*asset
)

func lookup(name string) *asset {
	loadAssets.Do(func() {
		assets = map[string]*asset{}
		entries, err := dist.ReadDir("dist")
		if err != nil {
			panic("graphiql: embedded dist: " + err.Error()) // the directory is embedded above
		}
		for _, e := range entries {
			if e.IsDir() {
				continue
			}
			body, err := dist.ReadFile("dist/" + e.Name())
			if err != nil {
				panic("graphiql: embedded dist: " + err.Error())
			}
			sum := sha256.Sum256(body)
			ctype := mime.TypeByExtension(path.Ext(e.Name()))
			if ctype == "" {
				ctype = "application/octet-stream"
			}
			assets[e.Name()] = &asset{body: body, ctype: ctype, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`}
		}
	})
	return assets[name]
}

func (a *asset) gzipped() []byte {
	a.once.Do(func() {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.DefaultCompression) // a valid level: as small as the best, in half the time
		_, _ = zw.Write(a.body)
		_ = zw.Close()
		a.gz = b.Bytes()
	})
	return a.gz
}

func serve(w http.ResponseWriter, r *http.Request, name string) {
	a := lookup(name)
	if a == nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", CSP(r.Host))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	// Revalidate every time: the ETag makes that a 304 once cached.
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Type", a.ctype)
	h.Set("Vary", "Accept-Encoding")
	body, etag := a.body, a.etag
	if acceptsGzip(r) {
		body, etag = a.gzipped(), strings.TrimSuffix(a.etag, `"`)+`.gz"`
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("ETag", etag)
	// ServeContent answers If-None-Match (304), HEAD and ranges.
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
}

// acceptsGzip reports an Accept-Encoding that lists gzip without q=0.
func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for _, part := range strings.Split(v, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
				continue
			}
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}
