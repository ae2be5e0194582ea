package httpapi_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/analytics/sqlstore"
	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/broker"
	"github.com/meridian-graphql/meridian/broker/consumers"
	"github.com/meridian-graphql/meridian/broker/inproc"
	"github.com/meridian-graphql/meridian/broker/outbox"
	"github.com/meridian-graphql/meridian/cache"
	"github.com/meridian-graphql/meridian/httpapi"
	"github.com/meridian-graphql/meridian/internal/gqltest"
	"github.com/meridian-graphql/meridian/internal/testbus"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/live"
	"github.com/meridian-graphql/meridian/platform/database"
)

// wired is one server instance wired as server.go wires it: outbox and
// relay, live hub and bus consumers over bus.
func wired(t *testing.T, db *database.DB, bus broker.Bus) *gqltest.Client {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	for _, m := range []func(context.Context, *database.DB) error{outbox.Migrate, consumers.Migrate} {
		if err := m(ctx, db); err != nil {
			t.Fatal(err)
		}
	}
	c, err := cache.New(ctx, cache.Config{})
	if err != nil {
		t.Fatal(err)
	}
	relay := outbox.NewRelay(db, bus, nil)
	go relay.Run(ctx)
	hub := live.New(bus, nil)
	go hub.Run(ctx) //nolint:errcheck // ends with ctx
	events, err := sqlstore.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	deps := httpapi.Deps{DB: db, Auth: gqltest.Grant(auth.Admin), Events: events, Cache: c, Live: hub, Bus: bus, Outbox: outbox.NewWriter(db), Committed: relay.Notify}
	ready := make(chan struct{})
	go func() {
		_ = consumers.New(consumers.Deps{Bus: bus, DB: db, Events: deps.EventService(), Cache: c, Backoff: []time.Duration{20 * time.Millisecond}}).Run(ctx, func() { close(ready) })
	}()
	select {
	case <-ready:
	case <-time.After(15 * time.Second):
		t.Fatal("consumers not attached")
	}
	return gqltest.Serve(t, deps)
}

// TestSignUpReachesSubscriberOnOtherInstance: a user created through the
// API of instance A goes through the outbox, RabbitMQ and the signup
// consumer, and a userSignedUp subscriber on instance B (over SSE) hears of
// it; the welcome email is in the notifications log and the queues are
// empty with no dead letters.
func TestSignUpReachesSubscriberOnOtherInstance(t *testing.T) {
	url := testdb.NewPostgresDatabase(t)
	buses := testbus.Open(t, 2)
	a := wired(t, testdb.OpenURL(t, url), buses[0])
	b := wired(t, testdb.OpenURL(t, url), buses[1])

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res := subscribeSSE(t, ctx, b, `subscription { userSignedUp(countryCode: "ua") { userId username countryCode city emailDomain } }`)
	lines := bufio.NewScanner(res.Body)
	var country struct {
		CreateCountry struct{ ID string }
	}
	a.MustDo(`mutation { createCountry(input: {code: "UA", name: "Ukraine", continent: "Europe"}) { id } }`, nil, &country)
	var city struct{ CreateCity struct{ ID string } }
	a.MustDo(`mutation($c: ID!) { createCity(input: {name: "Lviv", latitude: 49.84, longitude: 24.03, countryID: $c}) { id } }`, map[string]any{"c": country.CreateCountry.ID}, &city)
	var addr struct{ CreateAddress struct{ ID string } }
	a.MustDo(`mutation($c: ID!) { createAddress(input: {street: "Rynok 1", cityID: $c}) { id } }`, map[string]any{"c": city.CreateCity.ID}, &addr)
	// The SSE subscriber is attached once B's fanout queue is bound; the
	// first sign-up may come before that, so keep signing up until one
	// arrives (each is a new user).
	got := make(chan map[string]any, 1)
	go func() {
		for lines.Scan() {
			line := lines.Text()
			if !strings.HasPrefix(line, "data: ") {
				continue
			}
			var m struct {
				Data map[string]map[string]any `json:"data"`
			}
			if json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &m) == nil && m.Data["userSignedUp"] != nil {
				got <- m.Data["userSignedUp"]
				return
			}
		}
	}()
	var su map[string]any
	for i := 0; su == nil; i++ {
		name := "user" + strings.ToLower(rand.Text()[:6])
		a.MustDo(`mutation($u: String!, $e: String!, $a: ID!) { createUser(input: {username: $u, email: $e, addressID: $a}) { id } }`,
			map[string]any{"u": name, "e": name + "@proton.me", "a": addr.CreateAddress.ID}, nil)
		select {
		case su = <-got:
		case <-time.After(500 * time.Millisecond):
		case <-ctx.Done():
			t.Fatal("no sign-up reached the subscriber on B")
		}
	}
	if su["countryCode"] != "UA" || su["city"] != "Lviv" || su["emailDomain"] != "proton.me" {
		t.Errorf("sign-up = %v", su)
	}
	var log struct {
		Notifications []struct{ Template, Recipient, Subject string }
	}
	recipient := su["username"].(string) + "@proton.me"
	for start := time.Now(); len(log.Notifications) == 0 && time.Since(start) < 10*time.Second; time.Sleep(50 * time.Millisecond) {
		b.MustDo(`query($r: String) { notifications(recipient: $r) { template recipient subject } }`, map[string]any{"r": recipient}, &log)
	}
	if len(log.Notifications) != 1 || log.Notifications[0].Template != "welcome" || !strings.Contains(log.Notifications[0].Subject, su["username"].(string)) {
		t.Errorf("notifications of %s = %+v", recipient, log.Notifications)
	}
	// Ingest turned every user.created into a signup event.
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		var d struct{ EventDistribution []struct{ Type string } }
		b.MustDo(`{ eventDistribution(from: "2000-01-01T00:00:00Z") { type } }`, nil, &d)
		if len(d.EventDistribution) == 1 && d.EventDistribution[0].Type == "signup" {
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("event distribution = %+v, want the signup events", d.EventDistribution)
		}
	}
	var q struct {
		BusQueues []struct {
			Queue       string
			Ready       int
			DeadLetters int
		}
	}
	b.MustDo(`{ busQueues { queue ready deadLetters } }`, nil, &q)
	if len(q.BusQueues) != len(consumers.Queues()) {
		t.Fatalf("busQueues = %+v", q.BusQueues)
	}
	for _, d := range q.BusQueues {
		if d.DeadLetters != 0 {
			t.Errorf("queue %s has %d dead letters", d.Queue, d.DeadLetters)
		}
	}
}

