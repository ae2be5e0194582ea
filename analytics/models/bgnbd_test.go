package models

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// Published BG/NBD fit on the CDNOW summary (Fader, Hardie & Lee 2005;
// lifetimes' BetaGeoFitter reports the same to 4 decimals).
var publishedBGNBD = BGNBD{R: 0.2426, Alpha: 4.4136, A: 0.7929, B: 2.4259}

const publishedBGNBDLogLikelihood = -9582.4

func TestFitBGNBDReproducesPublished(t *testing.T) {
	data := readSummaryCSV(t, "cdnow_customers_summary.csv")
	if len(data) != 2357 {
		t.Fatalf("read %d customers, want 2357", len(data))
	}
	m, err := FitBGNBD(context.Background(), data)
	if err != nil {
		t.Fatalf("fit: %v", err)
	}
	t.Logf("fitted r=%.4f α=%.4f a=%.4f b=%.4f LL=%.3f in %d iterations", m.R, m.Alpha, m.A, m.B, m.LogLikelihood, m.Iterations)
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"r", m.R, publishedBGNBD.R}, {"alpha", m.Alpha, publishedBGNBD.Alpha}, {"a", m.A, publishedBGNBD.A}, {"b", m.B, publishedBGNBD.B}} {
		if math.Abs(c.got-c.want) > 0.01 {
			t.Errorf("%s = %.4f, published %.4f", c.name, c.got, c.want)
		}
	}
	if math.Abs(m.LogLikelihood-publishedBGNBDLogLikelihood) > 0.5 {
		t.Errorf("log-likelihood %.3f, published %.1f", m.LogLikelihood, publishedBGNBDLogLikelihood)
	}
	if !m.Converged {
		t.Error("not converged")
	}

	// The paper's worked example, customer ID 1 (x=2, t_x=30.43,
	// T=38.86): 1.226 expected purchases in the next 39 weeks.
	if data[0].Customer != "1" || data[0].Frequency != 2 {
		t.Fatalf("first row is %+v, want customer 1 with x=2", data[0])
	}
	if got := m.ExpectedPurchases(39, data[0].Frequency, data[0].Recency, data[0].T); math.Abs(got-1.226) > 0.01 {
		t.Errorf("E[X(39) | customer 1] = %.4f, published 1.226", got)
	}
}

// TestBGNBDGradient compares the analytic gradient with central differences
// at a point away from the optimum, where errors would show.
func TestBGNBDGradient(t *testing.T) {
	data := readSummaryCSV(t, "cdnow_customers_summary.csv")
	d, err := newBGData(data)
	if err != nil {
		t.Fatal(err)
	}
	checkGradient(t, d.objective, logAll(0.5, 8, 1.3, 1.7))
}

func checkGradient(t *testing.T, f objective, theta []float64) {
	t.Helper()
	grad := make([]float64, len(theta))
	f(theta, grad)
	for i := range theta {
		const h = 1e-6
		up := append([]float64(nil), theta...)
		dn := append([]float64(nil), theta...)
		up[i] += h
		dn[i] -= h
		num := (f(up, nil) - f(dn, nil)) / (2 * h)
		if math.Abs(num-grad[i]) > 1e-6*math.Max(1, math.Abs(num)) {
			t.Errorf("∂/∂θ%d: analytic %.10g, numeric %.10g", i, grad[i], num)
		}
	}
}

// TestFitBGNBDRecoversSimulated draws customers from a known BG/NBD and
// checks that the fit finds parameters whose likelihood is at least that
// of the truth (it is the maximum) and that lie near the truth.
func TestFitBGNBDRecoversSimulated(t *testing.T) {
	truth := BGNBD{R: 0.8, Alpha: 6, A: 0.6, B: 3}
	data := simulateBGNBD(truth, 6000, rand.NewPCG(1, 2))
	m, err := FitBGNBD(context.Background(), data)
	if err != nil {
		t.Fatalf("fit: %v", err)
	}
	llTruth, err := truth.LogLikelihoodOf(data)
	if err != nil {
		t.Fatal(err)
	}
	if m.LogLikelihood < llTruth-1e-6 {
		t.Errorf("fitted LL %.4f below the truth's %.4f: the optimizer missed the maximum", m.LogLikelihood, llTruth)
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"r", m.R, truth.R}, {"alpha", m.Alpha, truth.Alpha}, {"a", m.A, truth.A}, {"b", m.B, truth.B}} {
		// Sampling error at n = 6000 is ~5-15% on these.
		if math.Abs(c.got/c.want-1) > 0.3 {
			t.Errorf("%s = %.4f, truth %.4f", c.name, c.got, c.want)
		}
	}
}

