package sqlread

import (
	"context"
	"errors"
	"strings"

	"entgo.io/ent/dialect/sql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/meridian-graphql/meridian/ent"
	"github.com/meridian-graphql/meridian/ent/address"
	"github.com/meridian-graphql/meridian/ent/city"
	"github.com/meridian-graphql/meridian/ent/country"
	"github.com/meridian-graphql/meridian/ent/order"
	"github.com/meridian-graphql/meridian/ent/product"
	"github.com/meridian-graphql/meridian/ent/user"
	"github.com/meridian-graphql/meridian/loaders"
)

// entity is how one GraphQL object type of the ent schema maps to SQL.
type entity struct {
	table string
	// column reports whether a snake_cased field name is one of its
	// columns.
	column func(string) bool
	// where turns the raw `where` argument into ent's predicate.
	where whereFunc
	edges map[string]edge
}

type edgeKind int

const (
	// toOne: the parent holds the foreign key (User.address).
	toOne edgeKind = iota
	// toMany: a connection whose children hold the foreign key
	// (Country.cities).
	toMany
	// viaAddress: the two-hop users of a city or country, through their
	// address (loaders.UsersIn answers them on the resolver path).
	viaAddress
)

type edge struct {
	kind   edgeKind
	target string // GraphQL type of the node
	// column: toOne, the parent's foreign key column; toMany, the child's
	// column naming the parent.
	column string
	// country: a viaAddress edge of a country (else of a city).
	country bool
}

// rootKind is how a root field selects its rows.
type rootKind int

const (
	rootConnection rootKind = iota
	rootLookup
)

type root struct {
	kind   rootKind
	target string
	// lookup: the column compared with the argument, and how the resolver
	// normalises it.
	arg, column string
	normalise   func(string) string
}

type whereFunc func(ctx context.Context, raw any) (func(*sql.Selector), error)

// whereOf unmarshals a raw where argument the way gqlgen does and returns
// ent's predicate for it; nil for an empty input.
func whereOf[W any, P ~func(*sql.Selector)](empty error, pred func(*W) (P, error)) whereFunc {
	return func(ctx context.Context, raw any) (func(*sql.Selector), error) {
		w := new(W)
		if err := graphql.UnmarshalInputFromContext(ctx, raw, w); err != nil {
			return nil, err
		}
		p, err := pred(w)
		if errors.Is(err, empty) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return (func(*sql.Selector))(p), nil
	}
}

// schema is the mapping of the six entity types and the root fields the
// compiler answers.
type schema struct {
	entities map[string]entity
	roots    map[string]root
	// implements lists the interfaces of each object type (Node), so that
	// fragments on them are collected as the executor collects them.
	implements map[string][]string
}

// satisfies is what a fragment's type condition may name on typ.
func (s *schema) satisfies(typ string) []string {
	return append([]string{typ}, s.implements[typ]...)
}

// learn records the interfaces of every object type of the executable
// schema.
func (s *schema) learn(sch *ast.Schema) {
	s.implements = map[string][]string{}
	for name, def := range sch.Types {
		if def.Kind != ast.Object {
			continue
		}
		for _, in := range sch.GetImplements(def) {
			s.implements[name] = append(s.implements[name], in.Name)
		}
	}
}

func newSchema() schema {
	return schema{
		entities: map[string]entity{
			"Country": {table: country.Table, column: country.ValidColumn,
				where: whereOf(ent.ErrEmptyCountryWhereInput, (*ent.CountryWhereInput).P),
				edges: map[string]edge{
					"cities": {kind: toMany, target: "City", column: city.FieldCountryID},
					"users":  {kind: viaAddress, target: "User", country: true},
				}},
			"City": {table: city.Table, column: city.ValidColumn,
				where: whereOf(ent.ErrEmptyCityWhereInput, (*ent.CityWhereInput).P),
				edges: map[string]edge{
					"country":   {kind: toOne, target: "Country", column: city.FieldCountryID},
					"addresses": {kind: toMany, target: "Address", column: address.FieldCityID},
					"users":     {kind: viaAddress, target: "User"},
				}},
			"Address": {table: address.Table, column: address.ValidColumn,
				where: whereOf(ent.ErrEmptyAddressWhereInput, (*ent.AddressWhereInput).P),
				edges: map[string]edge{
					"city":  {kind: toOne, target: "City", column: address.FieldCityID},
					"users": {kind: toMany, target: "User", column: user.FieldAddressID},
				}},
			"User": {table: user.Table, column: user.ValidColumn,
				where: whereOf(ent.ErrEmptyUserWhereInput, (*ent.UserWhereInput).P),
				edges: map[string]edge{
					"address": {kind: toOne, target: "Address", column: user.FieldAddressID},
					"orders":  {kind: toMany, target: "Order", column: order.FieldUserID},
				}},
			"Order": {table: order.Table, column: order.ValidColumn,
				where: whereOf(ent.ErrEmptyOrderWhereInput, (*ent.OrderWhereInput).P),
				edges: map[string]edge{
					"user":    {kind: toOne, target: "User", column: order.FieldUserID},
					"product": {kind: toOne, target: "Product", column: order.FieldProductID},
				}},
			"Product": {table: product.Table, column: product.ValidColumn,
				where: whereOf(ent.ErrEmptyProductWhereInput, (*ent.ProductWhereInput).P),
				edges: map[string]edge{
					"orders": {kind: toMany, target: "Order", column: order.FieldProductID},
				}},
		},
		roots: map[string]root{
			"countries": {kind: rootConnection, target: "Country"},
			"cities":    {kind: rootConnection, target: "City"},
			"users":     {kind: rootConnection, target: "User"},
			"orders":    {kind: rootConnection, target: "Order"},
			"products":  {kind: rootConnection, target: "Product"},
			"country":   {kind: rootLookup, target: "Country", arg: "code", column: country.FieldCode, normalise: normaliseCode},
			"user":      {kind: rootLookup, target: "User", arg: "username", column: user.FieldUsername},
		},
	}
}

// normaliseCode is how Query.country reads its argument.
func normaliseCode(code string) string { return strings.ToUpper(strings.TrimSpace(code)) }

// Page sizes, as the resolvers apply them (resolvers/helpers.go and
// loaders.UsersIn).
const (
	maxPage          = 1000
	defaultRootPage  = 100
	defaultUsersPage = 100
	maxUsersPage     = loaders.MaxFirst
)
