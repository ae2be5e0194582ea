package engine_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/analytics/engine"
	"github.com/meridian-graphql/meridian/analytics/sqlstore"
	"github.com/meridian-graphql/meridian/ent"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/platform/database"
	"github.com/meridian-graphql/meridian/seed"
)

// demo seeds users with orders and events into db and returns a fitted
// engine over them.
func demo(t *testing.T, db *database.DB, users int) (*engine.Engine, *sqlstore.Store) {
	t.Helper()
	ctx := context.Background()
	events, err := sqlstore.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	opts := seed.Options{Users: users, Seed: 7}
	if _, err := seed.Generate(ctx, db.Client, opts); err != nil {
		t.Fatal(err)
	}
	if _, err := seed.Events(ctx, db.Client, events, opts); err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(engine.Config{Client: db.Client, Events: events})
	if err != nil {
		t.Fatal(err)
	}
	return e, events
}

func checkScore(t *testing.T, id int, s *engine.Score) {
	t.Helper()
	for name, v := range map[string]float64{"churn": s.ChurnProbability, "pAlive": s.PAlive} {
		if math.IsNaN(v) || v < 0 || v > 1 {
			t.Errorf("user %d: %s = %v, want a probability", id, name, v)
		}
	}
	for name, v := range map[string]float64{"ltv": s.LTV, "engagement": s.EngagementScore} {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			t.Errorf("user %d: %s = %v", id, name, v)
		}
	}
	if s.EngagementScore > 100 {
		t.Errorf("user %d: engagement %v > 100", id, s.EngagementScore)
	}
	if n := s.NextPurchaseInDays; n != nil && (math.IsNaN(*n) || *n < 0 || math.IsInf(*n, 0)) {
		t.Errorf("user %d: next purchase in %v days", id, *n)
	}
	if e, err := s.ExpectedPurchases(90); err != nil || math.IsNaN(e) || e < 0 {
		t.Errorf("user %d: expected purchases %v, %v", id, e, err)
	}
	if s.SegmentReason == "" {
		t.Errorf("user %d: segment %s without a reason", id, s.Segment)
	}
}

// TestFitOnDemoData: every user is scored and in exactly one segment with
// its reason, numbers in range; the report adds up; a VIP's value is at
// least every non-VIP's; users created after the fit are scored on demand.
func TestFitOnDemoData(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e, _ := demo(t, db, 400)
		st, err := e.Refit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.FittedAt == nil || st.Parameters == nil || st.ScoredUsers != 400 || st.TrainingUsers == 0 || st.Error != nil {
			t.Fatalf("status = %+v", st)
		}
		ids, err := db.Client.User.Query().IDs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		scores, err := e.Profiles(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		counts := map[engine.Segment]int{}
		minVIP, maxOther := math.Inf(1), 0.0
		for _, id := range ids {
			s := scores[id]
			if s == nil {
				t.Fatalf("user %d not scored", id)
			}
			checkScore(t, id, s)
			counts[s.Segment]++
			if s.Segment == engine.VIP {
				minVIP = math.Min(minVIP, s.LTV)
			} else if s.Segment != engine.Dormant {
				maxOther = math.Max(maxOther, s.LTV)
			}
		}
		if counts[engine.VIP] == 0 || counts[engine.Active]+counts[engine.AtRisk] == 0 {
			t.Errorf("segments = %v: the demo data has VIPs and live customers", counts)
		}
		if minVIP < maxOther {
			t.Errorf("a non-VIP (%.2f) is worth more than a VIP (%.2f)", maxOther, minVIP)
		}
		rows, err := e.Report(ctx)
		if err != nil {
			t.Fatal(err)
		}
		users, share := 0, 0.0
		for _, r := range rows {
			users += r.Users
			share += r.Share
			if r.Users != counts[r.Segment] || r.Insight == "" {
				t.Errorf("report row %+v, counted %d", r, counts[r.Segment])
			}
		}
		if users != len(ids) || math.Abs(share-1) > 1e-9 {
			t.Errorf("report covers %d users (share %v), want %d", users, share, len(ids))
		}

		// A user created after the fit is scored on demand, with no
		// orders: low confidence, finite numbers.
		u, err := db.Client.User.Create().SetUsername("newcomer").SetEmail("newcomer@example.org").Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.Profiles(ctx, []int{u.ID})
		if err != nil || got[u.ID] == nil {
			t.Fatalf("newcomer: %v, %v", got, err)
		}
		checkScore(t, u.ID, got[u.ID])
		if got[u.ID].Confidence != engine.Low {
			t.Errorf("newcomer confidence %s", got[u.ID].Confidence)
		}
		recs, err := e.Recommendations(ctx, []int{ids[0], u.ID}, 5)
		if err != nil || len(recs[ids[0]]) != 5 || len(recs[u.ID]) != 5 {
			t.Fatalf("recommendations = %v, %v", recs, err)
		}
	})
}

// TestDegenerateData: no orders at all, a single customer, zero-value and
// future-dated orders all give defined, finite scores.
func TestDegenerateData(t *testing.T) {
	ctx := context.Background()
	db := testdb.Open(t, "sqlite")
	e, err := engine.New(engine.Config{Client: db.Client})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(name string) *ent.User {
		u, err := db.Client.User.Create().SetUsername(name).SetEmail(name + "@example.org").Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	a, b := mk("alice"), mk("bob")

	// No orders at all: nothing predicts a purchase.
	st, err := e.Refit(ctx)
	if err != nil {
		t.Fatalf("fit without orders: %v", err)
	}
	if st.Parameters != nil || st.TrainingUsers != 0 || st.ScoredUsers != 2 {
		t.Errorf("status without orders = %+v", st)
	}
	got, err := e.Profiles(ctx, []int{a.ID, b.ID})
	if err != nil {
		t.Fatal(err)
	}
	for id, s := range got {
		checkScore(t, id, s)
		if s.ChurnProbability != 1 || s.LTV != 0 || s.NextPurchaseInDays != nil {
			t.Errorf("no-order store: user %d = %+v", id, s)
		}
	}

	// One customer with a zero-value order, a repeat, and an order dated
	// in the future.
	p, err := db.Client.Product.Create().SetSku("FREE-1").SetName("Sample").SetCategory("books").SetPrice(0).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for _, at := range []time.Time{now.AddDate(0, 0, -40), now.AddDate(0, 0, -10), now.AddDate(0, 0, 30)} {
		if _, err := db.Client.Order.Create().SetUserID(a.ID).SetProductID(p.ID).SetAmount(0).SetQuantity(1).SetCreatedAt(at).Save(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.Refit(ctx); err != nil {
		// A single customer may not identify the model; the failure must be
		// reported, and the previous fit keep serving.
		if st := e.Status(); st.Error == nil {
			t.Errorf("failed refit not reported in status: %+v", st)
		}
	}
	got, err = e.Profiles(ctx, []int{a.ID, b.ID})
	if err != nil {
		t.Fatal(err)
	}
	for id, s := range got {
		checkScore(t, id, s)
	}
}
