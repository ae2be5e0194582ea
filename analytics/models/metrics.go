package models

import (
	"math"
	"sort"
)

// Scoring rules for the evaluation: ROC AUC (ranking), Brier score
// (calibration and sharpness together) and Pearson correlation.

// auc is the area under the ROC curve of score for the positive class,
// via the Mann–Whitney statistic with mid-ranks for ties (a tied pair
// counts one half). It is 0.5 when either class is empty.
func auc(score []float64, positive []bool) float64 {
	idx := make([]int, len(score))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(i, j int) bool { return score[idx[i]] < score[idx[j]] })
	var rankSum, nPos float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && score[idx[j]] == score[idx[i]] {
			j++
		}
		mid := float64(i+j+1) / 2 // mean of the 1-based ranks i+1..j
		for k := i; k < j; k++ {
			if positive[idx[k]] {
				rankSum += mid
				nPos++
			}
		}
		i = j
	}
	nNeg := float64(len(score)) - nPos
	if nPos == 0 || nNeg == 0 {
		return 0.5
	}
	return (rankSum - nPos*(nPos+1)/2) / (nPos * nNeg)
}

// brier is the mean squared difference between probability and outcome.
func brier(prob []float64, outcome []bool) float64 {
	if len(prob) == 0 {
		return 0
	}
	var s float64
	for i, p := range prob {
		y := 0.0
		if outcome[i] {
			y = 1
		}
		s += (p - y) * (p - y)
	}
	return s / float64(len(prob))
}

// pearson is the correlation of x and y; 0 when either is constant.
func pearson(x, y []float64) float64 {
	n := float64(len(x))
	if n < 2 {
		return 0
	}
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx /= n
	my /= n
	var sxy, sxx, syy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx == 0 || syy == 0 {
		return 0
	}
	return sxy / math.Sqrt(sxx*syy)
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}
