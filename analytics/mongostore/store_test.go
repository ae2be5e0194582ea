package mongostore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/meridian-graphql/meridian/analytics"
)

var ctx = context.Background()

// activity is the fixture of the activity tests. Worked out by hand:
//
//	u10: 5 events, types page_view click search; first 04-02 08:00,
//	     last 05-03 10:00:00.002 (a4; a3 is 1 ms earlier the same day)
//	u11: 5 events, types login purchase logout; first 03-31 23:59:59.999,
//	     last 05-20 12:00 (b4; b5 the same day is earlier)
//	u12: 1 click, 05-01 00:00
func activity() []ev {
	return []ev{
		// First, so that a tie broken by insertion order would pick u12.
		{"c1", "click", 12, "2026-05-01 00:00:00.000", nil, nil},
		{"a1", "page_view", 10, "2026-04-02 08:00:00.000", nil, kyiv},
		{"a2", "click", 10, "2026-04-30 23:59:59.998", nil, nil},
		{"a3", "click", 10, "2026-05-03 10:00:00.001", nil, nil},
		{"a4", "search", 10, "2026-05-03 10:00:00.002", nil, nil},
		{"a5", "page_view", 10, "2026-05-03 09:00:00.000", nil, nil},
		{"b1", "login", 11, "2026-03-31 23:59:59.999", nil, nil},
		{"b2", "login", 11, "2026-04-01 00:00:00.000", nil, paris},
		{"b3", "purchase", 11, "2026-05-03 10:00:00.002", map[string]any{"price": 3.0}, nil},
		{"b4", "logout", 11, "2026-05-20 12:00:00.000", nil, nil},
		{"b5", "login", 11, "2026-05-20 11:00:00.000", nil, nil},
	}
}

func activityString(as []analytics.UserActivity) string {
	var s []string
	for _, a := range as {
		s = append(s, fmt.Sprintf("%d:%d/%d/%s", a.UserID, a.Events, a.DistinctTypes, a.LastSeen.UTC().Format("01-02 15:04:05.000")))
	}
	return strings.Join(s, " ")
}

// TestUserActivity: ranking with ties by user id, distinct types (non-zero:
// FerretDB would zero a second accumulator), and the exact last timestamp
// to the millisecond, found through the month → day → event narrowing.
func TestUserActivity(t *testing.T) {
	eachPath(t, func(t *testing.T, open opener) {
		s := open(t)
		load(t, s, activity()...)
		aprilToMay4 := analytics.Range{From: ts("2026-04-01 00:00"), To: ts("2026-05-04 00:00")}
		for _, tc := range []struct {
			name  string
			r     analytics.Range
			f     analytics.Filter
			limit int
			want  string
		}{
			{"range", aprilToMay4, analytics.Filter{}, 10,
				"10:5/3/05-03 10:00:00.002 11:2/2/05-03 10:00:00.002 12:1/1/05-01 00:00:00.000"},
			{"limit", aprilToMay4, analytics.Filter{}, 2,
				"10:5/3/05-03 10:00:00.002 11:2/2/05-03 10:00:00.002"},
			// The filter applies at the edge too: a4 (search) is later
			// than a3 but is not a click.
			{"types", aprilToMay4, analytics.Filter{Types: []string{"click", "login"}}, 10,
				"10:2/1/05-03 10:00:00.001 11:1/1/04-01 00:00:00.000 12:1/1/05-01 00:00:00.000"},
			{"tie at the limit", aprilToMay4, analytics.Filter{Types: []string{"click", "login"}}, 2,
				"10:2/1/05-03 10:00:00.001 11:1/1/04-01 00:00:00.000"},
			{"tie at limit 1", analytics.Range{}, analytics.Filter{}, 1, "10:5/3/05-03 10:00:00.002"},
			{"all time ties by user", analytics.Range{}, analytics.Filter{}, 10,
				"10:5/3/05-03 10:00:00.002 11:5/3/05-20 12:00:00.000 12:1/1/05-01 00:00:00.000"},
			{"country", aprilToMay4, analytics.Filter{Country: "UA"}, 10, "10:1/1/04-02 08:00:00.000"},
			{"user", analytics.Range{}, analytics.Filter{UserID: 11}, 10, "11:5/3/05-20 12:00:00.000"},
			{"empty", analytics.Range{To: ts("2026-01-01 00:00")}, analytics.Filter{}, 10, ""},
		} {
			got, err := s.UserActivity(ctx, tc.r, tc.f, tc.limit)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if g := activityString(got); g != tc.want {
				t.Errorf("%s: UserActivity =\n %s\nwant\n %s", tc.name, g, tc.want)
			}
		}
		if got, err := s.UserActivity(ctx, analytics.Range{}, analytics.Filter{}, 0); err != nil || got == nil || len(got) != 0 {
			t.Errorf("UserActivity(limit 0) = %#v, %v; want empty, as sqlstore", got, err)
		}
	})
}

