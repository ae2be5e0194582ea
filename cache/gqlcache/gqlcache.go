// Package gqlcache applies the two-tier cache (package cache) to GraphQL:
// the @cached field directive, per-request batching of cache reads (one
// Redis MGET per batch of list elements, never one GET per row), the
// cache-control hints of responses, and the store of automatic persisted
// queries.
//
// Which pattern each cached field uses, and why:
//   - Country.stats, City.stats, userStats, registrationCohorts: cache-aside
//     over aggregates that are themselves read from a pre-computed aggregate
//     (users.total_spent); writes invalidate them by tag rather than write
//     through, because one order moves the stats of a user's city, country,
//     cohort and the global totals at once.
//   - eventDistribution, userActivity, purchaseAnalytics, retention:
//     cache-aside with short TTLs over the event store's rollups; any ingested
//     event invalidates the "events" tag.
//   - persisted queries: written once the query passed validation and the
//     limits (see APQ), read by hash afterwards.
package gqlcache

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/graph-gophers/dataloader/v7"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/cache"
	"github.com/meridian-graphql/meridian/graph/model"
)

// Fields caches GraphQL fields in c.
type Fields struct {
	// Bypass, when set before serving, makes the directive resolve every
	// field without reading or filling the cache (benchmarks).
	Bypass bool
	c      *cache.Cache
	wait   time.Duration
	// types remembers the Go type each field resolves to, learnt from the
	// first value computed on this instance, so that cached bytes can be
	// decoded back into what gqlgen expects. Until a field's type is known
	// the instance computes it (one miss per field per instance).
	types sync.Map // field name → reflect.Type
}

// New returns the field cache over c. wait is how long a request's cache
// reads are collected before one MGET answers them.
func New(c *cache.Cache, wait time.Duration) *Fields {
	if wait <= 0 {
		wait = 2 * time.Millisecond
	}
	return &Fields{c: c, wait: wait}
}

// Directive implements @cached(ttl, scope, tags).
func (f *Fields) Directive(ctx context.Context, obj any, next graphql.Resolver, ttl int, scope *model.CacheScope, tags []string) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || ttl <= 0 || f.Bypass {
		return next(ctx)
	}
	name := fc.Object + "." + fc.Field.Name
	sc := model.CacheScopePublic
	if scope != nil {
		sc = *scope
	}
	key, err := f.key(ctx, fc, name, obj, sc)
	if err != nil {
		return next(ctx)
	}
	ctx = cache.WithField(ctx, name)
	if r := requestFrom(ctx); r != nil {
		r.hint(fc.Path(), ttl, sc)
	}
	typ, known := f.types.Load(name)
	if known {
		if b, ok := f.read(ctx, fc, key); ok {
			if v, err := decode(b, typ.(reflect.Type)); err == nil {
				return v, nil
			}
		}
	}
	var computed any
	b, err := f.c.Fill(ctx, key, time.Duration(ttl)*time.Second, tags, func(ctx context.Context) ([]byte, error) {
		v, err := next(ctx)
		if err != nil {
			return nil, err
		}
		computed = v
		f.types.Store(name, reflect.TypeOf(v))
		return json.Marshal(v)
	})
	if err != nil {
		return nil, err
	}
	if computed != nil {
		return computed, nil
	}
	// Another request computed it (singleflight) or it was cached after all.
	if typ, ok := f.types.Load(name); ok {
		if v, err := decode(b, typ.(reflect.Type)); err == nil {
			return v, nil
		}
	}
	return next(ctx)
}

// read looks the key up: the local tier at once, then Redis — batched with
// the other elements of the list when the field sits under one.
func (f *Fields) read(ctx context.Context, fc *graphql.FieldContext, key string) ([]byte, bool) {
	if b, ok := f.c.GetLocal(ctx, key); ok {
		return b, true
	}
	r := requestFrom(ctx)
	if r == nil || !underList(fc) {
		return f.c.Get(ctx, key)
	}
	b, err := r.loader(f).Load(ctx, key)()
	return b, err == nil && b != nil
}

// key is field | parent id | arguments [| role].
func (f *Fields) key(ctx context.Context, fc *graphql.FieldContext, name string, obj any, sc model.CacheScope) (string, error) {
	var args map[string]any
	if graphql.HasOperationContext(ctx) {
		args = fc.Field.ArgumentMap(graphql.GetOperationContext(ctx).Variables)
	}
	a, err := json.Marshal(args)
	if err != nil {
		return "", err
	}
	k := "f:" + name + "|" + parentID(obj) + "|" + string(a)
	if sc == model.CacheScopeViewer {
		// Entries are shared by callers of the same role, never across roles.
		k += "|role:" + roleFrom(ctx)
	}
	return k, nil
}

func parentID(obj any) string {
	if obj == nil {
		return ""
	}
	v := reflect.ValueOf(obj)
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	if v.Kind() == reflect.Struct {
		if id := v.FieldByName("ID"); id.IsValid() {
			return fmt.Sprint(id.Interface())
		}
	}
	return ""
}

func underList(fc *graphql.FieldContext) bool {
	for _, p := range fc.Path() {
		if _, ok := p.(ast.PathIndex); ok {
			return true
		}
	}
	return false
}

func decode(b []byte, t reflect.Type) (any, error) {
	p := reflect.New(t)
	if err := json.Unmarshal(b, p.Interface()); err != nil {
		return nil, err
	}
	return p.Elem().Interface(), nil
}

