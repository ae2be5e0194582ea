// Automatic persisted queries: the APQ store, which stages a query until
// its operation passed validation and the limits, and the extension that
// commits it then.

package gqlcache

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/meridian-graphql/meridian/cache"
)

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
