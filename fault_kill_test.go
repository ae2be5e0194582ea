package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/internal/faultsvc"
	"github.com/meridian-graphql/meridian/platform/database"
)

// TestFaultInstanceKilledMidIngest kills -9 one of two API instances (one
// database, one bus vhost) while clients track events with ids of their
// own and sign users up: the clients go on against the other instance, as
// behind a load balancer, retrying what failed at the death with the same
// ids. Every write either instance acknowledged must be stored exactly
// once: tracked events by the instance that took them, sign-ups' signup
// events by the bus consumers, B's picking up what A held unacked and its
// relay the outbox rows A had leased. The issue found this case holding;
// the test keeps it so.
func TestFaultInstanceKilledMidIngest(t *testing.T) {
	// A short publish deadline makes the outbox lease A dies holding (3×
	// the deadline) run out within the test's settle period.
	a := newProduction(t, map[string]string{"MERIDIAN_OUTBOX_PUBLISH_TIMEOUT": "2s"})
	cmd, exited := a.serveChild(t)
	b := startPeer(t, a, nil)
	admin, analyst := a.Keys[auth.Admin], a.Keys[auth.Analyst]

	// lb sends to A until a request to it fails on the transport, then to
	// B: the load balancer taking a dead instance out.
	var aDown atomic.Bool
	type answer struct {
		res     *gqlResult
		retried bool // a try before this answer failed on the transport
		onB     bool
	}
	lb := func(credential string, body []byte) (answer, error) {
		var last error
		for try := range 20 {
			s := a
			if aDown.Load() {
				s = b
			}
			res, err := s.send(credential, "", body)
			if err == nil {
				return answer{res, try > 0, s == b}, nil
			}
			last = err
			if s == a {
				aDown.Store(true)
			}
			wait(100 * time.Millisecond)
		}
		return answer{}, fmt.Errorf("20 tries: %w", last)
	}

	var (
		mu                sync.Mutex
		sent              int
		accepted          []string // "event:<id>", "user:<username>"
		onA, onB, retried int
		conflicts         int // retried sign-ups A had committed
		failures          []string
	)
	record := func(ids []string, ans answer, ok bool, why string) {
		mu.Lock()
		defer mu.Unlock()
		sent += len(ids)
		if ans.retried {
			retried += len(ids)
		}
		if !ok {
			failures = append(failures, why)
			return
		}
		accepted = append(accepted, ids...)
		if ans.onB {
			onB += len(ids)
		} else {
			onA += len(ids)
		}
	}
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	// Two clients track batches of 5 events, two sign users up, each ten
	// times a second.
	for w := range 2 {
		tickEvery(ctx, &wg, 100*time.Millisecond, func(i int) {
			ids := make([]string, 5)
			in := make([]map[string]any, len(ids))
			for k := range ids {
				ids[k] = fmt.Sprintf("kill-%d-%d-%d", w, i, k)
				in[k] = map[string]any{"id": ids[k], "userId": 1, "type": "page_view"}
			}
			body, _ := json.Marshal(map[string]any{"query": `mutation($in: [TrackEventInput!]!) { trackEvents(inputs: $in) { accepted } }`,
				"variables": map[string]any{"in": in}})
			ans, err := lb(analyst, body)
			var d struct{ TrackEvents struct{ Accepted int } }
			if err == nil && len(ans.res.Errors) == 0 {
				err = json.Unmarshal(ans.res.Data, &d)
			}
			for k := range ids {
				ids[k] = "event:" + ids[k]
			}
			ok := err == nil && len(ans.res.Errors) == 0 && d.TrackEvents.Accepted == len(ids)
			record(ids, ans, ok, fmt.Sprintf("trackEvents: %v %+v accepted %d", err, ans.res, d.TrackEvents.Accepted))
		})
		tickEvery(ctx, &wg, 100*time.Millisecond, func(i int) {
			name := fmt.Sprintf("kuser-%d-%d", w, i)
			body, _ := json.Marshal(map[string]any{"query": `mutation($u: String!, $e: String!) { createUser(input: {username: $u, email: $e}) { id } }`,
				"variables": map[string]any{"u": name, "e": name + "@example.com"}})
			ans, err := lb(admin, body)
			// A retry answered CONFLICT: the first try, cut by A's death,
			// had committed the user; the client counts it accepted then.
			conflict := err == nil && ans.retried && ans.res.Code() == "CONFLICT"
			if conflict {
				mu.Lock()
				conflicts++
				mu.Unlock()
			}
			ok := err == nil && (len(ans.res.Errors) == 0 || conflict)
			record([]string{"user:" + name}, ans, ok, fmt.Sprintf("createUser: %v %+v", err, ans.res))
		})
	}

	wait(2 * time.Second)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killedAt := time.Now()
	select {
	case err := <-exited:
		t.Logf("instance A killed: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("instance A still running 10 s after kill -9")
	}
	wait(3 * time.Second)
	stop()
	wg.Wait()
	mu.Lock()
	t.Logf("load: %d writes sent, %d acknowledged by A, %d by B, %d retried after A's death (%d sign-ups A had committed: CONFLICT); A out of the balancer: %v",
		sent, onA, onB, retried, conflicts, aDown.Load())
	for _, f := range failures {
		t.Errorf("a write failed on both instances: %s", f)
	}
	mu.Unlock()
	if onA == 0 || onB == 0 {
		t.Fatalf("acknowledged by A %d, by B %d: the kill did not fall mid-load", onA, onB)
	}

	// Settle: B's consumers take the messages A held unacked, B's relay
	// the outbox rows A leased once the lease runs out.
	db, err := database.Open(context.Background(), a.DatabaseURL, "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var stored map[string]int
	missing := 0
	for deadline := time.Now().Add(30 * time.Second); ; wait(250 * time.Millisecond) {
		stored, missing = killStored(t, db), 0
		for _, id := range accepted {
			if stored[id] == 0 {
				missing++
			}
		}
		if missing == 0 || time.Now().After(deadline) {
			break
		}
	}
	t.Logf("%d of %d acknowledged writes stored %s after the kill", len(accepted)-missing, len(accepted), time.Since(killedAt).Round(100*time.Millisecond))
	tally := faultsvc.Count(sent, accepted, stored)
	tally.Report(t, "API instance kill -9 mid-ingest")
	if t.Failed() {
		t.Logf("instance B's log:\n%s", b.Logs)
	}
}

// killStored counts what TestFaultInstanceKilledMidIngest's writes left in
// the store: each tracked event by its id, each user by its signup events.
func killStored(t *testing.T, db *database.DB) map[string]int {
	t.Helper()
	ctx := context.Background()
	out := map[string]int{}
	for name, n := range signupEvents(t, ctx, db, "kuser-") {
		out["user:"+name] = n
	}
	rows, err := db.SQL().QueryContext(ctx, `SELECT id, count(*) FROM events WHERE id LIKE 'kill-%' GROUP BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		out["event:"+id] = n
	}
	if err := rows.Err(); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	return out
}