// simulateBGNBD draws n customers with ages T uniform in [10, 40]: while
// alive each buys at Poisson rate λ ~ Gamma(r, α) and drops out after each
// purchase with probability p ~ Beta(a, b).
func simulateBGNBD(m BGNBD, n int, src rand.Source) []RFM {
	rng := rand.New(src)
	lambdaDist := distuv.Gamma{Alpha: m.R, Beta: m.Alpha, Src: src}
	pDist := distuv.Beta{Alpha: m.A, Beta: m.B, Src: src}
	out := make([]RFM, n)
	for i := range out {
		T := 10 + 30*rng.Float64()
		lambda, p := lambdaDist.Rand(), pDist.Rand()
		var x, tx, now float64
		for {
			now += rng.ExpFloat64() / lambda
			if now > T {
				break
			}
			x++
			tx = now
			if rng.Float64() < p {
				break
			}
		}
		out[i] = RFM{Customer: "s", Frequency: x, Recency: tx, T: T}
	}
	return out
}

func TestProbNoPurchaseProperties(t *testing.T) {
	m := publishedBGNBD
	histories := [][3]float64{{0, 0, 38}, {1, 2, 38}, {2, 30.43, 38.86}, {7, 10, 38}, {15, 37, 38}}
	for _, hx := range histories {
		x, tx, T := hx[0], hx[1], hx[2]
		pa := m.PAlive(x, tx, T)
		if got := m.ProbNoPurchase(0, x, tx, T); got != 1 {
			t.Errorf("%v: P(no purchase in 0) = %v, want 1", hx, got)
		}
		// The limit h → ∞ is 1 − P(alive), approached like h^−(r+x): only
		// reachable in floating point when r+x is not small.
		if got := m.ProbNoPurchase(1e12, x, tx, T); x >= 1 && math.Abs(got-(1-pa)) > 1e-6 {
			t.Errorf("%v: P(no purchase ever) = %v, want 1 − P(alive) = %v", hx, got, 1-pa)
		}
		prev := 1.0
		for _, h := range []float64{1, 5, 10, 39, 100} {
			p := m.ProbNoPurchase(h, x, tx, T)
			if p > prev {
				t.Errorf("%v: P(no purchase) rises with the horizon at h=%v", hx, h)
			}
			prev = p
			// Markov: P(X ≥ 1) ≤ E[X], so P(no purchase) ≥ 1 − E[X].
			if e := m.ExpectedPurchases(h, x, tx, T); p < 1-e-1e-12 {
				t.Errorf("%v h=%v: P(none) %v < 1 − E[X] %v", hx, h, p, 1-e)
			}
		}
		h, ok := m.ExpectedTimeToNextPurchase(x, tx, T)
		if ok != (pa > 0.5) {
			t.Errorf("%v: median known = %v with P(alive) = %v", hx, ok, pa)
		}
		if ok {
			if p := m.ProbNoPurchase(h, x, tx, T); math.Abs(p-0.5) > 1e-9 {
				t.Errorf("%v: P(no purchase by the median %v) = %v, want 0.5", hx, h, p)
			}
		} else if h != 0 {
			t.Errorf("%v: unknown median returned %v, want 0", hx, h)
		}
	}
}

// TestPAliveOrdering: more recent activity, same frequency and age, means
// more likely alive; and a one-time buyer is alive by the model's
// definition.
func TestPAliveOrdering(t *testing.T) {
	m := publishedBGNBD
	if m.PAlive(0, 0, 30) != 1 {
		t.Error("one-time buyer not alive")
	}
	if !(m.PAlive(3, 30, 38) > m.PAlive(3, 10, 38)) {
		t.Error("recent buyer not more likely alive than lapsed one")
	}
}

// TestExpectedPurchasesNewMatchesLimit: a customer with no history observed
// for no time is a new customer.
func TestExpectedPurchasesNewMatchesLimit(t *testing.T) {
	m := publishedBGNBD
	for _, tt := range []float64{1, 39, 78, 500} {
		if a, b := m.ExpectedPurchasesNew(tt), m.ExpectedPurchases(tt, 0, 0, 0); math.Abs(a-b) > 1e-12 {
			t.Errorf("t=%v: new %v, conditional on nothing %v", tt, a, b)
		}
	}
}
