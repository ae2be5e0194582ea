package models

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

func TestCalibrationApply(t *testing.T) {
	var none *Calibration
	identity := &Calibration{A: 1, B: 0}
	for _, p := range []float64{0, 1e-6, 0.3, 0.5, 0.9, 1} {
		if got := none.Apply(p); got != p {
			t.Errorf("nil calibration changed %v to %v", p, got)
		}
		if got := identity.Apply(p); math.Abs(got-p) > 2e-9 {
			t.Errorf("identity changed %v to %v", p, got)
		}
	}
	// Monotone: ranking is preserved.
	c := &Calibration{A: 1.7, B: -0.4}
	prev := -1.0
	for p := 0.01; p < 1; p += 0.01 {
		v := c.Apply(p)
		if v <= prev || v < 0 || v > 1 {
			t.Fatalf("not monotone or out of range at %v: %v", p, v)
		}
		prev = v
	}
}

// TestFitCalibrationRecovers draws outcomes from a known Platt mapping and
// recovers it.
func TestFitCalibrationRecovers(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	truth := Calibration{A: 1.6, B: -0.5}
	const n = 20000
	pred, obs := make([]float64, n), make([]bool, n)
	for i := range pred {
		pred[i] = 0.02 + 0.96*rng.Float64()
		obs[i] = rng.Float64() < truth.Apply(pred[i])
	}
	got, err := FitCalibration(pred, obs)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got.A-truth.A) > 0.1 || math.Abs(got.B-truth.B) > 0.1 {
		t.Errorf("fitted A=%.3f B=%.3f, truth A=%.3f B=%.3f", got.A, got.B, truth.A, truth.B)
	}
}

func TestFitCalibrationRejects(t *testing.T) {
	few := []float64{0.1, 0.2}
	if _, err := FitCalibration(few, []bool{true, false}); !errors.Is(err, ErrInsufficientData) {
		t.Errorf("2 outcomes: %v", err)
	}
	p := make([]float64, 50)
	same := make([]bool, 50)
	if _, err := FitCalibration(p, same); !errors.Is(err, ErrInsufficientData) {
		t.Errorf("one class: %v", err)
	}
	if _, err := FitCalibration(p, same[:3]); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("length mismatch: %v", err)
	}
	// Perfectly separated outcomes still give a finite calibration.
	for i := range p {
		p[i] = float64(i+1) / 52
		same[i] = i >= 25
	}
	c, err := FitCalibration(p, same)
	if err != nil || math.IsInf(c.A, 0) || math.IsNaN(c.B) {
		t.Errorf("separable: %+v, %v", c, err)
	}
}

// TestFitChurnCalibrationUsesOnlyThePast: orders after end, however many,
// must not change the calibration (it is learned inside the history).
func TestFitChurnCalibrationUsesOnlyThePast(t *testing.T) {
	txs := cdnowTransactions(t)
	ctx := context.Background()
	base, err := FitChurnCalibration(ctx, txs, cdnowCalibrationEnd, week, 39)
	if err != nil {
		t.Fatal(err)
	}
	var past []Transaction
	for _, tx := range txs {
		if !tx.At.After(cdnowCalibrationEnd) {
			past = append(past, tx)
		}
	}
	again, err := FitChurnCalibration(ctx, past, cdnowCalibrationEnd, week, 39)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(base, again) {
		t.Errorf("calibration changed when holdout orders were removed: %+v vs %+v", base, again)
	}
	if base.Learned == nil {
		t.Fatal("no learned churn model from 2,357 customers")
	}
	// The signal it is there for: more repeat purchases, less churn; a
	// longer silence, more.
	if l := base.Learned; !(l.Frequency < 0 && l.Gap > 0 && l.Model > 0) {
		t.Errorf("learned %+v: want Frequency < 0, Gap > 0, Model > 0", *l)
	}
	if math.Abs(base.Horizon-272.0/7/2) > 1e-9 { // half of the 272-day history, in weeks
		t.Errorf("inner horizon %v, want about half the history", base.Horizon)
	}
}

func TestFitChurnCalibrationErrors(t *testing.T) {
	ctx := context.Background()
	end := at("2024-01-31T00:00:00Z")
	if _, err := FitChurnCalibration(ctx, nil, end, 24*time.Hour, 30); !errors.Is(err, ErrNoCustomers) {
		t.Errorf("no orders: %v", err)
	}
	if _, err := FitChurnCalibration(ctx, []Transaction{{"a", end, 1}}, end, 24*time.Hour, 30); !errors.Is(err, ErrInsufficientData) {
		t.Errorf("no history span: %v", err)
	}
	if _, err := FitChurnCalibration(ctx, []Transaction{{"a", end, 1}}, end, 0, 30); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("unit 0: %v", err)
	}
	if _, err := FitChurnCalibration(ctx, []Transaction{{"a", end, 1}}, end, 24*time.Hour, math.NaN()); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("NaN horizon: %v", err)
	}
}

func TestChurnProb(t *testing.T) {
	m := publishedBGNBD
	raw := Churn{Horizon: 39}
	cal := Churn{Horizon: 39, Calib: &Calibration{A: 1.1, B: -0.3}}
	for _, h := range [][3]float64{{0, 0, 38}, {2, 30.43, 38.86}, {10, 5, 38}} {
		p := raw.Prob(m, h[0], h[1], h[2])
		if p != m.ProbNoPurchase(39, h[0], h[1], h[2]) {
			t.Errorf("%v: uncalibrated churn %v differs from ProbNoPurchase", h, p)
		}
		if q := cal.Prob(m, h[0], h[1], h[2]); q < 0 || q > 1 || q == p {
			t.Errorf("%v: calibrated churn %v (raw %v)", h, q, p)
		}
	}
}
