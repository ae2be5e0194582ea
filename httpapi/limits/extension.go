package limits

import (
	"context"
	"errors"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// extensionName names the extension in gqlgen's stats.
const extensionName = "Limits"

// Extension is the gqlgen handler extension enforcing a Config. It counts
// tokens before parsing (OperationParameterMutator) and checks the parsed,
// validated operation before execution (OperationContextMutator).
//
// Register it after extension.AutomaticPersistedQuery, which may replace the
// query text, so that the token count sees the query that will run. It also
// owns the introspection switch: with Config.Introspection on it enables
// introspection on the operation, making extension.Introspection redundant,
// and with it off it refuses introspection whatever other extensions do.
type Extension struct {
	cfg    Config
	schema *ast.Schema // set by Validate, read-only afterwards
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
	graphql.OperationContextMutator
} = (*Extension)(nil)

// New returns an extension enforcing cfg.
func New(cfg Config) *Extension {
	return &Extension{cfg: cfg}
}

// ExtensionName implements graphql.HandlerExtension.
func (e *Extension) ExtensionName() string { return extensionName }

// Validate implements graphql.HandlerExtension. gqlgen calls it once, when
// the extension is added; it keeps the schema, which tells connections
// from other types.
func (e *Extension) Validate(es graphql.ExecutableSchema) error {
	if es == nil || es.Schema() == nil {
		return errors.New("limits: the executable schema has no schema")
	}
	e.schema = es.Schema()
	return nil
}

// MutateOperationParameters implements graphql.OperationParameterMutator:
// it refuses an oversized query before gqlgen parses it.
func (e *Extension) MutateOperationParameters(_ context.Context, p *graphql.RawParams) *gqlerror.Error {
	return e.cfg.checkTokens(p.Query)
}

// MutateOperationContext implements graphql.OperationContextMutator: it
// measures the operation, records the Report in the operation stats (see
// ReportFrom) and refuses the operation if it breaks a limit.
func (e *Extension) MutateOperationContext(_ context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if e.cfg.Introspection {
		opCtx.DisableIntrospection = false
	}
	op := opCtx.Operation
	if op == nil && opCtx.Doc != nil {
		op = opCtx.Doc.Operations.ForName(opCtx.OperationName)
	}
	if op == nil {
		return nil // gqlgen has already refused an unknown operation
	}
	r := Measure(e.schema, opCtx.Doc, op, opCtx.Variables, e.cfg)
	opCtx.Stats.SetExtension(extensionName, &r)
	return e.cfg.Check(r, op.Position)
}

// ReportFrom returns the Report of the operation running in ctx, nil when
// there is none (no operation, or the extension is not installed). It is
// meant for request logs and metrics.
func ReportFrom(ctx context.Context) *Report {
	if !graphql.HasOperationContext(ctx) {
		return nil
	}
	r, _ := graphql.GetOperationContext(ctx).Stats.GetExtension(extensionName).(*Report)
	return r
}