func TestActivitySummaries(t *testing.T) {
	eachPath(t, func(t *testing.T, open opener) {
		s := open(t)
		load(t, s, activity()...)
		got, err := s.ActivitySummaries(ctx, []int{12, 10, 11, 99, 10})
		if err != nil {
			t.Fatal(err)
		}
		want := map[int]analytics.ActivitySummary{
			10: {Events: 5, DistinctTypes: 3, FirstSeen: ts("2026-04-02 08:00:00.000"), LastSeen: ts("2026-05-03 10:00:00.002")},
			11: {Events: 5, DistinctTypes: 3, FirstSeen: ts("2026-03-31 23:59:59.999"), LastSeen: ts("2026-05-20 12:00:00.000")},
			12: {Events: 1, DistinctTypes: 1, FirstSeen: ts("2026-05-01 00:00:00.000"), LastSeen: ts("2026-05-01 00:00:00.000")},
		}
		if len(got) != len(want) {
			t.Errorf("summaries for %d users, want %d: %+v", len(got), len(want), got)
		}
		for u, w := range want {
			g := got[u]
			if g.Events != w.Events || g.DistinctTypes != w.DistinctTypes || !g.FirstSeen.Equal(w.FirstSeen) || !g.LastSeen.Equal(w.LastSeen) {
				t.Errorf("user %d: %+v, want %+v", u, g, w)
			}
		}
		if got, err := s.ActivitySummaries(ctx, nil); err != nil || len(got) != 0 {
			t.Errorf("ActivitySummaries(nil) = %v, %v", got, err)
		}
	})
}

