package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// User is a customer of the shop. total_spent is derived from the user's
// orders and kept in step by the order mutations, in the same transaction.
type User struct {
	ent.Schema
}

// Fields of the User.
func (User) Fields() []ent.Field {
	return []ent.Field{
		field.String("username").
			Unique().
			Match(usernameRE).
			Annotations(entgql.OrderField("USERNAME")),
		field.String("email").
			Unique().
			MaxLen(254).
			Validate(validEmail).
			Annotations(entgql.OrderField("EMAIL")),
		field.Time("created_at").
			Default(nowUTC).
			Immutable().
			Annotations(
				entgql.OrderField("CREATED_AT"),
				entgql.Skip(entgql.SkipMutationUpdateInput),
			),
		field.Time("last_active_at").
			Optional().
			Nillable().
			Comment("When the user was last active (each order moves it up); null if never. " +
				"Ordered by LAST_ACTIVE_AT, never-active users count as the oldest: first ascending, last descending."),
		// last_active_order is the order key of LAST_ACTIVE_AT: last_active_at,
		// or the Unix epoch for never-active users, so that it is never NULL.
		// NULLs sort first on SQLite and last on PostgreSQL, and entgql's
		// cursors cannot carry one (they page by id alone). Kept in step by
		// syncLastActiveOrder; not in the GraphQL schema.
		field.Time("last_active_order").
			Default(neverActive).
			StructTag(`json:"-"`). // nor in the user.* events' JSON
			Annotations(
				entsql.Default(neverActiveSQL),
				entgql.OrderField("LAST_ACTIVE_AT"),
				entgql.Skip(entgql.SkipType, entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
			),
		field.Float("total_spent").
			Min(0).
			Validate(finite).
			Default(0).
			Annotations(
				entgql.OrderField("TOTAL_SPENT"),
				// Derived from orders: never set by a client.
				entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
			),
		field.Int("address_id").
			Optional().
			Nillable().
			Annotations(entgql.Type("ID")),
	}
}

// Edges of the User.
func (User) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("address", Address.Type).
			Ref("users").
			Field("address_id").
			Unique(),
		edge.To("orders", Order.Type).
			Annotations(
				entgql.RelayConnection(),
				entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
			),
	}
}

// Indexes of the User.
func (User) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("address_id"),
		index.Fields("created_at"),
		index.Fields("last_active_at"), // the statistics filter on it
		index.Fields("last_active_order"),
		index.Fields("total_spent"),
	}
}

// Hooks of the User.
func (User) Hooks() []ent.Hook {
	return []ent.Hook{syncLastActiveOrder}
}

// Annotations of the User.
func (User) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField(),
		entgql.RelayConnection(),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
	}
}
