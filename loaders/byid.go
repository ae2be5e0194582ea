package loaders

import (
	"context"
	"reflect"
	"strings"

	"entgo.io/ent/dialect/sql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/graph-gophers/dataloader/v7"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/meridian-graphql/meridian/ent"
	"github.com/meridian-graphql/meridian/ent/predicate"
	"github.com/meridian-graphql/meridian/platform/apperr"
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

// Country loads a country by id. Every call made for the same position in
// the query is answered by one statement, which also eager-loads the edges
// selected below the country (entgql field collection).
func (l *Loaders) Country(ctx context.Context, id int) (*ent.Country, error) {
	return loadAt(l, ctx, "Country", id, collected("Country", func(ids []int) *ent.CountryQuery {
		return l.cfg.Client.Country.Query().Where(countryIDIn(ids))
	}), func(v *ent.Country) int { return v.ID })
}

// City loads a city by id; see Country.
func (l *Loaders) City(ctx context.Context, id int) (*ent.City, error) {
	return loadAt(l, ctx, "City", id, collected("City", func(ids []int) *ent.CityQuery {
		return l.cfg.Client.City.Query().Where(cityIDIn(ids))
	}), func(v *ent.City) int { return v.ID })
}

// Address loads an address by id; see Country.
func (l *Loaders) Address(ctx context.Context, id int) (*ent.Address, error) {
	return loadAt(l, ctx, "Address", id, collected("Address", func(ids []int) *ent.AddressQuery {
		return l.cfg.Client.Address.Query().Where(addressIDIn(ids))
	}), func(v *ent.Address) int { return v.ID })
}

// User loads a user by id; see Country.
func (l *Loaders) User(ctx context.Context, id int) (*ent.User, error) {
	return loadAt(l, ctx, "User", id, collected("User", func(ids []int) *ent.UserQuery {
		return l.cfg.Client.User.Query().Where(userIDIn(ids))
	}), func(v *ent.User) int { return v.ID })
}

// Product loads a product by id; see Country.
func (l *Loaders) Product(ctx context.Context, id int) (*ent.Product, error) {
	return loadAt(l, ctx, "Product", id, collected("Product", func(ids []int) *ent.ProductQuery {
		return l.cfg.Client.Product.Query().Where(productIDIn(ids))
	}), func(v *ent.Product) int { return v.ID })
}

// collectingQuery is what every generated ent query offers.
type collectingQuery[Q, V any] interface {
	CollectFields(context.Context, ...string) (Q, error)
	All(context.Context) ([]V, error)
}

// collected runs the query of ids with entgql field collection on the
// batch's context (the first caller's field), so that what the query selects
// below the entities is eager-loaded too. typename is the GraphQL type, for
// fragments with type conditions.
func collected[Q collectingQuery[Q, V], V any](typename string, query func(ids []int) Q) func(context.Context, []int) ([]V, error) {
	return func(ctx context.Context, ids []int) ([]V, error) {
		q, err := query(ids).CollectFields(ctx, typename)
		if err != nil {
			return nil, err
		}
		return q.All(ctx)
	}
}

// loadAt loads id with the loader of kind at the query position of ctx.
func loadAt[V any](l *Loaders, ctx context.Context, kind string, id int, fetch func(context.Context, []int) ([]V, error), idOf func(V) int) (V, error) {
	var keyOf func(reflect.Value) (int, bool) = func(reflect.Value) (int, bool) { return 0, false }
	if fc := graphql.GetFieldContext(ctx); fc != nil {
		keyOf = fkOf(fc.Field.Name)
	}
	return levelKeyed(l, ctx, kind+"|"+positionKey(ctx), id, keyOf, byID(fetch, idOf, strings.ToLower(kind)))
}

// positionKey is the field path of ctx without list indices: all the
// elements of a list share it, and so share a batch.
func positionKey(ctx context.Context) string {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return ""
	}
	var path []string
	for _, p := range fc.Path() {
		if s, ok := p.(ast.PathName); ok {
			path = append(path, string(s))
		}
	}
	return strings.Join(path, ".")
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
