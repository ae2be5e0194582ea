// Package ratelimit limits requests per key (an API key, a user, an IP) with
// a token bucket shared by every instance of the API through Redis.
//
// Each key has a bucket of Burst tokens refilled at Rate tokens per second;
// a request takes one. The bucket lives in Redis and a Lua script refills
// and takes atomically, with Redis's own clock, so instances agree without
// synchronised clocks.
//
// Rate limiting must never be the reason the API is slow or down: a Redis
// call gets a short budget (50 ms by default) and, past it or on any error,
// the decision is made by an in-process bucket per key instead (bounded in
// number, least recently used evicted), and Redis is left alone for a
// moment (1 s by default) before one request probes it again. While Redis
// is away, each instance limits on its own, so a client spread across N
// instances may get up to N times its quota: a deliberate trade for
// availability.
package ratelimit
