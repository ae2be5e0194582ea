// Package cache is Meridian's two-tier cache: an in-process tier (otter, per
// entry TTL) in front of a shared Redis tier, with tag invalidation across
// every server instance. It owns the cache's keys in Redis (everything under
// Config.Prefix), the invalidation channel, and the cache's statistics. It
// never takes the API down: Redis trouble makes lookups miss and writes skip
// the shared tier, nothing more.
//
// # Tiers
//
// Get looks in the local tier, then in Redis (Prefix+key), and fills the local
// tier from a Redis hit; GetLocal looks in the local tier only. GetMany answers what it can locally and sends ONE
// MGET for the rest. Set writes both tiers: Redis with the TTL (jittered by
// ±Config.Jitter so that entries written together do not expire together),
// the local tier with min(that TTL, Config.LocalMaxTTL). Do is get-or-compute:
// concurrent misses of one key on one instance run compute once
// (singleflight); compute's error is returned and nothing is cached. Values
// are opaque bytes; the cache copies what Set is given, and the slices that
// Get returns are shared: read them, never modify them.
//
// A Redis value carries its absolute expiry time and its tags (a small header
// before the payload), so that an instance filling its local tier from Redis
// knows how long the value has left (the local copy never outlives the Redis
// one) and which tags it carries (so that it can drop it when told to).
//
// # Tags and invalidation
//
// A tag ("country:42", "events") names entries that are dropped together.
// Each tier keeps a tag → keys index: locally a map under a mutex, cleaned as
// entries expire, are evicted or are dropped; in Redis a sorted set
// Prefix+"tag:"+tag whose members are the keys, scored by their expiry time
// (expired members are pruned on every write of the tag, so the set of a busy
// tag does not grow without bound), with a TTL at least the longest member's.
// Cache keys must therefore not begin with "tag:".
//
// Invalidate drops the tagged entries of the local tier at once, then runs ONE
// script in Redis (one round trip for all the tags) that deletes the tagged
// keys and the tag sets and publishes {instance, tags} on the channel
// Prefix+"invalidate". Run, which every instance runs, receives those
// messages and drops its own local entries of the tags (ignoring the
// instance's own messages). Invalidate also hands the tags to Broadcast,
// whose caller (the consumers, over the bus) carries them to the other
// instances, which apply them with InvalidateLocal: a second route that
// works while Redis is down or absent. Broadcast coalesces: one send
// carries every tag invalidated since the previous one, sends are at
// least 10 ms apart (the first after a quiet spell goes at once), and a
// failed send is retried. Receiving a tag by both routes drops it twice,
// which costs a refill (from Redis, when it is up) and nothing else.
//
// # Consistency model
//
// Redis is the shared truth; the local tiers are short-lived copies. After an
// Invalidate returns, this instance and Redis no longer serve the dropped
// entries; another instance may still serve its local copy until the pub/sub
// message reaches it (normally about a millisecond) or, with Redis down,
// the broadcast does (tens of milliseconds), and at worst — both lost, say
// the process died before broadcasting — until the copy's local TTL ends,
// which is why that TTL is capped by LocalMaxTTL (default 30 s): a stale
// read lasts at most LocalMaxTTL. When a subscription is re-established
// after being lost, the instance drops its whole local tier, since it may
// have missed messages.
//
// A value read or computed before an invalidation must not be cached after
// it. Locally this is exact: Do and the fills from Redis note the
// invalidation sequence before reading or computing, and store only if none
// of the value's tags was invalidated since (checked and indexed under one
// lock, so an invalidation either comes first or finds the new entry). The
// value is still returned to its caller. In Redis, Do takes its write back
// (DEL) when such an invalidation happened on this instance meanwhile.
// Computes on other instances are only guarded once the message has reached
// them, and Set has no guard: there the TTL bounds what slips through.
//
// # Resilience
//
// Every Redis call runs under Config.Timeout (default 50 ms) with no retries.
// On an error or a timeout a lookup is a miss and a write skips Redis (the
// local part is always done); RedisErrors counts it, and the warning is
// logged at most once per 10 s per Cache (with the count of suppressed ones).
// After BreakerThreshold consecutive failures (default 3) a circuit breaker
// skips Redis for BreakerCooldown (default 1 s), so a dead Redis costs nothing
// per request; after the cooldown one call probes Redis, and the first success
// closes the breaker again. An unreachable Redis at New is not an error (only
// a malformed RedisURL is). An Invalidate whose Redis part fails is queued
// (bounded) and retried by Run once Redis answers; meanwhile values read from
// Redis that carry a queued tag are treated as misses on this instance.
// Get, GetMany, Set and Invalidate never fail; Do returns compute's error
// only (or the caller's ctx error when the caller gives up waiting); a panic
// in compute becomes an error rather than a crash.
//
// The Redis layout is meant for a single Redis (or a primary with replicas):
// the invalidation script touches keys it does not declare, which Redis
// Cluster would refuse.
package cache
