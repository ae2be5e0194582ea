package models

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"
)

// Bad input: every case has a defined, documented outcome, and nothing
// exported ever returns NaN or ±Inf.

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func TestFitNoCustomers(t *testing.T) {
	ctx := context.Background()
	if _, err := FitBGNBD(ctx, nil); !errors.Is(err, ErrNoCustomers) {
		t.Errorf("BG/NBD: %v", err)
	}
	if _, err := FitGammaGamma(ctx, []RFM{}); !errors.Is(err, ErrNoCustomers) {
		t.Errorf("Gamma-Gamma: %v", err)
	}
}

// Nobody repeated: the dropout process and spend are unobserved.
func TestFitOnlyOneTimeBuyers(t *testing.T) {
	ctx := context.Background()
	data := []RFM{{Customer: "a", T: 10}, {Customer: "b", T: 3}, {Customer: "c", T: 0}}
	if _, err := FitBGNBD(ctx, data); !errors.Is(err, ErrInsufficientData) {
		t.Errorf("BG/NBD: %v", err)
	}
	if _, err := FitGammaGamma(ctx, data); !errors.Is(err, ErrInsufficientData) {
		t.Errorf("Gamma-Gamma: %v", err)
	}
}

// A single customer cannot identify four parameters: the fit returns its
// best, finite parameters with Converged=false and ErrNotConverged.
func TestFitSingleCustomer(t *testing.T) {
	ctx := context.Background()
	data := []RFM{{Customer: "a", Frequency: 3, Recency: 8, T: 10, Monetary: 5}}
	m, err := FitBGNBD(ctx, data)
	if !errors.Is(err, ErrNotConverged) || m.Converged {
		t.Errorf("BG/NBD: err %v, converged %v", err, m.Converged)
	}
	for _, v := range []float64{m.R, m.Alpha, m.A, m.B, m.LogLikelihood} {
		if !finite(v) || v == 0 && v != m.LogLikelihood {
			t.Errorf("BG/NBD parameter %v in %+v", v, m)
		}
	}
	checkPredictionsFinite(t, m)
	g, err := FitGammaGamma(ctx, data)
	if !errors.Is(err, ErrNotConverged) || g.Converged {
		t.Errorf("Gamma-Gamma: err %v, converged %v", err, g.Converged)
	}
	if s := g.ExpectedSpend(3, 5); !finite(s) || math.Abs(s-5) > 0.01 {
		t.Errorf("single-customer spend %v, want about its own 5", s)
	}
}

// Non-convergence is also what an interrupted fit does not report: a
// cancelled context is an error with no model.
func TestFitCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	data := simulateBGNBD(BGNBD{R: 1, Alpha: 5, A: 0.5, B: 2}, 200, newSource())
	if _, err := FitBGNBD(ctx, data); !errors.Is(err, context.Canceled) {
		t.Errorf("BG/NBD: %v", err)
	}
}

func TestFitRejectsMalformed(t *testing.T) {
	ctx := context.Background()
	for _, r := range []RFM{
		{Customer: "neg", Frequency: -1, T: 3},
		{Customer: "frac", Frequency: 1.5, Recency: 1, T: 3},
		{Customer: "late", Frequency: 1, Recency: 4, T: 3},
		{Customer: "nan", Frequency: 1, Recency: math.NaN(), T: 3},
		{Customer: "inf", Frequency: 1, Recency: 1, T: math.Inf(1)},
	} {
		data := []RFM{{Customer: "ok", Frequency: 1, Recency: 1, T: 2, Monetary: 1}, r}
		if _, err := FitBGNBD(ctx, data); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("BG/NBD %s: %v", r.Customer, err)
		}
		if _, err := FitGammaGamma(ctx, data); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("Gamma-Gamma %s: %v", r.Customer, err)
		}
	}
}

// Zero-value orders count as purchases but make Monetary 0: such customers
// are left out of the spend fit and valued at the population mean.
func TestZeroValueOrders(t *testing.T) {
	end := at("2024-03-31T00:00:00Z")
	txs := []Transaction{
		{"free", at("2024-01-01T00:00:00Z"), 0},
		{"free", at("2024-02-01T00:00:00Z"), 0},
		{"free", at("2024-03-01T00:00:00Z"), 0},
	}
	for i := range 30 {
		d := time.Duration(i) * 24 * time.Hour
		txs = append(txs,
			Transaction{"p" + string(rune('a'+i%26)) + string(rune('a'+i/26)), at("2024-01-01T00:00:00Z").Add(d), 10},
			Transaction{"p" + string(rune('a'+i%26)) + string(rune('a'+i/26)), at("2024-02-01T00:00:00Z").Add(d), 20 + float64(i)},
		)
	}
	data := Summarize(txs, end, 24*time.Hour)
	free := data[0]
	if free.Customer != "free" || free.Frequency != 2 || free.Monetary != 0 {
		t.Fatalf("free customer %+v", free)
	}
	g, err := FitGammaGamma(context.Background(), data)
	if err != nil && !errors.Is(err, ErrNotConverged) {
		t.Fatal(err)
	}
	if g.Customers != 30 {
		t.Errorf("spend fit on %d customers, want the 30 paying repeat buyers", g.Customers)
	}
	if s := g.ExpectedSpend(free.Frequency, free.Monetary); s != g.MeanSpend || !(s > 0) {
		t.Errorf("free customer's spend %v, want the population mean %v", s, g.MeanSpend)
	}
}

