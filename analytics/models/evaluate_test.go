package models

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func cdnowTransactions(t testing.TB) []Transaction {
	t.Helper()
	f, err := os.Open(filepath.Join(cdnowDir(t), "CDNOW_sample.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	txs, err := readCDNOW(f)
	if err != nil {
		t.Fatal(err)
	}
	return txs
}

// TestEvaluateCDNOW runs the paper's holdout test. Measured (2,357
// customers, 39 + 39 weeks): correlation of per-frequency means 0.9977;
// churn ("no purchase in the holdout", rate 0.710): model probability AUC
// 0.757, Brier 0.1612, mean 0.738; calibrated Brier 0.1595, mean 0.706;
// 1 − P(alive) AUC 0.316, Brier 0.608. Thresholds sit a little below.
func TestEvaluateCDNOW(t *testing.T) {
	r, err := EvaluateCDNOW(context.Background(), cdnowDir(t))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := r.Print(&out); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + out.String())

	if r.Customers != 2357 || len(r.ByFrequency) != 8 {
		t.Fatalf("%d customers in %d frequency bins", r.Customers, len(r.ByFrequency))
	}
	// Fitted on the calibration period of the raw transactions, the BG/NBD
	// is the published one.
	if d := r.BGNBD.R - publishedBGNBD.R; d > 0.01 || d < -0.01 {
		t.Errorf("r = %v", r.BGNBD.R)
	}
	if r.FrequencyCorrelation < 0.99 {
		t.Errorf("per-frequency correlation %.4f < 0.99", r.FrequencyCorrelation)
	}
	if r.Calibration == nil {
		t.Fatalf("no calibration: %s", r.CalibrationError)
	}
	if len(r.Churn) != 3 {
		t.Fatalf("%d churn scores", len(r.Churn))
	}
	raw, calibrated, notAlive := r.Churn[0], r.Churn[1], r.Churn[2]
	if raw.AUC < 0.75 || raw.Brier > 0.165 {
		t.Errorf("churn probability AUC %.4f (want > 0.75), Brier %.4f (want < 0.165)", raw.AUC, raw.Brier)
	}
	if calibrated.Brier > raw.Brier {
		t.Errorf("calibration made Brier worse: %.4f > %.4f", calibrated.Brier, raw.Brier)
	}
	if calibrated.AUC != raw.AUC {
		t.Errorf("a monotone calibration changed AUC: %.4f vs %.4f", calibrated.AUC, raw.AUC)
	}
	// The reason for not using 1 − P(alive): it ranks one-time buyers,
	// most of the churners, as certain to stay.
	if !(notAlive.AUC < raw.AUC && notAlive.Brier > raw.Brier) {
		t.Errorf("1 − P(alive) (AUC %.4f, Brier %.4f) not worse than the churn probability", notAlive.AUC, notAlive.Brier)
	}
	for _, want := range []string{"7+", "correlation of per-frequency means", "1 − P(alive)", "calibrated"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestEvaluateRejectsBadPeriods(t *testing.T) {
	if _, err := Evaluate(context.Background(), nil, cdnowHoldoutEnd, cdnowCalibrationEnd, week); err == nil {
		t.Error("holdout before calibration accepted")
	}
	if _, err := EvaluateCDNOW(context.Background(), t.TempDir()); err == nil {
		t.Error("missing file accepted")
	}
}
