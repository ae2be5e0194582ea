package cache

import (
	"fmt"
	"net/url"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// NewRedisClient is a client of the Redis at url tuned for a cache: every
// call bounded by timeout (0: 50 ms) and never retried, since a failed
// call is a miss and the breaker does the rest. The server opens one and
// shares it (Config.Redis) with its other Redis users, whose calls are as
// short.
func NewRedisClient(url string, timeout time.Duration) (*redis.Client, error) {
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("cache: parse RedisURL %q: %w", redactURL(url), err)
	}
	opt.DialTimeout = timeout
	opt.ReadTimeout = timeout
	opt.WriteTimeout = timeout
	opt.PoolTimeout = timeout
	opt.ContextTimeoutEnabled = true
	opt.MaxRetries = -1   // no retries: a failed call is a miss, the breaker does the rest
	opt.DialerRetries = 1 // one dial attempt per call
	opt.DisableIdentity = true
	opt.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	return redis.NewClient(opt), nil
}

// redactURL hides a password in a Redis URL for logs and errors.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "<malformed>"
	}
	return u.Redacted()
}
