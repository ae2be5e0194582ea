package models

import "math"

// The Gauss hypergeometric function 2F1(a, b; c; z) for real parameters and
// real z < 1: the BG/NBD conditional expectation (Fader, Hardie & Lee 2005,
// eq. 10) is a 2F1 and nothing in the standard library provides one.
//
// Strategy (Abramowitz & Stegun ch. 15): every evaluation is reduced to
// power series that are both convergent and well conditioned:
//
//   - z < 0: Pfaff, 2F1(a,b;c;z) = (1-z)^-a 2F1(a, c-b; c; z/(z-1)), which
//     moves z into (0, 1) — for negative z the direct series alternates and
//     cancels catastrophically once a·b/c is large;
//   - 0 <= z <= 1/2, or z <= 0.9 when a, b, c > 0 (all terms positive, so
//     no cancellation): the defining series;
//   - z > 1/2 when every term ratio is provably at most z in modulus
//     (boundedTerms): the defining series, given a budget of terms. This is
//     the case that matters for heavy buyers, where c is large and the
//     series converges at once whatever z;
//   - otherwise (or when that budget runs out, z being close to 1) the 1-z
//     connection formula (15.3.6), two series in 1-z, applied after Euler's
//     transformation (1-z)^(c-a-b) 2F1(c-a, c-b; c; z) whenever that
//     shrinks the numerator parameters: the connection series cancel badly
//     when those are large.
//
// 15.3.6 has gamma factors Γ(c-a-b) and Γ(a+b-c) that blow up when c-a-b is
// an integer although 2F1 itself is smooth there; near such points the
// value is interpolated in c from four nodes a safe distance away (2F1 is
// analytic in c). The node spacing shrinks with |ln(1-z)| because the
// u^(c-a-b) factor varies on that scale.
//
// Values are carried as mantissa × e^exponent (scaled) because the BG/NBD
// needs 2F1 with parameters near x (a customer's purchase count) where the
// series alone overflows for x in the hundreds while the final expectation
// is a small number.
//
// Accuracy: 1e-10 against closed forms and Cephes (hyp2f1_test.go); in its
// BG/NBD use, 1e-12 relative against mpmath including x = 10⁶
// (bgnbd_predict_test.go). It is not a general-purpose 2F1 for arbitrary
// large or negative parameters.

// scaled is m·e^l.
type scaled struct{ m, l float64 }

func (s scaled) value() float64 {
	if s.m == 0 {
		return 0
	}
	return s.m * math.Exp(s.l)
}

func (s scaled) times(logFactor float64) scaled { return scaled{s.m, s.l + logFactor} }

func addScaled(x, y scaled) scaled {
	switch {
	case x.m == 0:
		return y
	case y.m == 0:
		return x
	case x.l < y.l:
		x, y = y, x
	}
	return scaled{x.m + y.m*math.Exp(y.l-x.l), x.l}
}

// nanScaled() is the "no value" result.
func nanScaled() scaled { return scaled{math.NaN(), 0} }

const (
	seriesTol      = 1e-16
	maxSeriesTerms = 200000
	// rescale keeps the running series sum far from overflow.
	rescale    = 1e200
	logRescale = 200 * math.Ln10
	// interpStep is the node spacing (before the 1/|ln u| scaling) of the
	// interpolation across integer c-a-b: ~1e-13 cancellation in 15.3.6 at
	// the nodes, O(step⁴) interpolation error.
	interpStep = 1e-3
	// directMax is the largest z summed directly when all terms are positive.
	directMax = 0.9
	// directBudget caps a direct-summation attempt beyond z = 1/2 before
	// falling back on the connection formula (~1000 terms reach 1e-16 for
	// z up to 0.965).
	directBudget = 1000
)

// hyp2f1 returns 2F1(a, b; c; z), NaN outside its domain (z >= 1, c a
// non-positive integer) or when a series fails to converge.
func hyp2f1(a, b, c, z float64) float64 {
	return hyp2f1s(a, b, c, z, 1-z).value()
}

