package recs

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// synthetic makes n interactions with latent tastes, the shape of the demo
// at a larger scale: users users, each with one or two favourite of cats
// categories of perCat items, item popularity log-normal within a
// category, a purchase in a fifth of the interactions, carts and views in
// the rest, spread over a year.
func synthetic(n, users, cats, perCat int) ([]Interaction, map[int]string) {
	r := rand.New(rand.NewPCG(7, 11))
	pop := make([][]float64, cats) // cumulative popularity per category
	for c := range pop {
		sum := 0.0
		for range perCat {
			sum += math.Exp(r.NormFloat64())
			pop[c] = append(pop[c], sum)
		}
	}
	countries := []string{"UA", "PL", "DE", "FR", "US", "BR", "JP", "IN"}
	userCountry := make(map[int]string, users)
	favs := make([][2]int, users)
	for u := range users {
		userCountry[u+1] = countries[r.IntN(len(countries))]
		favs[u] = [2]int{r.IntN(cats), r.IntN(cats)}
	}
	out := make([]Interaction, n)
	for k := range out {
		u := r.IntN(users)
		c := favs[u][0]
		switch x := r.Float64(); {
		case x < 0.3:
			c = favs[u][1]
		case x < 0.4:
			c = r.IntN(cats) // some noise
		}
		p := pop[c]
		i := 0
		for x := r.Float64() * p[len(p)-1]; p[i] < x; i++ {
		}
		w := WeightView
		switch x := r.Float64(); {
		case x < 0.2:
			w = WeightPurchase
		case x < 0.5:
			w = WeightAddToCart
		}
		out[k] = Interaction{User: u + 1, Item: 1 + c*perCat + i, At: t0().Add(-time.Duration(r.Int64N(int64(365 * 24 * time.Hour)))), Weight: w}
	}
	return out, userCountry
}

func BenchmarkTrain100k(b *testing.B) {
	in, countries := synthetic(100_000, 10_000, 20, 100)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Train(context.Background(), in, countries, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTrain100kDecayJaccard(b *testing.B) {
	in, countries := synthetic(100_000, 10_000, 20, 100)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Train(context.Background(), in, countries, Options{Similarity: Jaccard, HalfLife: 90 * 24 * time.Hour}); err != nil {
			b.Fatal(err)
		}
	}
}

func benchModel(b *testing.B) (*Model, map[int]string) {
	b.Helper()
	in, countries := synthetic(100_000, 10_000, 20, 100)
	return train(b, in, countries, Options{}), countries
}

func BenchmarkRecommend(b *testing.B) {
	m, countries := benchModel(b)
	b.ReportAllocs()
	u := 0
	for b.Loop() {
		u = u%10_000 + 1
		if len(m.Recommend(u, countries[u], 10)) != 10 {
			b.Fatal("short list")
		}
	}
}

func BenchmarkRecommendColdStart(b *testing.B) {
	m, _ := benchModel(b)
	b.ReportAllocs()
	for b.Loop() {
		if len(m.Recommend(-1, "UA", 10)) != 10 {
			b.Fatal("short list")
		}
	}
}

// BenchmarkRecommendMany100 scores a GraphQL level of 100 users at once.
func BenchmarkRecommendMany100(b *testing.B) {
	m, countries := benchModel(b)
	users := make([]int, 100)
	for k := range users {
		users[k] = 1 + k*97
	}
	b.ReportAllocs()
	for b.Loop() {
		if out := m.RecommendMany(users, countries, 10); len(out[99]) != 10 {
			b.Fatal("short list")
		}
	}
}
