// Package loaders owns the per-request dataloaders (dataloader v7) that batch
// what entgql's eager loading cannot: to-one edges of entities that were not
// eager-loaded, the two-hop City.users and Country.users edges, and the
// per-country and per-city stats. Each loader turns the N calls made while
// resolving one level of a query into one SQL statement.
package loaders

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/analytics/stats"
	"github.com/meridian-graphql/meridian/ent"
)

// DefaultWait is how long a loader collects keys before it runs its batch.
// gqlgen resolves the elements of a list concurrently, so all the keys of one
// level arrive within microseconds; the wait only bounds latency.
const DefaultWait = 10 * time.Millisecond

// Config builds the loaders of each request.
type Config struct {
	Client *ent.Client
	Stats  *stats.Stats
	Events analytics.Store
	// Engine scores users (User.profile, User.recommendations); nil
	// answers those fields with an error.
	Engine Scorer
	Wait   time.Duration
}

// Loaders are one request's loaders.
type Loaders struct {
	cfg Config

	mu sync.Mutex
	// levels holds one loader per kind, query position and arguments,
	// created on first use (see levelAt): each batch serves one level of the
	// query, and can eager-load the selection below it.
	levels map[string]any
}

// New returns fresh loaders for one request.
func New(cfg Config) *Loaders {
	if cfg.Wait <= 0 {
		cfg.Wait = DefaultWait
	}
	l := &Loaders{cfg: cfg, levels: map[string]any{}}
	return l
}

func newLoader[K comparable, V any](cfg Config, fn dataloader.BatchFunc[K, V]) *dataloader.Loader[K, V] {
	// No cache across batches is needed beyond the request: the loader dies
	// with it. The default in-memory cache dedupes keys within the request.
	return dataloader.NewBatchedLoader(fn, dataloader.WithWait[K, V](cfg.Wait))
}

type ctxKey struct{}

// CountryStats returns a country's stats; one statement per level.
func (l *Loaders) CountryStats(ctx context.Context, id int) (*stats.CountryStats, error) {
	return levelAt(l, ctx, "CountryStats|"+positionKey(ctx), id, fromMap(l.cfg.Stats.CountryStats))
}

// CityStats returns a city's stats; one statement per level.
func (l *Loaders) CityStats(ctx context.Context, id int) (*stats.CityStats, error) {
	return levelAt(l, ctx, "CityStats|"+positionKey(ctx), id, fromMap(l.cfg.Stats.CityStats))
}

// Middleware puts fresh loaders into each request's context.
func Middleware(cfg Config) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(With(r.Context(), New(cfg))))
		})
	}
}

// With returns ctx carrying l.
func With(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// For returns the request's loaders. It panics when the middleware is
// missing, which is a wiring bug, not a runtime condition.
func For(ctx context.Context) *Loaders {
	l, ok := ctx.Value(ctxKey{}).(*Loaders)
	if !ok {
		panic("loaders: no loaders in context; wrap the handler with loaders.Middleware")
	}
	return l
}
