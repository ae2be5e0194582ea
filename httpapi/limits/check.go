package limits

import (
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Error codes, sent as extensions.code.
const (
	CodeTooDeep               = "QUERY_TOO_DEEP"
	CodeTooComplex            = "QUERY_TOO_COMPLEX"
	CodeTooManyAliases        = "TOO_MANY_ALIASES"
	CodeTooManyTokens         = "TOO_MANY_TOKENS"
	CodeBadUserInput          = "BAD_USER_INPUT"
	CodeIntrospectionDisabled = "INTROSPECTION_DISABLED"
)

// IntrospectionDepth is the least depth limit applied to introspection: the
// depth of graphql-js's getIntrospectionQuery, which GraphiQL and most
// clients send (__schema, types, fields, args, type, then ofType nested nine
// times with its leaf: 15), so that a low MaxDepth never breaks tooling,
// while 40 nested ofType are refused whatever MaxDepth says. With MaxDepth
// off (0) introspection depth is not limited either, like every other limit.
const IntrospectionDepth = 15

// Check returns the error for the first limit r breaks, nil when it breaks
// none. pos locates depth, cost and alias errors (the operation, usually);
// page-size and introspection errors point at the field at fault.
//
// The order puts the most specific errors first: an oversized `first` also
// inflates the cost, and the client should hear about the argument.
func (c Config) Check(r Report, pos *ast.Position) *gqlerror.Error {
	switch {
	case r.Introspection != nil && !c.Introspection:
		return newError(r.Introspection.Position, CodeIntrospectionDisabled,
			map[string]any{"field": r.Introspection.Name},
			"introspection is disabled")
	case r.Page != nil && c.MaxFirst > 0 && r.Page.Value > c.MaxFirst:
		return newError(r.Page.Position, CodeBadUserInput,
			map[string]any{"field": r.Page.Field, "argument": r.Page.Arg, "value": r.Page.Value, "maxFirst": c.MaxFirst},
			"%s on %s is %d, above the maximum of %d", r.Page.Arg, r.Page.Field, r.Page.Value, c.MaxFirst)
	case c.MaxDepth > 0 && r.Depth > c.MaxDepth:
		return newError(pos, CodeTooDeep,
			map[string]any{"depth": r.Depth, "maxDepth": c.MaxDepth},
			"query depth %d exceeds the maximum of %d", r.Depth, c.MaxDepth)
	case c.MaxDepth > 0 && r.IntrospectionDepth > max(c.MaxDepth, IntrospectionDepth):
		limit := max(c.MaxDepth, IntrospectionDepth)
		return newError(r.Introspection.Position, CodeTooDeep,
			map[string]any{"depth": r.IntrospectionDepth, "maxDepth": limit},
			"introspection depth %d exceeds the maximum of %d", r.IntrospectionDepth, limit)
	case c.MaxAliases > 0 && r.Aliases > c.MaxAliases:
		return newError(pos, CodeTooManyAliases,
			map[string]any{"aliases": r.Aliases, "maxAliases": c.MaxAliases},
			"query uses %d aliases, above the maximum of %d", r.Aliases, c.MaxAliases)
	case c.MaxCost > 0 && r.Cost > c.MaxCost:
		return newError(pos, CodeTooComplex,
			map[string]any{"cost": r.Cost, "maxCost": c.MaxCost},
			"query cost %d exceeds the maximum of %d; request smaller pages or fewer fields", r.Cost, c.MaxCost)
	}
	return nil
}

// checkTokens returns the TOO_MANY_TOKENS error when query has more than
// MaxTokens tokens. The count stops one past the limit, so the error reports
// the limit, not the size of the query.
func (c Config) checkTokens(query string) *gqlerror.Error {
	if c.MaxTokens <= 0 {
		return nil
	}
	if _, ok := CountTokens(query, c.MaxTokens); ok {
		return nil
	}
	return newError(nil, CodeTooManyTokens,
		map[string]any{"maxTokens": c.MaxTokens},
		"query has more than %d tokens", c.MaxTokens)
}

// newError builds a client error carrying code and the measured values in
// its extensions.
func newError(pos *ast.Position, code string, ext map[string]any, format string, args ...any) *gqlerror.Error {
	var err *gqlerror.Error
	if pos != nil {
		err = gqlerror.ErrorPosf(pos, format, args...)
	} else {
		err = gqlerror.Errorf(format, args...)
	}
	ext["code"] = code
	err.Extensions = ext
	return err
}
