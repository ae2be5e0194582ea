package fanout

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
)

// sender is a connection for the pure logic of the registry: it records
// frames, or refuses them while full is set.
type sender struct {
	mu     sync.Mutex
	frames []string
	full   atomic.Bool
}

func (s *sender) SendText(parts ...[]byte) bool {
	if s.full.Load() {
		return false
	}
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	s.mu.Lock()
	s.frames = append(s.frames, string(b))
	s.mu.Unlock()
	return true
}

func (s *sender) got() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.frames...)
}

// source is a group's execution: one response per value sent on events;
// starts counts how often the registry started one.
type source struct {
	events chan string
	starts atomic.Int32
}

func (src *source) start(ctx context.Context) (graphql.ResponseHandler, context.Context) {
	src.starts.Add(1)
	return func(ctx context.Context) *graphql.Response {
		select {
		case e, ok := <-src.events:
			if !ok {
				return nil
			}
			return &graphql.Response{Data: []byte(`{"e":"` + e + `"}`)}
		case <-ctx.Done():
			return nil
		}
	}, ctx
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestOneExecutionPerKey: members of one key share one execution and get
// the same payload between their own prefix and suffix; another key is
// another execution.
func TestOneExecutionPerKey(t *testing.T) {
	r := New()
	ctx := context.Background()
	src := &source{events: make(chan string)}
	k1, _ := NewKey("q", "", map[string]any{"b": 2, "a": 1}, "ANALYST")
	k1b, _ := NewKey("q", "", map[string]any{"a": 1, "b": 2}, "ANALYST")
	k2, _ := NewKey("q", "", map[string]any{"a": 1, "b": 2}, "ADMIN")
	if k1 != k1b || k1 == k2 {
		t.Fatalf("keys: %+v %+v %+v; variables in any order are one key, another scope another", k1, k1b, k2)
	}
	a, b := &sender{}, &sender{}
	r.Join(ctx, k1, Member{Conn: a, Prefix: []byte("A["), Suffix: []byte("]")}, src.start)
	r.Join(ctx, k1b, Member{Conn: b, Prefix: []byte("B["), Suffix: []byte("]")}, src.start)
	other := &source{events: make(chan string)}
	r.Join(ctx, k2, Member{Conn: &sender{}}, other.start)
	if src.starts.Load() != 1 || other.starts.Load() != 1 {
		t.Fatalf("starts: %d and %d; want one execution per key", src.starts.Load(), other.starts.Load())
	}
	src.events <- "x"
	waitUntil(t, "both frames", func() bool { return len(a.got()) == 1 && len(b.got()) == 1 })
	if a.got()[0] != `A[{"data":{"e":"x"}}]` || b.got()[0] != `B[{"data":{"e":"x"}}]` {
		t.Fatalf("frames %q %q", a.got(), b.got())
	}
	// The counters are added once the delivery is done.
	waitUntil(t, "the delivery counted", func() bool { return r.Stats().Deliveries == 2 })
	if st := r.Stats(); st.Groups != 2 || st.Members != 3 || st.Executions != 1 || st.Deliveries != 2 {
		t.Fatalf("stats %+v", st)
	}
}

// TestSlowMemberIsEnded: a member whose connection refuses more than
// MaxDrops frames in a row is ended (its handler returns) while the others
// go on; the execution ends when its source does, and so do the members.
func TestSlowMemberIsEnded(t *testing.T) {
	r := New()
	ctx := context.Background()
	src := &source{events: make(chan string)}
	key := Key{Query: "q"}
	slow, fast := &sender{}, &sender{}
	slow.full.Store(true)
	hSlow := r.Join(ctx, key, Member{Conn: slow}, src.start)
	hFast := r.Join(ctx, key, Member{Conn: fast}, src.start)
	slowEnded := make(chan struct{})
	go func() { hSlow(ctx); close(slowEnded) }()
	for range MaxDrops + 1 {
		src.events <- "e"
	}
	select {
	case <-slowEnded:
	case <-time.After(5 * time.Second):
		t.Fatal("the slow member was not ended")
	}
	waitUntil(t, "the fast member's frames", func() bool { return len(fast.got()) == MaxDrops+1 })
	waitUntil(t, "the drops counted", func() bool { return r.Stats().Dropped == MaxDrops+1 })
	if st := r.Stats(); st.Ended != 1 || st.Dropped != MaxDrops+1 || st.Members != 1 {
		t.Fatalf("stats %+v", st)
	}
	fastEnded := make(chan struct{})
	go func() { hFast(ctx); close(fastEnded) }()
	close(src.events)
	select {
	case <-fastEnded:
	case <-time.After(5 * time.Second):
		t.Fatal("the source ended but its member did not")
	}
	if st := r.Stats(); st.Groups != 0 || st.Members != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestLastMemberLeavingStopsTheExecution: the execution's context ends
// with the last member's operation, and a new subscriber starts afresh.
func TestLastMemberLeavingStopsTheExecution(t *testing.T) {
	r := New()
	src := &source{events: make(chan string)}
	var execCtx context.Context
	start := func(ctx context.Context) (graphql.ResponseHandler, context.Context) {
		execCtx = ctx
		return src.start(ctx)
	}
	opCtx, cancel := context.WithCancel(context.Background())
	h := r.Join(opCtx, Key{Query: "q"}, Member{Conn: &sender{}}, start)
	cancel()
	h(opCtx)
	waitUntil(t, "the execution's end", func() bool { return execCtx.Err() != nil })
	if st := r.Stats(); st.Groups != 0 || st.Members != 0 {
		t.Fatalf("stats %+v", st)
	}
	r.Join(context.Background(), Key{Query: "q"}, Member{Conn: &sender{}}, start)
	if src.starts.Load() != 2 {
		t.Fatalf("starts = %d; want a new execution for a new group", src.starts.Load())
	}
}
