package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/analytics"
	"github.com/meridian-graphql/meridian/platform/database"
)

// queryFixture: three users over 2026-03-02 (Mon) … 2026-03-10 (Tue).
// Kyiv's cell starts with "u8vx", Paris's with "u09t".
func queryFixture(t *testing.T) []analytics.Event {
	kyiv := &analytics.Geo{Country: "UA", City: "Kyiv", Lat: 50.4501, Lon: 30.5234}
	paris := &analytics.Geo{Country: "FR", City: "Paris", Lat: 48.8566, Lon: 2.3522}
	buy := func(price float64, cat string) map[string]any {
		m := map[string]any{"price": price}
		if cat != "" {
			m["category"] = cat
		}
		return m
	}
	return []analytics.Event{
		ev(t, "q01", 1, "page_view", at("2026-03-02 08:00"), nil, kyiv),
		ev(t, "q02", 1, "purchase", at("2026-03-02 09:00"), buy(0.1, "books"), kyiv),
		ev(t, "q03", 1, "purchase", at("2026-03-03 23:59"), buy(0.2, "books"), kyiv),
		ev(t, "q04", 2, "purchase", at("2026-03-04 00:00"), buy(10, "music"), paris),
		ev(t, "q05", 2, "click", at("2026-03-04 12:00"), nil, paris),
		ev(t, "q06", 2, "purchase", at("2026-03-09 06:00"), buy(2.5, ""), nil),
		ev(t, "q07", 3, "click", at("2026-03-09 07:00"), nil, kyiv),
		ev(t, "q08", 3, "click", at("2026-03-10 07:00"), nil, nil),
		ev(t, "q09", 1, "purchase", at("2026-03-10 08:00"), buy(0.3, "books"), paris),
	}
}

// oneStatement runs fn and fails unless it ran exactly one statement.
func oneStatement(t *testing.T, name string, fn func(ctx context.Context) error) {
	t.Helper()
	var err error
	if n := statements(t, func(ctx context.Context) { err = fn(ctx) }); n != 1 || err != nil {
		t.Fatalf("%s: %v after %d statements, want one", name, err, n)
	}
}

