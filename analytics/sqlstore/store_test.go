package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/platform/database"
)

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestNew: New is idempotent and safe to run concurrently, the versioned
// migrations are recorded once each, and a further migration leaves the
// store's tables and indexes alone.
func TestNew(t *testing.T) {
	for _, backend := range testdb.Backends() {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			db := testdb.Open(t, backend)
			var wg sync.WaitGroup
			errs := make([]error, 4)
			for i := range errs {
				wg.Go(func() { _, errs[i] = New(ctx, db) })
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatalf("concurrent New: %v", err)
			}
			s := open(t, db)
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			dir, err := database.MigrationDir(db.Dialect)
			if err != nil {
				t.Fatal(err)
			}
			files, err := dir.Files()
			if err != nil {
				t.Fatal(err)
			}
			var versions int
			if err := scanOne(ctx, db.Driver, "SELECT COUNT(*) FROM "+database.RevisionTable, nil, &versions); err != nil || versions != len(files) {
				t.Errorf("%s has %d rows (%v), want %d", database.RevisionTable, versions, err, len(files))
			}
			q := `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'`
			if db.Dialect == "postgres" {
				q = `SELECT indexname FROM pg_indexes WHERE tablename = 'events'`
			}
			rows, err := s.query(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for rows.Next() {
				var n string
				if err := rows.Scan(&n); err != nil {
					t.Fatal(err)
				}
				names = append(names, n)
			}
			rows.Close()
			for _, want := range []string{"events_user_ts", "events_ts", "events_purchases", "events_cell"} {
				if !slices.Contains(names, want) {
					t.Errorf("index %s is missing after a second migration: %v", want, names)
				}
			}
			if err := s.Ping(ctx); err != nil {
				t.Error(err)
			}
			if err := s.Close(ctx); err != nil || db.Ping(ctx) != nil {
				t.Errorf("Close must leave the shared pool open: %v", err)
			}
		})
	}
}

// TestRoundTrip: an event comes back exactly as Prepare made it, whatever
// the zone of its input timestamp.
func TestRoundTrip(t *testing.T) {
	ist := time.FixedZone("IST", 5*3600+1800)
	each(t, func(t *testing.T, s *Store, _ *database.DB) {
		events := []analytics.Event{
			// 2026-03-03 01:30:00.123456 IST = 2026-03-02 20:00:00.123 UTC: the
			// UTC day (and ISO week, month) differ from the local ones.
			ev(t, "a", 1, "purchase", time.Date(2026, 3, 3, 1, 30, 0, 123456789, ist), map[string]any{
				"price": 19.99, "quantity": 3.0, "category": " Books ", "big": 1e20, "neg": -0.5,
				"nested": map[string]any{"list": []any{1.0, "x", true, nil}, "s": "ünïcødé \"q\" \\ \n"},
			}, &analytics.Geo{Country: "ua", City: "Kyiv", Lat: 50.4501, Lon: 30.5234}),
			ev(t, "b", 2, "page_view", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), nil, nil),
			ev(t, "c", 2, "click", time.Date(2026, 2, 28, 23, 59, 59, 999000000, time.UTC), map[string]any{}, &analytics.Geo{Lat: -90, Lon: 180}),
		}
		mustInsert(t, s, events, 3)
		if events[0].Revenue != 59.97 || events[0].Category != "Books" || events[0].Cell == "" {
			t.Fatalf("fixture not derived as expected: %+v", events[0])
		}
		got := exportAll(t, s, analytics.Range{}, analytics.Filter{})
		if idsOf(got) != "c b a" {
			t.Fatalf("export = %s", idsOf(got))
		}
		want := map[string]analytics.Event{"a": events[0], "b": events[1], "c": events[2]}
		for _, g := range got {
			sameEvent(t, g, want[g.ID])
		}
		if d := got[2].Day; !d.Equal(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("day of a = %v, want the UTC day 2026-03-02", d)
		}
		// The other readers share the scan.
		ue, err := s.UserEvents(context.Background(), analytics.UserEventsQuery{UserIDs: []int{1}, Limit: 5})
		if err != nil || len(ue[1]) != 1 {
			t.Fatalf("UserEvents = %v, %v", ue, err)
		}
		sameEvent(t, ue[1][0], events[0])
		cells, err := s.InCells(context.Background(), []string{events[0].Cell[:3]}, analytics.Range{}, analytics.Filter{})
		if err != nil || len(cells) != 1 {
			t.Fatalf("InCells = %v, %v", cells, err)
		}
		sameEvent(t, cells[0], events[0])
	})
}

