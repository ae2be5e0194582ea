// The fixture every contract case loads: thirteen events of five users in
// four cities, whose expected numbers the cases work out by hand.

package storetest

import (
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/analytics"
)

// Now is the fixture's reference time: Sunday 2026-03-15 12:00 UTC.
var now = time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

var (
	kyiv   = &analytics.Geo{Country: "UA", City: "Kyiv", Lat: 50.4501, Lon: 30.5234}
	kyiv2  = &analytics.Geo{Country: "UA", City: "Kyiv", Lat: 50.4600, Lon: 30.5300}
	lviv   = &analytics.Geo{Country: "UA", City: "Lviv", Lat: 49.8397, Lon: 24.0297}
	paris  = &analytics.Geo{Country: "FR", City: "Paris", Lat: 48.8566, Lon: 2.3522}
	london = &analytics.Geo{Country: "GB", City: "London", Lat: 51.5074, Lon: -0.1278}
)

type in struct {
	id, typ string
	user    int
	ts      string
	meta    map[string]any
	geo     *analytics.Geo
}

// fixture (weeks start on Monday: A = 03-02…03-08, B = 03-09…03-15).
func fixture() []in {
	return []in{
		{"e01", "page_view", 1, "2026-03-02 10:00", map[string]any{"path": "/"}, kyiv},
		{"e02", "click", 1, "2026-03-02 11:00", nil, kyiv},
		{"e03", "purchase", 1, "2026-03-03 09:00", map[string]any{"price": 10.0, "quantity": 2.0, "category": "books", "product_id": "p1"}, kyiv},
		{"e04", "page_view", 2, "2026-03-03 12:00", nil, lviv},
		{"e05", "purchase", 2, "2026-03-09 08:00", map[string]any{"price": 5.0, "category": "music"}, lviv},
		{"e06", "page_view", 3, "2026-03-09 09:00", nil, paris},
		{"e07", "purchase", 3, "2026-03-10 10:00", map[string]any{"price": 7.5, "category": "books"}, paris},
		{"e08", "login", 1, "2026-03-10 11:00", nil, nil},
		{"e09", "search", 4, "2026-02-20 10:00", map[string]any{"q": "go"}, london},
		{"e10", "purchase", 1, "2026-03-14 10:00", map[string]any{"price": 12.25, "category": "books"}, nil},
		{"e11", "page_view", 5, "2026-03-14 10:00", nil, kyiv2},
		{"e12", "click", 2, "2026-02-23 10:00", nil, lviv},
		{"e13", "click", 1, "2026-03-14 10:00", nil, nil},
	}
}

func prepare(t *testing.T, items []in) []analytics.Event {
	t.Helper()
	out := make([]analytics.Event, len(items))
	for i, it := range items {
		id, ts := it.id, at(it.ts)
		e, err := analytics.DefaultPolicy().Prepare(analytics.EventInput{ID: &id, UserID: it.user, Type: it.typ, Timestamp: &ts, Metadata: it.meta, Geo: it.geo}, now)
		if err != nil {
			t.Fatalf("fixture %s: %v", it.id, err)
		}
		out[i] = e
	}
	return out
}
