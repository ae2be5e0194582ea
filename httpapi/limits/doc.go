// Package limits refuses GraphQL operations that are too expensive to run,
// before any resolver runs.
//
// Everything here is decided from the request alone: the token count of the
// raw query (before parsing, so a huge document is refused for the price of
// lexing at most MaxTokens+1 tokens), then — on the parsed and validated
// document — the nesting depth, an estimated cost, the number of aliases, the
// page-size arguments (`first`, `last`, `limit`) and whether the operation
// introspects the schema. A refusal is a GraphQL error whose
// extensions.code says which limit was hit, with the measured value and the
// limit next to it, so that clients can react without parsing messages.
//
// The analysis walks the selected operation once: fragments are measured
// once per context and reused, so a document that spreads fragments into
// each other many times costs no more to analyse than it is long.
//
// Use it as a gqlgen extension:
//
//	srv.Use(extension.AutomaticPersistedQuery{...}) // first: it may supply the query text
//	srv.Use(limits.New(limits.DefaultConfig()))
//	srv.Use(apq.Commit())                           // after: gqlcache.APQ stores only what passed
//
// The pure functions (Measure, Config.Check, CountTokens) are exported for
// tests, tools and other transports.
package limits
