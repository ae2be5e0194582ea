package httpapi_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/internal/fixture"
	"github.com/meridian-graphql/meridian/internal/gqltest"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/platform/database"
)

func TestTrackEventsValidatesPerItem(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		c := gqltest.NewAdmin(t, db)
		ts := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
		items := []map[string]any{
			{"id": "ok-1", "userId": 1, "type": "page_view", "timestamp": ts, "geo": map[string]any{"country": "ua", "city": "Kyiv", "lon": 30.52, "lat": 50.45}},
			{"userId": 1, "type": "purchase", "metadata": map[string]any{"price": 9.99, "category": "books"}},
			{"userId": 1, "type": "click", "timestamp": time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)}, // 2 future
			{"userId": 1, "type": "click", "timestamp": "1999-12-31T00:00:00Z"},                                    // 3 before 2000
			{"userId": 1, "type": "click", "metadata": map[string]any{"blob": strings.Repeat("x", 17000)}},         // 4 too big
			{"userId": 1, "type": "purchase", "metadata": map[string]any{"price": -5}},                             // 5 negative price
			{"userId": 1, "type": "click", "geo": map[string]any{"lon": 200, "lat": 0}},                            // 6 lon
			{"userId": 1, "type": "teleport"},                                 // 7 unknown type
			{"id": "ok-1", "userId": 1, "type": "page_view", "timestamp": ts}, // 8 duplicate of 0
			{"userId": 1, "type": "purchase"},                                 // 9 purchase without price
		}
		var d gqltest.TrackEventsPayload
		c.MustDo(gqltest.TrackEvents, map[string]any{"in": items}, &d)
		p := d.TrackEvents
		if p.Accepted != 3 || p.Inserted != 2 || p.Duplicates != 1 || p.Rejected != 7 {
			t.Errorf("payload = accepted %d inserted %d duplicates %d rejected %d; want 3 2 1 7", p.Accepted, p.Inserted, p.Duplicates, p.Rejected)
		}
		wantField := map[int]string{2: "timestamp", 3: "timestamp", 4: "metadata", 5: "metadata.price", 6: "geo.lon", 7: "type", 9: "metadata.price"}
		for _, r := range p.Results {
			if f, bad := wantField[r.Index]; bad {
				if r.Error == nil || r.Error.Code != "BAD_USER_INPUT" || r.Error.Field != f || r.ID != nil {
					t.Errorf("item %d: %+v, want BAD_USER_INPUT on %s", r.Index, r.Error, f)
				}
				continue
			}
			if r.Error != nil || r.ID == nil {
				t.Errorf("item %d refused: %+v", r.Index, r.Error)
			}
		}
		if !p.Results[8].Duplicate || *p.Results[8].ID != "ok-1" {
			t.Errorf("item 8 = %+v, want a duplicate of ok-1", p.Results[8])
		}
		// Retrying the same call stores nothing new.
		c.MustDo(gqltest.TrackEvents, map[string]any{"in": items[:1]}, &d)
		if d.TrackEvents.Inserted != 0 || d.TrackEvents.Duplicates != 1 {
			t.Errorf("retry = %+v", d.TrackEvents)
		}
		var dist struct {
			EventDistribution []struct {
				Type  string
				Count int
			}
		}
		c.MustDo(`{ eventDistribution { type count } }`, nil, &dist)
		if fmt.Sprint(dist.EventDistribution) != "[{page_view 1} {purchase 1}]" {
			t.Errorf("stored = %v", dist.EventDistribution)
		}

		// One bad event alone is an error with a code; nothing is stored.
		e := c.ErrorCode(`mutation { trackEvent(input: {userId: 1, type: "click", geo: {lon: 0, lat: -91}}) { id } }`, nil)
		if e.Code() != "BAD_USER_INPUT" || e.Extensions["field"] != "geo.lat" {
			t.Errorf("trackEvent(bad lat) = %s %v", e.Code(), e.Extensions)
		}
		// Over the batch limit: refused whole.
		big := make([]map[string]any, 10001)
		for i := range big {
			big[i] = map[string]any{"userId": 1, "type": "click"}
		}
		if e := c.ErrorCode(gqltest.TrackEvents, map[string]any{"in": big}); e.Code() != "BAD_USER_INPUT" {
			t.Errorf("10,001 events → %s", e.Code())
		}
		c.MustDo(`{ eventDistribution { type count } }`, nil, &dist)
		if len(dist.EventDistribution) != 2 {
			t.Errorf("refused calls stored events: %v", dist.EventDistribution)
		}
	})
}

