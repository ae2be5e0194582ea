package recs

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// handMade: three users, three items.
//
//	       item 10  item 20  item 30
//	user 1    1        1        ·
//	user 2    1        2        1
//	user 3    ·        ·        1
//
// Columns: 10 = (1,1,0), |10| = √2; 20 = (1,2,0), |20| = √5; 30 = (0,1,1),
// |30| = √2. Co-occurring users: 10&20 {1,2}, 10&30 {2}, 20&30 {2}.
func handMade() []Interaction {
	return []Interaction{
		buy(1, 10, 0), buy(1, 20, 1),
		buy(2, 10, 2), buy(2, 20, 3), buy(2, 20, 4), buy(2, 30, 5),
		buy(3, 30, 6),
	}
}

func TestCosineByHand(t *testing.T) {
	m := train(t, handMade(), nil, Options{Shrink: -1, Alpha: 0.5})
	for _, c := range []struct {
		i, j int
		want float64
	}{
		{10, 20, 3 / math.Sqrt(10)}, // (1·1 + 1·2) / (√2·√5)
		{20, 10, 3 / math.Sqrt(10)},
		{10, 30, 0.5},               // 1 / (√2·√2)
		{20, 30, 2 / math.Sqrt(10)}, // 2 / (√5·√2)
		{30, 20, 2 / math.Sqrt(10)},
	} {
		if got := similarity(m, c.i, c.j); !near(got, c.want) {
			t.Errorf("cosine(%d, %d) = %v, want %v", c.i, c.j, got, c.want)
		}
	}
	// Neighbours are ordered by similarity: 20 is nearer to 10 than 30.
	if got := items(m.Similar(10, 5)); !slices.Equal(got, []int{20, 30}) {
		t.Errorf("Similar(10) = %v, want [20 30]", got)
	}
}

func TestAsymmetricCosineByHand(t *testing.T) {
	// Alpha 1: sim(i, j) = dot(i, j) / |i|², the share of i's squared
	// weight that j's users share — no longer symmetric.
	m := train(t, handMade(), nil, Options{Shrink: -1, Alpha: 1})
	for _, c := range []struct {
		i, j int
		want float64
	}{
		{10, 20, 3.0 / 2}, // dot 3, |10|² = 2
		{20, 10, 3.0 / 5}, // |20|² = 5
		{10, 30, 1.0 / 2},
		{30, 20, 2.0 / 2},
		{20, 30, 2.0 / 5},
	} {
		if got := similarity(m, c.i, c.j); !near(got, c.want) {
			t.Errorf("asymmetric cosine(%d → %d) = %v, want %v", c.i, c.j, got, c.want)
		}
	}
	// The default 0.8: dot / (|i|^1.6 · |j|^0.4).
	m = train(t, handMade(), nil, Options{Shrink: -1})
	want := 3 / (math.Pow(2, 0.8) * math.Pow(5, 0.2))
	if got := similarity(m, 10, 20); !near(got, want) {
		t.Errorf("default cosine(10 → 20) = %v, want %v", got, want)
	}
}

func TestShrinkByHand(t *testing.T) {
	// Shrink 1: × n/(n+1) with n = 2 common users for 10&20, 1 for the rest.
	m := train(t, handMade(), nil, Options{Shrink: 1, Alpha: 0.5})
	for _, c := range []struct {
		i, j int
		want float64
	}{
		{10, 20, 3 / math.Sqrt(10) * 2 / 3},
		{10, 30, 0.5 * 1 / 2},
		{20, 30, 2 / math.Sqrt(10) * 1 / 2},
	} {
		if got := similarity(m, c.i, c.j); !near(got, c.want) {
			t.Errorf("shrunk cosine(%d, %d) = %v, want %v", c.i, c.j, got, c.want)
		}
	}
}