func TestQueries(t *testing.T) {
	// Bounds in other zones: the same instants as in UTC.
	est := time.FixedZone("EST", -5*3600)
	week := analytics.Range{From: at("2026-03-02 00:00").In(est), To: at("2026-03-09 00:00").In(est)}
	each(t, func(t *testing.T, s *Store, _ *database.DB) {
		mustInsert(t, s, queryFixture(t), 9)

		t.Run("UserActivity", func(t *testing.T) {
			var got []analytics.UserActivity
			oneStatement(t, "UserActivity", func(ctx context.Context) (err error) {
				got, err = s.UserActivity(ctx, analytics.Range{}, analytics.Filter{}, 10)
				return err
			})
			want := "1:4/2@2026-03-10T08:00:00Z 2:3/2@2026-03-09T06:00:00Z 3:2/1@2026-03-10T07:00:00Z"
			if g := activityString(got); g != want {
				t.Errorf("all time = %s, want %s", g, want)
			}
			got, err := s.UserActivity(context.Background(), week, analytics.Filter{Country: "UA"}, 1)
			if g := activityString(got); err != nil || g != "1:3/2@2026-03-03T23:59:00Z" {
				t.Errorf("UA, first week, top 1 = %s, %v", g, err)
			}
			if got, err := s.UserActivity(context.Background(), week, analytics.Filter{}, 0); err != nil || len(got) != 0 {
				t.Errorf("limit 0 = %v, %v", got, err)
			}
		})

		t.Run("PurchaseAnalytics", func(t *testing.T) {
			for _, tc := range []struct {
				by   analytics.GroupBy
				r    analytics.Range
				want string
			}{
				// 0.1 + 0.2 is 0.3 exactly: sums are in cents.
				{analytics.ByCategory, analytics.Range{}, "music:10/1/1/10 :2.5/1/1/2.5 books:0.6/3/1/0.2"},
				{analytics.ByCategory, week, "music:10/1/1/10 books:0.3/2/1/0.15"},
				{analytics.ByCountry, analytics.Range{}, "FR:10.3/2/2/5.15 :2.5/1/1/2.5 UA:0.3/2/1/0.15"},
				{analytics.ByDay, week, "2026-03-02T00:00:00Z:0.1/1/1/0.1 2026-03-03T00:00:00Z:0.2/1/1/0.2 2026-03-04T00:00:00Z:10/1/1/10"},
				{analytics.ByWeek, analytics.Range{}, "2026-03-02T00:00:00Z:10.3/3/2/3.433333333 2026-03-09T00:00:00Z:2.8/2/2/1.4"},
				{analytics.ByMonth, analytics.Range{From: at("2026-03-04 00:00")}, "2026-03-01T00:00:00Z:12.8/3/2/4.266666667"},
				{analytics.ByDay, analytics.Range{To: at("2026-03-01 00:00")}, ""},
			} {
				var got []analytics.PurchaseGroup
				oneStatement(t, string(tc.by), func(ctx context.Context) (err error) {
					got, err = s.PurchaseAnalytics(ctx, tc.r, tc.by)
					return err
				})
				var parts []string
				for _, g := range got {
					timed := tc.by != analytics.ByCategory && tc.by != analytics.ByCountry
					if (g.Start != nil) != timed || (timed && (g.Start.Format(time.RFC3339) != g.Key || g.Start.Location() != time.UTC)) {
						t.Errorf("%s: key %q with start %v", tc.by, g.Key, g.Start)
					}
					parts = append(parts, fmt.Sprintf("%s:%v/%d/%d/%.10g", g.Key, g.Revenue, g.Orders, g.UniqueBuyers, g.AvgOrderValue))
				}
				if g := strings.Join(parts, " "); g != tc.want {
					t.Errorf("%s over %v: %s\nwant %s", tc.by, tc.r, g, tc.want)
				}
			}
			var fe *analytics.FieldError
			if _, err := s.PurchaseAnalytics(context.Background(), week, "YEAR"); !errors.As(err, &fe) {
				t.Errorf("unknown grouping: %v", err)
			}
		})

		t.Run("UserPeriods", func(t *testing.T) {
			var got []analytics.UserPeriod
			oneStatement(t, "UserPeriods", func(ctx context.Context) (err error) {
				got, err = s.UserPeriods(ctx, analytics.Day, analytics.Range{From: at("2026-03-03 00:00")}, analytics.Filter{Types: []string{"purchase", "click"}})
				return err
			})
			var parts []string
			for _, p := range got {
				if p.Start.Location() != time.UTC {
					t.Errorf("start %v not in UTC", p.Start)
				}
				parts = append(parts, fmt.Sprintf("%d@%s", p.UserID, p.Start.Format("01-02")))
			}
			if g := strings.Join(parts, " "); g != "1@03-03 1@03-10 2@03-04 2@03-09 3@03-09 3@03-10" {
				t.Errorf("daily = %s", g)
			}
			got, err := s.UserPeriods(context.Background(), analytics.Month, analytics.Range{}, analytics.Filter{UserID: 2})
			if err != nil || len(got) != 1 || got[0].UserID != 2 || !got[0].Start.Equal(at("2026-03-01 00:00")) {
				t.Errorf("monthly of user 2 = %+v, %v", got, err)
			}
			var fe *analytics.FieldError
			if _, err := s.UserPeriods(context.Background(), "YEAR", week, analytics.Filter{}); !errors.As(err, &fe) {
				t.Errorf("unknown period: %v", err)
			}
		})

		t.Run("InCells", func(t *testing.T) {
			for _, tc := range []struct {
				cells []string
				r     analytics.Range
				f     analytics.Filter
				want  string
			}{
				{[]string{"u8vx"}, analytics.Range{}, analytics.Filter{}, "q01 q02 q03 q07"},
				{[]string{"u09t", "u8vx", "u8vx"}, week, analytics.Filter{}, "q01 q02 q03 q04 q05"},
				{[]string{"u"}, analytics.Range{}, analytics.Filter{Types: []string{"purchase"}, UserID: 1}, "q02 q03 q09"},
				{[]string{"u09"}, analytics.Range{}, analytics.Filter{Country: "FR", Types: []string{"click"}}, "q05"},
				{[]string{"zzzz", "0"}, analytics.Range{}, analytics.Filter{}, ""},
			} {
				var got []analytics.Event
				oneStatement(t, "InCells", func(ctx context.Context) (err error) {
					got, err = s.InCells(ctx, tc.cells, tc.r, tc.f)
					return err
				})
				if g := idsOf(got); g != tc.want {
					t.Errorf("InCells(%v) = %s, want %s", tc.cells, g, tc.want)
				}
			}
			if n := statements(t, func(ctx context.Context) {
				if got, err := s.InCells(ctx, nil, analytics.Range{}, analytics.Filter{}); err != nil || len(got) != 0 {
					t.Errorf("no cells = %v, %v", got, err)
				}
			}); n != 0 {
				t.Errorf("no cells ran %d statements", n)
			}
		})

		t.Run("ActivitySummaries", func(t *testing.T) {
			var got map[int]analytics.ActivitySummary
			oneStatement(t, "ActivitySummaries", func(ctx context.Context) (err error) {
				got, err = s.ActivitySummaries(ctx, []int{3, 2, 3, 42})
				return err
			})
			if g := fmt.Sprintln(len(got), got[2].Events, got[2].DistinctTypes, got[2].FirstSeen.Format(time.RFC3339), got[2].LastSeen.Format(time.RFC3339),
				got[3].Events, got[3].DistinctTypes); g != "2 3 2 2026-03-04T00:00:00Z 2026-03-09T06:00:00Z 2 1\n" {
				t.Errorf("summaries = %s (%+v)", g, got)
			}
			if n := statements(t, func(ctx context.Context) {
				if got, err := s.ActivitySummaries(ctx, nil); err != nil || len(got) != 0 {
					t.Errorf("no users = %v, %v", got, err)
				}
			}); n != 0 {
				t.Errorf("no users ran %d statements", n)
			}
		})

		t.Run("EventDistribution", func(t *testing.T) {
			for _, tc := range []struct {
				r    analytics.Range
				f    analytics.Filter
				want string
			}{
				{week, analytics.Filter{}, "purchase:3 click:1 page_view:1"},
				{analytics.Range{From: at("2026-03-02 08:30"), To: at("2026-03-09 06:00").In(est)}, analytics.Filter{}, "purchase:3 click:1"},
				{analytics.Range{From: at("2026-03-04 00:00"), To: at("2026-03-04 00:00")}, analytics.Filter{}, ""},
				{analytics.Range{From: at("2026-03-05 00:00"), To: at("2026-03-04 00:00")}, analytics.Filter{}, ""},
				{analytics.Range{}, analytics.Filter{Country: "ua"}, "purchase:2 click:1 page_view:1"},
				{analytics.Range{}, analytics.Filter{UserID: 3}, "click:2"},
				// Sub-millisecond bounds compare exactly with the stored
				// milliseconds: q01 (08:00) is out, q02 (09:00) in.
				{analytics.Range{From: at("2026-03-02 08:00").Add(500 * time.Microsecond), To: at("2026-03-02 09:00").Add(time.Nanosecond)}, analytics.Filter{}, "purchase:1"},
			} {
				var got []analytics.TypeCount
				oneStatement(t, "EventDistribution", func(ctx context.Context) (err error) {
					got, err = s.EventDistribution(ctx, tc.r, tc.f)
					return err
				})
				if g := distString(got); g != tc.want {
					t.Errorf("%v %+v: %s, want %s", tc.r, tc.f, g, tc.want)
				}
			}
		})
	})
}

