// Package auth owns who is calling: API keys (stored hashed, shown once),
// JWTs (HS256 with a shared secret, RS256 with keys from a JWKS file, with
// issuer and audience checked), the roles they resolve to, the viewer in
// each request's context, and the anonymous role when neither is given.
//
// Roles are ordered: VIEWER reads, ANALYST also tracks events and writes
// profiles, ADMIN may do everything. The GraphQL schema states what each
// field needs with @hasRole; HasRole enforces it.
package auth
