package models

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestSummarize(t *testing.T) {
	end := at("2024-03-31T00:00:00Z")
	txs := []Transaction{
		// b: two orders on the first day, two on the second, one later.
		{"b", at("2024-01-01T09:00:00Z"), 10},
		{"b", at("2024-01-01T18:00:00Z"), 5},
		{"b", at("2024-01-11T08:00:00Z"), 20},
		{"b", at("2024-01-11T20:00:00Z"), 4},
		{"b", at("2024-01-21T12:00:00Z"), 6},
		// a: a single order — no repeat purchase.
		{"a", at("2024-02-01T10:00:00Z"), 99},
		// c: a zero-value repeat order and a future-dated one.
		{"c", at("2024-03-01T10:00:00Z"), 30},
		{"c", at("2024-03-02T10:00:00Z"), 0},
		{"c", at("2024-05-01T10:00:00Z"), 500},
		// d: only future-dated orders: not a calibration customer.
		{"d", at("2024-04-02T10:00:00Z"), 7},
		// e: a time zone other than UTC still buckets by the UTC day.
		{"e", at("2024-03-10T23:30:00-05:00"), 1}, // 2024-03-11 UTC
		{"e", at("2024-03-11T01:00:00Z"), 2},
	}
	got := Summarize(txs, end, 24*time.Hour)
	want := []RFM{
		{Customer: "a", T: 59},
		{Customer: "b", Frequency: 2, Recency: 20, T: 90, Monetary: (24 + 6) / 2.0},
		{Customer: "c", Frequency: 1, Recency: 1, T: 30, Monetary: 0},
		{Customer: "e", T: 20},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d customers %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Customer != w.Customer || g.Frequency != w.Frequency || math.Abs(g.Recency-w.Recency) > 1e-12 ||
			math.Abs(g.T-w.T) > 1e-12 || math.Abs(g.Monetary-w.Monetary) > 1e-12 {
			t.Errorf("customer %d: got %+v, want %+v", i, g, w)
		}
	}

	// The unit is a parameter: weeks divide every age by 7.
	weekly := Summarize(txs, end, 7*24*time.Hour)
	if math.Abs(weekly[1].T-90.0/7) > 1e-12 || math.Abs(weekly[1].Recency-20.0/7) > 1e-12 {
		t.Errorf("weekly b = %+v", weekly[1])
	}
	// A non-positive unit falls back to days instead of dividing by 0.
	if d := Summarize(txs, end, 0); d[1].T != 90 {
		t.Errorf("unit 0: T = %v, want days", d[1].T)
	}
}

// TestSummarizeNeverNegative: an end before every order yields nobody,
// and an order on the end day itself gives T = 0, never a negative age.
func TestSummarizeNeverNegative(t *testing.T) {
	txs := []Transaction{{"x", at("2024-01-10T00:00:00Z"), 1}, {"y", at("2024-01-05T00:00:00Z"), 1}}
	if got := Summarize(txs, at("2024-01-01T00:00:00Z"), 24*time.Hour); len(got) != 0 {
		t.Errorf("orders after end produced %+v", got)
	}
	got := Summarize(txs, at("2024-01-10T00:00:00Z"), 24*time.Hour)
	for _, r := range got {
		if r.T < 0 || r.Recency < 0 || r.Recency > r.T {
			t.Errorf("bad ages %+v", r)
		}
	}
	if got[0].Customer != "x" || got[0].T != 0 {
		t.Errorf("same-day customer: %+v", got[0])
	}
}

// TestSummarizeReproducesCDNOWSummary rebuilds the published CDNOW
// summaries (x, t_x, T in weeks to 2 decimals, zbar = mean repeat spend)
// from the raw transactions: the convention here is the papers'.
func TestSummarizeReproducesCDNOWSummary(t *testing.T) {
	dir := cdnowDir(t)
	f, err := os.Open(filepath.Join(dir, "CDNOW_sample.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	txs, err := readCDNOW(f)
	if err != nil {
		t.Fatal(err)
	}
	got := Summarize(txs, cdnowCalibrationEnd, week)
	want := readSummaryCSV(t, "cdnow_customers_summary_with_transactions.csv")
	if len(got) != len(want) {
		t.Fatalf("%d customers, want %d", len(got), len(want))
	}
	byID := map[int]RFM{}
	for _, r := range got {
		id, err := strconv.Atoi(r.Customer)
		if err != nil {
			t.Fatalf("customer %q: %v", r.Customer, err)
		}
		byID[id] = r
	}
	round := func(v float64) float64 { return math.Round(v*100) / 100 }
	mismatches := 0
	for _, w := range want {
		id, _ := strconv.Atoi(w.Customer)
		g := byID[id]
		if g.Frequency != w.Frequency || round(g.Recency) != w.Recency || round(g.T) != w.T || math.Abs(g.Monetary-w.Monetary) > 0.0051 {
			if mismatches++; mismatches <= 5 {
				t.Errorf("customer %d: got x=%v t_x=%.4f T=%.4f m=%.4f, published %+v", id, g.Frequency, g.Recency, g.T, g.Monetary, w)
			}
		}
	}
	if mismatches > 0 {
		t.Errorf("%d of %d customers differ", mismatches, len(want))
	}
}
