package ratelimit

import (
	"fmt"
	"math"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"
)

// local is the in-process fallback: one x/time/rate bucket per key, in an
// LRU so that a flood of distinct keys cannot grow memory without bound.
type local struct {
	rate    rate.Limit
	burst   int
	buckets *lru.Cache[string, *rate.Limiter]
}

func newLocal(cfg Config) (*local, error) {
	c, err := lru.New[string, *rate.Limiter](cfg.LocalKeys)
	if err != nil {
		return nil, fmt.Errorf("ratelimit: local buckets: %w", err)
	}
	return &local{rate: rate.Limit(cfg.Rate), burst: cfg.Burst, buckets: c}, nil
}

// allow takes n tokens from key's local bucket; with take false it only
// reports whether it could.
func (l *local) allow(key string, n int, now time.Time, take bool) Decision {
	b, ok := l.buckets.Get(key)
	if !ok && !take {
		// A missing bucket is a full one; looking creates none.
		return Decision{Allowed: true, Limit: l.burst, Remaining: l.burst, Local: true}
	}
	if !ok {
		// Two callers may race to create the bucket; PeekOrAdd keeps the
		// first one so that both take from the same tokens.
		fresh := rate.NewLimiter(l.rate, l.burst)
		if prev, found, _ := l.buckets.PeekOrAdd(key, fresh); found {
			b = prev
		} else {
			b = fresh
		}
	}
	d := Decision{Limit: l.burst, Local: true}
	if take {
		d.Allowed = b.AllowN(now, n)
	} else {
		d.Allowed = b.TokensAt(now) >= float64(n)
	}
	tokens := b.TokensAt(now)
	d.Remaining = int(math.Max(math.Floor(tokens), 0))
	if !d.Allowed {
		wait := (float64(n) - tokens) / float64(l.rate)
		d.RetryAfter = time.Duration(math.Ceil(wait * float64(time.Second)))
	}
	return d
}
