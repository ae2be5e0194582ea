package cache

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

func (c *Cache) valueKey(key string) string { return c.cfg.Prefix + key }
func (c *Cache) tagKey(tag string) string   { return c.cfg.Prefix + tagKeyPrefix + tag }
func (c *Cache) channel() string            { return c.cfg.Prefix + channelName }

// redisOp runs fn against Redis under the breaker and the timeout, and
// accounts for it. It reports whether fn succeeded (redis.Nil counts as
// success). It never runs fn when there is no Redis, the cache is closed, or
// the breaker is open.
func (c *Cache) redisOp(ctx context.Context, op string, fn func(context.Context) error) bool {
	if c.rdb == nil || c.closed.Load() {
		return false
	}
	ok, probe := c.br.allow()
	if !ok {
		c.st.redisSkipped.Add(1)
		return false
	}
	octx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	start := time.Now()
	err := fn(octx)
	cancel()
	c.lat.record(time.Since(start))
	if err == nil || errors.Is(err, redis.Nil) {
		if c.br.success(probe) {
			c.notice.info("cache: Redis answers again; circuit closed")
		}
		c.redisUp.Store(true)
		return true
	}
	if ctx.Err() != nil || c.closed.Load() {
		// The caller gave up (its deadline or cancellation), or Close ran
		// meanwhile: says nothing about Redis.
		c.br.neutral(probe)
		return false
	}
	c.st.redisErrors.Add(1)
	c.redisUp.Store(false)
	opened := c.br.failure(probe)
	c.warn.warn("cache: Redis "+op+" failed; serving without it", "err", err, "circuitOpen", opened || c.br.isOpen())
	return false
}

func (c *Cache) redisGet(ctx context.Context, key string) ([]byte, bool) {
	seq := c.local.seqNow()
	var raw []byte
	ran := c.redisOp(ctx, "GET", func(ctx context.Context) error {
		b, err := c.rdb.Get(ctx, c.valueKey(key)).Bytes()
		raw = b
		return err
	})
	if !ran {
		return nil, false
	}
	return c.fromRedis(key, raw, seq)
}

// fromRedis decodes a value read from Redis (nil: absent), counts it and
// fills the local tier — unless one of its tags was invalidated since seq,
// taken before the read (the value is still returned: it was read before).
func (c *Cache) fromRedis(key string, raw []byte, seq uint64) ([]byte, bool) {
	if raw == nil {
		c.st.redisMisses.Add(1)
		return nil, false
	}
	r, err := decodeValue(raw)
	if err != nil {
		c.st.redisMisses.Add(1)
		c.warn.warn("cache: undecodable value in Redis; treated as a miss", "key", key, "err", err)
		return nil, false
	}
	left := time.Until(r.expireAt)
	if left <= 0 || c.pending.blocks(r.tags) {
		c.st.redisMisses.Add(1)
		return nil, false
	}
	c.st.redisHits.Add(1)
	c.local.setUnlessInvalidated(key, r.val, min(left, c.cfg.LocalMaxTTL), r.tags, seq)
	return r.val, true
}

func (c *Cache) redisGetMany(ctx context.Context, keys []string) map[string][]byte {
	rkeys := make([]string, len(keys))
	for i, k := range keys {
		rkeys[i] = c.valueKey(k)
	}
	seq := c.local.seqNow()
	var vals []any
	if !c.redisOp(ctx, "MGET", func(ctx context.Context) error {
		v, err := c.rdb.MGet(ctx, rkeys...).Result()
		vals = v
		return err
	}) {
		return nil
	}
	out := make(map[string][]byte, len(keys))
	for i, k := range keys {
		var raw []byte
		if i < len(vals) {
			if s, ok := vals[i].(string); ok {
				raw = []byte(s)
			}
		}
		if v, ok := c.fromRedis(k, raw, seq); ok {
			out[k] = v
		}
	}
	return out
}

// tagSetGrace is how much longer a tag set lives than its longest member.
const tagSetGrace = time.Second

// redisSet writes the value and its tag memberships in one MULTI/EXEC round
// trip, so that an invalidation sees either all of it or none.
func (c *Cache) redisSet(ctx context.Context, key string, val []byte, ttl time.Duration, expireAt time.Time, tags []string) {
	if c.rdb == nil {
		return
	}
	enc := encodeValue(val, tags, expireAt)
	exp := expireAt.UnixMilli()
	setExp := expireAt.Add(tagSetGrace).UnixMilli()
	now := strconv.FormatInt(time.Now().UnixMilli(), 10)
	c.redisOp(ctx, "SET", func(ctx context.Context) error {
		_, err := c.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, c.valueKey(key), enc, ttl)
			for _, t := range tags {
				tk := c.tagKey(t)
				p.ZAdd(ctx, tk, redis.Z{Score: float64(exp), Member: key})
				// Members whose value has expired: prune them so that the set
				// of a busy tag does not grow for ever.
				p.ZRemRangeByScore(ctx, tk, "-inf", "("+now)
				// The set outlives its longest member: NX gives a new set its
				// TTL, GT only ever extends it.
				p.Do(ctx, "PEXPIREAT", tk, setExp, "NX")
				p.Do(ctx, "PEXPIREAT", tk, setExp, "GT")
			}
			return nil
		})
		return err
	})
}

