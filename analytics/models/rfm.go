package models

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// Transaction is one order: who, when and how much.
type Transaction struct {
	Customer string
	At       time.Time
	Amount   float64
}

// RFM is one customer's calibration-period summary in the BTYD convention
// (Fader, Hardie & Lee), the input of every model here. All ages are in the
// unit passed to Summarize.
type RFM struct {
	Customer string
	// Frequency x: the number of repeat purchase periods, i.e. distinct
	// purchase days minus one. The first purchase only marks the start of
	// the relationship, which is why it is not counted.
	Frequency float64
	// Recency t_x: first purchase → last purchase (0 when Frequency = 0).
	Recency float64
	// T: first purchase → end of the calibration period (the customer's age).
	T float64
	// Monetary: the mean value of the repeat purchase days (day totals),
	// the first day excluded to match Gamma-Gamma's conditioning; 0 when
	// Frequency = 0. Zero-value orders count as purchases for Frequency and
	// pull Monetary down; a customer whose Monetary ends <= 0 (all repeat
	// orders free, or refunds recorded as negative amounts) is left out of
	// the Gamma-Gamma fit and valued at the population mean spend.
	Monetary float64
}

// day truncates to the UTC calendar day: the BTYD models count purchase
// occasions, and several orders on the same day are one occasion.
func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// purchaseDays collapses transactions at or before end into one total per
// (customer, UTC day), sorted by day. Orders after end belong to the
// holdout (or are future-dated by a skewed clock) and are ignored, which is
// also what keeps every age non-negative. Non-finite amounts count as 0 so
// that a corrupt amount cannot hide the purchase itself.
func purchaseDays(txs []Transaction, from, end time.Time) map[string][]dayTotal {
	byCustomer := map[string]map[time.Time]float64{}
	for _, tx := range txs {
		if tx.At.After(end) || (!from.IsZero() && !tx.At.After(from)) {
			continue
		}
		days := byCustomer[tx.Customer]
		if days == nil {
			days = map[time.Time]float64{}
			byCustomer[tx.Customer] = days
		}
		amount := tx.Amount
		if math.IsNaN(amount) || math.IsInf(amount, 0) {
			amount = 0
		}
		days[day(tx.At)] += amount
	}
	out := make(map[string][]dayTotal, len(byCustomer))
	for c, days := range byCustomer {
		list := make([]dayTotal, 0, len(days))
		for d, v := range days {
			list = append(list, dayTotal{d, v})
		}
		sort.Slice(list, func(i, j int) bool { return list[i].Day.Before(list[j].Day) })
		out[c] = list
	}
	return out
}

type dayTotal struct {
	Day    time.Time
	Amount float64
}

// Summarize builds one RFM per customer with at least one purchase at or
// before end, sorted by customer, with ages in unit (7×24h for the weekly
// CDNOW convention, 24h for the API). A unit <= 0 is taken as one day.
func Summarize(txs []Transaction, end time.Time, unit time.Duration) []RFM {
	if unit <= 0 {
		unit = 24 * time.Hour
	}
	days := purchaseDays(txs, time.Time{}, end)
	out := make([]RFM, 0, len(days))
	for c, list := range days {
		first, last := list[0].Day, list[len(list)-1].Day
		r := RFM{
			Customer:  c,
			Frequency: float64(len(list) - 1),
			Recency:   ageIn(last.Sub(first), unit),
			T:         ageIn(end.Sub(first), unit),
		}
		if r.Frequency > 0 {
			var sum float64
			for _, d := range list[1:] {
				sum += d.Amount
			}
			r.Monetary = sum / r.Frequency
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Customer < out[j].Customer })
	return out
}

// ageIn converts a duration to the model unit, never negative.
func ageIn(d time.Duration, unit time.Duration) float64 {
	if d < 0 {
		return 0
	}
	return float64(d) / float64(unit)
}

// validateRFM checks what the likelihoods need; predictions clean instead.
func validateRFM(r RFM) error {
	for _, v := range []float64{r.Frequency, r.Recency, r.T, r.Monetary} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: customer %q has a non-finite field", ErrInvalidInput, r.Customer)
		}
	}
	switch {
	case r.Frequency < 0 || r.Frequency != math.Trunc(r.Frequency):
		return fmt.Errorf("%w: customer %q frequency %v is not a whole count", ErrInvalidInput, r.Customer, r.Frequency)
	case r.Recency < 0 || r.T < 0:
		return fmt.Errorf("%w: customer %q has a negative age", ErrInvalidInput, r.Customer)
	case r.Recency > r.T:
		return fmt.Errorf("%w: customer %q recency %v exceeds age T %v", ErrInvalidInput, r.Customer, r.Recency, r.T)
	}
	return nil
}