func TestJaccardByHand(t *testing.T) {
	// Users: 10 {1,2}, 20 {1,2}, 30 {2,3}. Weights do not matter.
	m := train(t, handMade(), nil, Options{Similarity: Jaccard, Shrink: -1})
	for _, c := range []struct {
		i, j int
		want float64
	}{
		{10, 20, 1},      // 2 / 2
		{10, 30, 1. / 3}, // 1 / 3
		{20, 30, 1. / 3},
	} {
		if got := similarity(m, c.i, c.j); !near(got, c.want) {
			t.Errorf("jaccard(%d, %d) = %v, want %v", c.i, c.j, got, c.want)
		}
	}
}

func TestTimeDecayByHand(t *testing.T) {
	// With a one-hour half life, user 2's purchase of 20 two hours before
	// the latest interaction weighs ¼: column 20 = (1, ¼), column 10 =
	// (1, 1) (both at the end), cosine = (1 + ¼) / (√2 · √(1 + 1/16)).
	in := []Interaction{
		buy(1, 10, 120), buy(1, 20, 120),
		buy(2, 10, 120), buy(2, 20, 0),
	}
	m := train(t, in, nil, Options{Shrink: -1, Alpha: 0.5, HalfLife: time.Hour})
	want := 1.25 / (math.Sqrt2 * math.Sqrt(1+1.0/16))
	if got := similarity(m, 10, 20); !near(got, want) {
		t.Errorf("decayed cosine = %v, want %v", got, want)
	}
	// Popularity decays too: 10 has 2, 20 has 1¼.
	if got := m.Popular("", 2); !near(got[0].Score, 2) || !near(got[1].Score, 1.25) {
		t.Errorf("decayed popularity = %+v", got)
	}
}

func TestNeighborsKeepsTopK(t *testing.T) {
	// Item 1 co-occurs with 2, 3, 4 in 3, 2 and 1 users: K=2 keeps 2 and 3.
	in := []Interaction{
		buy(1, 1, 0), buy(1, 2, 0), buy(1, 3, 0), buy(1, 4, 0),
		buy(2, 1, 0), buy(2, 2, 0), buy(2, 3, 0),
		buy(3, 1, 0), buy(3, 2, 0),
	}
	m := train(t, in, nil, Options{Neighbors: 2, Similarity: Jaccard, Shrink: -1})
	if got := items(m.Similar(1, 10)); !slices.Equal(got, []int{2, 3}) {
		t.Errorf("top-2 neighbours of 1 = %v, want [2 3]", got)
	}
}

func TestRecommendScoresAndExcludesBought(t *testing.T) {
	m := train(t, handMade(), nil, Options{Shrink: -1, Alpha: 0.5})
	// User 1 bought 10 and 20: only 30 is left, scored sim(10,30)·1 +
	// sim(20,30)·1; the catalogue then runs out, whatever the limit.
	got := m.Recommend(1, "", 5)
	want := []Scored{{Item: 30, Score: 0.5 + 2/math.Sqrt(10), Reason: ReasonBought}}
	if len(got) != 1 || got[0].Item != 30 || !near(got[0].Score, want[0].Score) || got[0].Reason != ReasonBought {
		t.Errorf("Recommend(1) = %+v, want %+v", got, want)
	}
	// User 3 bought 30: 20 (sim 2/√10) before 10 (sim 0.5).
	if got := items(m.Recommend(3, "", 5)); !slices.Equal(got, []int{20, 10}) {
		t.Errorf("Recommend(3) = %v, want [20 10]", got)
	}
}

func TestRecommendWeightsByUserWeight(t *testing.T) {
	// User 9 bought 30 and bought 10 twice: score(20) = 2·sim(10,20) +
	// 1·sim(30,20), the user's weight on each item times its similarity.
	in := append(handMade(), buy(9, 10, 10), buy(9, 10, 11), buy(9, 30, 12))
	m := train(t, in, nil, Options{Shrink: -1})
	got := m.Recommend(9, "", 1)
	want := 2*similarity(m, 10, 20) + similarity(m, 30, 20)
	if len(got) != 1 || got[0].Item != 20 || !near(got[0].Score, want) {
		t.Errorf("Recommend(9) = %+v, want item 20 scored %v", got, want)
	}
}

