package models

import (
	"context"
	"fmt"
	"math"
	"time"
)

// Churn scores the probability that a customer makes no purchase in the
// next Horizon time units (the RFM unit): BG/NBD's ProbNoPurchase, which
// unlike 1 − P(alive) also covers the alive customer who simply does not
// buy in time, and so ranks one-time buyers sensibly (1 − P(alive) is 0 for
// every one of them).
//
// Calib, when set, maps that model probability through a calibration
// learned on the same customer base's earlier history (FitChurnCalibration):
// its Learned logistic model when it has one (which also uses the
// customer's frequency and recency, and so re-ranks customers), else its
// Platt mapping (A, B); nil uses the model probability as is.
type Churn struct {
	Horizon float64
	Calib   *Calibration
}

// Prob returns the churn probability in [0, 1].
func (c Churn) Prob(model BGNBD, x, tx, T float64) float64 {
	p := model.ProbNoPurchase(c.Horizon, x, tx, T)
	if c.Calib != nil {
		p = c.Calib.ApplyRF(p, x, tx, T, c.Horizon)
	}
	return clampProb(p, 1)
}

// Calibration is a Platt-style recalibration on the logit scale,
//
//	p' = σ(A·logit(p) + B),
//
// fitted by logistic regression of observed outcomes on the model's logit.
// Two parameters, so it cannot overfit a customer base of any real size,
// and A > 0 keeps it monotone: it changes the probabilities but never the
// ranking (AUC is unchanged). A = 1, B = 0 is the identity.
type Calibration struct {
	A, B float64
	// Horizon is the horizon (RFM unit) of the predictions it was learned
	// on, Customers the number of customers it was learned from.
	Horizon   float64
	Customers int
	// Learned, when set, replaces the Platt mapping in Churn.Prob (see
	// ChurnLogit); nil when too few customers to learn it.
	Learned *ChurnLogit
}

// ApplyRF maps a model probability p = ProbNoPurchase(h, x, tx, T) to the
// served churn probability: through Learned when there is one, else
// through the Platt mapping (Apply).
func (c *Calibration) ApplyRF(p, x, tx, T, h float64) float64 {
	if c == nil {
		return clampProb(p, 1)
	}
	if c.Learned != nil {
		return c.Learned.Prob(p, x, tx, T, h)
	}
	return c.Apply(p)
}

// Apply maps a model probability to a calibrated one.
func (c *Calibration) Apply(p float64) float64 {
	if c == nil {
		return clampProb(p, 1)
	}
	return clampProb(sigmoid(c.A*logit(p)+c.B), p)
}

// probClip keeps logits finite: the model can say 0 or 1 exactly.
const probClip = 1e-9

func logit(p float64) float64 {
	p = math.Min(math.Max(p, probClip), 1-probClip)
	return math.Log(p / (1 - p))
}

func sigmoid(v float64) float64 {
	if v >= 0 {
		return 1 / (1 + math.Exp(-v))
	}
	e := math.Exp(v)
	return e / (1 + e)
}

// calibrationRidge pulls (A, B) towards the identity (1, 0) with the
// weight of about one observation: it keeps the fit finite when outcomes
// are perfectly separated by the score and is negligible otherwise.
const calibrationRidge = 1.0

// FitCalibration fits a Calibration of predicted probabilities to observed
// outcomes (true = the event happened) by penalised Newton-Raphson.
// It fails with ErrInsufficientData when there are fewer than 20 outcomes
// or only one kind, and when the fit would reverse the ranking (A <= 0),
// which would mean the model ranks customers worse than chance there.
func FitCalibration(pred []float64, observed []bool) (*Calibration, error) {
	if len(pred) != len(observed) {
		return nil, fmt.Errorf("%w: %d predictions for %d outcomes", ErrInvalidInput, len(pred), len(observed))
	}
	var events int
	for _, y := range observed {
		if y {
			events++
		}
	}
	if len(pred) < 20 || events == 0 || events == len(pred) {
		return nil, fmt.Errorf("%w: calibration needs at least 20 outcomes of both kinds (have %d, %d events)", ErrInsufficientData, len(pred), events)
	}
	l := make([]float64, len(pred))
	for i, p := range pred {
		l[i] = logit(p)
	}
	nll := func(a, b float64) float64 {
		s := calibrationRidge / 2 * ((a-1)*(a-1) + b*b)
		for i, li := range l {
			v := a*li + b
			// −log σ(v) = log(1+e^−v), −log(1−σ(v)) = log(1+e^v)
			if observed[i] {
				v = -v
			}
			s += softplus(v)
		}
		return s
	}
	a, b := 1.0, 0.0
	cur := nll(a, b)
	for iter := 0; iter < 100; iter++ {
		// Gradient and Hessian of the penalised negative log-likelihood.
		ga, gb := calibrationRidge*(a-1), calibrationRidge*b
		haa, hab, hbb := calibrationRidge, 0.0, calibrationRidge
		for i, li := range l {
			q := sigmoid(a*li + b)
			y := 0.0
			if observed[i] {
				y = 1
			}
			ga += (q - y) * li
			gb += q - y
			w := q * (1 - q)
			haa += w * li * li
			hab += w * li
			hbb += w
		}
		det := haa*hbb - hab*hab
		if !(det > 0) {
			break
		}
		da, db := (hbb*ga-hab*gb)/det, (haa*gb-hab*ga)/det
		// Step halving keeps every step a descent step.
		step := 1.0
		for ; step > 1e-10; step /= 2 {
			if next := nll(a-step*da, b-step*db); next <= cur {
				a, b, cur = a-step*da, b-step*db, next
				break
			}
		}
		if step <= 1e-10 || math.Abs(step*da)+math.Abs(step*db) < 1e-12 {
			break
		}
	}
	if !(a > 0) || math.IsNaN(b) || math.IsInf(b, 0) {
		return nil, fmt.Errorf("%w: calibration slope %v would reverse the model's ranking", ErrInsufficientData, a)
	}
	return &Calibration{A: a, B: b, Customers: len(pred)}, nil
}

