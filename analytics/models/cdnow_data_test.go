package models

import (
	"encoding/csv"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// cdnowDir finds shared/data/cdnow, which lives beside the repository
// (../shared from the repo root), by walking up from the package directory
// so that the test does not depend on where the clone sits. It skips the
// test when the shared data are absent (a bare clone).
func cdnowDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("getwd: %v", err)
	}
	for {
		candidate := filepath.Join(dir, "shared", "data", "cdnow")
		if _, err := os.Stat(filepath.Join(candidate, "CDNOW_sample.txt")); err == nil {
			return candidate
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("CDNOW data not found: expected shared/data/cdnow beside the repository (../shared from the repo root); skipping the published-results check")
		}
		dir = parent
	}
}

// readSummaryCSV reads cdnow_customers_summary*.csv: ID, x, t_x, T and,
// when present, zbar (mean repeat spend) into Monetary.
func readSummaryCSV(t testing.TB, name string) []RFM {
	t.Helper()
	f, err := os.Open(filepath.Join(cdnowDir(t), name))
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s not found", name)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	if _, err := r.Read(); err != nil { // header
		t.Fatalf("%s: header: %v", name, err)
	}
	var out []RFM
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		num := func(i int) float64 {
			v, err := strconv.ParseFloat(rec[i], 64)
			if err != nil {
				t.Fatalf("%s: %q: %v", name, rec[i], err)
			}
			return v
		}
		row := RFM{Customer: rec[0], Frequency: num(1), Recency: num(2), T: num(3)}
		if len(rec) > 4 {
			row.Monetary = num(4)
		}
		out = append(out, row)
	}
	return out
}
