package main

import (
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"

	"github.com/meridian-graphql/meridian/httpapi/ratelimit"
	"github.com/meridian-graphql/meridian/platform/config"
)

// rateLimiter builds the per-caller limiter, its buckets on rdb (the app's
// one Redis client) when it is set, else in this instance; nil when the
// rate is 0.
func rateLimiter(cfg config.Config, rdb *redis.Client, log *slog.Logger) (*ratelimit.Limiter, error) {
	if cfg.RateLimit <= 0 {
		return nil, nil
	}
	return newLimiter("rate limit", ratelimit.Config{Rate: cfg.RateLimit, Burst: cfg.RateBurst, Prefix: cfg.CachePrefix + "ratelimit:"}, rdb, log)
}

// failureLimiter builds the limiter of failed authentications per client
// address, with buckets of its own (prefix authfail:); nil when its rate
// is 0.
func failureLimiter(cfg config.Config, rdb *redis.Client, log *slog.Logger) (*ratelimit.Limiter, error) {
	if cfg.AuthFailuresPerMinute <= 0 {
		return nil, nil
	}
	return newLimiter("failed-authentication limit", ratelimit.Config{Rate: cfg.AuthFailuresPerMinute / 60, Burst: cfg.AuthFailureBurst, Prefix: cfg.CachePrefix + "authfail:"}, rdb, log)
}

// newLimiter is ratelimit.New with a nil client kept a nil interface (the
// local fallback) and errors named for what the limiter is.
func newLimiter(what string, rc ratelimit.Config, rdb *redis.Client, log *slog.Logger) (*ratelimit.Limiter, error) {
	var u redis.UniversalClient
	if rdb != nil {
		u = rdb
	}
	l, err := ratelimit.New(rc, u, log)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return l, nil
}
