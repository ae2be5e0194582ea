package engine

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/meridian-graphql/meridian/analytics/models"
)

// history is one user's purchase history in the models' terms, in days.
type history struct {
	rfm    models.RFM // Frequency, Recency, T in days; Monetary
	orders int
}

// fitted holds the fitted models and applies them. Model time is days.
type fitted struct {
	bg models.BGNBD
	// gg is Gamma-Gamma's fit, or — when too few customers have repeat
	// purchases with a positive spend to fit it — a stand-in whose
	// expected spend is the mean order value (the customer's own mean
	// repeat spend once they have one).
	gg    models.GammaGamma
	ggFit bool
	churn models.Churn
	clv   models.CLVOptions
}

// fitModels fits BG/NBD, Gamma-Gamma and the churn calibration on the
// customers' orders. A non-converged BG/NBD fit is kept (its predictions
// are finite) and reported; a failed Gamma-Gamma fit falls back to the mean
// order value, a failed calibration to the model's own probability.
func fitModels(ctx context.Context, txs []models.Transaction, rfm []models.RFM, meanSpend float64, cfg Config, now time.Time) (*fitted, bool, error) {
	bg, err := models.FitBGNBD(ctx, rfm)
	converged := err == nil
	if err != nil && !errors.Is(err, models.ErrNotConverged) {
		return nil, false, err
	}
	horizon := cfg.ChurnHorizon.Hours() / 24
	f := &fitted{
		bg:    bg,
		churn: models.Churn{Horizon: horizon},
		clv:   models.CLVOptions{HorizonMonths: cfg.CLVMonths, MonthlyDiscount: cfg.MonthlyDiscount, Unit: 24 * time.Hour},
	}
	if gg, err := models.FitGammaGamma(ctx, rfm); err == nil || errors.Is(err, models.ErrNotConverged) {
		f.gg, f.ggFit = gg, true
	} else {
		f.gg = models.GammaGamma{MeanSpend: meanSpend}
		cfg.Log.WarnContext(ctx, "spend model not fitted; lifetime value uses the mean order value", "err", err)
	}
	// Learned on the store's own earlier history only (see
	// models.FitChurnCalibration); without enough history the model's
	// probability is used as it is.
	if c, err := models.FitChurnCalibration(ctx, txs, now, 24*time.Hour, horizon); err == nil {
		f.churn.Calib = c
	} else {
		cfg.Log.InfoContext(ctx, "churn calibration not fitted; using the model probability", "err", err)
	}
	return f, converged, nil
}

func (f *fitted) parameters() Parameters {
	p := Parameters{R: f.bg.R, Alpha: f.bg.Alpha, A: f.bg.A, B: f.bg.B}
	if f.ggFit {
		gp, gq, gv := f.gg.P, f.gg.Q, f.gg.V
		p.P, p.Q, p.V = &gp, &gq, &gv
	}
	return p
}

func (f *fitted) logLikelihood() float64 { return finite(f.bg.LogLikelihood) }

func (f *fitted) pAlive(h history) float64 {
	return clamp01(f.bg.PAlive(h.rfm.Frequency, h.rfm.Recency, h.rfm.T))
}

func (f *fitted) expected(days float64, h history) float64 {
	return math.Max(0, finite(f.bg.ExpectedPurchases(days, h.rfm.Frequency, h.rfm.Recency, h.rfm.T)))
}

// churnProb is the calibrated probability of no purchase within the
// horizon, P(X(T, T+h) = 0 | history), which counts a live but slow
// customer as churning in the window — unlike 1 − P(alive), which ranks
// one-time buyers poorly.
func (f *fitted) churnProb(h history) float64 {
	return clamp01(f.churn.Prob(f.bg, h.rfm.Frequency, h.rfm.Recency, h.rfm.T))
}

func (f *fitted) nextPurchase(h history) *float64 {
	d, ok := f.bg.ExpectedTimeToNextPurchase(h.rfm.Frequency, h.rfm.Recency, h.rfm.T)
	if !ok || math.IsNaN(d) || math.IsInf(d, 0) {
		return nil
	}
	d = math.Round(d*10) / 10
	return &d
}

// ltv is models.CLVOptions.Value: Σ_{m=1..M} (E[X(m)] − E[X(m−1)]) ·
// E[spend] / (1+d)^m over M months (MERIDIAN_CLV_MONTHS) at the monthly
// discount d (MERIDIAN_CLV_MONTHLY_DISCOUNT), rounded to cents.
func (f *fitted) ltv(h history) float64 {
	return math.Round(finite(f.clv.Value(f.bg, f.gg, h.rfm))*100) / 100
}