func activityString(as []analytics.UserActivity) string {
	var parts []string
	for _, a := range as {
		parts = append(parts, fmt.Sprintf("%d:%d/%d@%s", a.UserID, a.Events, a.DistinctTypes, a.LastSeen.Format(time.RFC3339)))
	}
	return strings.Join(parts, " ")
}

// TestExport streams more than two pages with many equal timestamps: every
// event once, in (timestamp, id) order, one statement per page.
func TestExport(t *testing.T) {
	each(t, func(t *testing.T, s *Store, _ *database.DB) {
		rng := newRand(11)
		start := at("2026-03-01 00:00")
		var all []analytics.Event
		for i := range 12345 {
			// 3 hours at one-second steps: about one tie per event.
			ts := start.Add(time.Duration(rng.IntN(3*3600)) * time.Second)
			all = append(all, ev(t, fmt.Sprintf("x%06d", rng.IntN(1_000_000_000)%1_000_000*100+i%100), 1+i%50, []string{"click", "page_view", "login"}[i%3], ts, nil, nil))
		}
		slices.SortFunc(all, func(a, b analytics.Event) int { return strings.Compare(a.ID, b.ID) })
		all = slices.CompactFunc(all, func(a, b analytics.Event) bool { return a.ID == b.ID })
		mustInsert(t, s, all, len(all))
		slices.SortFunc(all, func(a, b analytics.Event) int {
			if c := a.Timestamp.Compare(b.Timestamp); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		})

		var got []analytics.Event
		n := statements(t, func(ctx context.Context) {
			if err := s.Export(ctx, analytics.Range{}, analytics.Filter{}, func(e *analytics.Event) error {
				got = append(got, *e)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		})
		if want := int64(len(all)/exportPage + 1); n != want {
			t.Errorf("Export of %d events ran %d statements, want %d", len(all), n, want)
		}
		if idsOf(got) != idsOf(all) {
			t.Fatalf("Export returned %d events, not the %d stored in (ts, id) order", len(got), len(all))
		}

		r := analytics.Range{From: start.Add(20 * time.Minute).Add(500 * time.Millisecond), To: start.Add(170 * time.Minute)}
		f := analytics.Filter{Types: []string{"click", "login"}}
		var want []analytics.Event
		for _, e := range all {
			if r.Contains(e.Timestamp) && e.Type != "page_view" {
				want = append(want, e)
			}
		}
		if got := exportAll(t, s, r, f); idsOf(got) != idsOf(want) || len(want) < exportPage {
			t.Errorf("filtered export: %d events, want %d", len(got), len(want))
		}

		stop := errors.New("stop")
		seen := 0
		err := s.Export(context.Background(), analytics.Range{}, analytics.Filter{}, func(*analytics.Event) error {
			if seen++; seen == exportPage+1 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || seen != exportPage+1 {
			t.Errorf("callback error: %v after %d events", err, seen)
		}
	})
}

// TestDeleteBefore keeps the rollup in step: whole days disappear from it,
// the day of the cut is decremented.
func TestDeleteBefore(t *testing.T) {
	each(t, func(t *testing.T, s *Store, _ *database.DB) {
		ctx := context.Background()
		mustInsert(t, s, queryFixture(t), 9)
		// 2026-03-04 13:00 in UTC+2 = 11:00 UTC: q01–q04 go (q04 at midnight
		// of the cut's day, q05 at noon stays).
		cut := time.Date(2026, 3, 4, 13, 0, 0, 0, time.FixedZone("EET", 2*3600))
		n, err := s.DeleteBefore(ctx, cut)
		if err != nil || n != 4 {
			t.Fatalf("DeleteBefore = %d, %v; want 4", n, err)
		}
		checkRollup(t, s)
		if got := idsOf(exportAll(t, s, analytics.Range{}, analytics.Filter{})); got != "q05 q06 q07 q08 q09" {
			t.Errorf("left %s", got)
		}
		dist, err := s.EventDistribution(ctx, analytics.Range{}, analytics.Filter{})
		if err != nil || distString(dist) != "click:3 purchase:2" {
			t.Errorf("distribution after delete = %s, %v", distString(dist), err)
		}
		if n, err := s.DeleteBefore(ctx, cut); err != nil || n != 0 {
			t.Errorf("second DeleteBefore = %d, %v", n, err)
		}
		if n, err := s.DeleteBefore(ctx, at("2027-01-01 00:00")); err != nil || n != 5 {
			t.Errorf("DeleteBefore(all) = %d, %v", n, err)
		}
		checkRollup(t, s)
		var rows int
		if err := scanOne(ctx, s.db.Driver, "SELECT COUNT(*) FROM event_counts_daily", nil, &rows); err != nil || rows != 0 {
			t.Errorf("rollup keeps %d rows (%v) for no events", rows, err)
		}
	})
}