// TestEventDistributionTies: equal counts are ordered by type.
func TestEventDistributionTies(t *testing.T) {
	eachPath(t, func(t *testing.T, open opener) {
		s := open(t)
		load(t, s, activity()...)
		got, err := s.EventDistribution(ctx, analytics.Range{}, analytics.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, c := range got {
			parts = append(parts, fmt.Sprintf("%s:%d", c.Type, c.Count))
		}
		if g, w := strings.Join(parts, " "), "click:3 login:3 page_view:2 logout:1 purchase:1 search:1"; g != w {
			t.Errorf("distribution = %q, want %q", g, w)
		}
	})
}

func TestUserPeriods(t *testing.T) {
	eachPath(t, func(t *testing.T, open opener) {
		s := open(t)
		load(t, s, activity()...)
		got, err := s.UserPeriods(ctx, analytics.Month, analytics.Range{}, analytics.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, p := range got {
			parts = append(parts, fmt.Sprintf("%d@%s", p.UserID, p.Start.Format("01-02")))
		}
		if g, w := strings.Join(parts, " "), "10@04-01 10@05-01 11@03-01 11@04-01 11@05-01 12@05-01"; g != w {
			t.Errorf("UserPeriods(MONTH) = %q, want %q", g, w)
		}
		got, err = s.UserPeriods(ctx, analytics.Day, analytics.Range{From: ts("2026-05-01 00:00")}, analytics.Filter{Types: []string{"login", "click"}})
		if err != nil {
			t.Fatal(err)
		}
		parts = nil
		for _, p := range got {
			parts = append(parts, fmt.Sprintf("%d@%s", p.UserID, p.Start.Format("01-02")))
		}
		if g, w := strings.Join(parts, " "), "10@05-03 11@05-20 12@05-01"; g != w {
			t.Errorf("UserPeriods(DAY, May logins and clicks) = %q, want %q", g, w)
		}
		if _, err := s.UserPeriods(ctx, "YEAR", analytics.Range{}, analytics.Filter{}); err == nil {
			t.Error("UserPeriods(YEAR) did not fail")
		}
	})
}

// purchases, worked out by hand (weeks start on Monday 04-06, 04-13, 04-27):
//
//	p1 u20 04-06 0.10 toys UA    p2 u20 04-07 0.20 toys UA
//	p3 u21 04-12 10×3 toys FR    p4 u21 04-13 1.05 food (no geo)
//	p5 u22 05-01 30.30 (no category) UA
//
// plus a click with a category and a purchase outside the range.
func purchases() []ev {
	return []ev{
		{"p1", "purchase", 20, "2026-04-06 10:00", map[string]any{"price": 0.10, "category": "toys"}, kyiv},
		{"p2", "purchase", 20, "2026-04-07 10:00", map[string]any{"price": 0.20, "category": "toys"}, lviv},
		{"p3", "purchase", 21, "2026-04-12 23:00", map[string]any{"price": 10.0, "quantity": 3.0, "category": "toys"}, paris},
		{"p4", "purchase", 21, "2026-04-13 00:00", map[string]any{"price": 1.05, "category": "food"}, nil},
		{"p5", "purchase", 22, "2026-05-01 12:00", map[string]any{"price": 30.30}, kyiv},
		{"x1", "click", 20, "2026-04-08 10:00", map[string]any{"category": "toys"}, kyiv},
		{"x2", "purchase", 20, "2026-03-31 23:59", map[string]any{"price": 100.0, "category": "toys"}, kyiv},
	}
}

// TestPurchaseAnalytics: revenue, orders and unique buyers all non-zero and
// different (a FerretDB $group with several accumulators would zero all
// but the first), a repeat buyer, a revenue tie broken by key, float sums
// rounded to cents (0.10 + 0.20).
func TestPurchaseAnalytics(t *testing.T) {
	eachPath(t, func(t *testing.T, open opener) {
		s := open(t)
		load(t, s, purchases()...)
		r := analytics.Range{From: ts("2026-04-01 00:00"), To: ts("2026-06-01 00:00")}
		for _, tc := range []struct {
			by   analytics.GroupBy
			want string
		}{
			{analytics.ByCategory, ":30.30/1/1/30.30 toys:30.30/3/2/10.10 food:1.05/1/1/1.05"},
			{analytics.ByCountry, "UA:30.60/3/2/10.20 FR:30.00/1/1/30.00 :1.05/1/1/1.05"},
			{analytics.ByWeek, "2026-04-06T00:00:00Z:30.30/3/2/10.10 2026-04-13T00:00:00Z:1.05/1/1/1.05 2026-04-27T00:00:00Z:30.30/1/1/30.30"},
			{analytics.ByMonth, "2026-04-01T00:00:00Z:31.35/4/2/7.84 2026-05-01T00:00:00Z:30.30/1/1/30.30"},
			{analytics.ByDay, "2026-04-06T00:00:00Z:0.10/1/1/0.10 2026-04-07T00:00:00Z:0.20/1/1/0.20 2026-04-12T00:00:00Z:30.00/1/1/30.00 2026-04-13T00:00:00Z:1.05/1/1/1.05 2026-05-01T00:00:00Z:30.30/1/1/30.30"},
		} {
			got, err := s.PurchaseAnalytics(ctx, r, tc.by)
			if err != nil {
				t.Fatalf("%s: %v", tc.by, err)
			}
			var parts []string
			for _, g := range got {
				if (g.Start != nil) != (tc.by != analytics.ByCategory && tc.by != analytics.ByCountry) {
					t.Errorf("%s: group %q has Start %v", tc.by, g.Key, g.Start)
				}
				if g.Start != nil && g.Key != g.Start.Format(time.RFC3339) {
					t.Errorf("%s: key %q, start %v", tc.by, g.Key, g.Start)
				}
				parts = append(parts, fmt.Sprintf("%s:%.2f/%d/%d/%.2f", g.Key, g.Revenue, g.Orders, g.UniqueBuyers, g.AvgOrderValue))
			}
			if g := strings.Join(parts, " "); g != tc.want {
				t.Errorf("%s:\n got %s\nwant %s", tc.by, g, tc.want)
			}
			if tc.by == analytics.ByCountry && len(got) > 0 && got[0].Revenue != 30.6 {
				t.Errorf("UA revenue = %v, want exactly 30.6 (rounded to cents)", got[0].Revenue)
			}
		}
		var fe *analytics.FieldError
		if _, err := s.PurchaseAnalytics(ctx, r, "CITY"); !errors.As(err, &fe) {
			t.Errorf("PurchaseAnalytics(CITY) = %v, want a FieldError", err)
		}
	})
}

// TestInsert: dedupe within a call and against stored events, the stored
// layout, and the round trip of metadata.
func TestInsert(t *testing.T) {
	eachPath(t, func(t *testing.T, open opener) {
		s := open(t)
		meta := map[string]any{"price": 2.5, "quantity": 2.0, "category": " Books ", "tags": []any{"a", 1.5, true, nil}, "nested": map[string]any{"k": "v", "n": 3.0}}
		es := prepare(t,
			ev{"i1", "purchase", 1, "2026-04-06 10:00:00.123", meta, kyiv},
			ev{"i2", "click", 2, "2026-04-06 10:00", nil, nil},
			ev{"i1", "click", 3, "2026-04-06 10:00", nil, nil}, // same id in the same call
		)
		if n, err := s.Insert(ctx, es); err != nil || n != 2 {
			t.Fatalf("Insert = %d, %v; want 2", n, err)
		}
		more := prepare(t, ev{"i2", "login", 9, "2026-04-06 10:00", nil, nil}, ev{"i3", "login", 9, "2026-04-06 10:00", nil, nil})
		if n, err := s.Insert(ctx, more); err != nil || n != 1 {
			t.Fatalf("Insert(dup + new) = %d, %v; want 1", n, err)
		}
		if n, err := s.Insert(ctx, nil); err != nil || n != 0 {
			t.Fatalf("Insert(nil) = %d, %v", n, err)
		}
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := s.Insert(cancelled, prepare(t, ev{"i4", "login", 9, "2026-04-06 10:00", nil, nil})); err == nil {
			t.Error("Insert with a cancelled context did not fail")
		}

		// The layout of the package doc.
		var doc bson.Raw
		if err := s.events.FindOne(ctx, bson.D{{Key: "_id", Value: "i1"}}).Decode(&doc); err != nil {
			t.Fatal(err)
		}
		for field, typ := range map[string]bson.Type{
			"user_id": bson.TypeInt64, "type": bson.TypeString, "ts": bson.TypeDateTime, "day": bson.TypeDateTime,
			"week": bson.TypeDateTime, "month": bson.TypeDateTime, "cell": bson.TypeString, "revenue": bson.TypeDouble,
			"category": bson.TypeString, "country": bson.TypeString, "city": bson.TypeString,
			"lon": bson.TypeDouble, "lat": bson.TypeDouble, "metadata": bson.TypeEmbeddedDocument,
		} {
			if v, err := doc.LookupErr(field); err != nil || v.Type != typ {
				t.Errorf("i1.%s: %v (%v), want %v", field, v, err, typ)
			}
		}
		if got := doc.Lookup("ts").Time().UTC(); !got.Equal(ts("2026-04-06 10:00:00.123")) {
			t.Errorf("i1.ts = %v", got)
		}
		doc = nil
		if err := s.events.FindOne(ctx, bson.D{{Key: "_id", Value: "i2"}}).Decode(&doc); err != nil {
			t.Fatal(err)
		}
		if c, err := doc.LookupErr("country"); err != nil || c.StringValue() != "" {
			t.Errorf("i2 without geo: country %v, %v; want \"\"", c, err)
		}
		for _, absent := range []string{"lon", "lat", "city", "metadata"} {
			if _, err := doc.LookupErr(absent); err == nil {
				t.Errorf("i2 without geo or metadata has %s", absent)
			}
		}

		// The round trip: every field, metadata as JSON would decode it.
		var got []analytics.Event
		if err := s.Export(ctx, analytics.Range{}, analytics.Filter{}, func(e *analytics.Event) error {
			got = append(got, *e)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if idsOf(got) != "i2 i3 i1" {
			t.Fatalf("stored %s, want i2 i3 i1 (i1 is 123 ms later)", idsOf(got))
		}
		if g, w := got[2], es[0]; !reflect.DeepEqual(g, w) {
			t.Errorf("round trip of i1:\n got %+v %+v\nwant %+v %+v", g, g.Geo, w, w.Geo)
		}
		if g := got[0]; g.Geo != nil || g.Metadata != nil || g.UserID != 2 || g.Type != "click" {
			t.Errorf("i2 = %+v, kept its original content?", g)
		}

		// Metadata numbers come back as float64, whatever they went in as
		// (json.Number from a decoder with UseNumber, ints), as from JSON.
		in := prepare(t, ev{"j1", "click", 5, "2026-04-06 10:00", map[string]any{"n": json.Number("7"), "f": json.Number("1.5"), "i": 3}, nil})
		if n, err := s.Insert(ctx, in); err != nil || n != 1 {
			t.Fatalf("Insert(j1) = %d, %v", n, err)
		}
		evs, err := s.UserEvents(ctx, analytics.UserEventsQuery{UserIDs: []int{5}, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if g, w := evs[5][0].Metadata, map[string]any{"n": 7.0, "f": 1.5, "i": 3.0}; !reflect.DeepEqual(g, w) {
			t.Errorf("j1 metadata = %#v, want %#v", g, w)
		}
	})
}

// TestExportPagesAndTies: (ts, id) order across cursor batches (batch size
// 2), with equal timestamps, a filter and a half-open range.
func TestExportPagesAndTies(t *testing.T) {
	eachPath(t, func(t *testing.T, open opener) {
		s := open(t)
		s.batchSize = 2
		load(t, s,
			ev{"x3", "click", 1, "2026-04-06 10:00", nil, nil},
			ev{"x1", "click", 2, "2026-04-06 10:00", nil, nil},
			ev{"y0", "login", 1, "2026-04-06 11:00", nil, nil},
			ev{"x2", "login", 1, "2026-04-06 10:00", nil, nil},
			ev{"w9", "click", 1, "2026-04-06 09:59:59.999", nil, nil},
			ev{"z1", "click", 3, "2026-04-07 00:00", nil, nil},
			ev{"a0", "click", 1, "2026-04-06 12:00", nil, nil},
		)
		if g, w := exportIDs(t, s, analytics.Range{}, analytics.Filter{}), "w9 x1 x2 x3 y0 a0 z1"; g != w {
			t.Errorf("export = %s, want %s", g, w)
		}
		r := analytics.Range{From: ts("2026-04-06 10:00"), To: ts("2026-04-07 00:00")}
		if g, w := exportIDs(t, s, r, analytics.Filter{}), "x1 x2 x3 y0 a0"; g != w {
			t.Errorf("export of [10:00, 04-07) = %s, want %s", g, w)
		}
		if g, w := exportIDs(t, s, r, analytics.Filter{UserID: 1, Types: []string{"click"}}), "x3 a0"; g != w {
			t.Errorf("export of user 1's clicks = %s, want %s", g, w)
		}
	})
}

// TestUserEventsPaging: pages of two newest-first with Before, through
// timestamp ties (the id decides), for two users at once, across cursor
// batches; a user past its limit does not hide the next one.
func TestUserEventsPaging(t *testing.T) {
	eachPath(t, func(t *testing.T, open opener) {
		s := open(t)
		s.batchSize = 2
		load(t, s,
			ev{"k1", "click", 30, "2026-04-06 12:00", nil, nil},
			ev{"k3", "click", 30, "2026-04-06 12:00", nil, nil},
			ev{"k2", "login", 30, "2026-04-06 12:00", nil, nil},
			ev{"k0", "click", 30, "2026-04-06 11:00", nil, nil},
			ev{"k4", "click", 30, "2026-04-06 11:00", nil, nil},
			ev{"k5", "search", 30, "2026-04-06 10:00", nil, nil},
			ev{"m1", "click", 31, "2026-04-06 12:00", nil, nil},
			ev{"m2", "click", 31, "2026-04-06 13:00", nil, nil},
			ev{"m3", "click", 31, "2026-04-06 14:00", nil, nil},
			ev{"n1", "click", 32, "2026-04-06 14:00", nil, nil},
		)
		var pages []string
		q := analytics.UserEventsQuery{UserIDs: []int{30}, Limit: 2}
		for range 5 {
			got, err := s.UserEvents(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			page := got[30]
			pages = append(pages, idsOf(page))
			if len(page) == 0 {
				break
			}
			last := page[len(page)-1]
			q.Before = &analytics.EventCursor{Timestamp: last.Timestamp, ID: last.ID}
		}
		if g, w := strings.Join(pages, " | "), "k3 k2 | k1 k4 | k0 k5 | "; g != w {
			t.Errorf("pages of user 30 = %q, want %q", g, w)
		}

		got, err := s.UserEvents(ctx, analytics.UserEventsQuery{UserIDs: []int{32, 30, 31, 30, 77}, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		if g, w := idsOf(got[30])+" | "+idsOf(got[31])+" | "+idsOf(got[32]), "k3 k2 | m3 m2 | n1"; g != w {
			t.Errorf("three users = %q, want %q", g, w)
		}
		if _, ok := got[77]; ok || len(got) != 3 {
			t.Errorf("users = %d (77 present: %v), want 30, 31, 32", len(got), ok)
		}
		got, err = s.UserEvents(ctx, analytics.UserEventsQuery{UserIDs: []int{30, 31}, Limit: 10, Types: []string{"click"},
			Before: &analytics.EventCursor{Timestamp: ts("2026-04-06 12:00"), ID: "k3"}})
		if err != nil {
			t.Fatal(err)
		}
		if g, w := idsOf(got[30])+" | "+idsOf(got[31]), "k1 k4 k0 | "; g != w {
			t.Errorf("clicks before (12:00, k3) = %q, want %q", g, w)
		}
		if got, err := s.UserEvents(ctx, analytics.UserEventsQuery{Limit: 2}); err != nil || len(got) != 0 {
			t.Errorf("UserEvents(no users) = %v, %v", got, err)
		}
		if got, err := s.UserEvents(ctx, analytics.UserEventsQuery{UserIDs: []int{30}}); err != nil || len(got) != 0 {
			t.Errorf("UserEvents(limit 0) = %v, %v; want empty, as sqlstore", got, err)
		}
	})
}

// TestInCells: prefix ranges, nested prefixes, the range boundary of a
// prefix ("u8w" must not match u8v…), events without a cell.
func TestInCells(t *testing.T) {
	eachPath(t, func(t *testing.T, open opener) {
		s := open(t)
		es := prepare(t,
			ev{"g1", "click", 1, "2026-04-06 10:00", nil, kyiv},
			ev{"g2", "login", 1, "2026-04-07 10:00", nil, kyiv},
			ev{"g3", "click", 2, "2026-04-06 10:00", nil, lviv},
			ev{"g4", "click", 3, "2026-04-06 10:00", nil, paris},
			ev{"g5", "click", 3, "2026-04-06 10:00", nil, nil},
		)
		if n, err := s.Insert(ctx, es); err != nil || n != len(es) {
			t.Fatalf("Insert = %d, %v", n, err)
		}
		kyivCell, lvivCell, parisCell := es[0].Cell, es[2].Cell, es[3].Cell
		if kyivCell != "u8vxn" || lvivCell[:2] != "u8" || parisCell[0] != 'u' || lvivCell[:3] == "u8v" {
			t.Fatalf("fixture cells %s %s %s are not what the cases assume", kyivCell, lvivCell, parisCell)
		}
		for _, tc := range []struct {
			name  string
			cells []string
			r     analytics.Range
			f     analytics.Filter
			want  string
		}{
			{"exact cell", []string{"u8vxn"}, analytics.Range{}, analytics.Filter{}, "g1 g2"},
			{"nested prefixes", []string{"u8vx", "u8v", "u8vxn"}, analytics.Range{}, analytics.Filter{}, "g1 g2"},
			{"next prefix", []string{"u8w"}, analytics.Range{}, analytics.Filter{}, ""},
			{"two prefixes", []string{lvivCell, "u8vxn"}, analytics.Range{}, analytics.Filter{}, "g1 g3 g2"},
			{"wide", []string{"u"}, analytics.Range{}, analytics.Filter{}, "g1 g3 g4 g2"},
			{"range", []string{"u"}, analytics.Range{To: ts("2026-04-07 00:00")}, analytics.Filter{}, "g1 g3 g4"},
			{"filter", []string{"u"}, analytics.Range{}, analytics.Filter{Types: []string{"login"}}, "g2"},
			{"country", []string{"u"}, analytics.Range{}, analytics.Filter{Country: "fr"}, "g4"},
			{"none", nil, analytics.Range{}, analytics.Filter{}, ""},
			{"empty prefix: every event with a cell", []string{"u8vxn", ""}, analytics.Range{}, analytics.Filter{}, "g1 g3 g4 g2"},
		} {
			got, err := s.InCells(ctx, tc.cells, tc.r, tc.f)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if g := idsOf(got); g != tc.want {
				t.Errorf("%s: InCells = %q, want %q", tc.name, g, tc.want)
			}
		}
	})
}

func TestDeleteBefore(t *testing.T) {
	eachPath(t, func(t *testing.T, open opener) {
		s := open(t)
		load(t, s,
			ev{"d1", "click", 1, "2026-04-06 09:59:59.999", nil, nil},
			ev{"d2", "click", 1, "2026-04-06 10:00:00.000", nil, nil},
			ev{"d3", "click", 1, "2026-04-06 10:00:00.001", nil, nil},
		)
		if n, err := s.DeleteBefore(ctx, ts("2026-04-06 10:00:00.000")); err != nil || n != 1 {
			t.Fatalf("DeleteBefore = %d, %v; want 1", n, err)
		}
		if g := exportIDs(t, s, analytics.Range{}, analytics.Filter{}); g != "d2 d3" {
			t.Errorf("left %s, want d2 d3", g)
		}
		if n, err := s.DeleteBefore(ctx, ts("2026-04-06 10:00:00.000")); err != nil || n != 0 {
			t.Errorf("DeleteBefore again = %d, %v; want 0", n, err)
		}
	})
}

// TestProfiles: what the contract suite leaves out — empty lists of a bare
// profile, metrics replaced by UpsertProfile but merged by UpdateMetrics,
// interests kept sorted, NotFound as *analytics.NotFoundError.
func TestProfiles(t *testing.T) {
	eachPath(t, func(t *testing.T, open opener) {
		s := open(t)
		before := time.Now().Add(-time.Second)
		p, err := s.UpsertProfile(ctx, analytics.ProfileInput{Username: "bare"})
		if err != nil {
			t.Fatal(err)
		}
		if p.Interests == nil || p.Subscriptions == nil || p.Metrics == nil || len(p.Interests)+len(p.Subscriptions)+len(p.Metrics) != 0 || p.Email != "" {
			t.Errorf("bare profile = %+v, want empty non-nil lists and map", p)
		}
		if p.UpdatedAt.Before(before) {
			t.Errorf("updated_at = %v", p.UpdatedAt)
		}
		p, err = s.UpsertProfile(ctx, analytics.ProfileInput{Username: "bare", Interests: []string{"go"}, Metrics: map[string]float64{"a": 1, "b": 2}})
		if err != nil {
			t.Fatal(err)
		}
		p, err = s.UpsertProfile(ctx, analytics.ProfileInput{Username: "bare", Metrics: map[string]float64{"c": 3}})
		if err != nil || !reflect.DeepEqual(p.Metrics, map[string]float64{"c": 3}) {
			t.Errorf("UpsertProfile(metrics) = %+v, %v; want metrics replaced by {c: 3}", p, err)
		}
		p, err = s.UpdateMetrics(ctx, "bare", map[string]float64{"d": 4.5, "c": -1})
		if err != nil || !reflect.DeepEqual(p.Metrics, map[string]float64{"c": -1, "d": 4.5}) {
			t.Errorf("UpdateMetrics = %+v, %v; want {c: -1, d: 4.5}", p, err)
		}
		p, err = s.AddInterest(ctx, "bare", " AI ")
		if err != nil || !reflect.DeepEqual(p.Interests, []string{"ai", "go"}) {
			t.Errorf("AddInterest(' AI ') = %+v, %v; want [ai go]", p, err)
		}
		if got, err := s.Profile(ctx, "bare"); err != nil || !reflect.DeepEqual(got, p) {
			t.Errorf("Profile = %+v, %v; want %+v", got, err, p)
		}
		var nf *analytics.NotFoundError
		if _, err := s.AddInterest(ctx, "ghost", "go"); !errors.As(err, &nf) || !strings.Contains(nf.Error(), "ghost") {
			t.Errorf("AddInterest(ghost) = %v, want *analytics.NotFoundError naming ghost", err)
		}
		if _, err := s.UpdateMetrics(ctx, "ghost", map[string]float64{"x": 1}); !errors.As(err, &nf) {
			t.Errorf("UpdateMetrics(ghost) = %v, want *analytics.NotFoundError", err)
		}
		if p, err := s.Profile(ctx, "ghost"); err != nil || p != nil {
			t.Errorf("Profile(ghost) = %+v, %v", p, err)
		}
		var fe *analytics.FieldError
		if _, err := s.UpdateMetrics(ctx, "bare", map[string]float64{"a.b": 1}); !errors.As(err, &fe) {
			t.Errorf("UpdateMetrics(a.b) = %v, want a FieldError", err)
		}
		if _, err := s.AddInterest(ctx, "bare", "no/slash"); !errors.As(err, &fe) {
			t.Errorf("AddInterest(no/slash) = %v, want a FieldError", err)
		}
		if ps, err := s.UsersByInterest(ctx, "go", 0); err != nil || ps == nil || len(ps) != 0 {
			t.Errorf("UsersByInterest(limit 0) = %v, %v; want empty, as sqlstore", ps, err)
		}
		if ps, err := s.UsersByInterest(ctx, " AI", 5); err != nil || len(ps) != 1 || ps[0].Username != "bare" {
			t.Errorf("UsersByInterest(' AI') = %v, %v", ps, err)
		}

		// At most 100 interests: a new one is refused, an existing one is
		// still fine.
		full := make([]string, 100)
		for i := range full {
			full[i] = fmt.Sprintf("t%03d", i)
		}
		if _, err := s.UpsertProfile(ctx, analytics.ProfileInput{Username: "full", Interests: full}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddInterest(ctx, "full", "zzz"); !errors.As(err, &fe) || fe.Field != "interests" {
			t.Errorf("AddInterest(101st) = %v, want a FieldError on interests", err)
		}
		if p, err := s.AddInterest(ctx, "full", "t050"); err != nil || len(p.Interests) != 100 {
			t.Errorf("AddInterest(existing, full) = %v, %v", p, err)
		}
		p, err = s.UpsertProfile(ctx, analytics.ProfileInput{Username: "full", Interests: full[:99]})
		if err != nil {
			t.Fatal(err)
		}
		if p, err := s.AddInterest(ctx, "full", "zzz"); err != nil || len(p.Interests) != 100 || p.Interests[99] != "zzz" {
			t.Errorf("AddInterest(100th) = %v, %v", p, err)
		}
	})
}

// TestCapabilities: FerretDB fails the probe (it lacks $unionWith,
// $min/$max/$addToSet, and zeroes every accumulator after the first), and
// ForceFallback wins everywhere. New is idempotent: indexes are created one
// at a time because FerretDB drops the connection on a createIndexes that
// lists several existing indexes.
func TestCapabilities(t *testing.T) {
	for _, srv := range servers(t) {
		t.Run(srv.name, func(t *testing.T) {
			s := openStore(t, srv.uri, Options{})
			t.Logf("%s: capable %v", s.Server(), s.Capable())
			if srv.name == "ferretdb" && (s.Capable() || !strings.Contains(s.Server(), "FerretDB")) {
				t.Errorf("FerretDB: capable %v, server %q", s.Capable(), s.Server())
			}
			again, err := NewWithOptions(ctx, srv.uri, s.db.Name(), Options{ForceFallback: true})
			if err != nil {
				t.Fatalf("New on an existing database: %v", err)
			}
			defer again.Close(ctx)
			if again.Capable() {
				t.Error("ForceFallback store is capable")
			}
			cur, err := s.events.Indexes().List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var specs []struct {
				Name string `bson:"name"`
			}
			if err := cur.All(ctx, &specs); err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, sp := range specs {
				names = append(names, sp.Name)
			}
			for _, want := range []string{"_id_", "user_id_1_ts_-1__id_-1", "type_1_ts_1", "ts_1__id_1", "cell_1", "day_1"} {
				if !strings.Contains(" "+strings.Join(names, " ")+" ", " "+want+" ") {
					t.Errorf("events indexes %v lack %s", names, want)
				}
			}
			// The probe's scratch collection is gone.
			colls, err := s.db.ListCollectionNames(ctx, bson.D{})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range colls {
				if strings.HasPrefix(c, "meridian_probe_") {
					t.Errorf("probe collection %s left behind", c)
				}
			}
		})
	}
}
