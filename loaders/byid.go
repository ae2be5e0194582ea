package loaders

import (
	"context"

	"entgo.io/ent/dialect/sql"
	"github.com/graph-gophers/dataloader/v7"

	"meridian/apperr"
	"meridian/ent/predicate"
)

// byID batches lookups by primary key into one `WHERE id IN (…)` query and
// answers each key in order; a missing id answers NOT_FOUND.
func byID[V any](fetch func(context.Context, []int) ([]V, error), id func(V) int, kind string) dataloader.BatchFunc[int, V] {
	return func(ctx context.Context, keys []int) []*dataloader.Result[V] {
		out := make([]*dataloader.Result[V], len(keys))
		rows, err := fetch(ctx, keys)
		if err != nil {
			for i := range out {
				out[i] = &dataloader.Result[V]{Error: err}
			}
			return out
		}
		m := make(map[int]V, len(rows))
		for _, r := range rows {
			m[id(r)] = r
		}
		for i, k := range keys {
			if v, ok := m[k]; ok {
				out[i] = &dataloader.Result[V]{Data: v}
			} else {
				out[i] = &dataloader.Result[V]{Error: apperr.NotFoundf("", "%s %d does not exist", kind, k)}
			}
		}
		return out
	}
}

// fromMap adapts a batched map-returning query to a loader.
func fromMap[V any](fetch func(context.Context, []int) (map[int]V, error)) dataloader.BatchFunc[int, V] {
	return func(ctx context.Context, keys []int) []*dataloader.Result[V] {
		out := make([]*dataloader.Result[V], len(keys))
		m, err := fetch(ctx, keys)
		for i, k := range keys {
			if err != nil {
				out[i] = &dataloader.Result[V]{Error: err}
				continue
			}
			out[i] = &dataloader.Result[V]{Data: m[k]}
		}
		return out
	}
}

// idIn is `id IN (…)` for any entity; the generated predicates differ only
// in their Go type.
func idIn(ids []int) func(*sql.Selector) {
	return func(s *sql.Selector) { s.Where(sql.InInts(s.C("id"), ids...)) }
}

func countryIDIn(ids []int) predicate.Country { return idIn(ids) }
func cityIDIn(ids []int) predicate.City       { return idIn(ids) }
func addressIDIn(ids []int) predicate.Address { return idIn(ids) }
func userIDIn(ids []int) predicate.User       { return idIn(ids) }
func productIDIn(ids []int) predicate.Product { return idIn(ids) }
