package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/platform/database"
)

// loadEvents are n events over a few weeks, types and countries, some with
// geo, metadata and revenue: many rollup keys, each with several events.
func loadEvents(t testing.TB, n int) []analytics.Event {
	rng := newRand(7)
	types := []string{"login", "page_view", "purchase", "search"}
	countries := []string{"DE", "FR", "US", ""}
	start := time.Date(2029, 3, 1, 0, 0, 0, 0, time.UTC)
	out := make([]analytics.Event, n)
	for i := range out {
		typ := types[rng.IntN(len(types))]
		var (
			meta map[string]any
			geo  *analytics.Geo
		)
		if c := countries[rng.IntN(len(countries))]; c != "" {
			geo = &analytics.Geo{Country: c, City: "Town " + c, Lat: 40 + rng.Float64(), Lon: 2 + rng.Float64()}
		}
		if typ == "purchase" {
			meta = map[string]any{"price": float64(rng.IntN(9000)) / 100, "quantity": 1.0, "category": "books"}
		}
		ts := start.Add(time.Duration(rng.Int64N(int64(40 * 24 * time.Hour))))
		out[i] = ev(t, fmt.Sprintf("e%d", i), 1+rng.IntN(50), typ, ts, meta, geo)
	}
	return out
}

// putAll is a fill that puts events in batches of size.
func putAll(events []analytics.Event, size int) func(put func([]analytics.Event) error) error {
	return func(put func([]analytics.Event) error) error {
		for lo := 0; lo < len(events); lo += size {
			if err := put(events[lo:min(lo+size, len(events))]); err != nil {
				return err
			}
		}
		return nil
	}
}

// rollupRows is event_counts_daily.
func rollupRows(t testing.TB, s *Store) map[string]int64 {
	return rollupCounts(t, s, `SELECT day, type, country, count FROM event_counts_daily`)
}

// eventIndexes lists the events table's indexes with their definitions.
func eventIndexes(t testing.TB, s *Store) string {
	t.Helper()
	q := `SELECT name, COALESCE(sql, '') FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' ORDER BY name`
	if s.pg {
		q = `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'events' ORDER BY indexname`
	}
	rows, err := s.query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s: %s\n", name, def)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestLoadEqualsInsert: a bulk load into an empty store leaves the same
// events, rollup rows, distribution and indexes as Insert batches of the
// same events.
func TestLoadEqualsInsert(t *testing.T) {
	events := loadEvents(t, 6000)
	for _, backend := range testdb.Backends() {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			inserted, loaded := open(t, testdb.Open(t, backend)), open(t, testdb.Open(t, backend))
			indexes := eventIndexes(t, loaded)
			for lo := 0; lo < len(events); lo += 500 {
				mustInsert(t, inserted, events[lo:min(lo+500, len(events))], min(500, len(events)-lo))
			}
			n, err := loaded.Load(ctx, putAll(events, 700))
			if err != nil || n != len(events) {
				t.Fatalf("Load = %d, %v; want %d", n, err, len(events))
			}
			if got := eventIndexes(t, loaded); got != indexes {
				t.Errorf("indexes after the load:\n%s\nbefore:\n%s", got, indexes)
			}
			want := rollupRows(t, inserted)
			if got := rollupRows(t, loaded); !reflect.DeepEqual(got, want) {
				t.Errorf("rollup after Load:\n%v\nafter Insert:\n%v", got, want)
			}
			checkRollup(t, loaded)
			for _, r := range []analytics.Range{{}, {From: time.Date(2029, 3, 5, 12, 0, 0, 0, time.UTC), To: time.Date(2029, 3, 20, 6, 0, 0, 0, time.UTC)}} {
				got, err := loaded.EventDistribution(ctx, r, analytics.Filter{})
				if err != nil {
					t.Fatal(err)
				}
				want, err := inserted.EventDistribution(ctx, r, analytics.Filter{})
				if err != nil {
					t.Fatal(err)
				}
				if distString(got) != distString(want) || distString(got) != countByType(events, r, analytics.Filter{}) {
					t.Errorf("distribution %v: Load %s, Insert %s", r, distString(got), distString(want))
				}
			}
			gotEvents, wantEvents := exportAll(t, loaded, analytics.Range{}, analytics.Filter{}), exportAll(t, inserted, analytics.Range{}, analytics.Filter{})
			if len(gotEvents) != len(wantEvents) {
				t.Fatalf("Export: %d events after Load, %d after Insert", len(gotEvents), len(wantEvents))
			}
			for i := range gotEvents {
				sameEvent(t, gotEvents[i], wantEvents[i])
			}
			// A second load finds the events and stores nothing.
			called := false
			if n, err := loaded.Load(ctx, func(func([]analytics.Event) error) error { called = true; return nil }); !errors.Is(err, analytics.ErrNotEmpty) || n != 0 || called {
				t.Errorf("Load into a full store = %d, %v (fill called: %v); want ErrNotEmpty without calling fill", n, err, called)
			}
		})
	}
}

// TestLoadAllOrNone: a load whose fill fails, or whose events repeat an id,
// stores nothing and leaves the indexes in place.
func TestLoadAllOrNone(t *testing.T) {
	events := loadEvents(t, 3000)
	boom := errors.New("boom")
	each(t, func(t *testing.T, s *Store, _ *database.DB) {
		ctx := context.Background()
		indexes := eventIndexes(t, s)
		cases := map[string]func(put func([]analytics.Event) error) error{
			"fill fails": func(put func([]analytics.Event) error) error {
				if err := putAll(events, 1000)(put); err != nil {
					return err
				}
				return boom
			},
			"repeated id": putAll(append(events[:2000:2000], events[1500]), 1000),
		}
		for name, fill := range cases {
			n, err := s.Load(ctx, fill)
			if err == nil || n != 0 || (name == "fill fails" && !errors.Is(err, boom)) {
				t.Errorf("%s: Load = %d, %v; want an error", name, n, err)
			}
			if got := exportAll(t, s, analytics.Range{}, analytics.Filter{}); len(got) != 0 {
				t.Errorf("%s: %d events stored", name, len(got))
			}
			if len(rollupRows(t, s)) != 0 {
				t.Errorf("%s: rollup rows stored", name)
			}
			if got := eventIndexes(t, s); got != indexes {
				t.Errorf("%s: indexes\n%s\nwant\n%s", name, got, indexes)
			}
		}
	})
}

// TestLoadOnATracedDatabase: the bulk load reaches pgx's connection
// through the tracing wrapper of database.WithTracerProvider.
func TestLoadOnATracedDatabase(t *testing.T) {
	if !slices.Contains(testdb.Backends(), "postgres") {
		t.Skip("PostgreSQL left out by MERIDIAN_TEST_BACKENDS")
	}
	ctx := context.Background()
	tp := sdktrace.NewTracerProvider()
	t.Cleanup(func() { _ = tp.Shutdown(ctx) })
	db, err := database.Open(ctx, testdb.NewPostgresDatabase(t), "", database.WithTracerProvider(tp))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	events := loadEvents(t, 300)
	if n, err := open(t, db).Load(ctx, putAll(events, 100)); err != nil || n != len(events) {
		t.Fatalf("Load = %d, %v; want %d", n, err, len(events))
	}
}
