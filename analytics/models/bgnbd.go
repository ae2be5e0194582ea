package models

import (
	"context"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mathext"
)

// BGNBD is the beta-geometric/NBD model of Fader, Hardie & Lee (2005),
// "Counting Your Customers the Easy Way": while alive, a customer buys as
// a Poisson process with rate λ ~ Gamma(R, Alpha); after each purchase they
// drop out with probability p ~ Beta(A, B). Alpha is in the RFM time unit.
type BGNBD struct {
	R, Alpha, A, B float64
	// LogLikelihood is the total (not mean) log-likelihood at the fit, the
	// figure the paper reports (−9582.4 on CDNOW).
	LogLikelihood float64
	// Iterations counts optimizer iterations over all starts.
	Iterations int
	// Converged is false when the optimizer stopped away from a stationary
	// point or with a parameter at the edge of its range; FitBGNBD then
	// also returns an error wrapping ErrNotConverged.
	Converged bool
}

// FitBGNBD fits the model by maximum likelihood.
//
// Errors: ErrNoCustomers for empty data; ErrInvalidInput (wrapped, naming
// the customer) for a malformed record; ErrInsufficientData when nobody has
// a repeat purchase (the dropout process is then unobserved and the
// likelihood has no maximum); a context error if ctx ends. When the
// optimizer does not converge the best parameters found are returned with
// Converged=false together with an error wrapping ErrNotConverged: the
// model is usable (every prediction is finite) but deserves a warning.
func FitBGNBD(ctx context.Context, data []RFM) (BGNBD, error) {
	d, err := newBGData(data)
	if err != nil {
		return BGNBD{}, fmt.Errorf("fit BG/NBD: %w", err)
	}
	res, err := minimizeLog(ctx, d.objective, d.starts())
	if err != nil {
		return BGNBD{}, fmt.Errorf("fit BG/NBD: %w", err)
	}
	p := expAll(res.theta)
	m := BGNBD{R: p[0], Alpha: p[1], A: p[2], B: p[3], Iterations: res.iterations, Converged: res.converged}
	m.LogLikelihood = d.logLikelihood(m)
	if !m.Converged {
		return m, fmt.Errorf("fit BG/NBD on %d customers: %w: %s", len(data), ErrNotConverged, res.reason)
	}
	return m, nil
}

// LogLikelihoodOf returns the model's total log-likelihood on data (for
// comparing fits or checking a published parameter set). Parameters that
// are not positive and finite give ErrInvalidInput, not a NaN.
func (m BGNBD) LogLikelihoodOf(data []RFM) (float64, error) {
	for _, v := range []float64{m.R, m.Alpha, m.A, m.B} {
		if !(v > 0) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("BG/NBD log-likelihood: %w: parameters %v", ErrInvalidInput, []float64{m.R, m.Alpha, m.A, m.B})
		}
	}
	d, err := newBGData(data)
	if err != nil {
		return 0, fmt.Errorf("BG/NBD log-likelihood: %w", err)
	}
	ll := d.logLikelihood(m)
	if math.IsNaN(ll) || math.IsInf(ll, 0) {
		return 0, fmt.Errorf("BG/NBD log-likelihood: %w: not finite at %v", ErrInvalidInput, []float64{m.R, m.Alpha, m.A, m.B})
	}
	return ll, nil
}

// bgData is the fit input compressed to distinct (x, t_x, T) rows with
// weights: CDNOW's 2,357 customers shrink to ~1,200 rows, and the gamma
// functions depend on x alone, so they are computed once per distinct x.
type bgData struct {
	rows   []bgRow
	xs     []float64
	n      float64 // total weight (customers)
	sumX   float64
	sumT   float64
	repeat int // customers with x > 0
}

type bgRow struct {
	x, tx, T, w float64
	xi          int // index into xs
}

func newBGData(data []RFM) (*bgData, error) {
	if len(data) == 0 {
		return nil, ErrNoCustomers
	}
	type key struct{ x, tx, T float64 }
	index := map[key]int{}
	xIndex := map[float64]int{}
	d := &bgData{}
	for _, r := range data {
		if err := validateRFM(r); err != nil {
			return nil, err
		}
		tx := r.Recency
		if r.Frequency == 0 {
			tx = 0 // t_x carries no information without a repeat purchase
		}
		k := key{r.Frequency, tx, r.T}
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
			d.rows = append(d.rows, bgRow{x: k.x, tx: k.tx, T: k.T, xi: xi})
		}
		d.rows[i].w++
		d.n++
		d.sumX += r.Frequency
		d.sumT += r.T
		if r.Frequency > 0 {
			d.repeat++
		}
	}
	if d.repeat == 0 {
		return nil, fmt.Errorf("%w: none of %d customers has a repeat purchase", ErrInsufficientData, len(data))
	}
	return d, nil
}

