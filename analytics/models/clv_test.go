package models

import (
	"errors"
	"math"
	"testing"
	"time"
)

var publishedGG = GammaGamma{P: 6.2488, Q: 3.7443, V: 15.4477, MeanSpend: 6.2488 * 15.4477 / 2.7443}

func TestCLVFormula(t *testing.T) {
	bg, gg := publishedBGNBD, publishedGG
	c := RFM{Frequency: 2, Recency: 30.43, T: 38.86, Monetary: 22.35}
	opt := DefaultCLVOptions(week)
	month := 365.25 / 12 / 7
	if math.Abs(opt.UnitsPerMonth()-month) > 1e-12 {
		t.Fatalf("weeks per month %v, want %v", opt.UnitsPerMonth(), month)
	}
	// By hand: the sum of discounted monthly increments × spend.
	var want, prev float64
	for m := 1; m <= 12; m++ {
		e := bg.ExpectedPurchases(float64(m)*month, c.Frequency, c.Recency, c.T)
		want += (e - prev) / math.Pow(1.01, float64(m))
		prev = e
	}
	want *= gg.ExpectedSpend(c.Frequency, c.Monetary)
	if got := opt.Value(bg, gg, c); math.Abs(got-want) > 1e-9*want {
		t.Errorf("CLV %v, want %v", got, want)
	}
	// Without discounting the increments telescope to E[X(12 months)].
	opt.MonthlyDiscount = 0
	undiscounted := bg.ExpectedPurchases(12*month, c.Frequency, c.Recency, c.T) * gg.ExpectedSpend(c.Frequency, c.Monetary)
	if got := opt.Value(bg, gg, c); math.Abs(got-undiscounted) > 1e-9*undiscounted {
		t.Errorf("undiscounted CLV %v, want %v", got, undiscounted)
	}
	if !(undiscounted > want) {
		t.Error("discounting did not lower CLV")
	}
}

// TestCLVUnitConversion: the same model and customer expressed in days or
// in weeks (α and every age scaled by 7) must have the same CLV once the
// unit is declared — the conversion to months is explicit, not assumed.
func TestCLVUnitConversion(t *testing.T) {
	gg := publishedGG
	weekly := publishedBGNBD
	daily := weekly
	daily.Alpha *= 7
	cw := RFM{Frequency: 3, Recency: 20, T: 35, Monetary: 40}
	cd := RFM{Frequency: 3, Recency: 140, T: 245, Monetary: 40}
	vw := DefaultCLVOptions(week).Value(weekly, gg, cw)
	vd := DefaultCLVOptions(24*time.Hour).Value(daily, gg, cd)
	if math.Abs(vw-vd) > 1e-9*vw {
		t.Errorf("weekly CLV %v, daily CLV %v", vw, vd)
	}
}

func TestCLVOptionsValidate(t *testing.T) {
	for _, o := range []CLVOptions{
		{HorizonMonths: 0, MonthlyDiscount: 0.01, Unit: week},
		{HorizonMonths: 12, MonthlyDiscount: -0.1, Unit: week},
		{HorizonMonths: 12, MonthlyDiscount: math.NaN(), Unit: week},
		{HorizonMonths: 12, MonthlyDiscount: 0.01},
	} {
		if err := o.Validate(); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("%+v: Validate = %v, want ErrInvalidInput", o, err)
		}
		if v := o.Value(publishedBGNBD, publishedGG, RFM{Frequency: 1, Recency: 1, T: 2, Monetary: 3}); v != 0 {
			t.Errorf("%+v: invalid options valued a customer at %v, want 0", o, v)
		}
	}
	if err := DefaultCLVOptions(24 * time.Hour).Validate(); err != nil {
		t.Errorf("defaults invalid: %v", err)
	}
}
