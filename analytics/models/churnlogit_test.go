package models

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// synthChurn draws histories and outcomes from a known ChurnLogit.
func synthChurn(rng *rand.Rand, truth ChurnLogit, n int, h float64) (pred, x, tx, T []float64, obs []bool) {
	pred, x, tx, T, obs = make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]bool, n)
	for i := range n {
		T[i] = 5 + 35*rng.Float64()
		x[i] = float64(rng.IntN(1 + rng.IntN(12)))
		if x[i] > 0 {
			tx[i] = T[i] * rng.Float64()
		}
		pred[i] = 0.05 + 0.9*rng.Float64()
		obs[i] = rng.Float64() < truth.Prob(pred[i], x[i], tx[i], T[i], h)
	}
	return
}

// TestFitChurnLogitRecovers: outcomes drawn from a known model, whose
// frequency and recency terms carry signal beyond p, are fitted back.
func TestFitChurnLogitRecovers(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	truth := ChurnLogit{Intercept: 0.6, Model: 0.4, Frequency: -1, Gap: 0.9}
	const h = 20
	pred, x, tx, T, obs := synthChurn(rng, truth, 30000, h)
	got, err := FitChurnLogit(pred, x, tx, T, h, obs)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range [][3]float64{
		{got.Intercept, truth.Intercept, 0.15},
		{got.Model, truth.Model, 0.05},
		{got.Frequency, truth.Frequency, 0.08},
		{got.Gap, truth.Gap, 0.1},
	} {
		if math.Abs(c[0]-c[1]) > c[2] {
			t.Errorf("fitted %+v, truth %+v", *got, truth)
			break
		}
	}
	// It ranks the outcomes better than p alone, which ignores the signal.
	fitted := make([]float64, len(pred))
	for i := range pred {
		fitted[i] = got.Prob(pred[i], x[i], tx[i], T[i], h)
	}
	if a, b := auc(fitted, obs), auc(pred, obs); a < b+0.05 {
		t.Errorf("AUC %.4f, p alone %.4f", a, b)
	}
}

func TestFitChurnLogitRejects(t *testing.T) {
	n := 50
	p, x, tx, T := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	obs := make([]bool, n)
	for i := range p {
		p[i], T[i] = 0.5, 10
	}
	if _, err := FitChurnLogit(p, x, tx, T, 10, obs); !errors.Is(err, ErrInsufficientData) {
		t.Errorf("one class: %v", err)
	}
	obs[0] = true
	if _, err := FitChurnLogit(p[:5], x[:5], tx[:5], T[:5], 10, obs[:5]); !errors.Is(err, ErrInsufficientData) {
		t.Errorf("5 outcomes: %v", err)
	}
	if _, err := FitChurnLogit(p, x[:3], tx, T, 10, obs); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("length mismatch: %v", err)
	}
	for _, h := range []float64{0, -1, math.NaN(), math.Inf(1)} {
		if _, err := FitChurnLogit(p, x, tx, T, h, obs); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("horizon %v: %v", h, err)
		}
	}
	// Every feature constant: the fit is the base rate, finite.
	l, err := FitChurnLogit(p, x, tx, T, 10, obs)
	if err != nil {
		t.Fatal(err)
	}
	if l.Model != 0 || l.Frequency != 0 || l.Gap != 0 || math.Abs(sigmoid(l.Intercept)-1.0/50) > 0.01 {
		t.Errorf("constant features: %+v", *l)
	}
	// Perfectly separated by frequency, with garbage histories mixed in:
	// the ridge keeps it finite.
	for i := range p {
		x[i], tx[i], obs[i] = float64(i%2), 5, i%2 == 0
		p[i] = float64(i) / float64(n)
	}
	x[3], tx[4], T[5], p[6] = math.NaN(), math.Inf(1), -3, math.NaN()
	l, err = FitChurnLogit(p, x, tx, T, 10, obs)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []float64{l.Intercept, l.Model, l.Frequency, l.Gap} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("separable: %+v", *l)
		}
	}
}

// TestChurnLogitProbNeverNaN: any input gives a probability in [0, 1].
func TestChurnLogitProbNeverNaN(t *testing.T) {
	bad := []float64{0, 1, 1e-300, 1e300, -1, math.NaN(), math.Inf(1), math.Inf(-1)}
	models := []*ChurnLogit{nil, {}, {Intercept: 0.6, Model: 0.4, Frequency: -1, Gap: 0.9}, {Intercept: 1e300, Model: -1e300, Frequency: 1e300, Gap: -1e300}}
	for _, l := range models {
		for _, p := range append(bad, 0.3) {
			for _, x := range bad {
				for _, tx := range bad {
					for _, T := range bad {
						for _, h := range bad {
							v := l.Prob(p, x, tx, T, h)
							if math.IsNaN(v) || v < 0 || v > 1 {
								t.Fatalf("%+v Prob(%v, %v, %v, %v, %v) = %v", l, p, x, tx, T, h, v)
							}
						}
					}
				}
			}
		}
	}
}

// TestChurnProbServesLearned: Churn.Prob uses the learned model when the
// calibration has one, the Platt mapping otherwise.
func TestChurnProbServesLearned(t *testing.T) {
	m := publishedBGNBD
	l := &ChurnLogit{Intercept: 0.6, Model: 0.4, Frequency: -1, Gap: 0.9}
	platt := &Calibration{A: 1.1, B: -0.3}
	both := &Calibration{A: 1.1, B: -0.3, Learned: l}
	for _, h := range [][3]float64{{0, 0, 38}, {2, 30.43, 38.86}, {10, 5, 38}} {
		p := m.ProbNoPurchase(39, h[0], h[1], h[2])
		if got, want := (Churn{Horizon: 39, Calib: both}).Prob(m, h[0], h[1], h[2]), l.Prob(p, h[0], h[1], h[2], 39); got != want {
			t.Errorf("%v: served %v, learned model says %v", h, got, want)
		}
		if got, want := (Churn{Horizon: 39, Calib: platt}).Prob(m, h[0], h[1], h[2]), platt.Apply(p); got != want {
			t.Errorf("%v: served %v, Platt says %v", h, got, want)
		}
	}
}

// TestFitChurnCalibrationSmallKeepsPlatt: below minLearnedCustomers the
// calibration is Platt only.
func TestFitChurnCalibrationSmallKeepsPlatt(t *testing.T) {
	// Sample ids 0001..0199: the first 199 customers.
	var txs []Transaction
	for _, tx := range cdnowTransactions(t) {
		if tx.Customer < fmt.Sprintf("%04d", minLearnedCustomers) {
			txs = append(txs, tx)
		}
	}
	c, err := FitChurnCalibration(context.Background(), txs, cdnowCalibrationEnd, week, 39)
	if err != nil {
		t.Fatal(err)
	}
	if c.Customers != minLearnedCustomers-1 || c.Learned != nil {
		t.Errorf("%d customers, learned %v", c.Customers, c.Learned)
	}
}