// starts returns log-parameter starting points. α is a time scale (the
// mean purchase rate is r/α), so it starts where r/α matches the observed
// repeat rate Σx/ΣT; two dropout shapes cover "few lapse" and "many lapse".
func (d *bgData) starts() [][]float64 {
	rate := d.sumX / math.Max(d.sumT, 1e-9)
	alpha := func(r float64) float64 { return math.Min(math.Max(r/rate, 1e-4), 1e4) }
	return [][]float64{
		logAll(1, alpha(1), 1, 3),
		logAll(0.3, alpha(0.3), 0.6, 2),
		logAll(2, alpha(2), 2, 10),
	}
}

// bgTerms holds the per-distinct-x gamma-function parts of the likelihood.
type bgTerms struct {
	lg                 float64 // lnΓ(r+x)-lnΓ(r) + lnB(a, b+x) - lnB(a, b)
	dr, dab, dbx, dabx float64 // ψ(r+x)-ψ(r), ψ(a+b), ψ(b+x)-ψ(b), ψ(a+b+x)
}

// objective is the mean negative log-likelihood over θ = log(r, α, a, b).
//
// Per customer (paper eq. 6, in logs):
//
//	ℓ = lnΓ(r+x) − lnΓ(r) + r lnα + lnB(a,b+x) − lnB(a,b)
//	    + log[ (α+T)^−(r+x) + 1{x>0} a/(b+x−1) (α+t_x)^−(r+x) ]
//
// with the last term as a log-sum-exp so that neither power underflows.
func (d *bgData) objective(theta, grad []float64) float64 {
	r, alpha, a, b := math.Exp(theta[0]), math.Exp(theta[1]), math.Exp(theta[2]), math.Exp(theta[3])
	terms := make([]bgTerms, len(d.xs))
	lgr, lgb, lgab := lgamma(r), lgamma(b), lgamma(a+b)
	var psiR, psiB, psiAB float64
	if grad != nil {
		psiR, psiB, psiAB = mathext.Digamma(r), mathext.Digamma(b), mathext.Digamma(a+b)
	}
	for i, x := range d.xs {
		if x == 0 {
			continue
		}
		t := &terms[i]
		t.lg = lgamma(r+x) - lgr + lgab + lgamma(b+x) - lgb - lgamma(a+b+x)
		if grad != nil {
			t.dr = mathext.Digamma(r+x) - psiR
			t.dab = psiAB
			t.dbx = mathext.Digamma(b+x) - psiB
			t.dabx = mathext.Digamma(a + b + x)
		}
	}
	lnAlpha, lnA := math.Log(alpha), math.Log(a)
	var ll, gr, gal, ga, gb float64
	for _, row := range d.rows {
		x, w := row.x, row.w
		lAT := math.Log(alpha + row.T)
		a3 := -(r + x) * lAT
		lse, w4 := a3, 0.0
		var lAtx float64
		if x > 0 {
			lAtx = math.Log(alpha + row.tx)
			a4 := lnA - math.Log(b+x-1) - (r+x)*lAtx
			lse, w4 = logAddExp(a3, a4)
		}
		t := terms[row.xi]
		ll += w * (t.lg + r*lnAlpha + lse)
		if grad != nil {
			w3 := 1 - w4
			gr += w * (t.dr + lnAlpha - w3*lAT - w4*lAtx)
			gal += w * (r/alpha - (r+x)*(w3/(alpha+row.T)+w4/(alpha+row.tx)))
			if x > 0 {
				ga += w * (t.dab - t.dabx + w4/a)
				gb += w * (t.dab + t.dbx - t.dabx - w4/(b+x-1))
			}
		}
	}
	if grad != nil {
		// Chain rule to log-parameters: ∂/∂θ = p ∂/∂p.
		grad[0] -= gr * r / d.n
		grad[1] -= gal * alpha / d.n
		grad[2] -= ga * a / d.n
		grad[3] -= gb * b / d.n
	}
	return -ll / d.n
}

func (d *bgData) logLikelihood(m BGNBD) float64 {
	return -d.objective(logAll(m.R, m.Alpha, m.A, m.B), nil) * d.n
}

// logAddExp returns log(e^u + e^v) and the weight e^v/(e^u + e^v).
func logAddExp(u, v float64) (float64, float64) {
	if u >= v {
		e := math.Exp(v - u)
		return u + math.Log1p(e), e / (1 + e)
	}
	e := math.Exp(u - v)
	return v + math.Log1p(e), 1 / (1 + e)
}

func lgamma(x float64) float64 {
	l, _ := math.Lgamma(x)
	return l
}