func TestCartedItemsStayEligible(t *testing.T) {
	// User 5 only carted 10 (weight below PurchaseWeight): 10 is interest,
	// not ownership, so popularity may still offer it, and the collaborative
	// reason says "viewed".
	in := append(handMade(), Interaction{User: 5, Item: 10, At: at(30), Weight: WeightAddToCart})
	m := train(t, in, nil, Options{})
	got := m.Recommend(5, "", 3)
	if !slices.Contains(items(got), 10) {
		t.Errorf("carted item 10 missing from %+v", got)
	}
	if got[0].Reason != ReasonViewed {
		t.Errorf("reason %q, want %q", got[0].Reason, ReasonViewed)
	}
	// With PurchaseWeight at the cart weight, the cart counts as bought.
	m = train(t, in, nil, Options{PurchaseWeight: WeightAddToCart})
	if got := items(m.Recommend(5, "", 3)); slices.Contains(got, 10) {
		t.Errorf("item 10 bought (PurchaseWeight 0.3) but recommended: %v", got)
	}
}

func TestColdStartFallsBackToCountryThenGlobal(t *testing.T) {
	// Country UA: user 1 (10, 20 once each). PL: user 2. User 3: nowhere.
	countries := map[int]string{1: "UA", 2: "PL"}
	m := train(t, handMade(), countries, Options{CountryPrior: -1})

	// A new user in UA: UA's best-sellers (10 and 20 tie: by id), then the
	// rest of the world's (30).
	got := m.Recommend(99, "UA", 10)
	if ids := items(got); !slices.Equal(ids, []int{10, 20, 30}) {
		t.Fatalf("cold start in UA = %v, want [10 20 30]", ids)
	}
	for k, reason := range []string{"popular in UA", "popular in UA", "popular overall"} {
		if got[k].Reason != reason {
			t.Errorf("item %d reason %q, want %q", got[k].Item, got[k].Reason, reason)
		}
	}
	// PL: user 2 bought 20 twice, 10 and 30 once.
	if ids := items(m.Recommend(99, "PL", 10)); !slices.Equal(ids, []int{20, 10, 30}) {
		t.Errorf("cold start in PL = %v, want [20 10 30]", ids)
	}
	// Unknown or no country: global (20: 3, 10: 2, 30: 2).
	for _, c := range []string{"", "ZZ"} {
		got := m.Recommend(99, c, 10)
		if ids := items(got); !slices.Equal(ids, []int{20, 10, 30}) || got[0].Reason != "popular overall" {
			t.Errorf("cold start in %q = %+v, want [20 10 30] popular overall", c, got)
		}
	}
	// A known user's short CF list is filled the same way: user 3 bought
	// 30, CF gives 20 and 10, nothing is left to fill.
	if got := m.Recommend(3, "UA", 10); len(got) != 2 || got[0].Reason != ReasonBought {
		t.Errorf("Recommend(3, UA) = %+v", got)
	}
}

func TestCountryPriorSmoothsSmallCountries(t *testing.T) {
	// UA ties 10, 20 (1 each) and has no 30; with a prior of 7 pseudo-
	// purchases spread by global share (10: 2/7, 20: 3/7, 30: 2/7) the
	// scores are 10: 3, 20: 4, 30: 2 — the global favourite breaks the tie
	// and 30 is listed as popular in UA too.
	m := train(t, handMade(), map[int]string{1: "UA", 2: "PL"}, Options{CountryPrior: 7})
	got := m.Recommend(99, "UA", 3)
	if ids := items(got); !slices.Equal(ids, []int{20, 10, 30}) {
		t.Fatalf("smoothed UA = %v, want [20 10 30]", ids)
	}
	for k, want := range []float64{4, 3, 2} {
		if !near(got[k].Score, want) || got[k].Reason != "popular in UA" {
			t.Errorf("entry %d = %+v, want score %v popular in UA", k, got[k], want)
		}
	}
}

