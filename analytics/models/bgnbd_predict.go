package models

import "math"

// Predictions from a fitted BG/NBD for one customer with history (x, t_x,
// T) in the RFM time unit. Inputs are cleaned (cleanHistory) and outputs
// guarded, so each method returns a finite value in its range for any input.

// PAlive is the probability that the customer has not dropped out by T
// (paper eq. 11):
//
//	P(alive) = 1 / (1 + 1{x>0} a/(b+x−1) ((α+T)/(α+t_x))^(r+x)).
//
// It is 1 for x = 0: in BG/NBD a customer can only drop out right after a
// purchase, so someone who never repeated is certainly "alive" — which is
// why 1 − P(alive) is a poor churn score for one-time buyers (see Churn).
func (m BGNBD) PAlive(x, tx, T float64) float64 {
	x, tx, T = cleanHistory(x, tx, T)
	return clampProb(m.pAlive(x, tx, T), 1)
}

func (m BGNBD) pAlive(x, tx, T float64) float64 {
	if x == 0 {
		return 1
	}
	// log of the "dead" odds; the logistic form never overflows.
	lo := math.Log(m.A) - math.Log(m.B+x-1) + (m.R+x)*(math.Log(m.Alpha+T)-math.Log(m.Alpha+tx))
	if lo > 0 {
		e := math.Exp(-lo)
		return e / (1 + e)
	}
	return 1 / (1 + math.Exp(lo))
}

// ExpectedPurchases is E[X(T, T+t] | x, t_x, T], the expected number of
// purchases in the next t time units (paper eq. 10):
//
//	E = (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x; a+b+x−1; t/(α+T+t))]
//	    · P(alive).
func (m BGNBD) ExpectedPurchases(t, x, tx, T float64) float64 {
	x, tx, T = cleanHistory(x, tx, T)
	t = cleanSpan(t)
	return clampNonNeg(m.pAlive(x, tx, T) * m.purchasesIfAlive(t, x, T))
}

// ExpectedPurchasesNew is E[X(t)] for a customer just acquired (paper
// eq. 9): the same bracket with x = 0 and T = 0.
func (m BGNBD) ExpectedPurchasesNew(t float64) float64 {
	return clampNonNeg(m.purchasesIfAlive(cleanSpan(t), 0, 0))
}

// ProbNoPurchase is P(no purchase in (T, T+h] | x, t_x, T): the customer is
// either already gone, or alive with a posterior purchase rate
// λ ~ Gamma(r+x, α+T) and no Poisson event in h:
//
//	P = (1 − P(alive)) + P(alive) · ((α+T)/(α+T+h))^(r+x).
//
// (While alive nobody drops out without first buying, so "alive at T and
// no purchase in h" needs no dropout term.)
func (m BGNBD) ProbNoPurchase(h, x, tx, T float64) float64 {
	x, tx, T = cleanHistory(x, tx, T)
	h = cleanSpan(h)
	pa := m.pAlive(x, tx, T)
	// 1 − q^(r+x) computed as −expm1 to keep precision for small h.
	buy := -math.Expm1(-(m.R + x) * math.Log1p(h/(m.Alpha+T)))
	return clampProb(1-pa*buy, 1)
}

// ExpectedTimeToNextPurchase returns the median wait from T to the next
// purchase: the h at which ProbNoPurchase(h) falls to 1/2, in closed form
//
//	h = (α+T) · ((1 − 1/(2 P(alive)))^(−1/(r+x)) − 1).
//
// The median, not the mean, because the mean wait is infinite (a customer
// who has dropped out never buys again). ok is false when P(alive) <= 1/2:
// then the customer more likely than not never buys again, no finite median
// exists, and h is 0.
func (m BGNBD) ExpectedTimeToNextPurchase(x, tx, T float64) (h float64, ok bool) {
	x, tx, T = cleanHistory(x, tx, T)
	pa := m.pAlive(x, tx, T)
	if !(pa > 0.5) {
		return 0, false
	}
	h = (m.Alpha + T) * math.Expm1(-math.Log1p(-0.5/pa)/(m.R+x))
	if math.IsNaN(h) || math.IsInf(h, 0) {
		return 0, false
	}
	return clampNonNeg(h), true
}

// purchasesIfAlive is the expected number of purchases in (T, T+t] given
// the customer is alive at T: E_p[(1 − (1 + p t/(α+T))^−(r+x)) / p] with
// p ~ Beta(a, b+x), i.e. eq. 10 without the P(alive) factor.
//
// Evaluated through Euler's transformation of the paper's 2F1, which gives
//
//	bracket = 1 − u^(a−1) ₂F₁(a+b−1−r, a−1; a+b+x−1; z),  z = t/(α+T+t), u = 1−z,
//
// whose numerator parameters do not grow with x: the series stays well
// conditioned and short for heavy buyers, where the paper's form needs
// parameters near x and loses precision or overflows.
//
// The expression has removable singularities at a = 1 (0/0 from the
// (a−1) denominator) and a+b+x−1 = 0; the value there is interpolated in a
// from nodes on either side (the expectation is analytic in a).
func (m BGNBD) purchasesIfAlive(t, x, T float64) float64 {
	if t <= 0 {
		return 0
	}
	lnu := -math.Log1p(t / (m.Alpha + T))
	h := interpStep / math.Max(1, -lnu)
	f := func(a float64) float64 { return m.bracket(a, t, x, T, lnu) }
	for _, pole := range []float64{1, 1 - m.B - x} {
		if math.Abs(m.A-pole) < h && pole-2*h > 0 {
			return interpolate4(f, pole, h, m.A)
		}
	}
	return f(m.A)
}

// bracket is (a+b+x−1)/(a−1) · (1 − G), G = u^(a−1) ₂F₁(a+b−1−r, a−1; c; z).
func (m BGNBD) bracket(a, t, x, T, lnu float64) float64 {
	c := a + m.B + x - 1
	p, q := a+m.B-1-m.R, a-1
	z := t / (m.Alpha + T + t)
	var oneMinusG float64
	if z <= 0.5 {
		// Sum ₂F₁ − 1 directly so that 1 − G keeps its precision when t
		// is small and G is within rounding of 1.
		if fm1 := hypSeries(p, q, c, z, 0).value(); fm1 > -1 {
			oneMinusG = -math.Expm1(q*lnu + math.Log1p(fm1))
			return c / q * oneMinusG
		}
	}
	g := hyp2f1s(p, q, c, z, math.Exp(lnu)).times(q * lnu).value()
	return c / q * (1 - g)
}

// interpolate4 evaluates f at a0 ± h, a0 ± 2h and returns the cubic
// through those points at a.
func interpolate4(f func(float64) float64, a0, h, a float64) float64 {
	nodes := [4]float64{a0 - 2*h, a0 - h, a0 + h, a0 + 2*h}
	var out float64
	for i, ni := range nodes {
		w := 1.0
		for j, nj := range nodes {
			if j != i {
				w *= (a - nj) / (ni - nj)
			}
		}
		out += w * f(ni)
	}
	return out
}
