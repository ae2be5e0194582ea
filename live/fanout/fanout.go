package fanout

import (
	"context"
	"encoding/json"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
)

// MaxDrops is how many frames in a row a member may miss before it is
// ended (live.DefaultMaxDrops, the hub's own policy).
const MaxDrops = 1024

// Key identifies the subscriptions that run as one.
type Key struct {
	Query     string // the operation document's text
	Operation string // the operation's name
	Variables string // the variables, as canonical JSON (sorted keys)
	Scope     string // the viewer's role scope
}

// NewKey is the key of an operation: its variables are encoded with
// sorted keys, so {"a":1,"b":2} and {"b":2,"a":1} are one group.
func NewKey(query, operation string, variables map[string]any, scope string) (Key, error) {
	v := []byte("null")
	if len(variables) > 0 {
		var err error
		if v, err = json.Marshal(variables); err != nil {
			return Key{}, err
		}
	}
	return Key{Query: query, Operation: operation, Variables: string(v), Scope: scope}, nil
}

// Sender queues one text frame made of parts on a connection without
// blocking, or says it could not (its buffer is full, or it is closed).
type Sender interface {
	SendText(parts ...[]byte) bool
}

// Member is one subscriber: where its frames go, and the text around the
// shared payload in each (its subscription id is in there).
type Member struct {
	Conn           Sender
	Prefix, Suffix []byte
}

// Start begins the execution of a group for its first member: the
// executor's DispatchOperation, run under ctx (the first member's values,
// not its cancellation: the group outlives any one member).
type Start func(ctx context.Context) (graphql.ResponseHandler, context.Context)

// Stats are the registry's counters.
type Stats struct {
	Groups     int   // distinct subscriptions running now
	Members    int   // subscribers of them
	Executions int64 // responses executed and encoded, once per group and event
	Deliveries int64 // frames queued to members
	Dropped    int64 // frames a member's full connection refused
	Ended      int64 // members ended for falling behind
}

// Registry holds the groups of one server instance.
type Registry struct {
	mu     sync.Mutex
	groups map[Key]*group
	// members counts the members of all groups (under mu).
	members int

	executions, deliveries, dropped, ended atomic.Int64
}

// New returns an empty registry.
func New() *Registry {
	return &Registry{groups: map[Key]*group{}}
}

type group struct {
	r      *Registry
	key    Key
	cancel context.CancelFunc

	mu      sync.Mutex
	members map[*member]struct{}
	done    bool // the execution ended or the last member left
}

type member struct {
	Member
	drops int
	end   chan struct{} // closed when the member is ended by the group
	ended bool
}

// Join adds a subscriber to the group of key, starting the group's
// execution when it is the first, and returns the response handler the
// transport runs for the subscriber: it yields no response itself (the
// group writes the member's frames) and returns nil when the subscription
// ends — when the group's execution ends, when the member falls too far
// behind, or when ctx (the member's operation) ends.
func (r *Registry) Join(ctx context.Context, key Key, m Member, start Start) graphql.ResponseHandler {
	mb := &member{Member: m, end: make(chan struct{})}
	r.mu.Lock()
	g := r.groups[key]
	if g == nil {
		g = &group{r: r, key: key, members: map[*member]struct{}{}}
		r.groups[key] = g
		g.members[mb] = struct{}{}
		r.members++
		r.mu.Unlock()
		gctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		g.cancel = cancel
		next, gctx := start(gctx)
		go g.run(gctx, next)
	} else {
		g.mu.Lock()
		g.members[mb] = struct{}{}
		g.mu.Unlock()
		r.members++
		r.mu.Unlock()
	}
	return func(ctx context.Context) *graphql.Response {
		select {
		case <-mb.end:
		case <-ctx.Done():
			g.leave(mb)
		}
		return nil
	}
}