// TestInsertDedupes: a repeated id is stored once, the first one wins, and
// the rollup counts it once.
func TestInsertDedupes(t *testing.T) {
	each(t, func(t *testing.T, s *Store, _ *database.DB) {
		ts := at("2026-03-02 10:00")
		mustInsert(t, s, []analytics.Event{
			ev(t, "x1", 1, "click", ts, nil, nil),
			ev(t, "x1", 2, "purchase", ts, map[string]any{"price": 5.0}, nil), // same id in the call
			ev(t, "x2", 1, "click", ts, nil, nil),
		}, 2)
		mustInsert(t, s, []analytics.Event{
			ev(t, "x2", 3, "login", ts, nil, nil), // stored before
			ev(t, "x3", 1, "login", ts, nil, nil),
		}, 1)
		mustInsert(t, s, []analytics.Event{ev(t, "x3", 1, "login", ts, nil, nil)}, 0)
		got := exportAll(t, s, analytics.Range{}, analytics.Filter{})
		if idsOf(got) != "x1 x2 x3" || got[0].Type != "click" || got[1].UserID != 1 {
			t.Fatalf("stored %+v", got)
		}
		dist, err := s.EventDistribution(context.Background(), analytics.Range{From: at("2026-03-01 00:00"), To: at("2026-03-04 00:00")}, analytics.Filter{})
		if err != nil || distString(dist) != "click:2 login:1" {
			t.Errorf("distribution = %s, %v", distString(dist), err)
		}
		checkRollup(t, s)
	})
}

