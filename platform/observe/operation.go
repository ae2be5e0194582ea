package observe

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// operation is what the extensions need to know about the GraphQL operation
// of a response.
type operation struct {
	oc *graphql.OperationContext // nil when the request failed before one existed
	// name is the operation's name as the client wrote it ("" when
	// anonymous or unknown); use label() before putting it anywhere
	// cardinality matters.
	name string
	// typ is "query", "mutation", "subscription", or "unknown" when the
	// document did not parse or named no operation.
	typ string
	// start is when the server started on the request (before reading and
	// parsing it), or the zero time when gqlgen did not record it.
	start time.Time
}

func operationOf(ctx context.Context) operation {
	if !graphql.HasOperationContext(ctx) {
		// A request gqlgen could not even decode: DispatchError runs the
		// response interceptors without an operation context.
		return operation{typ: "unknown"}
	}
	oc := graphql.GetOperationContext(ctx)
	op := operation{oc: oc, name: oc.OperationName, typ: "unknown", start: oc.Stats.OperationStart}
	if oc.Operation != nil {
		op.typ = string(oc.Operation.Operation)
		if oc.Operation.Name != "" {
			op.name = oc.Operation.Name
		}
	}
	return op
}

// label is the operation name as it may appear in a metric label or span
// name: "anonymous" for unnamed operations, "other" for names that are not
// plain GraphQL names.
func (o operation) label() string {
	switch {
	case o.name == "":
		return labelAnonymous
	case validName(o.name):
		return o.name
	default:
		return labelOther
	}
}

func (o operation) subscription() bool { return o.typ == string(ast.Subscription) }

// since is the operation's duration so far, measured from the request's
// start when gqlgen recorded it (so reading, parsing and validating count),
// else from fallback (the interceptor's own start).
func (o operation) since(fallback time.Time) time.Duration {
	start := o.start
	if start.IsZero() || start.After(fallback) {
		start = fallback
	}
	return time.Since(start)
}

// definition is the operation's definition in the document, nil when the
// request failed before one was chosen.
func (o operation) definition() *ast.OperationDefinition {
	if o.oc == nil {
		return nil
	}
	return o.oc.Operation
}
