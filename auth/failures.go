package auth

import (
	"context"
	"errors"
	"net/http"

	"github.com/meridian-graphql/meridian/httpapi/ratelimit"
)

// Failed authentications are limited per client address (issue 12): each
// verification of an API key is a database lookup, and a caller guessing
// keys would otherwise get one per request, as fast as it can send them.
// Only failures are charged; a caller over the limit is refused before its
// credential is looked at, whichever credential it is, since telling a
// good one from a bad one is the very lookup the limit saves. Callers
// without credentials are not concerned: they cost no lookup.

type clientKey struct{}

// WithClient records the client's address (the one rate limits and logs
// use: behind trusted proxies, the one X-Forwarded-For names) for the
// failure limit. Without it a request's failures are not limited.
func WithClient(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, clientKey{}, addr)
}

func clientFrom(ctx context.Context) string {
	s, _ := ctx.Value(clientKey{}).(string)
	return s
}

// TooManyFailures refuses a credential from a client address that failed
// to authenticate too often; Decision says when it may try again.
type TooManyFailures struct{ Decision ratelimit.Decision }

func (*TooManyFailures) Error() string {
	return "too many failed authentications from this address"
}

// mayTry refuses the caller of ctx when its address is over the failure
// limit. A limiter error (the request's context ended) lets it try: the
// request is going nowhere anyway.
func (a *Authenticator) mayTry(ctx context.Context) error {
	key := clientFrom(ctx)
	if a.Failures == nil || key == "" {
		return nil
	}
	d, err := a.Failures.Peek(ctx, "ip:"+key)
	if err != nil || d.Allowed {
		return nil
	}
	return &TooManyFailures{Decision: d}
}

// failed charges a failed authentication to the caller's address.
func (a *Authenticator) failed(ctx context.Context) {
	if key := clientFrom(ctx); a.Failures != nil && key != "" {
		_, _ = a.Failures.Allow(ctx, "ip:"+key)
	}
}

// refuseBlocked answers 429, as the request rate limit does, when err is
// a TooManyFailures, and reports whether it did. It logs at debug only: a
// blocked address may send thousands of these, and its failures that led
// here were each logged.
func (a *Authenticator) refuseBlocked(w http.ResponseWriter, r *http.Request, err error) bool {
	var tm *TooManyFailures
	if !errors.As(err, &tm) {
		return false
	}
	a.log().DebugContext(r.Context(), "security: authentication blocked", "remote", r.RemoteAddr, "path", r.URL.Path, "retry_after", tm.Decision.RetryAfter)
	ratelimit.Refuse(w, tm.Decision)
	return true
}