// TestInsertAllOrNothing: a call that fails part-way — a row refused by the
// database in its last chunk, a cancelled context — stores nothing and
// leaves the rollup as it was; the call can then be retried.
func TestInsertAllOrNothing(t *testing.T) {
	ctx := context.Background()
	batch := func(t *testing.T, n int, prefix string) []analytics.Event {
		out := make([]analytics.Event, n)
		for i := range out {
			out[i] = ev(t, fmt.Sprintf("%s%05d", prefix, i), 1+i%7, analytics.DefaultTypes()[i%4], at("2026-03-01 00:00").Add(time.Duration(i)*time.Minute), nil,
				&analytics.Geo{Country: "UA", City: "Kyiv", Lat: 50.45, Lon: 30.52})
		}
		return out
	}
	each(t, func(t *testing.T, s *Store, db *database.DB) {
		mustInsert(t, s, batch(t, 10, "before"), 10)
		unchanged := func(t *testing.T) {
			t.Helper()
			if got := exportAll(t, s, analytics.Range{}, analytics.Filter{}); len(got) != 10 {
				t.Fatalf("%d events stored, want the 10 of before", len(got))
			}
			checkRollup(t, s)
		}

		t.Run("poisoned last row", func(t *testing.T) {
			// A trigger refuses one row; it sorts last, so the earlier chunks
			// (SQLite: two of them) are written before the failure.
			poison := []string{
				`CREATE TRIGGER poison BEFORE INSERT ON events WHEN NEW.id = 'zz-poison' BEGIN SELECT RAISE(ABORT, 'poisoned'); END`,
			}
			cure := `DROP TRIGGER poison`
			if db.Dialect == "postgres" {
				poison = []string{
					`CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.id = 'zz-poison' THEN RAISE EXCEPTION 'poisoned'; END IF; RETURN NEW; END $$`,
					`CREATE TRIGGER poison BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION poison()`,
				}
				cure = `DROP TRIGGER poison ON events`
			}
			for _, q := range poison {
				if _, err := db.Driver.ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			events := append(batch(t, 2500, "p"), ev(t, "zz-poison", 1, "click", at("2026-03-05 00:00"), nil, nil))
			if n, err := s.Insert(ctx, events); err == nil {
				t.Fatalf("Insert with a poisoned row = %d, nil", n)
			}
			unchanged(t)
			if _, err := db.Driver.ExecContext(ctx, cure); err != nil {
				t.Fatal(err)
			}
			mustInsert(t, s, events, 2501)
			checkRollup(t, s)
			if _, err := s.DeleteBefore(ctx, at("2026-03-10 00:00")); err != nil { // back to the 10
				t.Fatal(err)
			}
			mustInsert(t, s, batch(t, 10, "before"), 10)
			unchanged(t)
		})

		if db.Dialect == "postgres" {
			t.Run("NUL byte", func(t *testing.T) {
				// PostgreSQL text cannot hold NUL; the whole call fails.
				events := batch(t, 300, "n")
				events[150].Geo.City = "Ky\x00iv"
				if n, err := s.Insert(ctx, events); err == nil {
					t.Fatalf("Insert with a NUL byte = %d, nil", n)
				}
				unchanged(t)
			})
		}

		t.Run("cancelled", func(t *testing.T) {
			cancelled, cancel := context.WithCancel(ctx)
			cancel()
			if _, err := s.Insert(cancelled, batch(t, 100, "c")); !errors.Is(err, context.Canceled) {
				t.Fatalf("Insert on a cancelled context: %v", err)
			}
			unchanged(t)
		})

		t.Run("cancelled part-way", func(t *testing.T) {
			// Whenever the cancellation strikes, the outcome is all or none.
			events := batch(t, 30000, "w")
			for _, after := range []time.Duration{time.Millisecond, 20 * time.Millisecond, 80 * time.Millisecond, 250 * time.Millisecond} {
				c, cancel := context.WithTimeout(ctx, after)
				n, err := s.Insert(c, events)
				cancel()
				got := len(exportAll(t, s, analytics.Range{}, analytics.Filter{}))
				switch {
				case err == nil && n == len(events) && got == 10+len(events):
					t.Logf("not cancelled within %v", after)
					if _, err := s.DeleteBefore(ctx, at("2026-03-01 00:00").Add(30000*time.Minute)); err != nil {
						t.Fatal(err)
					}
					mustInsert(t, s, batch(t, 10, "before"), 10)
				case err != nil && got == 10:
					t.Logf("cancelled after %v: %v", after, err)
				default:
					t.Fatalf("cancelled after %v: Insert = %d, %v, and %d events are stored", after, n, err, got)
				}
				unchanged(t)
			}
		})
	})
}

// TestRollupMatchesRawCounts: EventDistribution (rollup for whole days, raw
// events at the edges) equals a count of the events, over random ranges,
// filters, re-inserted duplicates and deletions.
func TestRollupMatchesRawCounts(t *testing.T) {
	each(t, func(t *testing.T, s *Store, _ *database.DB) {
		ctx := context.Background()
		rng := newRand(7)
		start := at("2026-02-01 00:00")
		span := 20 * 24 * time.Hour
		types := []string{"page_view", "click", "search", "purchase", "login"}
		geos := []*analytics.Geo{nil, {Country: "UA", Lat: 50, Lon: 30}, {Country: "FR", Lat: 48, Lon: 2}, {Lat: 1, Lon: 1}}
		var all []analytics.Event
		for i := range 3000 {
			typ := types[rng.IntN(len(types))]
			var meta map[string]any
			if typ == "purchase" {
				meta = map[string]any{"price": 1.0}
			}
			all = append(all, ev(t, fmt.Sprintf("r%04d", i), 1+rng.IntN(40), typ, start.Add(time.Duration(rng.Int64N(int64(span)))).Truncate(time.Millisecond), meta, geos[rng.IntN(len(geos))]))
		}
		mustInsert(t, s, all[:1200], 1200)
		mustInsert(t, s, all[800:2000], 800) // 400 duplicates
		mustInsert(t, s, all[2000:], 1000)
		checkRollup(t, s)

		instant := func() time.Time {
			switch rng.IntN(5) {
			case 0:
				return time.Time{} // open
			case 1: // a midnight, possibly outside the data
				return start.AddDate(0, 0, rng.IntN(24)-2)
			case 2: // an event's own timestamp: the bound is inclusive / exclusive
				return all[rng.IntN(len(all))].Timestamp
			}
			return start.Add(time.Duration(rng.Int64N(int64(span + 48*time.Hour)))).Add(-24 * time.Hour).In(time.FixedZone("x", (rng.IntN(25)-12)*3600))
		}
		filter := func() analytics.Filter {
			switch rng.IntN(5) {
			case 0:
				return analytics.Filter{Types: []string{types[rng.IntN(5)], types[rng.IntN(5)]}}
			case 1:
				return analytics.Filter{Country: []string{"UA", "FR"}[rng.IntN(2)]}
			case 2:
				return analytics.Filter{UserID: 1 + rng.IntN(40), Types: []string{"click"}}
			case 3:
				return analytics.Filter{Country: "UA", Types: []string{"page_view", "purchase"}}
			}
			return analytics.Filter{}
		}
		check := func(stored []analytics.Event, n int) {
			t.Helper()
			for range n {
				r, f := analytics.Range{From: instant(), To: instant()}, filter()
				var got []analytics.TypeCount
				if c := statements(t, func(ctx context.Context) {
					var err error
					if got, err = s.EventDistribution(ctx, r, f); err != nil {
						t.Fatal(err)
					}
				}); c != 1 {
					t.Fatalf("EventDistribution ran %d statements", c)
				}
				if g, w := distString(got), countByType(stored, r, f); g != w {
					t.Fatalf("range %v – %v, filter %+v:\n got %s\nwant %s", r.From, r.To, f, g, w)
				}
			}
		}
		check(all, 300)

		cut := at("2026-02-09 13:37").Add(123 * time.Millisecond)
		n, err := s.DeleteBefore(ctx, cut)
		if err != nil {
			t.Fatal(err)
		}
		var kept []analytics.Event
		for _, e := range all {
			if !e.Timestamp.Before(cut) {
				kept = append(kept, e)
			}
		}
		if int(n) != len(all)-len(kept) {
			t.Fatalf("DeleteBefore = %d, want %d", n, len(all)-len(kept))
		}
		checkRollup(t, s)
		check(kept, 150)
	})
}

// TestUserEventsPaging pages through a user's events, newest first, with
// ties on the timestamp broken by id, in one statement per page.
func TestUserEventsPaging(t *testing.T) {
	each(t, func(t *testing.T, s *Store, _ *database.DB) {
		ctx := context.Background()
		t0 := at("2026-03-01 10:00")
		spec := []struct {
			id  string
			typ string
			min int
		}{
			{"a", "click", 0}, {"c", "page_view", 0}, {"b", "click", 0},
			{"e", "click", 5}, {"d", "login", 5},
			{"f", "click", 9},
			{"j", "click", 12}, {"g", "page_view", 12}, {"i", "click", 12}, {"h", "search", 12},
		}
		var events []analytics.Event
		for _, e := range spec {
			events = append(events, ev(t, e.id, 7, e.typ, t0.Add(time.Duration(e.min)*time.Minute), nil, nil))
		}
		events = append(events, ev(t, "k", 8, "click", t0, nil, nil), ev(t, "l", 8, "login", t0.Add(time.Hour), nil, nil))
		mustInsert(t, s, events, len(events))

		var pages []string
		var before *analytics.EventCursor
		for {
			var got map[int][]analytics.Event
			if c := statements(t, func(ctx context.Context) {
				var err error
				if got, err = s.UserEvents(ctx, analytics.UserEventsQuery{UserIDs: []int{7}, Limit: 3, Before: before}); err != nil {
					t.Fatal(err)
				}
			}); c != 1 {
				t.Fatalf("UserEvents ran %d statements", c)
			}
			page := got[7]
			if len(page) == 0 {
				break
			}
			pages = append(pages, idsOf(page))
			last := page[len(page)-1]
			before = &analytics.EventCursor{Timestamp: last.Timestamp.In(time.FixedZone("y", -7*3600)), ID: last.ID}
		}
		if g := strings.Join(pages, " | "); g != "j i h | g f e | d c b | a" {
			t.Errorf("pages = %s", g)
		}

		got, err := s.UserEvents(ctx, analytics.UserEventsQuery{UserIDs: []int{7, 8, 7, 99}, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		if g := idsOf(got[7]) + " | " + idsOf(got[8]); g != "j i | l k" || len(got) != 2 {
			t.Errorf("two users = %s (%d users)", g, len(got))
		}
		got, err = s.UserEvents(ctx, analytics.UserEventsQuery{UserIDs: []int{7, 8}, Limit: 10, Types: []string{"click"},
			Before: &analytics.EventCursor{Timestamp: t0.Add(12 * time.Minute), ID: "j"}})
		if err != nil {
			t.Fatal(err)
		}
		if g := idsOf(got[7]) + " | " + idsOf(got[8]); g != "i f e b a | k" {
			t.Errorf("clicks before (12:00, j) = %s", g)
		}
		// A cursor between milliseconds ties with no event.
		got, err = s.UserEvents(ctx, analytics.UserEventsQuery{UserIDs: []int{7}, Limit: 2,
			Before: &analytics.EventCursor{Timestamp: t0.Add(12*time.Minute + time.Nanosecond), ID: "a"}})
		if g := idsOf(got[7]); err != nil || g != "j i" {
			t.Errorf("before 12:00:00.000000001 = %s, %v", g, err)
		}
		if c := statements(t, func(ctx context.Context) {
			got, err = s.UserEvents(ctx, analytics.UserEventsQuery{UserIDs: []int{7}, Limit: 0})
		}); c != 0 || err != nil || len(got) != 0 {
			t.Errorf("Limit 0 = %v, %v after %d statements", got, err, c)
		}
	})
}
