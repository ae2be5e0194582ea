package models

import (
	"context"
	"math"
	"testing"
)

// TestFitGammaGammaReproducesPublished: on the 946 repeat buyers of the
// CDNOW summary, lifetimes' GammaGammaFitter reports p=6.2488, q=3.7443,
// v=15.4477 (Fader & Hardie note 025 gives 6.25, 3.74, 15.44).
func TestFitGammaGammaReproducesPublished(t *testing.T) {
	data := readSummaryCSV(t, "cdnow_customers_summary_with_transactions.csv")
	m, err := FitGammaGamma(context.Background(), data)
	if err != nil {
		t.Fatalf("fit: %v", err)
	}
	t.Logf("fitted p=%.4f q=%.4f v=%.4f LL=%.3f on %d customers", m.P, m.Q, m.V, m.LogLikelihood, m.Customers)
	if m.Customers != 946 {
		t.Errorf("fitted on %d customers, want the 946 repeat buyers", m.Customers)
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"p", m.P, 6.2488}, {"q", m.Q, 3.7443}, {"v", m.V, 15.4477}} {
		if math.Abs(c.got-c.want) > 0.01 {
			t.Errorf("%s = %.4f, published %.4f", c.name, c.got, c.want)
		}
	}
	if want := m.P * m.V / (m.Q - 1); math.Abs(m.MeanSpend-want) > 1e-12 {
		t.Errorf("mean spend %v, want pv/(q−1) = %v", m.MeanSpend, want)
	}
}

func TestGammaGammaGradient(t *testing.T) {
	data := readSummaryCSV(t, "cdnow_customers_summary_with_transactions.csv")
	d, err := newGGData(data)
	if err != nil {
		t.Fatal(err)
	}
	checkGradient(t, d.objective, logAll(2, 1.5, 40))
}

func TestExpectedSpend(t *testing.T) {
	m := GammaGamma{P: 6.2488, Q: 3.7443, V: 15.4477}
	m.MeanSpend = m.P * m.V / (m.Q - 1)
	// The credibility form equals the closed form.
	x, mx := 4.0, 50.0
	w := m.P * x / (m.P*x + m.Q - 1)
	if got, want := m.ExpectedSpend(x, mx), (1-w)*m.MeanSpend+w*mx; math.Abs(got-want) > 1e-9 {
		t.Errorf("E[M|x=4, m=50] = %v, want %v", got, want)
	}
	// It lies between the population mean and the customer's own mean.
	if got := m.ExpectedSpend(x, mx); !(got > m.MeanSpend && got < mx) {
		t.Errorf("E[M] = %v not between %v and %v", got, m.MeanSpend, mx)
	}
	// No usable spend history: the population mean.
	for _, c := range [][2]float64{{0, 0}, {3, 0}, {2, -10}, {math.NaN(), 5}, {2, math.Inf(1)}} {
		if got := m.ExpectedSpend(c[0], c[1]); got != m.MeanSpend {
			t.Errorf("ExpectedSpend(%v, %v) = %v, want the population mean %v", c[0], c[1], got, m.MeanSpend)
		}
	}
}
