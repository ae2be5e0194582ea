// Package sqlread owns Meridian's compiled relational reads: a root query
// over the ent entities (the countries, cities, users, orders and products
// connections, and the lookups country(code) and user(username)) whose
// whole selection is columns, to-one edges and connections is compiled into
// one PostgreSQL statement that writes the response JSON itself, as
// PostGraphile does. Each connection level is a correlated subquery with its
// own ORDER BY … LIMIT, so PostgreSQL reads each parent's page over the
// index instead of numbering every child; Go then copies one value into the
// response instead of building, scheduling and marshalling an object per
// field of every row (issue 14: gqlgen's executor spent 58 ms and 380,000
// allocations on a 2,000-user response whose SQL took a fraction of that).
//
// gqlgen still parses, validates and prices the operation, and every limit,
// cache and authorization rule applies as before: the compiler runs as a
// root-field interceptor and only takes a field it can answer exactly.
// Anything else goes to the resolvers unchanged: a field with a directive
// (@hasRole, @cached), a computed field (stats, profile,
// recommendations), cursors (entgql encodes them in Go), after/before/last,
// @defer, an orderBy the compiler does not map, a page size the resolvers
// would refuse (they answer the error), SQLite, or a statement that fails
// (the resolvers then report the outage as usual). The package's
// differential test runs each shape both ways and compares the answers.
//
// Times are written as RFC 3339 in UTC, which is what the resolvers write
// when the server runs in UTC; under another TZ the resolvers write the
// same instant with that zone's offset.
package sqlread