func TestDeterministicTies(t *testing.T) {
	// Items 2, 3 and 4 are each bought with 1 by one other user: equal
	// similarities, equal scores — ties go by item id, whatever the input
	// order or the number of times it is trained.
	in := []Interaction{
		buy(1, 1, 0),
		buy(2, 1, 1), buy(2, 4, 2),
		buy(3, 1, 3), buy(3, 2, 4),
		buy(4, 1, 5), buy(4, 3, 6),
	}
	want := []int{2, 3, 4}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		rng.Shuffle(len(in), func(i, j int) { in[i], in[j] = in[j], in[i] })
		m := train(t, in, nil, Options{})
		got := m.Recommend(1, "", 3)
		if ids := items(got); !slices.Equal(ids, want) {
			t.Fatalf("Recommend = %v, want %v", ids, want)
		}
		if got[0].Score != got[1].Score || got[1].Score != got[2].Score {
			t.Fatalf("scores should tie: %+v", got)
		}
	}
}

func TestLimits(t *testing.T) {
	m := train(t, handMade(), nil, Options{})
	for _, limit := range []int{0, -1} {
		got := m.Recommend(1, "UA", limit)
		if got == nil || len(got) != 0 {
			t.Errorf("Recommend(limit %d) = %#v, want empty non-nil", limit, got)
		}
		many := m.RecommendMany([]int{1, 2}, nil, limit)
		if len(many) != 2 || many[0] == nil || len(many[0]) != 0 {
			t.Errorf("RecommendMany(limit %d) = %#v", limit, many)
		}
		if got := m.Popular("", limit); got == nil || len(got) != 0 {
			t.Errorf("Popular(limit %d) = %#v", limit, got)
		}
		if got := m.Similar(10, limit); got == nil || len(got) != 0 {
			t.Errorf("Similar(limit %d) = %#v", limit, got)
		}
	}
	if got := m.Recommend(99, "", 1); len(got) != 1 || got[0].Item != 20 {
		t.Errorf("limit 1 = %+v", got)
	}
	// A huge limit lists every item the user has not bought, once.
	if got := items(m.Recommend(99, "", math.MaxInt)); !slices.Equal(got, []int{20, 10, 30}) {
		t.Errorf("huge limit = %v", got)
	}
	if got := m.Similar(12345, 3); got == nil || len(got) != 0 {
		t.Errorf("Similar(unknown) = %#v", got)
	}
}

func TestRecommendManyMatchesRecommend(t *testing.T) {
	in := append(handMade(), Interaction{User: 5, Item: 10, At: at(30), Weight: WeightView})
	countries := map[int]string{1: "UA", 2: "PL", 5: "UA"}
	m := train(t, in, countries, Options{})
	users := []int{3, 1, 99, 5, 2, 3}
	many := m.RecommendMany(users, countries, 2)
	for k, u := range users {
		if want := m.Recommend(u, countries[u], 2); !slices.Equal(many[k], want) {
			t.Errorf("RecommendMany[%d] (user %d) = %+v, want %+v", k, u, many[k], want)
		}
	}
	// The lists share a backing array; appending to one must not clobber
	// the next.
	next := slices.Clone(many[1])
	_ = append(many[0], Scored{Item: -1})
	if !slices.Equal(many[1], next) {
		t.Errorf("append to list 0 changed list 1: %+v", many[1])
	}
}

