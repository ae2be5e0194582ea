package models

import (
	"math"
	"testing"
)

// TestExpectedPurchasesAgainstMpmath checks eq. 10 against reference values
// computed with mpmath at 50 digits straight from the paper's formula (the
// 2F1 as written there, no transformations), over the regimes the
// implementation treats differently: small t (1 − G cancellation), z close
// to 1 (connection formula), heavy buyers (x up to 1500: parameters that
// overflow the plain series), a > 1, and the removable singularities a = 1
// and a+b+x−1 = 0.
func TestExpectedPurchasesAgainstMpmath(t *testing.T) {
	cases := []struct {
		r, alpha, a, b, t, x, tx, T, want float64
	}{
		{0.2426, 4.4136, 0.7929, 2.4259, 39, 2, 30.43, 38.86, 1.225922657987033},
		{0.2426, 4.4136, 0.7929, 2.4259, 39, 0, 0, 0, 1.1950476815137786},
		{0.2426, 4.4136, 0.7929, 2.4259, 1e-06, 3, 20, 30, 6.0972462166708443e-8},
		{0.2426, 4.4136, 0.7929, 2.4259, 500, 0, 0, 0.5, 4.6503655483922465},
		{0.2426, 4.4136, 0.7929, 2.4259, 39, 40, 38, 38.86, 26.779414696451159},
		{0.2426, 4.4136, 0.7929, 2.4259, 3000, 250, 700, 730, 4.4740139038337475},
		{0.9, 120, 0.45, 6.1, 365, 1500, 1800, 1825, 0.0033444237561347337},
		{0.9, 120, 0.45, 6.1, 30, 1500, 1800, 1825, 0.00028496063116435114},
		{1.7, 35, 2.6, 0.4, 365, 0, 0, 0, 1.2083715339846799},
		{1.7, 35, 2.6, 0.4, 200, 5, 90, 100, 1.6609585457633633},
		{0.5, 10, 1.0, 3.0, 50, 3, 20, 40, 1.2363124924383813},
		{0.5, 10, 1.0000004, 3.0, 50, 3, 20, 40, 1.2363121184221156},
		{0.5, 10, 0.9996, 3.0, 50, 3, 20, 40, 1.2366866018894887},
		{0.5, 10, 0.4, 0.6, 80, 0, 0, 5, 1.4436262630051627}, // a+b+x−1 = 0: limit
		{0.5, 10, 0.4, 0.6000003, 80, 0, 0, 5, 1.4436264649832749},
		// a+b < 1 with x = 0: the 2F1's c = a+b+x−1 is negative.
		{0.5, 10, 0.3, 0.4, 80, 0, 0, 5, 1.4517174165889966},
		{0.5, 10, 0.3, 0.4, 3, 0, 0, 5, 0.094285418333269319},
		{0.5, 10, 0.3, 0.4, 80, 2, 3, 5, 6.8056962885490443},
		// x = 10⁶ (mpmath's own 2F1 series gives up here): references by
		// mpmath quadrature of E_p[(1 − (1+p t/(α+T))^−(r+x))/p], p ~
		// Beta(a, b+x), a representation independent of any 2F1.
		{0.2426, 4.4136, 0.7929, 2.4259, 39, 1e6, 1e4, 1e4, 3892.2666379737204},
		{0.2426, 4.4136, 0.7929, 2.4259, 3e5, 1e6, 1e4, 1e4, 5003432.2861697555},
		{0.2426, 4.4136, 0.7929, 2.4259, 4.35, 1e6, 0.5, 0.5, 677603.47535669786},
		{0.2426, 4.4136, 0.7929, 2.4259, 52, 1e6, 0.5, 0.5, 3190712.4033022096},
		{0.2426, 4.4136, 0.7929, 2.4259, 5000, 1, 1, 1, 26.198624197544833},
	}
	for _, c := range cases {
		m := BGNBD{R: c.r, Alpha: c.alpha, A: c.a, B: c.b}
		var got float64
		if c.T == 0 {
			got = m.ExpectedPurchasesNew(c.t)
		} else {
			got = m.ExpectedPurchases(c.t, c.x, c.tx, c.T)
		}
		if math.Abs(got-c.want) > 1e-11*math.Abs(c.want) {
			t.Errorf("%+v: got %.16g, want %.16g (rel err %.1e)", c, got, c.want, math.Abs(got-c.want)/c.want)
		}
	}
}
