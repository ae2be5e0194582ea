package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/meridian-graphql/meridian/httpapi/ratelimit"
	"github.com/meridian-graphql/meridian/platform/apperr"
	"github.com/meridian-graphql/meridian/platform/observe"
	"github.com/meridian-graphql/meridian/platform/outage"
)

// Authenticator turns credentials into a Principal.
type Authenticator struct {
	Keys *Keys
	JWT  *JWT // nil: JWTs are not accepted
	// Anonymous is the role of callers without credentials; empty refuses
	// them.
	Anonymous Role
	// AnonymousWrites lets callers without credentials run the mutations
	// their role allows; without it they only read (the demo: anonymous
	// callers see everything an analyst sees and change nothing).
	AnonymousWrites bool
	Log             *slog.Logger
	// Failures, when set, limits failed authentications per client
	// address (see failures.go).
	Failures *ratelimit.Limiter
	// Outages counts API-key lookups the database could not serve (nil:
	// not counted); they are answered 503, logged as the outage's state
	// changes rather than one line each.
	Outages *observe.Flood
}

func (a *Authenticator) log() *slog.Logger {
	if a.Log == nil {
		return slog.Default()
	}
	return a.Log
}

// errNoCredential marks a request that carried none.
var errNoCredential = errors.New("no credentials")

// Authenticate resolves a credential: an API key ("mrd_…") or a JWT, with
// or without a "Bearer " or "ApiKey " scheme.
func (a *Authenticator) Authenticate(ctx context.Context, credential string) (Principal, error) {
	c := strings.TrimSpace(credential)
	for _, scheme := range []string{"Bearer ", "bearer ", "ApiKey ", "apikey "} {
		c = strings.TrimPrefix(c, scheme)
	}
	if c == "" {
		return Principal{}, errNoCredential
	}
	if err := a.mayTry(ctx); err != nil {
		return Principal{}, err
	}
	p, err := a.verify(ctx, c)
	if err != nil && !outage.Is(err) {
		// A database that cannot look the key up says nothing about the
		// credential: charging it would lock every client out for an
		// outage.
		a.failed(ctx)
	}
	if err == nil && p.Method == "api-key" {
		a.Outages.OK(ctx) // the key was read from the database
	}
	return p, err
}

// verify checks a credential stripped of its scheme.
func (a *Authenticator) verify(ctx context.Context, c string) (Principal, error) {
	switch {
	case strings.HasPrefix(c, keyPrefix):
		if a.Keys == nil {
			return Principal{}, ErrInvalidKey
		}
		return a.Keys.Authenticate(ctx, c)
	case a.JWT != nil:
		return a.JWT.Verify(c)
	default:
		return Principal{}, fmt.Errorf("%w: JWTs are not configured", ErrInvalidToken)
	}
}

// credential reads the request's Authorization or X-API-Key header.
func credential(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		return h
	}
	return r.Header.Get("X-API-Key")
}

// Middleware puts the caller into each request's context. Requests with
// credentials that do not verify are refused with 401; requests without
// any are anonymous, refused when anonymous access is off unless the
// server deferred their authentication (see Defer). No header the client
// sends decides that.
func (a *Authenticator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.Authenticate(r.Context(), credential(r))
		switch {
		case a.refuseBlocked(w, r, err):
			return
		case errors.Is(err, errNoCredential):
			p = a.anonymous()
			if a.Anonymous == "" && !deferred(r.Context()) {
				a.refuse(w, r, "no credentials and anonymous access is off", msgNoCredential)
				return
			}
		case outage.Is(err):
			a.Outages.Fail(r.Context(), "authentications", err)
			unavailable(w)
			return
		case err != nil:
			a.refuse(w, r, err.Error(), msgBadCredential)
			return
		}
		next.ServeHTTP(w, r.WithContext(With(r.Context(), p)))
	})
}

type deferredKey struct{}

// Defer marks r as a request whose authentication the server itself put
// off: a WebSocket handshake, which authenticates in connection_init (see
// WebsocketInit). Without credentials such a request goes on with no role
// at all when anonymous access is off; only the route that knows the request
// is a real handshake may call it.
func Defer(r *http.Request) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), deferredKey{}, true))
}