func softplus(v float64) float64 {
	if v > 0 {
		return v + math.Log1p(math.Exp(-v))
	}
	return math.Log1p(math.Exp(v))
}

// FitChurnCalibration learns a Calibration for Churn{Horizon: horizon} from
// a customer base's own history up to end, never from anything later, so
// the server can do on its orders what EvaluateCDNOW does on CDNOW:
//
//  1. split the history at innerEnd = end − h, with h = min(horizon,
//     half the span of the history), so there is both enough past to fit
//     and an inner holdout to observe;
//  2. fit BG/NBD on the orders up to innerEnd;
//  3. predict ProbNoPurchase(h) for those customers and observe whether
//     each bought in (innerEnd, end];
//  4. fit the Platt mapping from predicted to observed (FitCalibration)
//     and, with at least minLearnedCustomers customers, the ChurnLogit on
//     the same outcomes (FitChurnLogit) into Learned.
//
// When h < horizon the mapping learned at h is applied to predictions at
// horizon: it assumes the model's miscalibration, as a function of its own
// probability, is similar at both horizons (checked on CDNOW, where
// h = horizon/2: see EvaluateCDNOW).
//
// Errors wrap those of FitBGNBD (including ErrNotConverged: a calibration
// is only learned from a converged inner fit) and FitCalibration; the
// caller then uses the uncalibrated probability (Calib = nil).
func FitChurnCalibration(ctx context.Context, txs []Transaction, end time.Time, unit time.Duration, horizon float64) (*Calibration, error) {
	if unit <= 0 {
		return nil, fmt.Errorf("churn calibration: %w: unit must be positive", ErrInvalidInput)
	}
	if !(horizon > 0) || math.IsInf(horizon, 0) {
		return nil, fmt.Errorf("churn calibration: %w: horizon %v must be positive and finite", ErrInvalidInput, horizon)
	}
	var first time.Time
	for _, tx := range txs {
		if !tx.At.After(end) && (first.IsZero() || tx.At.Before(first)) {
			first = tx.At
		}
	}
	if first.IsZero() {
		return nil, fmt.Errorf("churn calibration: %w", ErrNoCustomers)
	}
	span := ageIn(end.Sub(day(first)), unit)
	h := math.Min(horizon, span/2)
	if !(h > 0) {
		return nil, fmt.Errorf("churn calibration: %w: history spans no time", ErrInsufficientData)
	}
	innerEnd := end.Add(-time.Duration(h * float64(unit)))
	inner := Summarize(txs, innerEnd, unit)
	model, err := FitBGNBD(ctx, inner)
	if err != nil {
		return nil, fmt.Errorf("churn calibration: inner fit to %s: %w", innerEnd.Format(time.DateOnly), err)
	}
	later := purchaseDays(txs, innerEnd, end)
	pred := make([]float64, len(inner))
	none := make([]bool, len(inner))
	for i, c := range inner {
		pred[i] = model.ProbNoPurchase(h, c.Frequency, c.Recency, c.T)
		none[i] = len(later[c.Customer]) == 0
	}
	cal, err := FitCalibration(pred, none)
	if err != nil {
		return nil, fmt.Errorf("churn calibration: %w", err)
	}
	cal.Horizon = h
	if len(inner) >= minLearnedCustomers {
		x, tx, T := make([]float64, len(inner)), make([]float64, len(inner)), make([]float64, len(inner))
		for i, c := range inner {
			x[i], tx[i], T[i] = c.Frequency, c.Recency, c.T
		}
		// A failed fit (it needs both outcomes, which FitCalibration has
		// just checked, so only a numerical failure) leaves the Platt
		// mapping in charge.
		if l, err := FitChurnLogit(pred, x, tx, T, h, none); err == nil {
			cal.Learned = l
		}
	}
	return cal, nil
}
