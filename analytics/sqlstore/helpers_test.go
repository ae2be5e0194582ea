package sqlstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/platform/database"
)

// testNow is the "now" of the test events: after every timestamp they use.
var testNow = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// each runs fn on a fresh store of every backend.
func each(t *testing.T, fn func(t *testing.T, s *Store, db *database.DB)) {
	testdb.Each(t, func(t *testing.T, db *database.DB) { fn(t, open(t, db), db) })
}

// ev prepares one event as the service would.
func ev(t testing.TB, id string, user int, typ string, ts time.Time, meta map[string]any, geo *analytics.Geo) analytics.Event {
	t.Helper()
	e, err := analytics.DefaultPolicy().Prepare(analytics.EventInput{ID: &id, UserID: user, Type: typ, Timestamp: &ts, Metadata: meta, Geo: geo}, testNow)
	if err != nil {
		t.Fatalf("prepare %s: %v", id, err)
	}
	return e
}

func mustInsert(t testing.TB, s *Store, events []analytics.Event, want int) {
	t.Helper()
	n, err := s.Insert(context.Background(), events)
	if err != nil || n != want {
		t.Fatalf("Insert(%d events) = %d, %v; want %d", len(events), n, err, want)
	}
}

// exportAll returns every matching event through Export.
func exportAll(t testing.TB, s *Store, r analytics.Range, f analytics.Filter) []analytics.Event {
	t.Helper()
	var out []analytics.Event
	if err := s.Export(context.Background(), r, f, func(e *analytics.Event) error {
		out = append(out, *e)
		return nil
	}); err != nil {
		t.Fatalf("Export: %v", err)
	}
	return out
}

func idsOf(es []analytics.Event) string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.ID
	}
	return strings.Join(s, " ")
}

func distString(tcs []analytics.TypeCount) string {
	var parts []string
	for _, c := range tcs {
		parts = append(parts, fmt.Sprintf("%s:%d", c.Type, c.Count))
	}
	return strings.Join(parts, " ")
}

// sameEvent compares every stored field; times by instant and in UTC.
func sameEvent(t testing.TB, got, want analytics.Event) {
	t.Helper()
	for _, tm := range []time.Time{got.Timestamp, got.Day, got.Week, got.Month} {
		if tm.Location() != time.UTC {
			t.Errorf("%s: time %v is not in UTC", got.ID, tm)
		}
	}
	g, w := got, want
	g.Timestamp, w.Timestamp = g.Timestamp.UTC(), w.Timestamp.UTC()
	if !reflect.DeepEqual(g, w) {
		t.Errorf("round trip of %s:\n got %+v geo %+v\nwant %+v geo %+v", want.ID, g, g.Geo, w, w.Geo)
	}
}

// countByType is the ground truth of EventDistribution, computed in Go.
func countByType(events []analytics.Event, r analytics.Range, f analytics.Filter) string {
	counts := map[string]int64{}
	for _, e := range events {
		if !r.Contains(e.Timestamp) || (len(f.Types) > 0 && !slices.Contains(f.Types, e.Type)) || (f.UserID != 0 && e.UserID != f.UserID) {
			continue
		}
		if f.Country != "" && (e.Geo == nil || e.Geo.Country != f.Country) {
			continue
		}
		counts[e.Type]++
	}
	var out []analytics.TypeCount
	for typ, n := range counts {
		out = append(out, analytics.TypeCount{Type: typ, Count: n})
	}
	slices.SortFunc(out, func(a, b analytics.TypeCount) int {
		if a.Count != b.Count {
			return int(b.Count - a.Count)
		}
		return strings.Compare(a.Type, b.Type)
	})
	return distString(out)
}

// checkRollup asserts the invariant of event_counts_daily: it holds exactly
// the per (day, type, country) counts of the stored events, and no row
// with a zero count.
func checkRollup(t testing.TB, s *Store) {
	t.Helper()
	rollup := rollupCounts(t, s, `SELECT day, type, country, count FROM event_counts_daily`)
	raw := rollupCounts(t, s, `SELECT day, type, country, COUNT(*) FROM events GROUP BY day, type, country`)
	if !reflect.DeepEqual(rollup, raw) {
		t.Fatalf("rollup out of step with the events:\nrollup %v\nevents %v", rollup, raw)
	}
}

// rollupCounts reads (day, type, country, count) rows into a map keyed by
// "day/type/country".
func rollupCounts(t testing.TB, s *Store, q string) map[string]int64 {
	t.Helper()
	rows, err := s.query(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	m := map[string]int64{}
	for rows.Next() {
		var (
			day          time.Time
			typ, country string
			n            int64
		)
		if err := rows.Scan(timeValue{&day}, &typ, &country, &n); err != nil {
			t.Fatal(err)
		}
		m[day.Format(time.DateOnly)+"/"+typ+"/"+country] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return m
}

// statements runs fn and returns the number of statements it ran through
// the counting driver.
func statements(t testing.TB, fn func(ctx context.Context)) int64 {
	t.Helper()
	ctx, c := database.WithCounter(context.Background())
	fn(ctx)
	return c.N()
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed+1)) }
