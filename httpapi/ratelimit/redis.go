package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// bucketScript refills the bucket KEYS[1] for the time elapsed since its
// last use, then takes ARGV[3] tokens if it holds that many.
//
// The time comes from Redis (TIME), so instances with skewed clocks share
// one notion of elapsed time; Redis 5+ replicates the script's effects, not
// the script, so the non-deterministic TIME is safe. The bucket is a hash
// {tokens, ts (µs)}; it expires once it would have refilled completely,
// since a missing bucket means exactly that.
//
// ARGV: rate (tokens/s), burst, n, take (1: take the tokens; 0: only look,
// for Peek). Returns {allowed 0|1, whole tokens left,
// µs until n tokens are available (0 when allowed)}.
const bucketScript = `
local rate  = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local n     = tonumber(ARGV[3])
local take  = tonumber(ARGV[4]) == 1
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])

local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1])
local ts = tonumber(b[2])
if tokens == nil or ts == nil then
  if not take then
    -- A missing bucket is a full one; looking writes nothing.
    return {1, burst, 0}
  end
  tokens = burst
  ts = now
end
if now > ts then
  tokens = math.min(burst, tokens + (now - ts) * rate / 1000000)
  ts = now
end

local allowed = 0
local wait = 0
if tokens >= n then
  if take then
    tokens = tokens - n
  end
  allowed = 1
else
  wait = math.ceil((n - tokens) * 1000000 / rate)
end

if not take then
  return {allowed, math.floor(tokens), wait}
end
-- %.0f keeps every digit of the µs timestamp; a bare number would be
-- written with 14 significant digits.
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', string.format('%.0f', ts))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {allowed, math.floor(tokens), wait}
`

// errTimeout reports a Redis call that outlived Config.Timeout.
var errTimeout = errors.New("ratelimit: redis did not answer in time")

// allowRedis takes n tokens from key's bucket in Redis.
//
// The call runs in its own goroutine so that Config.Timeout holds whatever
// the client's options: go-redis ignores context deadlines unless the
// client was built with ContextTimeoutEnabled, and would otherwise wait for
// its read timeout (3 s by default). The goroutine is then left to finish
// on the client's own timeouts; the breaker in Limiter keeps such leftovers
// few.
func (l *Limiter) allowRedis(ctx context.Context, key string, n int, take bool) (Decision, error) {
	ctx, cancel := context.WithTimeout(ctx, l.cfg.Timeout)
	defer cancel()

	type result struct {
		vals []int64
		err  error
	}
	done := make(chan result, 1) // buffered: the goroutine never blocks on a gone reader
	go func() {
		vals, err := l.script.Run(ctx, l.rdb, []string{l.cfg.Prefix + key},
			strconv.FormatFloat(l.cfg.Rate, 'g', -1, 64), l.cfg.Burst, n, takeArg(take)).Int64Slice()
		done <- result{vals, err}
	}()

	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return Decision{}, errTimeout
		}
		return Decision{}, fmt.Errorf("ratelimit: redis: %w", ctx.Err())
	}
	if r.err != nil {
		return Decision{}, fmt.Errorf("ratelimit: redis: %w", r.err)
	}
	if len(r.vals) != 3 {
		return Decision{}, fmt.Errorf("ratelimit: redis: unexpected script result %v", r.vals)
	}
	d := Decision{
		Allowed:   r.vals[0] == 1,
		Limit:     l.cfg.Burst,
		Remaining: int(max(r.vals[1], 0)),
	}
	if !d.Allowed {
		d.RetryAfter = time.Duration(r.vals[2]) * time.Microsecond
	}
	return d, nil
}

// newScript returns the bucket script; go-redis runs it by SHA and loads it
// on first use.
func newScript() *redis.Script { return redis.NewScript(bucketScript) }

func takeArg(take bool) int {
	if take {
		return 1
	}
	return 0
}
