// Package resolvers implements the GraphQL resolvers. They stay thin: reads go
// through ent (with entgql field collection) and the per-request loaders,
// writes through package store, aggregates through package stats.
package resolvers

import (
	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/analytics/engine"
	"github.com/meridian-graphql/meridian/analytics/stats"
	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/broker"
	"github.com/meridian-graphql/meridian/cache"
	"github.com/meridian-graphql/meridian/ent"
	"github.com/meridian-graphql/meridian/live"
	"github.com/meridian-graphql/meridian/platform/database"
	"github.com/meridian-graphql/meridian/store"
)

// Resolver is the root resolver; it holds the dependencies shared by all
// requests. Per-request state (loaders) travels in the context.
type Resolver struct {
	Client *ent.Client
	Store  *store.Store
	Stats  *stats.Stats
	Events *analytics.Service
	Cache  *cache.Cache
	Live   *live.Hub
	// Bus serves the admin queries when it implements broker.Admin.
	Bus broker.Bus
	DB  *database.DB
	// Engine serves the analytics engine's fields; nil answers them with
	// an error.
	Engine *engine.Engine
	// Keys stores API keys; nil answers the key mutations with an error.
	Keys *auth.Keys
}
