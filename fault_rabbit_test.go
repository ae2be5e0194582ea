package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/internal/faultsvc"
)

// rabbitKillDeadline is the relay's publish deadline in TestFaultRabbitMQKill:
// short, so that a session held open through the outage stands out.
const rabbitKillDeadline = 2 * time.Second

// TestFaultRabbitMQKill kills -9 the server's RabbitMQ node for 5 s while
// clients create users and orders (which publish through the outbox) and
// track events. Clients must not notice, the relay must not hold a
// PostgreSQL transaction through the outage (no session "idle in
// transaction" longer than its publish deadline), every outbox row must be
// sent once the node is back, and every domain event must reach the ingest
// consumer exactly once.
func TestFaultRabbitMQKill(t *testing.T) {
	faultsvc.Long(t)
	node := faultsvc.StartRabbitMQ(t)
	s := startProduction(t, map[string]string{
		"AMQP_URL":                        node.URL(),
		"MERIDIAN_OUTBOX_PUBLISH_TIMEOUT": rabbitKillDeadline.String(),
	})
	db, err := sql.Open("pgx", s.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var product int
	if err := db.QueryRow(`SELECT min(id) FROM products`).Scan(&product); err != nil {
		t.Fatalf("a seeded product: %v", err)
	}

	ctx, stop := context.WithCancel(context.Background())
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		sent      int
		accepted  []string // "user:<id>", "order:<id>", "event:<id>"
		clientErr []string
	)
	record := func(id string, err error) {
		mu.Lock()
		defer mu.Unlock()
		sent++
		if err != nil {
			clientErr = append(clientErr, err.Error())
			return
		}
		accepted = append(accepted, id)
	}
	admin, analyst := s.Keys[auth.Admin], s.Keys[auth.Analyst]
	// Three writers create a user and an order for it, about 10 of each a
	// second in all; a fourth tracks batches of events.
	for w := range 3 {
		tickEvery(ctx, &wg, 300*time.Millisecond, func(i int) {
			name := fmt.Sprintf("rmqkill%d_%d", w, i)
			var u struct {
				CreateUser struct{ ID string }
			}
			err := s.sendData(admin, `mutation($n: String!, $e: String!) { createUser(input: {username: $n, email: $e}) { id } }`,
				map[string]any{"n": name, "e": name + "@example.com"}, &u)
			record("user:"+u.CreateUser.ID, err)
			if err != nil {
				return
			}
			var o struct {
				CreateOrder struct{ ID string }
			}
			err = s.sendData(admin, `mutation($u: ID!, $p: ID!) { createOrder(input: {userID: $u, productID: $p, quantity: 1, amount: 9.5}) { id } }`,
				map[string]any{"u": u.CreateUser.ID, "p": product}, &o)
			record("order:"+o.CreateOrder.ID, err)
		})
	}
	tickEvery(ctx, &wg, 200*time.Millisecond, func(i int) {
		ids := make([]string, 5)
		in := make([]map[string]any, len(ids))
		for k := range ids {
			ids[k] = fmt.Sprintf("rmqkill-%d-%d", i, k)
			in[k] = map[string]any{"id": ids[k], "userId": 1, "type": "page_view"}
		}
		var d struct {
			TrackEvents struct{ Accepted int }
		}
		err := s.sendData(analyst, `mutation($in: [TrackEventInput!]!) { trackEvents(inputs: $in) { accepted } }`, map[string]any{"in": in}, &d)
		if err == nil && d.TrackEvents.Accepted != len(ids) {
			err = fmt.Errorf("trackEvents accepted %d of %d", d.TrackEvents.Accepted, len(ids))
		}
		for _, id := range ids {
			record("event:"+id, err)
		}
	})

	// The watcher records the longest "idle in transaction" it sees, the
	// most outbox rows pending at once, and when they were all sent again
	// after the restart.
	var (
		idleMax    float64
		idleQuery  string
		pendingMax int
		restarted  time.Time // set once the node is back
		drained    time.Duration
		watchMu    sync.Mutex
	)
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		for ctx.Err() == nil {
			var secs float64
			var q string
			err := db.QueryRowContext(ctx, `SELECT extract(epoch FROM now() - state_change)::float8, left(query, 200) FROM pg_stat_activity
				WHERE datname = current_database() AND state = 'idle in transaction' ORDER BY state_change LIMIT 1`).Scan(&secs, &q)
			var pending int
			perr := db.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE sent_at IS NULL`).Scan(&pending)
			watchMu.Lock()
			if err == nil && secs > idleMax {
				idleMax, idleQuery = secs, q
			}
			if perr == nil {
				pendingMax = max(pendingMax, pending)
				if pending == 0 && !restarted.IsZero() && drained == 0 {
					drained = time.Since(restarted)
				}
			}
			watchMu.Unlock()
			time.Sleep(100 * time.Millisecond)
		}
	}()

	time.Sleep(2 * time.Second)
	killed := time.Now()
	node.Down(5 * time.Second)
	watchMu.Lock()
	restarted = time.Now()
	watchMu.Unlock()
	t.Logf("node down for %s (5 s, then its restart)", time.Since(killed).Round(100*time.Millisecond))
	time.Sleep(3 * time.Second)
	stop()
	wg.Wait()
	<-watchDone
	if drained > 0 {
		t.Logf("outbox: at most %d rows pending during the outage; none pending %s after the node was back", pendingMax, drained.Round(100*time.Millisecond))
	} else {
		t.Logf("outbox: at most %d rows pending during the outage; still some pending when the writers stopped, 3 s after the node was back", pendingMax)
	}
	if n := s.Logs.Count("outbox relay"); n > 3 {
		t.Errorf("the relay logged %d lines for one outage, want one at the change of state and one at recovery", n)
	} else {
		t.Logf("relay log lines for the outage: %d", n)
	}

	// Every outbox row is sent once the node is back.
	pending := -1
	for end := time.Now().Add(60 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		if err := db.QueryRow(`SELECT count(*) FROM outbox WHERE sent_at IS NULL`).Scan(&pending); err == nil && pending == 0 {
			break
		}
	}
	if pending != 0 {
		t.Errorf("%d outbox rows still pending 60 s after the node came back", pending)
	}
	t.Logf("longest idle in transaction: %.1f s (%s)", idleMax, idleQuery)
	if idleMax > rabbitKillDeadline.Seconds() {
		t.Errorf("a session sat idle in transaction for %.1f s during the outage, longer than the publish deadline %s: %s", idleMax, rabbitKillDeadline, idleQuery)
	}
	if len(clientErr) > 0 {
		t.Errorf("clients saw %d errors during the outage; first: %s", len(clientErr), clientErr[0])
	}

	// The ingest consumer stores each user.created and order.created as
	// event bus-<message id>: wait until every accepted write has one.
	want := map[string]bool{}
	for _, id := range accepted {
		want[id] = true
	}
	var stored map[string]int
	for end := time.Now().Add(60 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		stored = storedWrites(t, db)
		missing := 0
		for id := range want {
			if stored[id] == 0 {
				missing++
			}
		}
		if missing == 0 || time.Now().After(end) {
			break
		}
	}
	faultsvc.Count(sent, accepted, stored).Report(t, "rabbitmq kill -9 5s")

	// The signup consumer handled every user.created too (its inbox keeps
	// one row per handled message id, so "once" is its primary key).
	unhandled := -1
	for end := time.Now().Add(30 * time.Second); unhandled != 0 && time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
		if err := db.QueryRow(`SELECT count(*) FROM outbox o WHERE o.type = 'user.created'
			AND NOT EXISTS (SELECT 1 FROM inbox i WHERE i.consumer = 'signup' AND i.message_id = o.id)`).Scan(&unhandled); err != nil {
			t.Fatalf("signup inbox: %v", err)
		}
	}
	if unhandled != 0 {
		t.Errorf("%d user.created messages never handled by the signup consumer", unhandled)
	}
}

// tickEvery runs fn(0), fn(1), … once a period in a goroutine counted by wg,
// until ctx ends.
func tickEvery(ctx context.Context, wg *sync.WaitGroup, period time.Duration, fn func(i int)) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(period)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			fn(i)
		}
	}()
}

// storedWrites counts, per write of TestFaultRabbitMQKill, what reached the
// store: for users and orders, the ingest consumer's bus-<message id> events
// of their outbox rows (a row published twice must still be one event, and
// one write must have one row); for tracked events, the event itself.
func storedWrites(t *testing.T, db *sql.DB) map[string]int {
	t.Helper()
	out := map[string]int{}
	rows, err := db.Query(`SELECT o.type, o.body, (SELECT count(*) FROM events e WHERE e.id = 'bus-' || o.id)
		FROM outbox o WHERE o.type IN ('user.created', 'order.created')`)
	if err != nil {
		t.Fatalf("outbox rows: %v", err)
	}
	defer rows.Close()
	for rows.Next() {
		var typ, body string
		var n int
		if err := rows.Scan(&typ, &body, &n); err != nil {
			t.Fatal(err)
		}
		var e struct{ ID int }
		if err := json.Unmarshal([]byte(body), &e); err != nil {
			t.Fatalf("outbox body %s: %v", body, err)
		}
		kind := "user"
		if typ == "order.created" {
			kind = "order"
		}
		out[fmt.Sprintf("%s:%d", kind, e.ID)] += n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	ev, err := db.Query(`SELECT id FROM events WHERE id LIKE 'rmqkill-%'`)
	if err != nil {
		t.Fatalf("tracked events: %v", err)
	}
	defer ev.Close()
	for ev.Next() {
		var id string
		if err := ev.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out["event:"+id]++
	}
	return out
}

// sendData is send of {query, variables}, decoding the data into out; a
// transport failure, a non-200 answer or any GraphQL error is an error.
// It is safe in goroutines (no t.Fatal).
func (s *prodServer) sendData(credential, q string, vars map[string]any, out any) error {
	b, err := json.Marshal(map[string]any{"query": q, "variables": vars})
	if err != nil {
		return err
	}
	r, err := s.send(credential, "", b)
	switch {
	case err != nil:
		return err
	case r.Status != http.StatusOK:
		return fmt.Errorf("HTTP %d: %+v", r.Status, r.Errors)
	case len(r.Errors) > 0:
		return fmt.Errorf("%s (%v)", r.Errors[0].Message, r.Errors[0].Extensions["code"])
	}
	return json.Unmarshal(r.Data, out)
}
