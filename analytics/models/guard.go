package models

import "math"

// Guards applied at every exported boundary. The formulas are stable for
// sane inputs, but API data is not always sane (clock skew, refunds,
// extreme histories), and a single NaN would poison sums and JSON alike, so
// each prediction is forced into its mathematical range here rather than
// trusted.

// maxCount bounds expected counts and money: far beyond any real value, but
// finite, so a degenerate parameter set degrades to "huge", not +Inf.
const maxCount = 1e12

// clampProb maps v into [0, 1]; NaN becomes fallback.
func clampProb(v, fallback float64) float64 {
	switch {
	case math.IsNaN(v):
		return fallback
	case v < 0:
		return 0
	case v > 1:
		return 1
	}
	return v
}

// clampNonNeg maps v into [0, maxCount]; NaN becomes 0.
func clampNonNeg(v float64) float64 {
	switch {
	case math.IsNaN(v), v < 0:
		return 0
	case v > maxCount:
		return maxCount
	}
	return v
}

// cleanHistory makes a customer history usable by the prediction formulas:
// counts are whole and non-negative, ages are finite, non-negative and
// ordered (0 <= tx <= T). Garbage maps to the nearest meaningful history
// instead of NaN, because predictions must always be defined; fits, which
// can report errors, validate instead (validateRFM).
func cleanHistory(x, tx, T float64) (float64, float64, float64) {
	fin := func(v float64) float64 {
		if math.IsNaN(v) || v < 0 {
			return 0
		}
		return math.Min(v, maxCount)
	}
	x, tx, T = math.Round(fin(x)), fin(tx), fin(T)
	if x == 0 {
		tx = 0
	}
	if tx > T {
		T = tx
	}
	return x, tx, T
}

// cleanSpan maps a horizon to [0, maxCount]; NaN and negatives mean "no
// time", whose predictions are the trivial ones (no purchases).
func cleanSpan(h float64) float64 { return clampNonNeg(h) }
