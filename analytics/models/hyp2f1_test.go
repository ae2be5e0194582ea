package models

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mathext"
)

// closeRel reports |got-want| <= tol·max(1, |want|).
func closeRel(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

// TestHyp2F1ClosedForms checks identities with elementary closed forms,
// chosen to hit every branch: the direct series, Pfaff (z < -1/2), the 1-z
// connection formula, and its integer c-a-b special case (d = 0 and d = 1,
// where the connection formula's gamma factors are infinite).
func TestHyp2F1ClosedForms(t *testing.T) {
	cases := []struct {
		name       string
		a, b, c, z float64
		want       float64
	}{}
	for _, z := range []float64{-50, -3, -0.9, -0.3, 0.1, 0.45, 0.6, 0.9, 0.999, 1 - 1e-9} {
		// 2F1(1,1;2;z) = -ln(1-z)/z: c-a-b = 0.
		cases = append(cases, struct {
			name       string
			a, b, c, z float64
			want       float64
		}{"log", 1, 1, 2, z, -math.Log1p(-z) / z})
		// 2F1(1,1;3;z) = 2[-ln(1-z)/z + (ln(1-z)+z)/z²]: c-a-b = 1.
		l := math.Log1p(-z)
		cases = append(cases, struct {
			name       string
			a, b, c, z float64
			want       float64
		}{"log2", 1, 1, 3, z, 2 * (-l/z + (l+z)/(z*z))})
		// 2F1(a,b;b;z) = (1-z)^-a: c-a-b = -a.
		cases = append(cases, struct {
			name       string
			a, b, c, z float64
			want       float64
		}{"power", 0.37, 2.5, 2.5, z, math.Pow(1-z, -0.37)})
	}
	for _, x := range []float64{0.2, 0.7, 0.95} {
		// 2F1(1/2,1/2;3/2;x²) = asin(x)/x: c-a-b = 1/2.
		cases = append(cases, struct {
			name       string
			a, b, c, z float64
			want       float64
		}{"asin", 0.5, 0.5, 1.5, x * x, math.Asin(x) / x})
	}
	for _, x := range []float64{0.3, 2, 40} {
		// 2F1(1/2,1;3/2;-x²) = atan(x)/x.
		cases = append(cases, struct {
			name       string
			a, b, c, z float64
			want       float64
		}{"atan", 0.5, 1, 1.5, -x * x, math.Atan(x) / x})
	}
	for _, tc := range cases {
		got := hyp2f1(tc.a, tc.b, tc.c, tc.z)
		if !closeRel(got, tc.want, 1e-10) {
			t.Errorf("%s: 2F1(%v,%v;%v;%v) = %.15g, want %.15g", tc.name, tc.a, tc.b, tc.c, tc.z, got, tc.want)
		}
	}
}

// TestHyp2F1AgainstCephes compares with gonum's port of Cephes hyp2f1 over
// the parameter region the BG/NBD uses: a = r+x, b = b+x (or a-1 after
// Pfaff), c = a+b+x-1, with z on both sides of the series' comfort zone.
func TestHyp2F1AgainstCephes(t *testing.T) {
	for _, a := range []float64{0.24, 1.3, 5.24, 20.24} {
		for _, b := range []float64{-0.21, 2.43, 7.43} {
			for _, c := range []float64{0.6, 2.2, 9.2, 22.2} {
				for _, z := range []float64{-0.95, -0.4, 0.2, 0.5, 0.7, 0.93} {
					want := mathext.Hypergeo(a, b, c, z)
					got := hyp2f1(a, b, c, z)
					if !closeRel(got, want, 1e-9) {
						t.Errorf("2F1(%v,%v;%v;%v) = %.15g, cephes %.15g", a, b, c, z, got, want)
					}
				}
			}
		}
	}
}

// TestHyp2F1LargeParameters: a heavy buyer (x = 1500) makes the plain series
// overflow; the scaled evaluation must still give the Pfaff identity
// (1-z)^a 2F1(a,b;c;z) = 2F1(a,c-b;c;z/(z-1)) with a finite, moderate value.
func TestHyp2F1LargeParameters(t *testing.T) {
	a, b, c := 1500.24, 1502.43, 1502.22
	for _, z := range []float64{0.3, 0.6, 0.9} {
		s := hyp2f1s(a, b, c, z, 1-z).times(a * math.Log1p(-z))
		want := hyp2f1(a, c-b, c, z/(z-1))
		if got := s.value(); !closeRel(got, want, 1e-9) || math.IsInf(got, 0) || math.IsNaN(got) {
			t.Errorf("z=%v: scaled %.15g, Pfaff %.15g", z, got, want)
		}
	}
}

func TestHyp2F1Domain(t *testing.T) {
	for _, tc := range [][4]float64{{1, 1, 2, 1}, {1, 1, 2, 1.5}, {1, 1, 0, 0.5}, {1, 1, -2, 0.5}, {math.NaN(), 1, 2, 0.1}} {
		if got := hyp2f1(tc[0], tc[1], tc[2], tc[3]); !math.IsNaN(got) {
			t.Errorf("2F1%v = %v, want NaN outside the domain", tc, got)
		}
	}
	// Polynomial case: 2F1(-2,b;c;z) = 1 - 2bz/c + b(b+1)z²/(c(c+1)).
	b, c, z := 1.5, 2.5, -3.0
	want := 1 - 2*b*z/c + b*(b+1)*z*z/(c*(c+1))
	if got := hyp2f1(-2, b, c, z); !closeRel(got, want, 1e-13) {
		t.Errorf("polynomial: %v, want %v", got, want)
	}
}
