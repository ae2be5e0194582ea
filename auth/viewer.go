package auth

import "context"

// Principal is the caller of one request.
type Principal struct {
	// Subject names the caller: the API key's id, the JWT's subject, or
	// "anonymous".
	Subject string
	Role    Role
	// Method is how the caller was identified: "api-key", "jwt" or
	// "anonymous".
	Method string
	// ReadOnly callers run no mutation, whatever their role (anonymous
	// callers unless Authenticator.AnonymousWrites).
	ReadOnly bool
}

// Anonymous is a caller without credentials; an empty role grants nothing.
func Anonymous(role Role) Principal {
	return Principal{Subject: "anonymous", Role: role, Method: "anonymous"}
}

type principalKey struct{}

// With puts p into ctx.
func With(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// From returns the request's caller; a context without one is an anonymous
// caller with no role (everything guarded is refused).
func From(ctx context.Context) Principal {
	if p, ok := ctx.Value(principalKey{}).(Principal); ok {
		return p
	}
	return Anonymous("")
}
