package models

import (
	"errors"
	"fmt"
	"math"
)

// Scorer bundles fitted models and options into the per-customer
// predictions the API serves. Build it with NewScorer, which validates
// once, so that Score itself cannot fail.
type Scorer struct {
	BG    BGNBD
	GG    GammaGamma
	Churn Churn
	CLV   CLVOptions
}

// Scores are one customer's predictions; every field is finite and
// probabilities are in [0, 1]. Times are in the RFM unit.
type Scores struct {
	PAlive float64
	// ExpectedPurchases over the churn horizon.
	ExpectedPurchases float64
	// ChurnProbability: no purchase within the churn horizon (calibrated
	// when the Churn has a Calibration).
	ChurnProbability float64
	// ExpectedSpend per purchase (Gamma-Gamma).
	ExpectedSpend float64
	// CLV over the CLV horizon, discounted.
	CLV float64
	// NextPurchaseIn is the median wait to the next purchase; valid only
	// when NextPurchaseKnown (false: more likely than not never again).
	NextPurchaseIn    float64
	NextPurchaseKnown bool
}

// NewScorer validates the models and options.
func NewScorer(bg BGNBD, gg GammaGamma, churn Churn, clv CLVOptions) (*Scorer, error) {
	var errs []error
	for name, v := range map[string]float64{"r": bg.R, "alpha": bg.Alpha, "a": bg.A, "b": bg.B, "p": gg.P, "q": gg.Q, "v": gg.V} {
		if !(v > 0) || math.IsInf(v, 0) {
			errs = append(errs, fmt.Errorf("parameter %s = %v must be positive and finite", name, v))
		}
	}
	if !(churn.Horizon > 0) || math.IsInf(churn.Horizon, 0) {
		errs = append(errs, fmt.Errorf("churn horizon %v must be positive and finite", churn.Horizon))
	}
	if err := clv.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("%w: scorer: %w", ErrInvalidInput, err)
	}
	return &Scorer{BG: bg, GG: gg, Churn: churn, CLV: clv}, nil
}

// Score returns the predictions for one customer.
func (s *Scorer) Score(c RFM) Scores {
	next, ok := s.BG.ExpectedTimeToNextPurchase(c.Frequency, c.Recency, c.T)
	return Scores{
		PAlive:            s.BG.PAlive(c.Frequency, c.Recency, c.T),
		ExpectedPurchases: s.BG.ExpectedPurchases(s.Churn.Horizon, c.Frequency, c.Recency, c.T),
		ChurnProbability:  s.Churn.Prob(s.BG, c.Frequency, c.Recency, c.T),
		ExpectedSpend:     s.GG.ExpectedSpend(c.Frequency, c.Monetary),
		CLV:               s.CLV.Value(s.BG, s.GG, c),
		NextPurchaseIn:    next,
		NextPurchaseKnown: ok,
	}
}
