// Package graph holds Meridian's GraphQL schema (ent.graphql, generated from
// the ent schema, and meridian.graphql) and gqlgen's executable schema.
package graph

//go:generate sh -c "cd .. && go tool gqlgen generate"
