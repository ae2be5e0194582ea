package sqlread

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"entgo.io/ent/dialect"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/meridian-graphql/meridian/platform/database"
)

// Extension is the gqlgen extension that answers the root fields of a
// query it can compile; every other field runs through the resolvers. Use
// it after the extensions that wrap root fields (tracing, metrics), so
// they still see each one.
type Extension struct {
	db     *database.DB
	log    *slog.Logger
	schema schema
}

var _ interface {
	graphql.HandlerExtension
	graphql.RootFieldInterceptor
} = (*Extension)(nil)

// New returns the extension over db, or nil when db is not PostgreSQL (the
// statements use its JSON functions and LATERAL-style correlated
// subqueries; the embedded SQLite default keeps the resolvers).
func New(db *database.DB, log *slog.Logger) *Extension {
	if db == nil || db.Dialect != dialect.Postgres {
		return nil
	}
	if log == nil {
		log = slog.Default()
	}
	return &Extension{db: db, log: log, schema: newSchema()}
}

// ExtensionName implements graphql.HandlerExtension.
func (*Extension) ExtensionName() string { return "CompiledReads" }

// Validate implements graphql.HandlerExtension: it learns the schema's
// interfaces.
func (e *Extension) Validate(es graphql.ExecutableSchema) error {
	e.schema.learn(es.Schema())
	return nil
}

// InterceptRootField answers a compilable root field of a query with the
// JSON PostgreSQL wrote, and hands any other to next.
func (e *Extension) InterceptRootField(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	oc := graphql.GetOperationContext(ctx)
	rc := graphql.GetRootFieldContext(ctx)
	if oc == nil || rc == nil || oc.Operation == nil || oc.Operation.Operation != ast.Query {
		return next(ctx)
	}
	query, args, ok := compile(ctx, oc, &e.schema, rc.Field)
	if !ok {
		return next(ctx)
	}
	e.log.DebugContext(ctx, "compiled read", "field", rc.Field.Name, "sql", query)
	out, err := e.run(ctx, query, args)
	if err != nil {
		// The resolvers answer it, and classify the error (an outage is
		// SERVICE_UNAVAILABLE) as they do for every read.
		e.log.DebugContext(ctx, "compiled read failed; resolving the field instead", "field", rc.Field.Name, "err", err)
		return next(ctx)
	}
	if out == nil {
		return graphql.Null
	}
	return graphql.WriterFunc(func(w io.Writer) { _, _ = w.Write(out) })
}

// run executes the statement through the counting driver, so that it
// shows in the request's sqlStatements like any other.
func (e *Extension) run(ctx context.Context, query string, args []any) ([]byte, error) {
	rows, err := e.db.Driver.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("compiled read: %w", err)
	}
	defer rows.Close()
	var out []byte
	if rows.Next() {
		if err := rows.Scan(&out); err != nil {
			return nil, fmt.Errorf("compiled read: scan: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("compiled read: %w", err)
	}
	return out, nil
}
