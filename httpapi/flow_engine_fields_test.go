package httpapi_test

import (
	"context"
	"math"
	"testing"

	"github.com/meridian-graphql/meridian/analytics/engine"
	"github.com/meridian-graphql/meridian/analytics/sqlstore"
	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/httpapi"
	"github.com/meridian-graphql/meridian/internal/gqltest"
	"github.com/meridian-graphql/meridian/internal/testdb"
	"github.com/meridian-graphql/meridian/seed"
)

// TestEngineFields: profiles and recommendations of a page of users cost
// no statement per user — the scores come from the fit's snapshot, the
// recommended products from one batched load — every number is finite,
// and bad arguments are refused with BAD_USER_INPUT.
func TestEngineFields(t *testing.T) {
	ctx := context.Background()
	db := testdb.Open(t, "sqlite")
	events, err := sqlstore.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	opts := seed.Options{Users: 300, Seed: 3}
	if _, err := seed.Generate(ctx, db.Client, opts); err != nil {
		t.Fatal(err)
	}
	if _, err := seed.Events(ctx, db.Client, events, opts); err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(engine.Config{Client: db.Client, Events: events})
	if err != nil {
		t.Fatal(err)
	}
	c := gqltest.Serve(t, httpapi.Deps{DB: db, Auth: gqltest.Grant(auth.Admin), Events: events, Engine: eng})

	var st struct {
		RefitModels struct {
			FittedAt      *string
			TrainingUsers int
			ScoredUsers   int
			Parameters    struct{ R, Alpha, A, B float64 }
		}
	}
	c.MustDo(`mutation { refitModels { fittedAt trainingUsers scoredUsers parameters { r alpha a b } } }`, nil, &st)
	if st.RefitModels.FittedAt == nil || st.RefitModels.ScoredUsers != 300 || st.RefitModels.Parameters.R <= 0 {
		t.Fatalf("refit = %+v", st.RefitModels)
	}

	var page struct {
		Users struct {
			Edges []struct {
				Node struct {
					Profile struct {
						Segment            string
						SegmentReason      string
						EngagementScore    float64
						ChurnProbability   float64
						PAlive             float64
						ExpectedPurchases  float64
						NextPurchaseInDays *float64
						Ltv                float64
						Confidence         string
					}
					Recommendations []struct {
						Product struct{ Name string }
						Score   float64
						Reason  string
					}
				}
			}
		}
	}
	r := c.MustDo(`{ users(first: 100) { edges { node {
		profile { segment segmentReason engagementScore churnProbability pAlive expectedPurchases(days: 30) nextPurchaseInDays ltv confidence }
		recommendations(limit: 3) { product { name } score reason } } } } }`, nil, &page)
	if len(page.Users.Edges) != 100 {
		t.Fatalf("%d users", len(page.Users.Edges))
	}
	// users, then the recommended products: no statement for the scores.
	if r.Extensions.SQLStatements > 2 {
		t.Errorf("%d statements for 100 profiles and recommendations, want at most 2", r.Extensions.SQLStatements)
	}
	for _, e := range page.Users.Edges {
		p := e.Node.Profile
		if p.Segment == "" || p.SegmentReason == "" || p.ChurnProbability < 0 || p.ChurnProbability > 1 || p.PAlive < 0 || p.PAlive > 1 || math.IsNaN(p.Ltv) || p.ExpectedPurchases < 0 {
			t.Errorf("profile %+v", p)
		}
		if len(e.Node.Recommendations) != 3 || e.Node.Recommendations[0].Product.Name == "" || e.Node.Recommendations[0].Reason == "" {
			t.Errorf("recommendations %+v", e.Node.Recommendations)
		}
	}

	var rep struct {
		SegmentReport []struct {
			Segment string
			Users   int
			Share   float64
			Insight string
		}
	}
	c.MustDo(`{ segmentReport { segment users share avgLtv insight } }`, nil, &rep)
	total := 0
	for _, row := range rep.SegmentReport {
		total += row.Users
		if row.Insight == "" {
			t.Errorf("row %+v without insight", row)
		}
	}
	if len(rep.SegmentReport) != 4 || total != 300 {
		t.Errorf("segment report = %+v", rep.SegmentReport)
	}

	for _, q := range []string{
		`{ users(first: 1) { edges { node { profile { expectedPurchases(days: 0) } } } } }`,
		`{ users(first: 1) { edges { node { profile { expectedPurchases(days: 5000) } } } } }`,
		`{ users(first: 1) { edges { node { recommendations(limit: 0) { score } } } } }`,
		`{ users(first: 1) { edges { node { recommendations(limit: 51) { score } } } } }`,
	} {
		if e := c.ErrorCode(q, nil); e.Code() != "BAD_USER_INPUT" {
			t.Errorf("%s: code %q (%s)", q, e.Code(), e.Message)
		}
	}
}
