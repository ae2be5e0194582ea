package models

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"
)

// Report is a holdout evaluation: models fitted on the calibration period
// only, their predictions compared with what customers did afterwards.
type Report struct {
	Customers      int
	CalibrationEnd time.Time
	HoldoutEnd     time.Time
	// Holdout is the holdout length in the RFM unit, UnitName that unit.
	Holdout  float64
	UnitName string

	BGNBD      BGNBD
	GammaGamma GammaGamma

	// ByFrequency: mean holdout purchases, actual and predicted, per
	// calibration frequency 0..6 and 7+ (the paper's Figure 4 check).
	ByFrequency []FrequencyRow
	// FrequencyCorrelation is the Pearson correlation of the per-frequency
	// predicted and actual means; CustomerCorrelation the same per customer.
	FrequencyCorrelation float64
	CustomerCorrelation  float64
	ActualPurchases      float64
	PredictedPurchases   float64
	// Revenue in the holdout, actual and predicted (BG/NBD × Gamma-Gamma).
	ActualRevenue    float64
	PredictedRevenue float64
	// SpendFrequencyCorrelation checks Gamma-Gamma's independence
	// assumption on the repeat buyers (near 0 is good).
	SpendFrequencyCorrelation float64
	// MeanCLV is the mean 12-month CLV at the calibration end.
	MeanCLV float64

	// ChurnRate is the observed share of customers with no holdout purchase.
	ChurnRate float64
	// Churn scores of "no purchase in the holdout", in Print order: the
	// model probability, its Platt calibration and the learned ChurnLogit
	// (each when one was learned; the learned one is what Churn.Prob
	// serves), and 1 − P(alive) for comparison.
	Churn []ChurnScore
	// Calibration is the one learned from calibration-period data only
	// (nil, with CalibrationError saying why, if none could be learned).
	Calibration      *Calibration
	CalibrationError string
}

// FrequencyRow is one calibration-frequency bin; Frequency 7 means "7+".
type FrequencyRow struct {
	Frequency int
	Customers int
	Actual    float64
	Predicted float64
}

// ChurnScore rates one churn probability against the holdout outcome.
type ChurnScore struct {
	Name  string
	AUC   float64
	Brier float64
	// MeanPredicted against Report.ChurnRate is calibration in the large.
	MeanPredicted float64
}

// CDNOW periods of the BG/NBD paper: 39 weeks of calibration from the
// cohort's start, 39 weeks of holdout.
var (
	cdnowCalibrationEnd = time.Date(1997, 9, 30, 0, 0, 0, 0, time.UTC)
	cdnowHoldoutEnd     = time.Date(1998, 6, 30, 0, 0, 0, 0, time.UTC)
)

const week = 7 * 24 * time.Hour

// EvaluateCDNOW runs Evaluate on dir/CDNOW_sample.txt with the paper's
// periods (calibration 1997-01-01..1997-09-30, holdout to 1998-06-30) in
// weeks.
func EvaluateCDNOW(ctx context.Context, dir string) (*Report, error) {
	f, err := os.Open(filepath.Join(dir, "CDNOW_sample.txt"))
	if err != nil {
		return nil, fmt.Errorf("evaluate CDNOW: %w", err)
	}
	defer f.Close()
	txs, err := readCDNOW(f)
	if err != nil {
		return nil, fmt.Errorf("evaluate CDNOW: %w", err)
	}
	r, err := Evaluate(ctx, txs, cdnowCalibrationEnd, cdnowHoldoutEnd, week)
	if err != nil {
		return nil, fmt.Errorf("evaluate CDNOW: %w", err)
	}
	return r, nil
}