func deferred(ctx context.Context) bool {
	v, _ := ctx.Value(deferredKey{}).(bool)
	return v
}

// What a refused caller is told: one message for a request that sent no
// credential and one for a credential that did not verify. The second
// does not say which check failed (unknown, revoked, wrong secret, bad
// signature): telling them apart would help someone guessing keys.
const (
	msgNoCredential  = "authentication required: send an API key or a JWT in the Authorization header"
	msgBadCredential = "invalid credential: the API key is unknown or revoked, or the JWT does not verify"
)

// refuse answers 401 with a GraphQL-shaped error and logs the attempt:
// reason goes to the log, message to the client.
func (a *Authenticator) refuse(w http.ResponseWriter, r *http.Request, reason, message string) {
	a.log().WarnContext(r.Context(), "security: authentication failed", "remote", r.RemoteAddr, "path", r.URL.Path, "reason", reason)
	w.Header().Set("WWW-Authenticate", `Bearer realm="meridian"`)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []any{map[string]any{
		"message": message, "extensions": map[string]any{"code": apperr.Unauthenticated},
	}}})
}

// unavailable answers a credential the database could not check: 503
// with Retry-After (the request may succeed as it is once the database is
// back), in the GraphQL error shape of refuse.
func unavailable(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Retry-After", strconv.Itoa(apperr.RetryAfterSeconds))
	w.WriteHeader(http.StatusServiceUnavailable)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []any{map[string]any{
		"message": "the credential could not be checked: " + apperr.UnavailableMessage, "extensions": map[string]any{"code": apperr.Unavailable},
	}}})
}

// WebsocketInit authenticates a subscription connection from its
// connection_init payload ({"Authorization": "Bearer …"}, or "authToken"
// / "apiKey"); without one the connection keeps the upgrade request's
// caller. A bad credential, or none where anonymous access is off, closes
// the socket with 4403 Forbidden, as graphql-transport-ws recommends.
func (a *Authenticator) WebsocketInit(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	var cred string
	for _, k := range []string{"Authorization", "authorization", "authToken", "apiKey", "token"} {
		if s, ok := payload[k].(string); ok && s != "" {
			cred = s
			break
		}
	}
	p, err := a.Authenticate(ctx, cred)
	switch {
	case errors.Is(err, errNoCredential):
		p = From(ctx)
		if p.Role == "" {
			err = errors.New("authentication required in the connection_init payload")
		} else {
			err = nil
		}
	}
	if err != nil {
		a.log().WarnContext(ctx, "security: subscription authentication failed", "reason", err.Error())
		ctx = transport.WithWebsocketCloseCode(ctx, 4403)
		ctx = transport.AppendCloseReason(ctx, "Forbidden")
		return ctx, nil, errors.New("forbidden: invalid or missing credentials")
	}
	return With(ctx, p), nil, nil
}

// anonymous is the caller of a request without credentials.
func (a *Authenticator) anonymous() Principal {
	p := Anonymous(a.Anonymous)
	p.ReadOnly = !a.AnonymousWrites
	return p
}

// HasRole enforces @hasRole: it runs next only when the caller's role
// includes role and, for a write (a mutation field), the caller may write;
// refusals are logged as security events.
func (a *Authenticator) HasRole(ctx context.Context, field string, write bool, role Role, next func(context.Context) (any, error)) (any, error) {
	p := From(ctx)
	if p.Role.Allows(role) && (!write || !p.ReadOnly) {
		return next(ctx)
	}
	a.log().WarnContext(ctx, "security: operation refused", "field", field, "need", role, "write", write, "subject", p.Subject, "role", p.Role, "read_only", p.ReadOnly)
	if p.Role.Allows(role) {
		return nil, &apperr.Error{Code: apperr.Unauthenticated, Message: fmt.Sprintf("%s changes data: anonymous callers only read here; authenticate with an API key or a JWT", field)}
	}
	if p.Role == "" {
		return nil, &apperr.Error{Code: apperr.Unauthenticated, Message: fmt.Sprintf("%s needs the %s role: authenticate with an API key or a JWT", field, role)}
	}
	return nil, &apperr.Error{Code: apperr.Forbidden, Message: fmt.Sprintf("%s needs the %s role; you have %s", field, role, p.Role)}
}
