// HTTP cache control: the Middleware that gives each request its cache
// state and sets Cache-Control and Vary from the fields' hints, and the
// Extension that reports the hints in extensions.cacheControl.

package gqlcache

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/graph/model"
)

// Middleware gives each request its cache state and, when every root field
// of a query is cached, a Cache-Control header with the smallest max-age.
// It must run inside the authentication middleware, which tells anonymous
// requests from the others.
func (f *Fields) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r := &request{anonymous: auth.From(req.Context()).Method == "anonymous"}
		ctx := context.WithValue(req.Context(), reqKey{}, r)
		next.ServeHTTP(&headerWriter{ResponseWriter: w, r: r}, req.WithContext(ctx))
	})
}

// headerWriter sets Cache-Control from the request's hints just before the
// response goes out (gqlgen writes it after execution).
type headerWriter struct {
	http.ResponseWriter
	r    *request
	done bool
}

func (h *headerWriter) WriteHeader(code int) {
	h.setHeader()
	h.ResponseWriter.WriteHeader(code)
}

func (h *headerWriter) Write(b []byte) (int, error) {
	h.setHeader()
	return h.ResponseWriter.Write(b)
}

func (h *headerWriter) Flush() {
	if f, ok := h.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack lets WebSocket upgrades through the wrapper.
func (h *headerWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := h.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, fmt.Errorf("gqlcache: %T cannot hijack", h.ResponseWriter)
	}
	h.done = true // an upgraded connection has no Cache-Control to set
	return hj.Hijack()
}

// Unwrap exposes the wrapped writer to http.ResponseController.
func (h *headerWriter) Unwrap() http.ResponseWriter { return h.ResponseWriter }

// setHeader sets Cache-Control and Vary.
//
// An answer is public — storable by shared caches — only when it cannot
// depend on who asks: the request carried no credential, so the anonymous
// role read every field (an answer with a field it may not read has an
// error, and is never cacheable), and no field is VIEWER-scoped. Any request
// with a credential gets private: the same query may answer differently, or
// not at all, for another role (@hasRole fields), and a cache that keyed it
// by URL alone would hand an analyst's answer to the next caller. With
// anonymous access off, as in production by default, nothing is public.
//
// Vary names the credential headers (auth reads Authorization, else
// X-API-Key) on every answer, so that even a public one is never served to
// a request with a credential, nor a private one to another credential.
func (h *headerWriter) setHeader() {
	if h.done {
		return
	}
	h.done = true
	addVary(h.Header(), "Authorization", "X-API-Key")
	if h.Header().Get("Cache-Control") != "" {
		return
	}
	maxAge, scope := h.r.policy()
	switch {
	case maxAge <= 0:
		h.Header().Set("Cache-Control", "no-store")
	case scope == string(model.CacheScopeViewer) || !h.r.anonymous:
		h.Header().Set("Cache-Control", fmt.Sprintf("private, max-age=%d", maxAge))
	default:
		h.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", maxAge))
	}
}

// addVary adds the names to the Vary header that are not in it yet.
func addVary(h http.Header, names ...string) {
	have := map[string]bool{}
	for _, v := range h.Values("Vary") {
		for _, n := range strings.Split(v, ",") {
			have[strings.ToLower(strings.TrimSpace(n))] = true
		}
	}
	for _, n := range names {
		if !have[strings.ToLower(n)] && !have["*"] {
			h.Add("Vary", n)
		}
	}
}

// policy is the response's max-age: the smallest hint, if every root field
// was cached; else 0.
func (r *request) policy() (int, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	roots := map[string]bool{}
	maxAge, scope := 0, string(model.CacheScopePublic)
	for i, h := range r.hints {
		if len(h.Path) == 1 {
			roots[fmt.Sprint(h.Path[0])] = true
		}
		if i == 0 || h.MaxAge < maxAge {
			maxAge = h.MaxAge
		}
		if h.Scope == string(model.CacheScopeViewer) {
			scope = h.Scope
		}
	}
	if len(roots) == 0 || len(roots) != r.fields {
		return 0, scope
	}
	return maxAge, scope
}

// Extension reports the hints in extensions.cacheControl and counts the
// operation's root fields (only queries can be cached by HTTP caches).
type Extension struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = Extension{}

func (Extension) ExtensionName() string                   { return "CacheControl" }
func (Extension) Validate(graphql.ExecutableSchema) error { return nil }

func (Extension) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	r := requestFrom(ctx)
	if r != nil && graphql.HasOperationContext(ctx) {
		oc := graphql.GetOperationContext(ctx)
		n := -1 // mutations and subscriptions are never cacheable
		if oc.Operation != nil && oc.Operation.Operation == ast.Query {
			n = len(graphql.CollectFields(oc, oc.Operation.SelectionSet, nil))
		}
		r.mu.Lock()
		r.fields = n
		r.mu.Unlock()
	}
	resp := next(ctx)
	if resp == nil || r == nil {
		return resp
	}
	if len(resp.Errors) > 0 {
		// A response with errors is never cacheable downstream.
		r.mu.Lock()
		r.fields = -1
		r.mu.Unlock()
	}
	r.mu.Lock()
	hints := append([]Hint(nil), r.hints...)
	r.mu.Unlock()
	if len(hints) > 0 {
		if resp.Extensions == nil {
			resp.Extensions = map[string]any{}
		}
		resp.Extensions["cacheControl"] = map[string]any{"version": 1, "hints": hints}
	}
	return resp
}
