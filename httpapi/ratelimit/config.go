package ratelimit

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Config describes the buckets of a Limiter. Zero durations and sizes take
// the defaults given below; Rate and Burst have none and must be set.
type Config struct {
	// Rate is the refill rate, in tokens per second.
	Rate float64
	// Burst is the capacity of a bucket: how many requests a key may make
	// at once after being idle.
	Burst int
	// Prefix is prepended to every Redis key (default "ratelimit:"), so
	// that limiters with different configurations do not share buckets.
	Prefix string
	// Timeout bounds each Redis call (default 50 ms).
	Timeout time.Duration
	// Backoff is how long Redis is left alone after a failure (default 1 s).
	Backoff time.Duration
	// LocalKeys bounds the in-process buckets of the fallback (default
	// 10,000); the least recently used one is forgotten first, which only
	// gives that key a full bucket again.
	LocalKeys int
}

// Defaults applied by New to zero fields.
const (
	DefaultPrefix    = "ratelimit:"
	DefaultTimeout   = 50 * time.Millisecond
	DefaultBackoff   = time.Second
	DefaultLocalKeys = 10_000
)

// withDefaults returns c with its zero fields set to the defaults, or an
// error when c cannot describe a bucket.
func (c Config) withDefaults() (Config, error) {
	if !(c.Rate > 0) || math.IsInf(c.Rate, 0) {
		return c, fmt.Errorf("ratelimit: rate must be a positive number of tokens per second, not %v", c.Rate)
	}
	if c.Burst < 1 {
		return c, fmt.Errorf("ratelimit: burst must be at least 1, not %d", c.Burst)
	}
	if c.Timeout < 0 || c.Backoff < 0 || c.LocalKeys < 0 {
		return c, errors.New("ratelimit: timeout, backoff and local keys cannot be negative")
	}
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Backoff == 0 {
		c.Backoff = DefaultBackoff
	}
	if c.LocalKeys == 0 {
		c.LocalKeys = DefaultLocalKeys
	}
	return c, nil
}

// Decision is the outcome of one Allow.
type Decision struct {
	// Allowed reports whether the request may proceed.
	Allowed bool
	// Limit is the bucket capacity (Config.Burst).
	Limit int
	// Remaining is the whole tokens left after this request.
	Remaining int
	// RetryAfter is how long until the refused request would be allowed; 0
	// when allowed.
	RetryAfter time.Duration
	// Local reports that the in-process fallback decided, not Redis.
	Local bool
}