// roleFrom is the caller's role, the key of VIEWER-scoped entries.
func roleFrom(ctx context.Context) string {
	if r := auth.From(ctx).Role; r != "" {
		return string(r)
	}
	return "anonymous"
}

// request is one HTTP request's cache state: its batched reader and the
// cache-control hints of the fields it resolved.
type request struct {
	mu     sync.Mutex
	ld     *dataloader.Loader[string, []byte]
	hints  []Hint
	fields int
	// anonymous: the request carried no credential, so its answer is the
	// one every caller without credentials gets (see setHeader).
	anonymous bool
}

// Hint is Apollo's cacheControl hint of one resolved field.
type Hint struct {
	Path   []any  `json:"path"`
	MaxAge int    `json:"maxAge"`
	Scope  string `json:"scope"`
}

type reqKey struct{}

func requestFrom(ctx context.Context) *request {
	r, _ := ctx.Value(reqKey{}).(*request)
	return r
}

func (r *request) loader(f *Fields) *dataloader.Loader[string, []byte] {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ld == nil {
		r.ld = dataloader.NewBatchedLoader(func(ctx context.Context, keys []string) []*dataloader.Result[[]byte] {
			got := f.c.GetMany(ctx, keys)
			out := make([]*dataloader.Result[[]byte], len(keys))
			for i, k := range keys {
				out[i] = &dataloader.Result[[]byte]{Data: got[k]}
			}
			return out
		}, dataloader.WithWait[string, []byte](f.wait))
	}
	return r.ld
}

func (r *request) hint(path ast.Path, ttl int, sc model.CacheScope) {
	p := make([]any, len(path))
	for i, e := range path {
		switch v := e.(type) {
		case ast.PathName:
			p[i] = string(v)
		case ast.PathIndex:
			p[i] = int(v)
		}
	}
	r.mu.Lock()
	r.hints = append(r.hints, Hint{Path: p, MaxAge: ttl, Scope: string(sc)})
	r.mu.Unlock()
}

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

// APQ is the store of automatic persisted queries, kept in the cache under
// "apq:"+hash for TTL.
//
// gqlgen's extension.AutomaticPersistedQuery reads queries through it (Get)
// and hands it every query that arrives with its hash (Add) — before the
// query is parsed, validated or measured. Storing there would let anyone
// park junk for a day: a 1 MiB query that the cost limit refuses was kept in
// Redis and in the local tier. So Add only stages the query on the
// operation, and the extension Commit returns, registered after the limits,
// stores it once the operation got that far: parsed, validated, within every
// limit. Queries over MaxBytes are never stored; they still run.
type APQ struct {
	C   *cache.Cache
	TTL time.Duration
	// MaxBytes is the largest query stored; 0 means DefaultAPQMaxBytes.
	MaxBytes int
}

// DefaultAPQMaxBytes caps a persisted query at 64 KiB. Queries are bounded
// by tokens (MERIDIAN_MAX_TOKENS, 5,000 by default) but one token — a
// comment, a string — can be as long as the request body (1 MiB), so the
// token limit alone does not bound what is stored. 5,000 tokens of
// ordinary GraphQL (names, punctuation, indentation) take 20–40 KB; real
// clients' operations are a few KB; 64 KiB leaves room for both.
const DefaultAPQMaxBytes = 64 << 10

// apqStaged names the query Add stages in the operation's stats.
const apqStaged = "gqlcache.APQ.staged"

type stagedQuery struct{ hash, query string }

// Get implements graphql.Cache.
func (a APQ) Get(ctx context.Context, hash string) (string, bool) {
	b, ok := a.C.Get(ctx, "apq:"+hash)
	return string(b), ok
}

// Add implements graphql.Cache: it stages query for Commit (see APQ). Outside
// an operation there is nothing to commit it, and nothing is stored.
func (a APQ) Add(ctx context.Context, hash, query string) {
	if len(query) > a.maxBytes() || !graphql.HasOperationContext(ctx) {
		return
	}
	graphql.GetOperationContext(ctx).Stats.SetExtension(apqStaged, &stagedQuery{hash: hash, query: query})
}

// Store writes query under hash at once, the way Commit does.
func (a APQ) Store(ctx context.Context, hash, query string) {
	if len(query) > a.maxBytes() {
		return
	}
	ttl := a.TTL
	if ttl <= 0 {
		ttl = 24 * time.Hour
	}
	a.C.Set(ctx, "apq:"+hash, []byte(query), ttl, nil)
}

func (a APQ) maxBytes() int {
	if a.MaxBytes > 0 {
		return a.MaxBytes
	}
	return DefaultAPQMaxBytes
}

// Commit returns the extension that stores the query Add staged. gqlgen runs
// operation context mutators after parsing and validation, in the order
// they were registered, and stops at the first that refuses: registered
// after limits.New, it only sees operations within every limit.
func (a APQ) Commit() graphql.HandlerExtension { return apqCommit{a} }

type apqCommit struct{ apq APQ }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = apqCommit{}

func (apqCommit) ExtensionName() string                   { return "PersistedQueryCommit" }
func (apqCommit) Validate(graphql.ExecutableSchema) error { return nil }

func (c apqCommit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if s, ok := oc.Stats.GetExtension(apqStaged).(*stagedQuery); ok {
		c.apq.Store(ctx, s.hash, s.query)
	}
	return nil
}