// hyp2f1s is hyp2f1 in scaled form; omz must be 1-z, passed separately so
// callers that know it exactly (BG/NBD: (α+T)/(α+T+t)) keep its precision
// when z is close to 1.
func hyp2f1s(a, b, c, z, omz float64) scaled {
	switch {
	case math.IsNaN(a + b + c + z), z >= 1, isNonPosInt(c):
		return nanScaled()
	case z == 0:
		return scaled{1, 0}
	case isNonPosInt(a) || isNonPosInt(b):
		// A polynomial: the series terminates, whatever z.
		return hypSeries(a, b, c, z, 1)
	case z < 0:
		// Pfaff; 1 - z/(z-1) = 1/(1-z). Of the two symmetric forms, take
		// the one whose new numerator parameter is non-negative, if any.
		zp, omzp := z/(z-1), 1/omz
		if c-b < 0 && c-a >= 0 {
			return hyp2f1s(c-a, b, c, zp, omzp).times(-b * math.Log(omz))
		}
		return hyp2f1s(a, c-b, c, zp, omzp).times(-a * math.Log(omz))
	case z <= 0.5, z <= directMax && a > 0 && b > 0 && c > 0:
		return hypSeries(a, b, c, z, 1)
	case boundedTerms(a, b, c):
		// Well conditioned; fast unless z is close to 1 and c small, in
		// which case the budget runs out and the connection formula,
		// whose series then converge fast, takes over. For large c (a
		// heavy buyer) the direct series is the one that converges.
		if s, ok := hypSeriesN(a, b, c, z, 1, directBudget); ok {
			return s
		}
	}
	if math.Abs(c-a)+math.Abs(c-b) < math.Abs(a)+math.Abs(b) {
		return hypOneMinusZ(c-a, c-b, c, omz).times((c - a - b) * math.Log(omz))
	}
	return hypOneMinusZ(a, b, c, omz)
}

// boundedTerms reports whether every term ratio of the series is at most
// z in modulus: |a+n||b+n| <= (c+n)(n+1) for all n >= 0, which holds when
// |a||b| <= c and |a|+|b| <= c+1. Terms then shrink monotonically from 1,
// so summation neither cancels nor overflows.
func boundedTerms(a, b, c float64) bool {
	return c > 0 && math.Abs(a)*math.Abs(b) <= c && math.Abs(a)+math.Abs(b) <= c+1
}

// hypSeries sums first + Σ_{n>=1} (a)_n (b)_n / ((c)_n n!) z^n; first is 1
// for 2F1 itself and 0 for 2F1 - 1 (which callers need without the
// cancellation of subtracting 1).
func hypSeries(a, b, c, z, first float64) scaled {
	s, ok := hypSeriesN(a, b, c, z, first, maxSeriesTerms)
	if !ok {
		return nanScaled()
	}
	return s
}

// hypSeriesN is hypSeries with a term budget; ok is false when the series
// has not converged within maxTerms terms (or overflowed).
func hypSeriesN(a, b, c, z, first float64, maxTerms int) (scaled, bool) {
	// This loop is the hot path of scoring (twelve CLV months per
	// customer), hence plain comparisons instead of math.Abs/Max.
	sum, term, l := first, 1.0, 0.0
	absZ := math.Abs(z)
	for n := 0; n < maxTerms; n++ {
		fn := float64(n)
		ratio := (a + fn) * (b + fn) / ((c + fn) * (fn + 1)) * z
		term *= ratio
		sum += term
		if term == 0 {
			return finiteScaled(sum, l)
		}
		// Stop once terms shrink geometrically and the tail bound
		// |term|·r/(1−r) is below the tolerance. Past the first few terms
		// the ratio tends to z monotonically, from above or below, so
		// r = max(|ratio|, |z|) bounds every later ratio.
		r := ratio
		if r < 0 {
			r = -r
		}
		if r < absZ {
			r = absZ
		}
		if r < 1 {
			at, as := term, sum
			if at < 0 {
				at = -at
			}
			if as < 0 {
				as = -as
			}
			if at*r <= seriesTol*as*(1-r) {
				return finiteScaled(sum, l)
			}
		}
		if sum > rescale || sum < -rescale || term > rescale || term < -rescale {
			if math.IsInf(sum, 0) || math.IsInf(term, 0) {
				return nanScaled(), false
			}
			sum /= rescale
			term /= rescale
			l += logRescale
		}
		if sum != sum { // NaN: give up now rather than after maxTerms
			return nanScaled(), false
		}
	}
	return nanScaled(), false
}

