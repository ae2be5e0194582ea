package models

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Customer lifetime value over a finite horizon:
//
//	CLV = Σ_{m=1..H} ( E[X(m)] − E[X(m−1)] ) · E[M] / (1+d)^m
//
// where E[X(m)] is BG/NBD's expected number of purchases in the next m
// months conditional on the customer's history (ExpectedPurchases), so the
// difference is the purchases expected in month m; E[M] is Gamma-Gamma's
// expected spend per purchase (ExpectedSpend); d is the monthly discount
// rate and each month's value is discounted to today from its end.
//
// A finite horizon rather than the model's infinite-horizon DERL because
// the BG/NBD extrapolated for decades is not something we would defend,
// and a business reads "next 12 months" directly.

const (
	// DefaultHorizonMonths is the CLV horizon: one year.
	DefaultHorizonMonths = 12
	// DefaultMonthlyDiscount is 1% a month (≈12.7% a year), a typical cost
	// of capital for a retailer.
	DefaultMonthlyDiscount = 0.01
	// DaysPerMonth is the mean Gregorian month, the calendar month the
	// horizon and discount rate are stated in.
	DaysPerMonth = 365.25 / 12
)

// CLVOptions sets the CLV horizon, discount and — explicitly, because the
// models are fitted in whatever unit the RFM data use — the length of that
// unit, from which months are converted into model time.
type CLVOptions struct {
	HorizonMonths   int
	MonthlyDiscount float64
	// Unit is the RFM time unit the models were fitted in (7×24h for
	// CDNOW weeks, 24h for the API's days).
	Unit time.Duration
}

// DefaultCLVOptions returns 12 months at 1% a month for data in unit.
func DefaultCLVOptions(unit time.Duration) CLVOptions {
	return CLVOptions{HorizonMonths: DefaultHorizonMonths, MonthlyDiscount: DefaultMonthlyDiscount, Unit: unit}
}

// Validate reports options Value cannot use.
func (o CLVOptions) Validate() error {
	var errs []error
	if o.HorizonMonths < 1 || o.HorizonMonths > 600 {
		errs = append(errs, fmt.Errorf("horizon %d months is outside 1..600", o.HorizonMonths))
	}
	if !(o.MonthlyDiscount >= 0 && o.MonthlyDiscount < 1) {
		errs = append(errs, fmt.Errorf("monthly discount %v is outside [0, 1)", o.MonthlyDiscount))
	}
	if o.Unit <= 0 {
		errs = append(errs, errors.New("the RFM time unit must be positive"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: CLV options: %w", ErrInvalidInput, err)
	}
	return nil
}

// UnitsPerMonth is the length of a month in the RFM time unit (≈4.35 for
// weeks, ≈30.44 for days).
func (o CLVOptions) UnitsPerMonth() float64 {
	return DaysPerMonth * float64(24*time.Hour) / float64(o.Unit)
}

// Value returns the customer's discounted expected spend over the horizon
// (see the formula above). It returns 0 for options that fail Validate:
// a per-customer call has no error to return, so Scorer validates once up
// front instead.
func (o CLVOptions) Value(bg BGNBD, gg GammaGamma, c RFM) float64 {
	if o.Validate() != nil {
		return 0
	}
	spend := gg.ExpectedSpend(c.Frequency, c.Monetary)
	return clampNonNeg(o.expectedDiscountedPurchases(bg, c) * spend)
}

// expectedDiscountedPurchases is Σ_m (E[X(m)] − E[X(m−1)]) / (1+d)^m,
// with P(alive), common to every month, factored out of the sum.
func (o CLVOptions) expectedDiscountedPurchases(bg BGNBD, c RFM) float64 {
	x, tx, T := cleanHistory(c.Frequency, c.Recency, c.T)
	month := o.UnitsPerMonth()
	var sum, prev float64
	discount := 1.0
	for m := 1; m <= o.HorizonMonths; m++ {
		discount /= 1 + o.MonthlyDiscount
		cur := clampNonNeg(bg.purchasesIfAlive(float64(m)*month, x, T))
		sum += math.Max(cur-prev, 0) * discount
		prev = cur
	}
	return clampProb(bg.pAlive(x, tx, T), 1) * sum
}
