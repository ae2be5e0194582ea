package loaders

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/graph-gophers/dataloader/v7"
)

// siblingIDs returns the ids of every object at the same position of the
// response as the parent of ctx's field — all the cities whose `users` are
// being resolved, across every country of the level — by walking the root
// field's already-resolved result along the query's path. Loaders use it to
// answer a whole level in one statement the moment its first element asks,
// instead of relying on the wait window alone: the batch is then exact
// however slowly the other elements' goroutines get scheduled.
//
// It understands what entgql eager-loads — connections (edges → node),
// paginated edges (Named<Edge>(alias)), unique edges (Edges.<Edge>) — plus
// plain fields holding objects (analytics rows) and lists. On anything else (a field computed by a resolver) it gives up and
// returns nil, and the loader falls back to its wait window.
func siblingIDs(ctx context.Context, keyOf func(parent reflect.Value) (int, bool)) []int {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || !graphql.HasOperationContext(ctx) {
		return nil
	}
	// The chain of field contexts from the root field down to the parent
	// object of this field.
	var chain []*graphql.FieldContext
	for p := fc.Parent; p != nil; p = p.Parent {
		if p.Field.Field != nil && p.Index == nil {
			chain = append(chain, p)
		}
	}
	if len(chain) == 0 {
		return nil
	}
	root := chain[len(chain)-1]
	if root.Result == nil {
		return nil
	}
	oc := graphql.GetOperationContext(ctx)
	values := []reflect.Value{reflect.ValueOf(root.Result)}
	field := root.Field
	for i := len(chain) - 2; i >= 0; i-- {
		step := chain[i].Field
		var next []reflect.Value
		for _, v := range values {
			next = append(next, walk(v, step, field, oc)...)
		}
		values, field = next, step
		if len(values) == 0 {
			return nil
		}
	}
	// The parents may still be a list (a root field returning rows).
	var parents []reflect.Value
	for _, v := range values {
		if d := deref(v); d.IsValid() && d.Kind() == reflect.Slice {
			parents = append(parents, elems(d)...)
		} else {
			parents = append(parents, v)
		}
	}
	values = parents
	ids := make([]int, 0, len(values))
	seen := map[int]bool{}
	for _, v := range values {
		id, ok := keyOf(v)
		if !ok {
			continue // a parent without the edge (a user without address)
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids
}

// walk follows one selected field from v (the value of parent).
func walk(v reflect.Value, step graphql.CollectedField, parent graphql.CollectedField, oc *graphql.OperationContext) []reflect.Value {
	v = deref(v)
	if !v.IsValid() {
		return nil
	}
	if !v.CanInterface() {
		return nil
	}
	if v.Kind() == reflect.Slice {
		// A list already resolved to its elements: each of them walks on.
		var out []reflect.Value
		for i := range v.Len() {
			out = append(out, walk(v.Index(i), step, parent, oc)...)
		}
		return out
	}
	if v.Kind() != reflect.Struct {
		return nil
	}
	if nl, ok := v.Interface().(nodeList); ok {
		if step.Name != "edges" {
			return nil
		}
		out := make([]reflect.Value, nl.nodes.Len())
		for i := range out {
			out[i] = reflect.ValueOf(nodeEdge{Node: nl.nodes.Index(i)})
		}
		return out
	}
	if ne, ok := v.Interface().(nodeEdge); ok {
		if step.Name != "node" {
			return nil
		}
		return []reflect.Value{ne.Node}
	}
	switch step.Name {
	case "edges":
		if e := v.FieldByName("Edges"); e.IsValid() && e.Kind() == reflect.Slice {
			return elems(e)
		}
	case "node":
		if n := v.FieldByName("Node"); n.IsValid() {
			return []reflect.Value{n}
		}
	}
	goName := strings.ToUpper(step.Name[:1]) + step.Name[1:]
	// A paginated edge that entgql eager-loaded under the field's alias.
	if !v.CanAddr() {
		return nil
	}
	if m := v.Addr().MethodByName("Named" + goName); m.IsValid() && m.Type().NumIn() == 1 {
		res := m.Call([]reflect.Value{reflect.ValueOf(step.Alias)})
		if len(res) == 2 && res[1].IsNil() {
			// Stand for the connection: its "edges" and "node" steps pass
			// through the plain list.
			return []reflect.Value{reflect.ValueOf(nodeList{nodes: res[0]})}
		}
		return nil
	}
	// A plain field holding the object (an analytics row's entity).
	if f := v.FieldByName(goName); f.IsValid() && f.Kind() == reflect.Pointer && f.CanInterface() {
		if f.IsNil() {
			return nil
		}
		return []reflect.Value{f}
	}
	// A unique edge.
	if e := v.FieldByName("Edges"); e.IsValid() && e.Kind() == reflect.Struct {
		if f := e.FieldByName(goName); f.IsValid() && f.Kind() == reflect.Pointer {
			if f.IsNil() {
				return nil
			}
			return []reflect.Value{f}
		}
	}
	return nil
}

// nodeList stands for an eager-loaded connection (the entities of a
// Named<Edge> call); its "edges" step yields nodeEdges whose "node" is the
// entity.
type nodeList struct{ nodes reflect.Value }

type nodeEdge struct{ Node reflect.Value }

func elems(s reflect.Value) []reflect.Value {
	out := make([]reflect.Value, s.Len())
	for i := range out {
		out[i] = s.Index(i)
	}
	return out
}

func deref(v reflect.Value) reflect.Value {
	for v.IsValid() && (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) {
		if v.IsNil() {
			return reflect.Value{}
		}
		v = v.Elem()
	}
	return v
}

// fkOf returns the key of a to-one field from its parent: the parent's
// <Field>ID column (CityID, *AddressID, …) or the ID of its <Field> object
// (an analytics row's Country).
func fkOf(field string) func(reflect.Value) (int, bool) {
	goName := strings.ToUpper(field[:1]) + field[1:]
	return func(v reflect.Value) (int, bool) {
		v = deref(v)
		if !v.IsValid() || v.Kind() != reflect.Struct {
			return 0, false
		}
		if f := deref(v.FieldByName(goName + "ID")); f.IsValid() && f.Kind() == reflect.Int {
			return int(f.Int()), true
		}
		if f := v.FieldByName(goName); f.IsValid() && f.Kind() == reflect.Pointer {
			return idOf(f)
		}
		return 0, false
	}
}

func idOf(v reflect.Value) (int, bool) {
	v = deref(v)
	if !v.IsValid() || v.Kind() != reflect.Struct {
		return 0, false
	}
	id := v.FieldByName("ID")
	if !id.IsValid() || id.Kind() != reflect.Int {
		return 0, false
	}
	return int(id.Int()), true
}

// level is the loader of one query position: a dataloader for what arrives
// within its wait window, primed once with the whole level when siblingIDs
// can tell it.
type level[V any] struct {
	once  sync.Once
	ld    *dataloader.Loader[int, V]
	batch dataloader.BatchFunc[int, V]
}

// levelAt finds or makes the level loader under key and loads id with it.
func levelAt[V any](l *Loaders, ctx context.Context, key string, id int, batch dataloader.BatchFunc[int, V]) (V, error) {
	return levelKeyed(l, ctx, key, id, idOf, batch)
}

// levelKeyed is levelAt for loaders keyed by something else than the
// parent's id (a to-one edge's foreign key): keyOf reads it from a parent.
func levelKeyed[V any](l *Loaders, ctx context.Context, key string, id int, keyOf func(reflect.Value) (int, bool), batch dataloader.BatchFunc[int, V]) (V, error) {
	l.mu.Lock()
	lv, ok := l.levels[key].(*level[V])
	if !ok {
		lv = &level[V]{ld: newLoader(l.cfg, batch), batch: batch}
		l.levels[key] = lv
	}
	l.mu.Unlock()
	// The first element of the level to ask loads the whole level at once;
	// the others find their value primed. When the response so far does not
	// tell the parents, the wait window batches instead.
	lv.once.Do(func() {
		ids := siblingIDs(ctx, keyOf)
		if len(ids) < 2 || !slices.Contains(ids, id) {
			return
		}
		for i, r := range lv.batch(ctx, ids) {
			if r != nil && r.Error == nil {
				lv.ld.Prime(ctx, ids[i], r.Data)
			}
		}
	})
	return lv.ld.Load(ctx, id)()
}
