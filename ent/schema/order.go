package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Order is one purchase of a product by a user. When amount is not given it
// is quantity × the product's price at the time of the order.
type Order struct {
	ent.Schema
}

// Fields of the Order.
func (Order) Fields() []ent.Field {
	return []ent.Field{
		field.Int("quantity").
			Min(1).
			Default(1).
			Annotations(entgql.OrderField("QUANTITY")),
		field.Float("amount").
			Min(0).
			Validate(finite).
			Default(0).
			Annotations(entgql.OrderField("AMOUNT")),
		field.Time("created_at").
			Default(nowUTC).
			Annotations(entgql.OrderField("CREATED_AT")),
		field.Int("user_id").
			Annotations(entgql.Type("ID")),
		field.Int("product_id").
			Annotations(entgql.Type("ID")),
	}
}

// Edges of the Order.
func (Order) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).
			Ref("orders").
			Field("user_id").
			Unique().
			Required(),
		edge.From("product", Product.Type).
			Ref("orders").
			Field("product_id").
			Unique().
			Required(),
	}
}

// Indexes of the Order.
func (Order) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("user_id", "created_at"),
		index.Fields("product_id"),
		index.Fields("created_at"),
	}
}

// Annotations of the Order.
func (Order) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField(),
		entgql.RelayConnection(),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
	}
}