// Orders after the calibration end are ignored, so nobody gets a negative
// age and the fit only sees the past.
func TestFutureDatedOrders(t *testing.T) {
	end := at("2024-03-31T00:00:00Z")
	txs := []Transaction{
		{"a", at("2024-01-01T00:00:00Z"), 5},
		{"a", at("2024-02-01T00:00:00Z"), 5},
		{"a", at("2030-01-01T00:00:00Z"), 5}, // clock skew
		{"b", at("2031-01-01T00:00:00Z"), 5}, // only in the future
	}
	data := Summarize(txs, end, 24*time.Hour)
	if len(data) != 1 || data[0].Frequency != 1 || data[0].T != 90 {
		t.Errorf("got %+v", data)
	}
}

// checkPredictionsFinite calls every prediction with hostile inputs.
func checkPredictionsFinite(t *testing.T, m BGNBD) {
	t.Helper()
	bad := []float64{math.NaN(), math.Inf(1), math.Inf(-1), -5, 0, 0.5, 3, 1e6, 1e300}
	churn := Churn{Horizon: 10, Calib: &Calibration{A: 1.2, B: 0.1, Learned: &ChurnLogit{Intercept: 0.6, Model: 0.4, Frequency: -1, Gap: 0.9}}}
	gg := publishedGG
	clv := DefaultCLVOptions(week)
	for _, x := range bad {
		for _, tx := range bad {
			for _, T := range bad {
				prob := map[string]float64{
					"PAlive":         m.PAlive(x, tx, T),
					"ProbNoPurchase": m.ProbNoPurchase(T, x, tx, T),
					"Churn":          churn.Prob(m, x, tx, T),
				}
				for name, v := range prob {
					if !(v >= 0 && v <= 1) {
						t.Fatalf("%+v %s(%v, %v, %v) = %v", m, name, x, tx, T, v)
					}
				}
				h, _ := m.ExpectedTimeToNextPurchase(x, tx, T)
				nonNeg := map[string]float64{
					"ExpectedPurchases":    m.ExpectedPurchases(tx, x, tx, T),
					"ExpectedPurchasesNew": m.ExpectedPurchasesNew(T),
					"NextPurchase":         h,
					"ExpectedSpend":        gg.ExpectedSpend(x, tx),
					"CLV":                  clv.Value(m, gg, RFM{Frequency: x, Recency: tx, T: T, Monetary: tx}),
				}
				for name, v := range nonNeg {
					if !(v >= 0 && v <= maxCount) {
						t.Fatalf("%+v %s(%v, %v, %v) = %v", m, name, x, tx, T, v)
					}
				}
			}
		}
	}
}

func TestPredictionsAlwaysFinite(t *testing.T) {
	models := []BGNBD{
		publishedBGNBD,
		{},                                     // zero value: unfitted
		{R: 1e-7, Alpha: 3e6, A: 3e-7, B: 3e6}, // the corners of the fit's box
		{R: 3e6, Alpha: 3e-7, A: 3e6, B: 3e-7},
		{R: 0.5, Alpha: 10, A: 1, B: 3},     // a = 1: removable singularity
		{R: 0.5, Alpha: 10, A: 0.4, B: 0.6}, // a+b−1 = 0
		{R: math.NaN(), Alpha: math.Inf(1), A: -1, B: 2},
	}
	for _, m := range models {
		checkPredictionsFinite(t, m)
	}
}

func TestLogLikelihoodOfInvalidModel(t *testing.T) {
	data := []RFM{{Frequency: 1, Recency: 1, T: 2}}
	if _, err := (BGNBD{}).LogLikelihoodOf(data); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("zero model: %v", err)
	}
	if ll, err := publishedBGNBD.LogLikelihoodOf(data); err != nil || !finite(ll) {
		t.Errorf("valid model: %v, %v", ll, err)
	}
}

func TestNewScorerValidates(t *testing.T) {
	if _, err := NewScorer(BGNBD{}, publishedGG, Churn{Horizon: 10}, DefaultCLVOptions(week)); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("zero BG/NBD: %v", err)
	}
	if _, err := NewScorer(publishedBGNBD, publishedGG, Churn{}, DefaultCLVOptions(week)); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("zero horizon: %v", err)
	}
	s, err := NewScorer(publishedBGNBD, publishedGG, Churn{Horizon: 39}, DefaultCLVOptions(week))
	if err != nil {
		t.Fatal(err)
	}
	got := s.Score(RFM{Frequency: 2, Recency: 30.43, T: 38.86, Monetary: 22.35})
	if math.Abs(got.ExpectedPurchases-1.2259) > 1e-3 || !(got.CLV > 0) || !got.NextPurchaseKnown {
		t.Errorf("scores %+v", got)
	}
}