func TestNoNaN(t *testing.T) {
	check := func(name string, m *Model, users ...int) {
		t.Helper()
		for _, u := range users {
			for _, s := range m.Recommend(u, "UA", 10) {
				if math.IsNaN(s.Score) || math.IsInf(s.Score, 0) {
					t.Errorf("%s: user %d gets %+v", name, u, s)
				}
			}
		}
		for i := range m.items {
			for _, s := range m.Similar(m.items[i], 10) {
				if math.IsNaN(s.Score) || math.IsInf(s.Score, 0) || s.Score <= 0 {
					t.Errorf("%s: neighbour %+v of %d", name, s, m.items[i])
				}
			}
		}
	}
	// Only zero weights: an empty model that still answers.
	zero := []Interaction{{User: 1, Item: 1, At: t0()}, {User: 2, Item: 1, At: t0()}}
	m := train(t, zero, map[int]string{1: "UA"}, Options{})
	if m.Items() != 0 || len(m.Recommend(1, "UA", 5)) != 0 {
		t.Errorf("zero weights: %d items, %+v", m.Items(), m.Recommend(1, "UA", 5))
	}
	check("zero weights", m, 1, 2)
	// Nothing at all.
	check("empty", train(t, nil, nil, Options{}), 1)
	// One user: every pair of their items has cosine 1.
	single := []Interaction{buy(1, 1, 0), buy(1, 2, 0), buy(1, 3, 0)}
	m = train(t, single, nil, Options{Shrink: -1})
	if s := similarity(m, 1, 2); !near(s, 1) {
		t.Errorf("single user: sim = %v, want 1", s)
	}
	check("single user", m, 1, 2)
	// Weights decayed to exactly 0 (a nanosecond half life, a day old):
	// zero norms give similarity 0, not 0/0.
	decayed := []Interaction{buy(1, 1, 0), buy(1, 2, 0), buy(2, 1, 0), buy(2, 3, 1440)}
	m = train(t, decayed, nil, Options{HalfLife: time.Nanosecond})
	check("decayed to zero", m, 1, 2, 3)
	for _, j := range []int{2, 3} {
		if s := similarity(m, 1, j); s != 0 {
			t.Errorf("decayed: sim(1, %d) = %v, want 0", j, s)
		}
	}
}

func TestMaxUserItems(t *testing.T) {
	// User 1 has 3 items, the lightest of which (3) is dropped from the
	// similarity computation by MaxUserItems 2 — but still counts as bought.
	in := []Interaction{
		{User: 1, Item: 1, At: t0(), Weight: 3}, {User: 1, Item: 2, At: t0(), Weight: 2}, buy(1, 3, 0),
		buy(2, 3, 0), buy(2, 4, 0),
	}
	m := train(t, in, nil, Options{MaxUserItems: 2, Shrink: -1, Alpha: 0.5})
	if s := similarity(m, 1, 3); s != 0 {
		t.Errorf("sim(1, 3) = %v, want 0 (item 3 capped away for user 1)", s)
	}
	if s := similarity(m, 1, 2); !near(s, 1) {
		t.Errorf("sim(1, 2) = %v, want 1", s)
	}
	if got := items(m.Recommend(1, "", 5)); slices.Contains(got, 3) {
		t.Errorf("bought item 3 recommended: %v", got)
	}
}

func TestTrainRejectsBadInput(t *testing.T) {
	ctx := context.Background()
	for _, x := range []float64{-1, math.NaN(), math.Inf(1)} {
		_, err := Train(ctx, []Interaction{{User: 1, Item: 2, At: t0(), Weight: x}}, nil, Options{})
		if err == nil || !strings.Contains(err.Error(), "weight") {
			t.Errorf("weight %v: err = %v", x, err)
		}
	}
	for _, o := range []Options{
		{Similarity: Similarity(7)},
		{Neighbors: -1},
		{HalfLife: -time.Hour},
		{PurchaseWeight: -1},
		{Shrink: math.NaN()},
		{Alpha: 1.5},
		{Alpha: -0.5},
	} {
		if _, err := Train(ctx, handMade(), nil, o); err == nil {
			t.Errorf("options %+v accepted", o)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Train(cancelled, handMade(), nil, Options{}); err == nil {
		t.Error("Train on a cancelled context succeeded")
	}
}

func TestConcurrentRecommend(t *testing.T) {
	// Models are shared by request goroutines; run with -race.
	m := train(t, handMade(), map[int]string{1: "UA"}, Options{})
	want := m.Recommend(3, "UA", 3)
	done := make(chan []Scored)
	for range 8 {
		go func() {
			var last []Scored
			for range 200 {
				last = m.Recommend(3, "UA", 3)
			}
			done <- last
		}()
	}
	for range 8 {
		if got := <-done; !slices.Equal(got, want) {
			t.Errorf("concurrent Recommend = %+v, want %+v", got, want)
		}
	}
}
