package gqlhttp

import "time"

// Config is the part of the endpoint's HTTP behaviour that differs between
// deployments. The zero value is a same-origin API that follows the
// current spec.
type Config struct {
	// AllowedOrigins are the browser origins (scheme://host[:port]) that may
	// call the API from another site. "*" allows every origin, but only
	// without credentials: the credentials header is sent to explicitly
	// listed origins only, because reflecting any origin with credentials
	// would let every site act with the user's cookies. Empty means no CORS
	// headers at all, so browsers keep the API same-origin.
	AllowedOrigins []string
	// AllowCredentials sends Access-Control-Allow-Credentials: true to the
	// explicitly listed origins, for browser clients that authenticate with
	// cookies or HTTP authentication.
	AllowCredentials bool
	// MaxAge lets browsers cache a preflight answer this long (whole
	// seconds; browsers cap it, Chromium at two hours). Zero sends no
	// Access-Control-Max-Age, so each browser uses its own default.
	MaxAge time.Duration
}
