package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/internal/gqltest"
	"github.com/meridian-graphql/meridian/live"
	"github.com/meridian-graphql/meridian/live/fanout"
)

// fanoutServer is authServer (anonymous callers get nothing) with the
// fan-out registry the test reads.
func fanoutServer(t *testing.T) (*gqltest.Client, *fanout.Registry, *live.Hub, map[auth.Role]string) {
	t.Helper()
	deps, keys := authDeps(t, "")
	deps.Fanout = fanout.New()
	return gqltest.Serve(t, deps), deps.Fanout, deps.Live, keys
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestFanoutExecutesOncePerGroup: subscribers of the same document,
// variables and role scope form one group, whose operation is executed and
// encoded once per event however many members it has; each member still
// gets its own frames (its own id, over its own protocol). Different
// filters and different role scopes are different groups. Counted: the
// registry's executions against the events each group's filter passed, and
// every frame each subscriber read.
func TestFanoutExecutesOncePerGroup(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, reg, hub, keys := fanoutServer(t)
	clicks := `subscription { eventTracked(filter: {types: ["click"]}) { type userId } }`
	purchases := `subscription { eventTracked(filter: {types: ["purchase"]}) { type userId } }`

	type sub struct {
		ws    *gqltest.WS
		id    string
		query string
		want  int // next frames it must get
	}
	var subs []sub
	dial := func(n int, role auth.Role, query string, want int) {
		for i := range n {
			proto := wsProtocols[i%2]
			ws := gqltest.DialWS(t, ctx, c.URL(), proto, map[string]any{"Authorization": "Bearer " + keys[role]})
			id := fmt.Sprintf("%s-%s-%d", role, proto, i)
			ws.Start(id, query)
			subs = append(subs, sub{ws, id, query, want})
		}
	}
	dial(20, auth.Analyst, clicks, 3)
	dial(5, auth.Admin, clicks, 3)
	dial(5, auth.Analyst, purchases, 1)
	waitFor(t, "30 members in 3 groups", func() bool { st := reg.Stats(); return st.Members == 30 && st.Groups == 3 })
	if n := hub.Stats().Subscribers; n != 3 {
		t.Fatalf("the hub has %d subscribers; want 3, one per group", n)
	}

	admin := c.As(keys[auth.Admin])
	for i := range 3 {
		admin.MustDo(`mutation($u: ID!) { trackEvent(input: {userId: $u, type: "click"}) { id } }`, map[string]any{"u": fmt.Sprint(100 + i)}, nil)
	}
	admin.MustDo(`mutation { trackEvent(input: {userId: 7, type: "purchase", metadata: {price: 2}}) { id } }`, nil, nil)

	for _, s := range subs {
		for k := range s.want {
			f := s.ws.Next()
			if f.ID != s.id || (f.Type != "next" && f.Type != "data") {
				t.Fatalf("%s: frame %d = %+v; want a data frame for its own id", s.id, k, f)
			}
			var resp struct {
				Data struct {
					EventTracked struct{ Type string }
				}
			}
			if err := json.Unmarshal(f.Payload, &resp); err != nil {
				t.Fatalf("%s: payload %s: %v", s.id, f.Payload, err)
			}
			if want := map[bool]string{true: "click", false: "purchase"}[s.query == clicks]; resp.Data.EventTracked.Type != want {
				t.Fatalf("%s: got %s, want a %s event", s.id, f.Payload, want)
			}
		}
	}
	// Nothing more: the filters hold per group.
	for _, s := range subs {
		if f, ok := s.ws.NextWithin(100 * time.Millisecond); ok {
			t.Fatalf("%s: unexpected frame %+v", s.id, f)
		}
	}
	// The registry adds its counters once a delivery is done, which may be
	// just after the frames arrived.
	want := int64(20*3 + 5*3 + 5*1)
	waitFor(t, "the deliveries counted", func() bool { return reg.Stats().Deliveries >= want })
	st := reg.Stats()
	// 3 clicks × 2 click groups (analyst, admin) + 1 purchase × 1 group.
	if st.Executions != 7 {
		t.Errorf("executions = %d; want 7: one per group and event, not one per subscriber (30 subscribers, %d deliveries)", st.Executions, st.Deliveries)
	}
	if st.Deliveries != want {
		t.Errorf("deliveries = %d; want %d", st.Deliveries, want)
	}

	// A member that leaves gets its complete and the others go on; the
	// last to leave ends the group's execution.
	for _, s := range subs {
		s.ws.Stop(s.id)
	}
	waitFor(t, "every group gone", func() bool { st := reg.Stats(); return st.Groups == 0 && st.Members == 0 })
	waitFor(t, "the hub's subscribers gone", func() bool { return hub.Stats().Subscribers == 0 })
}

// TestFanoutMemberLeavesGroupRunning: one member's complete ends its
// subscription only; a later subscriber joins the running group.
func TestFanoutMemberLeavesGroupRunning(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, reg, _, keys := fanoutServer(t)
	q := `subscription { eventTracked { type userId } }`
	init := map[string]any{"Authorization": "Bearer " + keys[auth.Analyst]}
	a := gqltest.DialWS(t, ctx, c.URL(), "graphql-transport-ws", init)
	b := gqltest.DialWS(t, ctx, c.URL(), "graphql-transport-ws", init)
	a.Start("1", q)
	b.Start("1", q)
	waitFor(t, "2 members", func() bool { return reg.Stats().Members == 2 })
	a.Stop("1")
	if f := a.Next(); f.Type != "complete" || f.ID != "1" {
		t.Fatalf("a: %+v; want its complete", f)
	}
	waitFor(t, "1 member", func() bool { return reg.Stats().Members == 1 })
	late := gqltest.DialWS(t, ctx, c.URL(), "graphql-ws", init)
	late.Start("x", q)
	waitFor(t, "the late member in the same group", func() bool { st := reg.Stats(); return st.Members == 2 && st.Groups == 1 })
	c.As(keys[auth.Admin]).MustDo(`mutation { trackEvent(input: {userId: 1, type: "login"}) { id } }`, nil, nil)
	for _, w := range []struct {
		ws *gqltest.WS
		id string
	}{{b, "1"}, {late, "x"}} {
		if f := w.ws.Next(); f.ID != w.id || !strings.Contains(string(f.Payload), `"type":"login"`) {
			t.Fatalf("%s: %+v; want the event", w.id, f)
		}
	}
	if f, ok := a.NextWithin(200 * time.Millisecond); ok {
		t.Fatalf("a left but got %+v", f)
	}
	if st := reg.Stats(); st.Executions != 1 {
		t.Errorf("executions = %d; want 1", st.Executions)
	}
}
