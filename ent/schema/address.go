package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Address is a street address in a city; users live at addresses.
type Address struct {
	ent.Schema
}

// Fields of the Address.
func (Address) Fields() []ent.Field {
	return []ent.Field{
		field.String("street").
			NotEmpty().
			MaxLen(200).
			Annotations(entgql.OrderField("STREET")),
		field.String("postal_code").
			MaxLen(20).
			Default("").
			Annotations(entgql.OrderField("POSTAL_CODE")),
		field.Int("city_id").
			Annotations(entgql.Type("ID")),
	}
}

// Edges of the Address.
func (Address) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("city", City.Type).
			Ref("addresses").
			Field("city_id").
			Unique().
			Required(),
		edge.To("users", User.Type).
			Annotations(
				entgql.RelayConnection(),
				entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
			),
	}
}

// Indexes of the Address.
func (Address) Indexes() []ent.Index {
	return []ent.Index{
		// With the id, a city's addresses come from the index alone (an
		// index-only scan): the users of a place join on them without a
		// heap page per address (issue 14: W1's floor +30 %).
		index.Fields("city_id", "id"),
		index.Fields("postal_code"),
	}
}

// Annotations of the Address.
func (Address) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
	}
}