// run executes the group's operation: one response per event, encoded
// once and queued to every member.
func (g *group) run(ctx context.Context, next graphql.ResponseHandler) {
	defer g.finish()
	for {
		resp := next(ctx)
		if resp == nil {
			return
		}
		payload, err := json.Marshal(resp)
		if err != nil {
			// A response gqlgen built always encodes; should one not,
			// nobody gets a broken frame.
			continue
		}
		g.r.executions.Add(1)
		g.deliver(payload)
	}
}

// deliver queues payload to every member. Each connection's write(2) is
// made right there when its socket takes it (see httpapi's wsConn), so a
// large group is split into shards written in parallel: the syscalls, not
// the encoding, are the cost of a fan-out. Many more shards than CPUs
// (16 per CPU, at least minShard members each): with the machine's cores
// shared (the clients, the bus), a shard whose thread is descheduled then
// holds back a sliver of the members, not a half. 10,000 subscribers,
// interleaved runs on 2 cores: p99 94–191 ms with 32 shards, 105–160 ms
// with 8, 135–215 ms with 2 (the machine was noisy; every pair favoured
// more shards).
func (g *group) deliver(payload []byte) {
	g.mu.Lock()
	members := make([]*member, 0, len(g.members))
	for m := range g.members {
		members = append(members, m)
	}
	shards := 1
	if len(members) >= minShard*2 {
		shards = min(16*runtime.GOMAXPROCS(0), len(members)/minShard)
	}
	var sent, dropped atomic.Int64
	var wg sync.WaitGroup
	per := (len(members) + shards - 1) / shards
	for i := 0; i < len(members); i += per {
		part := members[i:min(i+per, len(members))]
		wg.Go(func() {
			var s, d int64
			for _, m := range part {
				if m.Conn.SendText(m.Prefix, payload, m.Suffix) {
					m.drops = 0
					s++
				} else {
					m.drops++
					d++
				}
			}
			sent.Add(s)
			dropped.Add(d)
		})
	}
	wg.Wait()
	var ended int64
	if dropped.Load() > 0 {
		for _, m := range members {
			if m.drops > MaxDrops && !m.ended {
				ended++
				g.endLocked(m)
			}
		}
	}
	g.mu.Unlock()
	g.r.deliveries.Add(sent.Load())
	g.r.dropped.Add(dropped.Load())
	if ended > 0 {
		g.r.ended.Add(ended)
		g.r.mu.Lock()
		g.r.members -= int(ended)
		g.r.mu.Unlock()
	}
}

// minShard is the fewest members a delivery shard gets: below it, a
// goroutine costs more than it saves.
const minShard = 256

// endLocked ends one member: its handler returns and the transport
// completes the subscription.
func (g *group) endLocked(m *member) {
	if !m.ended {
		m.ended = true
		close(m.end)
		delete(g.members, m)
	}
}

// leave removes a member whose operation ended; the last one to leave
// stops the execution.
func (g *group) leave(m *member) {
	g.r.mu.Lock()
	defer g.r.mu.Unlock()
	g.mu.Lock()
	defer g.mu.Unlock()
	if m.ended {
		return
	}
	m.ended = true
	delete(g.members, m)
	g.r.members--
	if len(g.members) == 0 && !g.done {
		g.done = true
		if g.r.groups[g.key] == g {
			delete(g.r.groups, g.key)
		}
		g.cancel()
	}
}

// finish ends every member once the execution has ended.
func (g *group) finish() {
	g.r.mu.Lock()
	if g.r.groups[g.key] == g {
		delete(g.r.groups, g.key)
	}
	g.mu.Lock()
	g.done = true
	n := len(g.members)
	for m := range g.members {
		g.endLocked(m)
	}
	g.r.members -= n
	g.mu.Unlock()
	g.r.mu.Unlock()
	g.cancel()
}

// Stats returns the counters (zero for a nil registry).
func (r *Registry) Stats() Stats {
	if r == nil {
		return Stats{}
	}
	r.mu.Lock()
	groups, members := len(r.groups), r.members
	r.mu.Unlock()
	return Stats{Groups: groups, Members: members, Executions: r.executions.Load(),
		Deliveries: r.deliveries.Load(), Dropped: r.dropped.Load(), Ended: r.ended.Load()}
}