// Evaluate fits BG/NBD, Gamma-Gamma and the churn calibration on the
// transactions up to calibrationEnd only, then scores them against the
// customers' purchases in (calibrationEnd, holdoutEnd]. Customers first
// seen in the holdout are not part of the evaluation. A model that fits
// without converging is evaluated anyway (its report says so); other fit
// errors are returned.
func Evaluate(ctx context.Context, txs []Transaction, calibrationEnd, holdoutEnd time.Time, unit time.Duration) (*Report, error) {
	if !holdoutEnd.After(calibrationEnd) {
		return nil, fmt.Errorf("%w: holdout end %s is not after calibration end %s", ErrInvalidInput, holdoutEnd, calibrationEnd)
	}
	cal := Summarize(txs, calibrationEnd, unit)
	h := ageIn(holdoutEnd.Sub(calibrationEnd), unit)
	rep := &Report{
		Customers:      len(cal),
		CalibrationEnd: calibrationEnd,
		HoldoutEnd:     holdoutEnd,
		Holdout:        h,
		UnitName:       unitName(unit),
	}
	var err error
	if rep.BGNBD, err = FitBGNBD(ctx, cal); err != nil && !isNotConverged(err) {
		return nil, err
	}
	if rep.GammaGamma, err = FitGammaGamma(ctx, cal); err != nil && !isNotConverged(err) {
		return nil, err
	}
	rep.Calibration, err = FitChurnCalibration(ctx, txs, calibrationEnd, unit, h)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		rep.CalibrationError = err.Error()
	}

	holdout := purchaseDays(txs, calibrationEnd, holdoutEnd)
	bg, gg := rep.BGNBD, rep.GammaGamma
	clv := DefaultCLVOptions(unit)
	n := len(cal)
	actual, predicted := make([]float64, n), make([]float64, n)
	none := make([]bool, n)
	raw, calibrated, learned, notAlive := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	bins := make([]FrequencyRow, 8)
	var spendX, spendM []float64
	for i, c := range cal {
		days := holdout[c.Customer]
		actual[i] = float64(len(days))
		for _, d := range days {
			rep.ActualRevenue += d.Amount
		}
		predicted[i] = bg.ExpectedPurchases(h, c.Frequency, c.Recency, c.T)
		rep.PredictedRevenue += predicted[i] * gg.ExpectedSpend(c.Frequency, c.Monetary)
		rep.MeanCLV += clv.Value(bg, gg, c) / float64(n)
		none[i] = len(days) == 0
		raw[i] = Churn{Horizon: h}.Prob(bg, c.Frequency, c.Recency, c.T)
		calibrated[i] = rep.Calibration.Apply(raw[i])
		learned[i] = Churn{Horizon: h, Calib: rep.Calibration}.Prob(bg, c.Frequency, c.Recency, c.T)
		notAlive[i] = 1 - bg.PAlive(c.Frequency, c.Recency, c.T)

		b := &bins[min(int(c.Frequency), 7)]
		b.Customers++
		b.Actual += actual[i]
		b.Predicted += predicted[i]
		if c.Frequency > 0 && c.Monetary > 0 {
			spendX = append(spendX, c.Frequency)
			spendM = append(spendM, c.Monetary)
		}
	}
	var binActual, binPredicted []float64
	for k := range bins {
		b := &bins[k]
		b.Frequency = k
		if b.Customers == 0 {
			continue
		}
		b.Actual /= float64(b.Customers)
		b.Predicted /= float64(b.Customers)
		binActual = append(binActual, b.Actual)
		binPredicted = append(binPredicted, b.Predicted)
		rep.ByFrequency = append(rep.ByFrequency, *b)
	}
	rep.FrequencyCorrelation = pearson(binPredicted, binActual)
	rep.CustomerCorrelation = pearson(predicted, actual)
	for i := range actual {
		rep.ActualPurchases += actual[i]
		rep.PredictedPurchases += predicted[i]
		if none[i] {
			rep.ChurnRate++
		}
	}
	if n > 0 {
		rep.ChurnRate /= float64(n)
	}
	rep.SpendFrequencyCorrelation = pearson(spendX, spendM)
	score := func(name string, p []float64) ChurnScore {
		return ChurnScore{Name: name, AUC: auc(p, none), Brier: brier(p, none), MeanPredicted: mean(p)}
	}
	name := fmt.Sprintf("P(no purchase in %.4g %s)", h, rep.UnitName)
	rep.Churn = append(rep.Churn, score(name, raw))
	if rep.Calibration != nil {
		rep.Churn = append(rep.Churn, score("calibrated "+name, calibrated))
		if rep.Calibration.Learned != nil {
			rep.Churn = append(rep.Churn, score("learned: logit p, log(1+x), log(1+gap/h)", learned))
		}
	}
	rep.Churn = append(rep.Churn, score("1 − P(alive)", notAlive))
	return rep, nil
}

func isNotConverged(err error) bool { return err != nil && errors.Is(err, ErrNotConverged) }

