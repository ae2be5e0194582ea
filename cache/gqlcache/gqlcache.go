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
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/graph-gophers/dataloader/v7"
	"github.com/vektah/gqlparser/v2/ast"

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