func (c *Cache) redisDel(ctx context.Context, key string) {
	c.redisOp(ctx, "DEL", func(ctx context.Context) error {
		return c.rdb.Del(ctx, c.valueKey(key)).Err()
	})
}

// invalidateScript deletes the keys of each tag set in KEYS (ARGV[1] is the
// key prefix) and the sets, then publishes ARGV[3] on channel ARGV[2]: the
// whole Invalidate in one round trip, atomically.
const invalidateScript = `
local n = 0
for _, tk in ipairs(KEYS) do
  local members = redis.call('ZRANGE', tk, 0, -1)
  local batch = {}
  for _, m in ipairs(members) do
    batch[#batch + 1] = ARGV[1] .. m
    if #batch == 500 then
      n = n + redis.call('UNLINK', unpack(batch))
      batch = {}
    end
  end
  if #batch > 0 then
    n = n + redis.call('UNLINK', unpack(batch))
  end
  redis.call('UNLINK', tk)
end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return n
`

// message is what Invalidate publishes.
type message struct {
	Instance string   `json:"instance"`
	Tags     []string `json:"tags"`
}

// redisInvalidate runs the invalidation script for tags; it reports whether
// it ran.
func (c *Cache) redisInvalidate(ctx context.Context, tags []string) bool {
	if len(tags) == 0 {
		return true
	}
	msg, err := json.Marshal(message{Instance: c.cfg.Instance, Tags: tags})
	if err != nil {
		return false // cannot happen: strings only
	}
	keys := make([]string, len(tags))
	for i, t := range tags {
		keys[i] = c.tagKey(t)
	}
	return c.redisOp(ctx, "invalidate", func(ctx context.Context) error {
		return c.script.Run(ctx, c.rdb, keys, c.cfg.Prefix, c.channel(), msg).Err()
	})
}

// queue keeps tags whose Redis invalidation failed, for Run to retry.
func (c *Cache) queue(tags []string) {
	if lost := c.pending.add(tags); lost > 0 {
		c.log.Error("cache: too many invalidations waiting for Redis; some are lost and their entries in Redis may be stale until their TTL", "lost", lost)
	}
}

// flushPending retries the queued invalidations.
func (c *Cache) flushPending(ctx context.Context) {
	tags := c.pending.takeWith(nil)
	if len(tags) == 0 {
		return
	}
	if !c.redisInvalidate(ctx, tags) {
		c.queue(tags)
	}
}

// Run subscribes to the invalidation channel and drops the local entries of
// the tags that other instances invalidate; it also retries the invalidations
// that could not reach Redis. It blocks until ctx ends or the cache is closed,
// resubscribing whenever the subscription is lost (and then dropping the
// whole local tier, since messages may have been missed). Without Redis it
// just waits.
func (c *Cache) Run(ctx context.Context) {
	if c.rdb == nil {
		select {
		case <-ctx.Done():
		case <-c.done:
		}
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-c.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(c.cfg.BreakerCooldown)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				c.flushPending(ctx)
			}
		}
	})
	everSubscribed := false
	wait := c.cfg.BreakerCooldown
	for ctx.Err() == nil {
		got, err := c.subscribe(ctx, &everSubscribed)
		c.subscribed.Store(false)
		if ctx.Err() != nil || c.closed.Load() {
			break
		}
		if got {
			wait = c.cfg.BreakerCooldown
		}
		c.st.redisErrors.Add(1)
		c.warn.warn("cache: invalidation subscription lost; retrying", "err", err, "retryIn", wait)
		c.pause(ctx, wait)
		wait = min(wait*2, maxResubscribeWait)
	}
	wg.Wait()
}

// maxResubscribeWait caps the backoff of Run's resubscriptions while Redis
// stays away.
const maxResubscribeWait = 15 * time.Second

// pause waits d, or less once requests find Redis answering again (but at
// least the breaker's cooldown), or until ctx ends.
func (c *Cache) pause(ctx context.Context, d time.Duration) {
	start := time.Now()
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			waited := now.Sub(start)
			if waited >= d || (waited >= c.cfg.BreakerCooldown && c.redisUp.Load() && !c.br.isOpen()) {
				return
			}
		}
	}
}