// TestDeadLetterAdmin: the admin fields show a dead letter, replay it (it
// fails again and comes back) and purge it; unknown queues and bad
// arguments are refused with BAD_USER_INPUT.
func TestDeadLetterAdmin(t *testing.T) {
	bus := inproc.New(inproc.Options{})
	t.Cleanup(func() { bus.Close() })
	c := wired(t, testdb.Open(t, "sqlite"), bus)
	poison := broker.Message{ID: "poison-1", Type: consumers.TypeEmail, OccurredAt: time.Now(), Body: []byte(`{"template":"no-such-template","to":"a@b.co"}`)}
	if err := bus.Publish(context.Background(), broker.ExchangeNotifications, poison); err != nil {
		t.Fatal(err)
	}
	depth := func() int {
		var q struct {
			BusQueues []struct {
				Queue       string
				DeadLetters int
			}
		}
		c.MustDo(`{ busQueues { queue deadLetters } }`, nil, &q)
		for _, d := range q.BusQueues {
			if d.Queue == consumers.QueueNotifications {
				return d.DeadLetters
			}
		}
		t.Fatalf("no %s in %+v", consumers.QueueNotifications, q)
		return 0
	}
	waitDepth := func(want int) {
		t.Helper()
		for start := time.Now(); depth() != want; time.Sleep(20 * time.Millisecond) {
			if time.Since(start) > 10*time.Second {
				t.Fatalf("dead letters = %d, want %d", depth(), want)
			}
		}
	}
	waitDepth(1)
	var r struct{ ReplayDeadLetters int }
	c.MustDo(`mutation { replayDeadLetters(queue: "notifications.email") }`, nil, &r)
	if r.ReplayDeadLetters != 1 {
		t.Errorf("replayed %d, want 1", r.ReplayDeadLetters)
	}
	waitDepth(1) // a permanent failure comes straight back
	var p struct{ PurgeDeadLetters int }
	c.MustDo(`mutation { purgeDeadLetters(queue: "notifications.email") }`, nil, &p)
	if p.PurgeDeadLetters != 1 || depth() != 0 {
		t.Errorf("purged %d, depth now %d", p.PurgeDeadLetters, depth())
	}
	for _, q := range []string{
		`mutation { purgeDeadLetters(queue: "amq.rabbitmq.trace") }`,
		`mutation { replayDeadLetters(queue: "signup", max: -1) }`,
		`{ notifications(last: 0) { id } }`,
		`{ notifications(last: 501) { id } }`,
	} {
		if e := c.ErrorCode(q, nil); e.Code() != "BAD_USER_INPUT" {
			t.Errorf("%s: code %q (%s), want BAD_USER_INPUT", q, e.Code(), e.Message)
		}
	}
}