func finiteScaled(m, l float64) (scaled, bool) {
	if math.IsNaN(m) || math.IsInf(m, 0) {
		return nanScaled(), false
	}
	return scaled{m, l}, true
}

// hypOneMinusZ evaluates 2F1 for 1/2 < z < 1 from u = 1-z by A&S 15.3.6.
func hypOneMinusZ(a, b, c, u float64) scaled {
	d := c - a - b
	n := math.Round(d)
	h := interpStep / math.Max(1, math.Abs(math.Log(u)))
	if math.Abs(d-n) >= h {
		return connection(a, b, c, u)
	}
	// Interpolate in c across the removable singularity at c = a+b+n.
	c0 := a + b + n
	nodes := [4]float64{c0 - 2*h, c0 - h, c0 + h, c0 + 2*h}
	var vals [4]scaled
	maxL := math.Inf(-1)
	for i, ci := range nodes {
		vals[i] = connection(a, b, ci, u)
		if math.IsNaN(vals[i].m) {
			return nanScaled()
		}
		if vals[i].m != 0 {
			maxL = math.Max(maxL, vals[i].l)
		}
	}
	if math.IsInf(maxL, -1) {
		return scaled{0, 0}
	}
	var out float64
	for i := range nodes {
		w := 1.0
		for j := range nodes {
			if j != i {
				w *= (c - nodes[j]) / (nodes[i] - nodes[j])
			}
		}
		out += w * vals[i].m * math.Exp(vals[i].l-maxL)
	}
	return scaled{out, maxL}
}

// connection is A&S 15.3.6 proper (c-a-b not an integer):
//
//	2F1(a,b;c;z) = Γ(c)Γ(d)/(Γ(c-a)Γ(c-b)) 2F1(a,b;1-d;u)
//	             + u^d Γ(c)Γ(-d)/(Γ(a)Γ(b)) 2F1(c-a,c-b;1+d;u),  d = c-a-b.
//
// Both series have argument u = 1-z < 1/2. A gamma function at a pole in a
// denominator makes its term vanish.
func connection(a, b, c, u float64) scaled {
	d := c - a - b
	lc, sc := lgammaSign(c)
	var out scaled
	if !isNonPosInt(c-a) && !isNonPosInt(c-b) {
		ld, sd := lgammaSign(d)
		l1, s1 := lgammaSign(c - a)
		l2, s2 := lgammaSign(c - b)
		s := hypSeries(a, b, 1-d, u, 1)
		out = addScaled(out, scaled{s.m * sc * sd * s1 * s2, s.l + lc + ld - l1 - l2})
	}
	if !isNonPosInt(a) && !isNonPosInt(b) {
		ld, sd := lgammaSign(-d)
		l1, s1 := lgammaSign(a)
		l2, s2 := lgammaSign(b)
		s := hypSeries(c-a, c-b, 1+d, u, 1)
		out = addScaled(out, scaled{s.m * sc * sd * s1 * s2, s.l + lc + ld - l1 - l2 + d*math.Log(u)})
	}
	return out
}

// lgammaSign returns log|Γ(x)| and the sign of Γ(x) as a float.
func lgammaSign(x float64) (float64, float64) {
	l, s := math.Lgamma(x)
	return l, float64(s)
}

func isNonPosInt(x float64) bool { return x <= 0 && x == math.Trunc(x) }
