package seed

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/meridian-graphql/meridian/analytics/recs"
)

// TestTuneDemo prints the evaluation of a grid of options on the demo data,
// the comparison behind DemoOptions. It takes a while, so it runs only when
// MERIDIAN_RECS_TUNE names the number of demo users.
func TestTuneDemo(t *testing.T) {
	users, _ := strconv.Atoi(os.Getenv("MERIDIAN_RECS_TUNE"))
	if users <= 0 {
		t.Skip("set MERIDIAN_RECS_TUNE=<users> to compare model options on the demo data")
	}
	ctx := context.Background()
	start := time.Now()
	seedValue, _ := strconv.ParseUint(os.Getenv("MERIDIAN_RECS_TUNE_SEED"), 10, 64)
	d, err := loadRecsDemo(ctx, users, max(seedValue, 1))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("demo loaded in %v: %d orders, %d carts", time.Since(start), len(d.orders), len(d.carts))
	for _, carts := range []bool{false, true} {
		in := d.interactions(carts)
		for _, o := range []recs.Options{
			{Shrink: -1, Alpha: 0.5},
			{Alpha: 0.5},
			{Alpha: 0.7},
			{Alpha: 0.9},
			{Alpha: 1},
			{Shrink: -1},
			{Shrink: 5},
			{Shrink: 50},
			{},
			{Neighbors: 20},
			{Neighbors: 100},
			{CountryPrior: -1},
			{CountryPrior: 20},
			{CountryPrior: 1000},
			{HalfLife: 90 * 24 * time.Hour},
			{HalfLife: 365 * 24 * time.Hour},
			{Similarity: recs.Jaccard, Shrink: -1},
			{Similarity: recs.Jaccard},
		} {
			r, err := recs.EvaluateLeaveLastOut(ctx, in, d.countries, 10, o)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("carts=%-5v %-52s prior %-5g P=%.4f R=%.4f NDCG=%.4f | country P=%.4f NDCG=%.4f | global NDCG=%.4f",
				carts, r.ModelName, o.CountryPrior, r.Model.Precision, r.Model.Recall, r.Model.NDCG,
				r.Baseline.Precision, r.Baseline.NDCG, r.Global.NDCG)
		}
	}
}
