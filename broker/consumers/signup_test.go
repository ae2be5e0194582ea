package consumers_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/broker"
	"github.com/meridian-graphql/meridian/broker/consumers"
	"github.com/meridian-graphql/meridian/broker/inproc"
	"github.com/meridian-graphql/meridian/ent"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/live"
	"github.com/meridian-graphql/meridian/platform/database"
)

// waitHub blocks until the hub's fanout consumer is attached, so that
// announcements made afterwards reach its subscribers.
func waitHub(t *testing.T, hub *live.Hub) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	probe := hub.Subscribe(ctx, func(e *analytics.Event) bool { return e.Type == "probe" }, 16)
	deadline := time.After(10 * time.Second)
	for {
		hub.Stored([]analytics.Event{{ID: "probe", Type: "probe", Timestamp: time.Now()}})
		select {
		case <-probe:
			return
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatal("live hub not attached")
		}
	}
}

// seedUser creates Ukraine › Kyiv › an address › olena through the store,
// so that the outbox holds the user.created event.
func seedUser(t *testing.T, e *env, email string) *ent.User {
	t.Helper()
	ctx := context.Background()
	ua, err := e.store.CreateCountry(ctx, ent.CreateCountryInput{Code: "UA", Name: "Ukraine", Continent: "Europe"})
	if err != nil {
		t.Fatal(err)
	}
	kyiv, err := e.store.CreateCity(ctx, ent.CreateCityInput{Name: "Kyiv", Latitude: 50.45, Longitude: 30.52, CountryID: ua.ID})
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.store.CreateAddress(ctx, ent.CreateAddressInput{Street: "Khreshchatyk 1", CityID: kyiv.ID})
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.store.CreateUser(ctx, ent.CreateUserInput{Username: "olena", Email: email, AddressID: &a.ID})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func userEvents(t *testing.T, e *env, userID int, typ string) []analytics.Event {
	t.Helper()
	got, err := e.events.UserEvents(context.Background(), analytics.UserEventsQuery{UserIDs: []int{userID}, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []analytics.Event
	for _, ev := range got[userID] {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

// TestSignupFlow follows a new user through the bus: the signup consumer
// validates and enriches it (profile with email and free-mail flag), the
// welcome email lands in the notifications log, live subscribers of the
// user's country hear of it (others do not), ingest stores the signup
// event with the user's city; an order then becomes a purchase event and
// refreshes the profile's order metrics. A redelivered user.created changes
// nothing.
func TestSignupFlow(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		bus := inproc.New(inproc.Options{Logger: logger()})
		t.Cleanup(func() { bus.Close() })
		e := start(t, db, bus, []time.Duration{10 * time.Millisecond})
		waitHub(t, e.hub)
		sctx, cancel := context.WithCancel(ctx)
		defer cancel()
		inUA := e.hub.SubscribeSignUps(sctx, "ua", 8)
		inPL := e.hub.SubscribeSignUps(sctx, "PL", 8)

		u := seedUser(t, e, "olena@gmail.com")
		if _, err := e.relay.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		select {
		case su := <-inUA:
			if su.UserID != u.ID || su.Username != "olena" || su.City != "Kyiv" || su.CountryCode != "UA" || su.EmailDomain != "gmail.com" {
				t.Errorf("sign-up = %+v", su)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no sign-up announced to the UA subscriber")
		}
		eventually(t, "welcome email in the log", func() bool {
			return count(t, db, `SELECT COUNT(*) FROM notifications WHERE recipient = ? AND template = 'welcome' AND subject = 'Welcome to Meridian, olena'`, "olena@gmail.com") == 1
		})
		var body string
		if err := db.SQL().QueryRowContext(ctx, db.Rebind(`SELECT body FROM notifications WHERE recipient = ?`), "olena@gmail.com").Scan(&body); err != nil || !contains(body, "from Kyiv") {
			t.Errorf("welcome body = %q, %v", body, err)
		}
		p, err := e.events.Profile(ctx, "olena")
		if err != nil || p == nil || p.Email != "olena@gmail.com" || p.Metrics["free_mail"] != 1 || p.Metrics["signup_unix"] != float64(u.CreatedAt.Unix()) {
			t.Fatalf("profile = %+v, %v", p, err)
		}
		eventually(t, "signup event stored", func() bool { return len(userEvents(t, e, u.ID, "signup")) == 1 })
		if ev := userEvents(t, e, u.ID, "signup")[0]; ev.Geo == nil || ev.Geo.Country != "UA" || ev.Geo.City != "Kyiv" {
			t.Errorf("signup event geo = %+v", ev.Geo)
		}

		// An order: purchase event with the product's category, and the
		// profile's derived metrics follow.
		prod, err := e.store.CreateProduct(ctx, ent.CreateProductInput{Sku: "BK-1", Name: "Kobzar", Category: "books", Price: 12.5})
		if err != nil {
			t.Fatal(err)
		}
		qty := 2
		o, err := e.store.CreateOrder(ctx, ent.CreateOrderInput{UserID: u.ID, ProductID: prod.ID, Quantity: &qty})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.relay.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		eventually(t, "purchase event stored", func() bool { return len(userEvents(t, e, u.ID, "purchase")) == 1 })
		pe := userEvents(t, e, u.ID, "purchase")[0]
		if pe.Metadata["category"] != "books" || pe.Metadata["price"] != 12.5 || pe.Metadata["quantity"] != 2.0 || pe.Metadata["order_id"] != float64(o.ID) || pe.Geo == nil || pe.Geo.Country != "UA" {
			t.Errorf("purchase event = %+v geo %+v", pe.Metadata, pe.Geo)
		}
		eventually(t, "profile metrics refreshed", func() bool {
			p, err := e.events.Profile(ctx, "olena")
			return err == nil && p.Metrics["orders"] == 1 && p.Metrics["total_spent"] == 25 && p.Metrics["last_order_unix"] == float64(o.CreatedAt.Unix()) && p.Metrics["free_mail"] == 1
		})

		// Redeliver the user.created message as the broker would after a
		// lost ack: same id, nothing happens twice.
		first := e.obs.of(consumers.QueueSignup, "")
		if len(first) != 1 {
			t.Fatalf("signup handled %d messages, want 1", len(first))
		}
		m := first[0].msg
		if err := bus.Publish(ctx, broker.ExchangeDataProcessing, m); err != nil {
			t.Fatal(err)
		}
		eventually(t, "redelivery handled", func() bool {
			return len(e.obs.of(consumers.QueueSignup, m.ID)) == 2 && len(e.obs.of(consumers.QueueIngest, m.ID)) == 2
		})
		if n := count(t, db, `SELECT COUNT(*) FROM notifications WHERE recipient = ?`, "olena@gmail.com"); n != 1 {
			t.Errorf("%d notifications after a redelivery, want 1", n)
		}
		if n := len(userEvents(t, e, u.ID, "signup")); n != 1 {
			t.Errorf("%d signup events after a redelivery, want 1", n)
		}
		select {
		case su := <-inPL:
			t.Errorf("PL subscriber got %+v", su)
		default:
		}
		for _, d := range e.obs.all {
			if d.err != nil {
				t.Errorf("%s: message %s (%s) failed: %v", d.queue, d.msg.ID, d.msg.Type, d.err)
			}
		}
	})
}

// TestBadMessagesAreDeadLettered: an unreadable tracked event is retried
// (a newer instance might read it) and dead-lettered after 3 attempts; an
// email with an unknown template or a user record with an invalid email
// cannot improve and is dead-lettered at once. Good messages around them
// are unaffected.
func TestBadMessagesAreDeadLettered(t *testing.T) {
	db := testdb.Open(t, "sqlite")
	ctx := context.Background()
	bus := inproc.New(inproc.Options{Logger: logger()})
	t.Cleanup(func() { bus.Close() })
	e := start(t, db, bus, []time.Duration{10 * time.Millisecond})

	poison := broker.Message{ID: "poison", Type: consumers.TypeTrack, OccurredAt: time.Now(), Body: []byte(`{"userId": 1, "type": "page_view"`)}
	good := broker.Message{ID: "good", Type: consumers.TypeTrack, OccurredAt: time.Now(), Body: []byte(`{"userId": 1, "type": "page_view"}`)}
	unknownType := broker.Message{ID: "unknown-type", Type: consumers.TypeTrack, OccurredAt: time.Now(), Body: []byte(`{"userId": 1, "type": "no_such_type"}`)}
	if err := bus.Publish(ctx, broker.ExchangeDataProcessing, poison, good, unknownType); err != nil {
		t.Fatal(err)
	}
	mail, _ := json.Marshal(consumers.Email{Template: "nope", To: "a@example.com"})
	if err := bus.Publish(ctx, broker.ExchangeNotifications, broker.Message{ID: "bad-mail", Type: consumers.TypeEmail, OccurredAt: time.Now(), Body: mail}); err != nil {
		t.Fatal(err)
	}
	// A user whose stored email has no public domain (the store accepts
	// it; the signup validator does not) arrives through user.data.
	u, err := db.Client.User.Create().SetUsername("mallory").SetEmail("mallory@nowhere.invalid").Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ub, _ := json.Marshal(map[string]any{"id": u.ID})
	if err := bus.Publish(ctx, broker.ExchangeDataProcessing, broker.Message{ID: "bad-user", Type: consumers.TypeUserData, OccurredAt: time.Now(), Body: ub}); err != nil {
		t.Fatal(err)
	}

	eventually(t, "dead letters", func() bool {
		_, ingest, _ := bus.Depths(ctx, consumers.QueueIngest)
		_, mails, _ := bus.Depths(ctx, consumers.QueueNotifications)
		_, signups, _ := bus.Depths(ctx, consumers.QueueSignup)
		return ingest == 2 && mails == 1 && signups == 1
	})
	for id, want := range map[string]int{"poison": 3, "unknown-type": 3, "bad-mail": 1, "bad-user": 1, "good": 1} {
		var n int
		for _, q := range consumers.Queues() {
			n += len(e.obs.of(q, id))
		}
		if n != want {
			t.Errorf("message %s handled %d times, want %d", id, n, want)
		}
	}
	for i, d := range e.obs.of(consumers.QueueIngest, "poison") {
		if d.attempt != i+1 {
			t.Errorf("poison delivery %d has attempt %d", i+1, d.attempt)
		}
		// Observe is told what the bus does: only the last attempt
		// dead-letters (the metrics count it so).
		if last := i == 2; d.dead != last {
			t.Errorf("poison delivery %d reported dead-lettered %v, want %v", i+1, d.dead, last)
		}
	}
	for _, id := range []string{"bad-mail", "good"} {
		for _, q := range consumers.Queues() {
			for _, d := range e.obs.of(q, id) {
				if want := id == "bad-mail"; d.dead != want {
					t.Errorf("%s on %s reported dead-lettered %v, want %v", id, q, d.dead, want)
				}
			}
		}
	}
	if n := count(t, db, `SELECT COUNT(*) FROM events WHERE id = 'good'`); n != 1 {
		t.Errorf("good event stored %d times", n)
	}
	if n := count(t, db, `SELECT COUNT(*) FROM notifications`); n != 0 {
		t.Errorf("%d notifications logged, want 0", n)
	}
	if p, _ := e.events.Profile(ctx, "mallory"); p != nil {
		t.Errorf("invalid user got a profile: %+v", p)
	}
	dl := bus.DeadLetters(consumers.QueueSignup)
	if len(dl) != 1 || !contains(dl[0].Err, "not a public domain") {
		t.Errorf("signup dead letters = %+v", dl)
	}
}

func contains(s, sub string) bool {
	return strings.Contains(s, sub)
}