// subscribe holds one subscription until it fails or ctx ends; it reports
// whether the subscription was established.
func (c *Cache) subscribe(ctx context.Context, everSubscribed *bool) (got bool, err error) {
	ps := c.rdb.Subscribe(ctx, c.channel())
	defer func() { _ = ps.Close() }()
	// Close unblocks a Receive waiting on the connection.
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
	defer stop()
	pinged := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, c.healthEvery)
		if err != nil {
			if ctx.Err() != nil || c.closed.Load() {
				return got, nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && !pinged {
				// Quiet channel: make sure the connection is still alive; the
				// PONG comes back through Receive.
				pinged = true
				if err := ps.Ping(ctx); err != nil {
					return got, fmt.Errorf("cache: ping subscription: %w", err)
				}
				continue
			}
			return got, fmt.Errorf("cache: receive invalidations: %w", err)
		}
		pinged = false
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind != "subscribe" {
				continue
			}
			if *everSubscribed {
				c.local.purge()
				c.notice.info("cache: resubscribed to invalidations; dropped the local tier (messages may have been missed)")
			}
			*everSubscribed = true
			got = true
			c.subscribed.Store(true)
		case *redis.Message:
			c.onMessage(m.Payload)
		}
	}
}

func (c *Cache) onMessage(payload string) {
	var m message
	if err := json.Unmarshal([]byte(payload), &m); err != nil {
		c.warn.warn("cache: malformed invalidation message ignored", "err", err)
		return
	}
	if m.Instance == c.cfg.Instance {
		return
	}
	tags := normTags(m.Tags)
	if len(tags) == 0 {
		return
	}
	c.st.invalidations.Add(int64(len(tags)))
	c.local.invalidateTags(tags)
}

// Value format in Redis: version byte, expiry (unix ms, big-endian uint64),
// tag count and tags (uvarint length + bytes each), then the payload.
const formatV1 = 1

type record struct {
	val      []byte
	tags     []string
	expireAt time.Time
}

func encodeValue(val []byte, tags []string, expireAt time.Time) []byte {
	n := 1 + 8 + binary.MaxVarintLen64 + len(val)
	for _, t := range tags {
		n += binary.MaxVarintLen64 + len(t)
	}
	b := make([]byte, 0, n)
	b = append(b, formatV1)
	b = binary.BigEndian.AppendUint64(b, uint64(expireAt.UnixMilli()))
	b = binary.AppendUvarint(b, uint64(len(tags)))
	for _, t := range tags {
		b = binary.AppendUvarint(b, uint64(len(t)))
		b = append(b, t...)
	}
	return append(b, val...)
}

var errFormat = errors.New("cache: malformed value")

func decodeValue(b []byte) (record, error) {
	var r record
	if len(b) < 9 || b[0] != formatV1 {
		return r, errFormat
	}
	r.expireAt = time.UnixMilli(int64(binary.BigEndian.Uint64(b[1:9])))
	b = b[9:]
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return r, errFormat
	}
	b = b[k:]
	if n > 0 {
		r.tags = make([]string, 0, n)
	}
	for range n {
		l, k := binary.Uvarint(b)
		if k <= 0 || l > uint64(len(b)-k) {
			return r, errFormat
		}
		r.tags = append(r.tags, string(b[k:k+int(l)]))
		b = b[k+int(l):]
	}
	r.val = b
	return r, nil
}

// pendingTags are invalidations that could not reach Redis yet.
type pendingTags struct {
	n    atomic.Int64
	mu   sync.Mutex
	tags map[string]struct{}
}

const maxPending = 10_000

// takeWith empties the queue and returns its tags plus extra, deduplicated.
func (p *pendingTags) takeWith(extra []string) []string {
	if p.n.Load() == 0 {
		return extra
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, 0, len(p.tags)+len(extra))
	out = append(out, extra...)
	for _, t := range extra {
		delete(p.tags, t)
	}
	for t := range p.tags {
		out = append(out, t)
	}
	clear(p.tags)
	p.n.Store(0)
	return out
}

// add queues tags and returns how many could not be queued.
func (p *pendingTags) add(tags []string) (lost int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tags == nil {
		p.tags = make(map[string]struct{})
	}
	for _, t := range tags {
		if len(p.tags) >= maxPending {
			lost++
			continue
		}
		p.tags[t] = struct{}{}
	}
	p.n.Store(int64(len(p.tags)))
	return lost
}

// blocks reports whether a value carrying tags must not be served because
// one of them has an invalidation waiting for Redis.
func (p *pendingTags) blocks(tags []string) bool {
	if p.n.Load() == 0 || len(tags) == 0 {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, t := range tags {
		if _, ok := p.tags[t]; ok {
			return true
		}
	}
	return false
}
