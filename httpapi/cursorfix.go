package httpapi

import (
	"context"
	"reflect"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"

	"github.com/meridian-graphql/meridian/ent"
)

// cursorValues restores the ordering value of pagination cursors that lost
// it. entgql encodes a cursor's value with msgpack's omitempty, so a zero
// value (0, "", false) vanishes from the cursor, and entgql then pages by
// id alone: rows are skipped or repeated (found by FuzzPagination). Before
// a connection field runs, a cursor without a value under an orderBy gets
// its value back from the row it points at — one primary-key lookup, only
// for such cursors. No order field has NULL values: LAST_ACTIVE_AT orders
// by users.last_active_order, last_active_at or the epoch for never-active
// users (see ent/schema), so every cursor the server hands out carries a
// value or gets it back here. A value still nil after this (a nullable
// order field added later, or an unknown id) pages by id alone.
type cursorValues struct{ client *ent.Client }

var _ interface {
	graphql.HandlerExtension
	graphql.FieldInterceptor
} = cursorValues{}

func (cursorValues) ExtensionName() string                   { return "CursorValues" }
func (cursorValues) Validate(graphql.ExecutableSchema) error { return nil }

func (c cursorValues) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Args == nil {
		return next(ctx)
	}
	valueOf := orderValueFunc(fc.Args["orderBy"])
	if !valueOf.IsValid() {
		return next(ctx)
	}
	for _, name := range []string{"after", "before"} {
		cur, ok := fc.Args[name].(*entgql.Cursor[int])
		if !ok || cur == nil || cur.Value != nil {
			continue
		}
		node, err := c.client.Noder(ctx, cur.ID)
		if err != nil {
			continue // an unknown id pages by id, as before
		}
		nv := reflect.ValueOf(node)
		if nv.Type() != valueOf.Type().In(0) {
			continue // a cursor from another type of node
		}
		if out := valueOf.Call([]reflect.Value{nv}); len(out) == 2 && out[1].IsNil() && !out[0].IsNil() {
			cur.Value = out[0].Interface()
		}
	}
	return next(ctx)
}

// orderValueFunc returns the Value func of an orderBy argument (a
// *XOrder whose Field is a *XOrderField), or an invalid Value.
func orderValueFunc(orderBy any) reflect.Value {
	v := reflect.ValueOf(orderBy)
	if !v.IsValid() || v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return reflect.Value{}
	}
	f := v.Elem().FieldByName("Field")
	if !f.IsValid() || f.Kind() != reflect.Pointer || f.IsNil() {
		return reflect.Value{}
	}
	fn := f.Elem().FieldByName("Value")
	if !fn.IsValid() || fn.Kind() != reflect.Func || fn.IsNil() || fn.Type().NumIn() != 1 {
		return reflect.Value{}
	}
	return fn
}
