// Package graph holds Meridian's GraphQL schema (ent.graphql, generated from
// the ent schema, and meridian.graphql) and gqlgen's executable schema.
//
// Tested by httpapi's flow tests, end to end, which run their operations
// through it; httpapi/limits also measures queries against it.
package graph

//go:generate sh -c "cd .. && go tool gqlgen generate"
