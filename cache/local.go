package cache

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"
)

// entry is a value of the local tier. Entries are never modified once
// stored; the tag index refers to them by pointer, so that removing one
// entry never unindexes another value of the same key.
type entry struct {
	val  []byte
	tags []string
	ttl  time.Duration
}

const (
	stripes = 64
	// maxTagMarks bounds the memory of the "last invalidated" marks that Do
	// consults; past it they are forgotten at once and older computes are
	// treated as overlapping an invalidation (not cached).
	maxTagMarks = 10_000
)

// local is the in-process tier: otter with a TTL per entry, plus the tag →
// keys index.
type local struct {
	c    *otter.Cache[string, *entry]
	seed maphash.Seed
	// stripe serialises the writes of one key (index, then otter) so that the
	// index always refers to the entry otter holds last.
	stripe [stripes]sync.Mutex

	mu    sync.Mutex
	byTag map[string]map[string]*entry // tag → key → entry carrying the tag
	// seq counts invalidations; marks holds, per tag, the seq of its last
	// invalidation; marks older than forgotten were dropped.
	seq       atomic.Uint64
	marks     map[string]uint64
	forgotten uint64

	evictions *atomic.Int64
}

func newLocal(size int, evictions *atomic.Int64) (*local, error) {
	l := &local{
		seed:      maphash.MakeSeed(),
		byTag:     make(map[string]map[string]*entry),
		marks:     make(map[string]uint64),
		evictions: evictions,
	}
	c, err := otter.New(&otter.Options[string, *entry]{
		MaximumSize: size,
		ExpiryCalculator: otter.ExpiryWritingFunc(func(e otter.Entry[string, *entry]) time.Duration {
			return e.Value.ttl
		}),
		// Runs under otter's bucket lock: it only takes l.mu, which is never
		// held while calling otter.
		OnAtomicDeletion: l.onDeletion,
	})
	if err != nil {
		return nil, err
	}
	l.c = c
	return l, nil
}

func (l *local) get(key string) ([]byte, bool) {
	e, ok := l.c.GetIfPresent(key)
	if !ok {
		return nil, false
	}
	return e.val, true
}

// set stores val under key for ttl; tags must be normalised.
func (l *local) set(key string, val []byte, ttl time.Duration, tags []string) {
	l.store(key, val, ttl, tags, false, 0)
}

// setUnlessInvalidated stores val like set unless one of tags was
// invalidated after since (a seqNow value taken before val was read or
// computed); it reports whether it stored. The check and the indexing happen
// under one lock, so an invalidation either comes first (and the value is not
// stored) or finds the value in the index (and drops it).
func (l *local) setUnlessInvalidated(key string, val []byte, ttl time.Duration, tags []string, since uint64) bool {
	return l.store(key, val, ttl, tags, true, since)
}

func (l *local) store(key string, val []byte, ttl time.Duration, tags []string, guarded bool, since uint64) bool {
	if ttl <= 0 {
		return false
	}
	e := &entry{val: val, tags: tags, ttl: ttl}
	m := &l.stripe[maphash.String(l.seed, key)%stripes]
	m.Lock()
	defer m.Unlock()
	if guarded || len(tags) > 0 {
		l.mu.Lock()
		if guarded && l.invalidatedSinceLocked(since, tags) {
			l.mu.Unlock()
			return false
		}
		for _, t := range tags {
			keys := l.byTag[t]
			if keys == nil {
				keys = make(map[string]*entry)
				l.byTag[t] = keys
			}
			keys[key] = e
		}
		l.mu.Unlock()
	}
	l.c.Set(key, e)
	return true
}

// onDeletion unindexes an entry that left otter (expired, evicted, replaced
// or dropped) and counts evictions.
func (l *local) onDeletion(ev otter.DeletionEvent[string, *entry]) {
	if ev.Cause == otter.CauseOverflow || ev.Cause == otter.CauseExpiration {
		l.evictions.Add(1)
	}
	e := ev.Value
	if e == nil || len(e.tags) == 0 {
		return
	}
	l.mu.Lock()
	for _, t := range e.tags {
		if keys := l.byTag[t]; keys != nil && keys[ev.Key] == e {
			delete(keys, ev.Key)
			if len(keys) == 0 {
				delete(l.byTag, t)
			}
		}
	}
	l.mu.Unlock()
}

// invalidateTags drops the entries carrying any of tags (normalised) and
// marks the tags as invalidated now.
func (l *local) invalidateTags(tags []string) {
	type victim struct {
		key string
		e   *entry
	}
	var victims []victim
	l.mu.Lock()
	seq := l.seq.Add(1)
	if len(l.marks) >= maxTagMarks {
		clear(l.marks)
		l.forgotten = seq - 1
	}
	for _, t := range tags {
		l.marks[t] = seq
		for k, e := range l.byTag[t] {
			victims = append(victims, victim{k, e})
		}
	}
	l.mu.Unlock()
	// The victims leave the index through onDeletion. Under the key's stripe
	// a write indexed before the snapshot has reached otter too.
	for _, v := range victims {
		m := &l.stripe[maphash.String(l.seed, v.key)%stripes]
		m.Lock()
		// Only the entry that carried the tag: a newer value of the key,
		// written since, stays.
		l.c.ComputeIfPresent(v.key, func(old *entry) (*entry, otter.ComputeOp) {
			if old == v.e {
				return nil, otter.InvalidateOp
			}
			return old, otter.CancelOp
		})
		m.Unlock()
	}
}

// purge drops the whole tier and treats every tag as invalidated now.
func (l *local) purge() {
	for i := range l.stripe { // no write half done meanwhile
		l.stripe[i].Lock()
		defer l.stripe[i].Unlock()
	}
	l.mu.Lock()
	seq := l.seq.Add(1)
	clear(l.marks)
	l.forgotten = seq
	l.mu.Unlock()
	l.c.InvalidateAll()
}

func (l *local) seqNow() uint64 { return l.seq.Load() }

// invalidatedSince reports whether any of tags was invalidated after seq
// (the value of seqNow taken earlier).
func (l *local) invalidatedSince(seq uint64, tags []string) bool {
	if l.seq.Load() == seq {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.invalidatedSinceLocked(seq, tags)
}

func (l *local) invalidatedSinceLocked(seq uint64, tags []string) bool {
	if l.seq.Load() == seq {
		return false
	}
	if seq < l.forgotten {
		return true
	}
	for _, t := range tags {
		if l.marks[t] > seq {
			return true
		}
	}
	return false
}

// tagged returns how many keys the local index holds for tag (tests).
func (l *local) tagged(tag string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.byTag[tag])
}

func (l *local) close() { l.c.StopAllGoroutines() }
