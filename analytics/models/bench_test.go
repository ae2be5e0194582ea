package models

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"
)

func newSource() rand.Source { return rand.NewPCG(42, 7) }

// BenchmarkFitCDNOW fits both models on the CDNOW summaries (2,357
// customers; 946 repeat buyers for the spend model). Target: < 1 s.
func BenchmarkFitCDNOW(b *testing.B) {
	rfm := readSummaryCSV(b, "cdnow_customers_summary_with_transactions.csv")
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, err := FitBGNBD(ctx, rfm); err != nil {
			b.Fatal(err)
		}
		if _, err := FitGammaGamma(ctx, rfm); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScore100k scores 100,000 synthetic customers in days, as the API
// would: P(alive), expected purchases and churn over 30 days, spend and a
// 12-month CLV (12 conditional expectations each). Target: < 1 s per op.
func BenchmarkScore100k(b *testing.B) {
	rng := rand.New(newSource())
	customers := make([]RFM, 100_000)
	for i := range customers {
		T := 730 * rng.Float64() // up to two years old, many brand new
		x := float64(rng.IntN(1 + rng.IntN(60)))
		tx := 0.0
		if x > 0 {
			tx = T * rng.Float64()
		}
		customers[i] = RFM{Frequency: x, Recency: tx, T: T, Monetary: 5 + 100*rng.Float64()}
	}
	// CDNOW's weekly fit expressed in days.
	bg := publishedBGNBD
	bg.Alpha *= 7
	s, err := NewScorer(bg, publishedGG, Churn{Horizon: 30, Calib: &Calibration{A: 1.1, B: -0.3, Learned: &ChurnLogit{Intercept: 0.6, Model: 0.4, Frequency: -1, Gap: 0.9}}}, DefaultCLVOptions(24*time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		var sink float64
		for _, c := range customers {
			sc := s.Score(c)
			sink += sc.CLV + sc.ChurnProbability
		}
		if sink <= 0 {
			b.Fatal("no value")
		}
	}
}