func unitName(unit time.Duration) string {
	switch unit {
	case week:
		return "weeks"
	case 24 * time.Hour:
		return "days"
	}
	return "× " + unit.String()
}

// Print writes the report as aligned tables.
func (r *Report) Print(w io.Writer) error {
	var buf bytes.Buffer
	conv := func(ok bool) string {
		if ok {
			return "converged"
		}
		return "NOT converged"
	}
	fmt.Fprintf(&buf, "Holdout evaluation: %d customers, calibration to %s, holdout to %s (%.4g %s)\n",
		r.Customers, r.CalibrationEnd.Format(time.DateOnly), r.HoldoutEnd.Format(time.DateOnly), r.Holdout, r.UnitName)
	fmt.Fprintf(&buf, "BG/NBD       r=%.4f alpha=%.4f a=%.4f b=%.4f  LL=%.2f (%s, %d iterations)\n",
		r.BGNBD.R, r.BGNBD.Alpha, r.BGNBD.A, r.BGNBD.B, r.BGNBD.LogLikelihood, conv(r.BGNBD.Converged), r.BGNBD.Iterations)
	fmt.Fprintf(&buf, "Gamma-Gamma  p=%.4f q=%.4f v=%.4f  LL=%.2f on %d repeat buyers (%s)\n",
		r.GammaGamma.P, r.GammaGamma.Q, r.GammaGamma.V, r.GammaGamma.LogLikelihood, r.GammaGamma.Customers, conv(r.GammaGamma.Converged))
	fmt.Fprintf(&buf, "             mean spend %.2f; spend-frequency correlation %.3f (independence assumed)\n",
		r.GammaGamma.MeanSpend, r.SpendFrequencyCorrelation)

	fmt.Fprintf(&buf, "\nMean holdout purchases by calibration frequency\n")
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "x\tcustomers\tactual\tpredicted\t\n")
	for _, b := range r.ByFrequency {
		label := fmt.Sprint(b.Frequency)
		if b.Frequency == 7 {
			label = "7+"
		}
		fmt.Fprintf(tw, "%s\t%d\t%.3f\t%.3f\t\n", label, b.Customers, b.Actual, b.Predicted)
	}
	perCustomer := func(v float64) float64 { return v / math.Max(1, float64(r.Customers)) }
	fmt.Fprintf(tw, "all\t%d\t%.3f\t%.3f\t\n", r.Customers, perCustomer(r.ActualPurchases), perCustomer(r.PredictedPurchases))
	tw.Flush()
	fmt.Fprintf(&buf, "correlation of per-frequency means %.4f, per customer %.4f\n", r.FrequencyCorrelation, r.CustomerCorrelation)
	fmt.Fprintf(&buf, "holdout purchases: actual %.0f, predicted %.1f; revenue: actual %.2f, predicted %.2f\n",
		r.ActualPurchases, r.PredictedPurchases, r.ActualRevenue, r.PredictedRevenue)
	fmt.Fprintf(&buf, "mean 12-month CLV at the calibration end: %.2f\n", r.MeanCLV)

	fmt.Fprintf(&buf, "\nNo purchase in the holdout (observed rate %.4f)\n", r.ChurnRate)
	tw = tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "score\tAUC\tBrier\tmean prob\n")
	for _, s := range r.Churn {
		fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t%.4f\n", s.Name, s.AUC, s.Brier, s.MeanPredicted)
	}
	tw.Flush()
	switch {
	case r.Calibration != nil:
		fmt.Fprintf(&buf, "calibration σ(%.3f·logit p %+.3f), learned inside the calibration period: %d customers, inner holdout %.4g %s\n",
			r.Calibration.A, r.Calibration.B, r.Calibration.Customers, r.Calibration.Horizon, r.UnitName)
		if l := r.Calibration.Learned; l != nil {
			fmt.Fprintf(&buf, "learned σ(%.3f %+.3f·logit p %+.3f·log(1+x) %+.3f·log(1+(T−t_x)/h)), same inner split; served as the churn probability\n",
				l.Intercept, l.Model, l.Frequency, l.Gap)
		}
	case r.CalibrationError != "":
		fmt.Fprintf(&buf, "no calibration: %s\n", r.CalibrationError)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("print report: %w", err)
	}
	return nil
}
