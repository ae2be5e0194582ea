package recs

import (
	"bytes"
	"context"
	"math"
	"strings"
	"testing"
	"unicode/utf8"
)

// evalData: users 1–3 have one purchase each and are not evaluated; user
// 9's last purchase (30 at minute 1000) is held out, and so are the cart of
// the same item ten minutes earlier (its session) and a later view; user 8
// re-buys 20, a repeat no list may contain.
func evalData() []Interaction {
	return []Interaction{
		buy(1, 10, 0), {User: 1, Item: 20, At: at(0), Weight: WeightAddToCart},
		buy(2, 10, 0), {User: 2, Item: 30, At: at(0), Weight: WeightAddToCart},
		buy(3, 20, 0),
		buy(9, 10, 100),
		{User: 9, Item: 30, At: at(990), Weight: WeightAddToCart},
		buy(9, 30, 1000),
		{User: 9, Item: 40, At: at(1060), Weight: WeightView},
		buy(8, 20, 0), buy(8, 20, 500),
	}
}

func TestEvaluateLeaveLastOut(t *testing.T) {
	r, err := EvaluateLeaveLastOut(context.Background(), evalData(), nil, 10, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Trained on users 1–3 (5 interactions), 9's first purchase and 8's
	// first: 9's cart in the held-out session and later view are cut.
	if r.Users != 2 || r.Repeats != 1 || r.Interactions != 7 {
		t.Errorf("users %d, repeats %d, interactions %d; want 2, 1, 7", r.Users, r.Repeats, r.Interactions)
	}
	// User 9 bought 10. Its neighbours: 30 (only user 2, who also has just
	// 10 and 30, shares it) beats 20, so CF ranks the held-out 30 first;
	// popularity ranks 20 (users 1, 3, 8) before 30. User 8 is a miss for
	// both: NDCG is (1 + 0)/2 for CF, (1/log2(3) + 0)/2 for popularity.
	check := func(name string, got Metrics, ndcg float64) {
		t.Helper()
		want := Metrics{Precision: 0.5 / 10, Recall: 0.5, NDCG: ndcg}
		if !near(got.Precision, want.Precision) || !near(got.Recall, want.Recall) || !near(got.NDCG, want.NDCG) {
			t.Errorf("%s = %+v, want %+v", name, got, want)
		}
	}
	check("model", r.Model, 0.5)
	check("baseline", r.Baseline, 0.5/math.Log2(3))
	check("global", r.Global, 0.5/math.Log2(3))

	var b bytes.Buffer
	if err := r.Print(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"item-item CF (cosine, K=50, α=0.8, shrink 20)", "popularity in country", "popularity overall", "CF / popularity in country", "1.58×", "precision@10", "NDCG@10"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	// The table's columns line up: every row starts its second column at
	// the same offset, in characters (the names have non-ASCII ones).
	var col int
	for _, line := range strings.Split(out, "\n") {
		if i := strings.Index(line, "0.0500"); i >= 0 {
			i = utf8.RuneCountInString(line[:i])
			if col != 0 && i != col {
				t.Errorf("misaligned row %q:\n%s", line, out)
			}
			col = i
		}
	}
}

func TestEvaluateErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := EvaluateLeaveLastOut(ctx, evalData(), nil, 0, Options{}); err == nil {
		t.Error("k = 0 accepted")
	}
	if _, err := EvaluateLeaveLastOut(ctx, []Interaction{buy(1, 1, 0), buy(2, 1, 0)}, nil, 10, Options{}); err == nil {
		t.Error("no user with 2 purchases accepted")
	}
	if _, err := EvaluateLeaveLastOut(ctx, evalData(), nil, 10, Options{Neighbors: -1}); err == nil {
		t.Error("bad options accepted")
	}
}
