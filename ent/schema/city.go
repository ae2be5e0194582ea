package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// City is a populated place with its true WGS84 coordinates.
type City struct {
	ent.Schema
}

// Fields of the City.
func (City) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").
			NotEmpty().
			MaxLen(120).
			Annotations(entgql.OrderField("NAME")),
		field.Float("latitude").
			Range(-90, 90).
			Validate(finite).
			Annotations(entgql.OrderField("LATITUDE")),
		field.Float("longitude").
			Range(-180, 180).
			Validate(finite).
			Annotations(entgql.OrderField("LONGITUDE")),
		field.Int("population").
			Min(0).
			Default(0).
			Annotations(entgql.OrderField("POPULATION")),
		field.Int("country_id").
			Annotations(entgql.Type("ID")),
	}
}

// Edges of the City.
func (City) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("country", Country.Type).
			Ref("cities").
			Field("country_id").
			Unique().
			Required(),
		edge.To("addresses", Address.Type).
			Annotations(
				entgql.RelayConnection(),
				entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
			),
	}
}

// Indexes of the City.
func (City) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("country_id"),
		index.Fields("name"),
		index.Fields("population"),
	}
}

// Annotations of the City.
func (City) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField(),
		entgql.RelayConnection(),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
	}
}
