package models

import (
	"context"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mathext"
)

// GammaGamma is the spend model of Fader, Hardie & Lee (2005), "RFM and
// CLV: Using Iso-Value Curves for Customer Base Analysis", in the
// parametrisation of Fader & Hardie's note 025: a customer's transaction
// values are Gamma(P, ν) with ν ~ Gamma(Q, V) across customers, so the mean
// spend per transaction is P·V/(Q−1) in the population. Spend is assumed
// independent of purchase frequency (EvaluateCDNOW reports the correlation
// as a check).
type GammaGamma struct {
	P, Q, V float64
	// LogLikelihood is the total log-likelihood over the fitted customers.
	LogLikelihood float64
	// Customers is how many (Frequency > 0, Monetary > 0) customers the
	// fit used.
	Customers  int
	Iterations int
	Converged  bool
	// MeanSpend is the population mean spend per transaction, P·V/(Q−1).
	// When Q <= 1 that mean is infinite (a heavy-tailed fit); MeanSpend is
	// then the fitted customers' average Monetary instead, so that new and
	// one-time customers still get a finite value.
	MeanSpend float64
}

// FitGammaGamma fits the model by maximum likelihood over the customers
// with a repeat purchase and positive mean repeat spend (Frequency > 0,
// Monetary > 0); the others carry no spend information the model can use.
//
// Errors as for FitBGNBD: ErrNoCustomers, ErrInvalidInput,
// ErrInsufficientData when no customer qualifies, ErrNotConverged with a
// usable model, or a context error.
func FitGammaGamma(ctx context.Context, data []RFM) (GammaGamma, error) {
	d, err := newGGData(data)
	if err != nil {
		return GammaGamma{}, fmt.Errorf("fit Gamma-Gamma: %w", err)
	}
	res, err := minimizeLog(ctx, d.objective, d.starts())
	if err != nil {
		return GammaGamma{}, fmt.Errorf("fit Gamma-Gamma: %w", err)
	}
	p := expAll(res.theta)
	m := GammaGamma{P: p[0], Q: p[1], V: p[2], Customers: int(d.n), Iterations: res.iterations, Converged: res.converged}
	m.LogLikelihood = -d.objective(res.theta, nil) * d.n
	m.MeanSpend = m.P * m.V / (m.Q - 1)
	if m.Q <= 1 || math.IsNaN(m.MeanSpend) || math.IsInf(m.MeanSpend, 0) {
		m.MeanSpend = d.sumM / d.n
	}
	if !m.Converged {
		return m, fmt.Errorf("fit Gamma-Gamma on %d customers: %w: %s", int(d.n), ErrNotConverged, res.reason)
	}
	return m, nil
}

// ExpectedSpend is the expected spend per transaction of a customer with x
// repeat purchases of mean value mx (note 025, eq. 5): a credibility-
// weighted average of the population mean and the customer's own mean,
//
//	E[M | x, mx] = (Q−1)/(Px+Q−1) · PV/(Q−1) + Px/(Px+Q−1) · mx
//	             = P(V + x·mx)/(Px+Q−1).
//
// Customers without a usable spend history (x = 0, or mx <= 0 from free
// orders or refunds) get the population mean MeanSpend.
func (m GammaGamma) ExpectedSpend(x, mx float64) float64 {
	x = math.Round(clampNonNeg(x))
	if x == 0 || !(mx > 0) || math.IsInf(mx, 0) {
		return clampNonNeg(m.MeanSpend)
	}
	den := m.P*x + m.Q - 1
	if !(den > 0) {
		// Only possible with Q < 1 and tiny P·x: fall back on the data.
		return clampNonNeg(mx)
	}
	return clampNonNeg(m.P * (m.V + x*mx) / den)
}

type ggData struct {
	rows []ggRow
	xs   []float64
	n    float64
	sumM float64
}

type ggRow struct {
	x, m, w float64
	xi      int
}

func newGGData(data []RFM) (*ggData, error) {
	if len(data) == 0 {
		return nil, ErrNoCustomers
	}
	type key struct{ x, m float64 }
	index := map[key]int{}
	xIndex := map[float64]int{}
	d := &ggData{}
	for _, r := range data {
		if err := validateRFM(r); err != nil {
			return nil, err
		}
		if r.Frequency == 0 || r.Monetary <= 0 {
			continue
		}
		k := key{r.Frequency, r.Monetary}
		i, ok := index[k]
		if !ok {
			xi, ok := xIndex[k.x]
			if !ok {
				xi = len(d.xs)
				xIndex[k.x] = xi
				d.xs = append(d.xs, k.x)
			}
			i = len(d.rows)
			index[k] = i
			d.rows = append(d.rows, ggRow{x: k.x, m: k.m, xi: xi})
		}
		d.rows[i].w++
		d.n++
		d.sumM += r.Monetary
	}
	if d.n == 0 {
		return nil, fmt.Errorf("%w: none of %d customers has a repeat purchase with positive spend", ErrInsufficientData, len(data))
	}
	return d, nil
}

// starts: the mean spend P·V/(Q−1) is matched to the sample mean from
// a few shapes, since P and V trade off along a ridge.
func (d *ggData) starts() [][]float64 {
	mean := d.sumM / d.n
	return [][]float64{
		logAll(1, 2, mean),
		logAll(5, 4, 3*mean/5),
		logAll(0.5, 1.5, mean),
	}
}

// objective is the mean negative log-likelihood over θ = log(p, q, v); per
// customer (note 025, eq. 3, taking logs):
//
//	ℓ = lnΓ(px+q) − lnΓ(px) − lnΓ(q) + q ln v + (px−1) ln mx + px ln x − (px+q) ln(v + x·mx)
func (d *ggData) objective(theta, grad []float64) float64 {
	p, q, v := math.Exp(theta[0]), math.Exp(theta[1]), math.Exp(theta[2])
	type terms struct{ lg, dpx, dpxq float64 }
	tx := make([]terms, len(d.xs))
	for i, x := range d.xs {
		tx[i].lg = lgamma(p*x+q) - lgamma(p*x)
		if grad != nil {
			tx[i].dpx = mathext.Digamma(p * x)
			tx[i].dpxq = mathext.Digamma(p*x + q)
		}
	}
	lgq, lv := lgamma(q), math.Log(v)
	psiQ := 0.0
	if grad != nil {
		psiQ = mathext.Digamma(q)
	}
	var ll, gp, gq, gv float64
	for _, row := range d.rows {
		x, m, w := row.x, row.m, row.w
		lm, lx, lvxm := math.Log(m), math.Log(x), math.Log(v+x*m)
		t := tx[row.xi]
		ll += w * (t.lg - lgq + q*lv + (p*x-1)*lm + p*x*lx - (p*x+q)*lvxm)
		if grad != nil {
			gp += w * x * (t.dpxq - t.dpx + lm + lx - lvxm)
			gq += w * (t.dpxq - psiQ + lv - lvxm)
			gv += w * (q/v - (p*x+q)/(v+x*m))
		}
	}
	if grad != nil {
		grad[0] -= gp * p / d.n
		grad[1] -= gq * q / d.n
		grad[2] -= gv * v / d.n
	}
	return -ll / d.n
}