func TestUserEventsBatchAndExport(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		g, err := fixture.NewGrid(context.Background(), db.Client, 1, 2, 5)
		if err != nil {
			t.Fatal(err)
		}
		c := gqltest.NewAdmin(t, db)
		base := time.Now().UTC().Add(-10 * 24 * time.Hour).Truncate(time.Hour)
		var items []map[string]any
		for i, u := range g.Users {
			for k := range i%3 + 1 { // users get 1, 2 or 3 events
				items = append(items, map[string]any{
					"id": fmt.Sprintf("u%d-%d", u.ID, k), "userId": u.ID, "type": []string{"page_view", "click", "purchase"}[k],
					"timestamp": base.Add(time.Duration(i*10+k) * time.Hour).Format(time.RFC3339),
					"metadata":  map[string]any{"price": float64(k + 1), "category": "books"},
					"geo":       map[string]any{"country": "AA", "lon": 1.0 + float64(i)/100, "lat": 2.0},
				})
			}
		}
		var d gqltest.TrackEventsPayload
		c.MustDo(gqltest.TrackEvents, map[string]any{"in": items}, &d)
		if d.TrackEvents.Inserted != len(items) {
			t.Fatalf("inserted %d of %d", d.TrackEvents.Inserted, len(items))
		}
		var u struct {
			Users struct {
				Edges []struct {
					Node struct {
						Username string
						Events   struct {
							Edges []struct {
								Cursor string
								Node   struct{ ID, Type string }
							}
							PageInfo struct{ HasNextPage bool }
						}
						Activity *struct{ Events, DistinctTypes int }
					}
				}
			}
		}
		r := c.MustDo(`{ users(first: 10, orderBy: {field: USERNAME}) { edges { node { username
			events(first: 2) { edges { cursor node { id type } } pageInfo { hasNextPage } }
			activity { events distinctTypes } } } } }`, nil, &u)
		// users, their events (one round trip), their activity (one).
		if got := r.Extensions.SQLStatements; got != 3 {
			t.Errorf("statements = %d, want 3", got)
		}
		for i, e := range u.Users.Edges {
			n := i%3 + 1
			ev := e.Node.Events
			if len(ev.Edges) != min(n, 2) || ev.PageInfo.HasNextPage != (n > 2) || e.Node.Activity == nil || e.Node.Activity.Events != n || e.Node.Activity.DistinctTypes != n {
				t.Errorf("%s: %d events (next %v), activity %+v; want %d", e.Node.Username, len(ev.Edges), ev.PageInfo.HasNextPage, e.Node.Activity, n)
			}
			if n == 3 {
				// Newest first; the cursor continues with the oldest.
				if ev.Edges[0].Node.Type != "purchase" || ev.Edges[1].Node.Type != "click" {
					t.Errorf("order = %+v", ev.Edges)
				}
				var next struct {
					User struct {
						Events struct {
							Edges []struct{ Node struct{ Type string } }
						}
					}
				}
				c.MustDo(`query($u: String!, $a: String) { user(username: $u) { events(first: 5, after: $a) { edges { node { type } } } } }`,
					map[string]any{"u": e.Node.Username, "a": ev.Edges[1].Cursor}, &next)
				if len(next.User.Events.Edges) != 1 || next.User.Events.Edges[0].Node.Type != "page_view" {
					t.Errorf("next page = %+v", next.User.Events.Edges)
				}
			}
		}
		if e := c.ErrorCode(`{ user(username: "u0_0_0") { events(after: "garbage") { edges { cursor } } } }`, nil); e.Code() != "BAD_USER_INPUT" {
			t.Errorf("bad cursor → %s", e.Code())
		}

		// Export: NDJSON and CSV carry every event in time order.
		res, err := http.Get(c.URL() + "/export/events?type=purchase&format=ndjson")
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(res.Body)
		var lines []map[string]any
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Fatalf("NDJSON line %q: %v", sc.Text(), err)
			}
			lines = append(lines, m)
		}
		res.Body.Close()
		if res.Header.Get("Content-Type") != "application/x-ndjson" || len(lines) != 3 || lines[0]["type"] != "purchase" {
			t.Errorf("NDJSON export: %s, %d lines: %v", res.Header.Get("Content-Type"), len(lines), lines)
		}
		res, err = http.Get(c.URL() + "/export/events?format=csv&from=" + base.Add(-time.Hour).Format(time.RFC3339))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(res.Body).ReadAll()
		res.Body.Close()
		if err != nil || len(rows) != len(items)+1 || rows[0][0] != "id" {
			t.Fatalf("CSV export: %d rows, %v", len(rows), err)
		}
		for i := 2; i < len(rows); i++ {
			if rows[i][3] < rows[i-1][3] {
				t.Fatalf("CSV rows out of time order at %d", i)
			}
		}
		res, err = http.Get(c.URL() + "/export/events?from=yesterday")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("bad from → %d, want 400", res.StatusCode)
		}
	})
}
