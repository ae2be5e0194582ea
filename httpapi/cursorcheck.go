package httpapi

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/meridian-graphql/meridian/ent"
	"github.com/meridian-graphql/meridian/platform/apperr"
)

// cursorCheck decodes every Cursor argument of an operation before it
// runs and refuses a malformed one with BAD_USER_INPUT. The msgpack decoder
// behind entgql's cursors panics on some malformed inputs ("reflect:
// reflect.Value.SetInt using unaddressable value", found by FuzzEntCursor);
// inside field execution that panic would surface as an internal error
// with a stack trace in the log.
type cursorCheck struct{ log *slog.Logger }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = cursorCheck{}

func (cursorCheck) ExtensionName() string                   { return "CursorCheck" }
func (cursorCheck) Validate(graphql.ExecutableSchema) error { return nil }

func (c cursorCheck) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	return eachArgument(rc, func(_ *ast.Field, arg *ast.Argument) *gqlerror.Error { return c.checkArg(ctx, arg, rc.Variables) })
}

// eachArgument calls check with every argument of every field the
// operation of rc selects, through fragments (each spread once), and
// stops at the first error.
func eachArgument(rc *graphql.OperationContext, check func(*ast.Field, *ast.Argument) *gqlerror.Error) *gqlerror.Error {
	if rc.Operation == nil {
		return nil
	}
	seen := map[string]bool{}
	var walk func(ast.SelectionSet) *gqlerror.Error
	walk = func(set ast.SelectionSet) *gqlerror.Error {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				for _, arg := range s.Arguments {
					if err := check(s, arg); err != nil {
						return err
					}
				}
				if err := walk(s.SelectionSet); err != nil {
					return err
				}
			case *ast.InlineFragment:
				if err := walk(s.SelectionSet); err != nil {
					return err
				}
			case *ast.FragmentSpread:
				if seen[s.Name] || s.Definition == nil {
					continue
				}
				seen[s.Name] = true
				if err := walk(s.Definition.SelectionSet); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk(rc.Operation.SelectionSet)
}

// checkArg decodes arg when its type is Cursor.
func (c cursorCheck) checkArg(ctx context.Context, arg *ast.Argument, vars map[string]any) *gqlerror.Error {
	if arg.Value == nil || arg.Value.ExpectedType == nil || arg.Value.ExpectedType.Name() != "Cursor" {
		return nil
	}
	v, err := arg.Value.Value(vars)
	if err != nil || v == nil {
		return nil // gqlgen reports it while reading the arguments
	}
	if err := decodeCursor(v); err != nil {
		// The decoder's words (msgpack, Go types) say how cursors are
		// made; the caller only needs to know this one is not ours.
		c.log.DebugContext(ctx, "malformed cursor", "argument", arg.Name, "error", err)
		e := gqlerror.ErrorPosf(arg.Position, "%s: not a cursor this API issued", arg.Name)
		e.Extensions = map[string]any{"code": string(apperr.BadUserInput), "field": arg.Name}
		return e
	}
	return nil
}

// decodeCursor decodes v as the server will, turning a decoder panic into
// an error.
func decodeCursor(v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("undecodable (%v)", r)
		}
	}()
	var c ent.Cursor
	return c.UnmarshalGQL(v)
}
