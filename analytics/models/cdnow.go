package models

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// readCDNOW parses CDNOW_sample.txt (Fader & Hardie): whitespace-separated,
// no header, columns master_id, sample_id, date YYYYMMDD, number_of_cds,
// dollar_value. The sample_id (1..2357, as written, e.g. "0001") is the
// customer, matching the ID of the published summaries. Dates are UTC days.
func readCDNOW(r io.Reader) ([]Transaction, error) {
	var out []Transaction
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) != 5 {
			return nil, fmt.Errorf("CDNOW line %d: %d fields, want 5", line, len(f))
		}
		at, err := time.Parse("20060102", f[2])
		if err != nil {
			return nil, fmt.Errorf("CDNOW line %d: date: %w", line, err)
		}
		amount, err := strconv.ParseFloat(f[4], 64)
		if err != nil {
			return nil, fmt.Errorf("CDNOW line %d: amount: %w", line, err)
		}
		out = append(out, Transaction{Customer: f[1], At: at, Amount: amount})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("CDNOW: %w", err)
	}
	return out, nil
}
