package httpapi

import (
	"context"
	"fmt"
	"reflect"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/platform/apperr"
	"github.com/meridian-graphql/meridian/store"
)

// maxListItems bounds every list in an operation's arguments, at any depth
// of input objects (filter.types, where.idIn, where.or, …), except the
// batches of listBounds. Lists become SQL parameters: 70,000 event types
// once ran into PostgreSQL's 65,535 and answered INTERNAL_SERVER_ERROR.
const maxListItems = 100

// listBounds are the lists allowed more items, by field.argument: the
// batches their resolvers bound themselves, and nodes(ids:) at the page
// size.
func listBounds() map[string]int {
	return map[string]int{
		"trackEvents.inputs": analytics.MaxBatch,
		"importUsers.input":  store.MaxImportRows,
		"nodes.ids":          1000,
	}
}

// listCheck refuses, before the operation runs, a list argument longer
// than its bound with BAD_USER_INPUT naming the argument and the bound.
// It is separate from the cost limit, which prices what a query returns;
// this bounds what a query sends.
type listCheck struct {
	schema *ast.Schema
	bounds map[string]int
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = &listCheck{}

func (*listCheck) ExtensionName() string { return "ListCheck" }
func (c *listCheck) Validate(es graphql.ExecutableSchema) error {
	c.schema, c.bounds = es.Schema(), listBounds()
	return nil
}

func (c *listCheck) MutateOperationContext(_ context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	return eachArgument(rc, func(f *ast.Field, arg *ast.Argument) *gqlerror.Error {
		if arg.Value == nil || arg.Value.ExpectedType == nil {
			return nil
		}
		v, err := arg.Value.Value(rc.Variables)
		if err != nil {
			return nil // gqlgen reports it while reading the arguments
		}
		if msg := c.check(f.Name, arg.Name, arg.Value.ExpectedType, v); msg != "" {
			e := gqlerror.ErrorPosf(arg.Position, "%s", msg)
			e.Extensions = map[string]any{"code": string(apperr.BadUserInput), "field": arg.Name}
			return e
		}
		return nil
	})
}

// check walks v, a value of type t at path (argument, then input fields),
// and describes the first list over its bound, or returns "".
func (c *listCheck) check(field, path string, t *ast.Type, v any) string {
	if v == nil || t == nil {
		return ""
	}
	if t.Elem != nil {
		items := reflect.ValueOf(v)
		if items.Kind() != reflect.Slice {
			return "" // a single value where a list is expected: one item
		}
		bound, ok := c.bounds[field+"."+path]
		if !ok {
			bound = maxListItems
		}
		if items.Len() > bound {
			return fmt.Sprintf("%s: at most %d items, got %d", path, bound, items.Len())
		}
		for i := range items.Len() {
			if msg := c.check(field, path, t.Elem, items.Index(i).Interface()); msg != "" {
				return msg
			}
		}
		return ""
	}
	def := c.schema.Types[t.NamedType]
	obj, ok := v.(map[string]any)
	if def == nil || def.Kind != ast.InputObject || !ok {
		return ""
	}
	for _, f := range def.Fields {
		if msg := c.check(field, path+"."+f.Name, f.Type, obj[f.Name]); msg != "" {
			return msg
		}
	}
	return ""
}
