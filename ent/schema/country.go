package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Country is a sovereign state or territory, keyed by its ISO-3166 alpha-2 code.
type Country struct {
	ent.Schema
}

// Fields of the Country.
func (Country) Fields() []ent.Field {
	return []ent.Field{
		field.String("code").
			Unique().
			MaxLen(2).
			Match(isoAlpha2).
			Comment("ISO-3166 alpha-2 code, upper case").
			Annotations(entgql.OrderField("CODE")),
		field.String("name").
			NotEmpty().
			MaxLen(120).
			Annotations(entgql.OrderField("NAME")),
		field.String("continent").
			NotEmpty().
			MaxLen(40).
			Annotations(entgql.OrderField("CONTINENT")),
	}
}

// Edges of the Country.
func (Country) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("cities", City.Type).
			Annotations(
				entgql.RelayConnection(),
				// Cities move between countries by updating the city, never
				// through a list on the country.
				entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
			),
	}
}

// Indexes of the Country.
func (Country) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("name"),
		index.Fields("continent"),
	}
}

// Annotations of the Country.
func (Country) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField(),
		entgql.RelayConnection(),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
	}
}
