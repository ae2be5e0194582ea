// Package model receives the Go models gqlgen generates for GraphQL types
// that gqlgen.yml does not bind to existing types. Today every type is bound
// (to ent, stats or store), so only this file lives here.
//
// Tested by httpapi's flow tests with the rest of the schema.
package model
