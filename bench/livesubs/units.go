// The report's arithmetic and formatting: quantiles, units per
// subscriber and per delivery, and a sleep that ends with the run.

package main

import (
	"context"
	"fmt"
	"time"
)

// documents describes -filters for the report.
func documents(filters int) string {
	if filters == 0 {
		return "one unfiltered document"
	}
	return fmt.Sprintf("%d country-filtered documents", filters)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// pct returns the q-quantile of sorted nanosecond samples (nearest rank).
func pct(sorted []int64, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	i = max(0, min(i, len(sorted)-1))
	return time.Duration(sorted[i])
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }

func mb(kb int64) float64 { return float64(kb) / 1024 }

func perSub(kb int64, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(kb) / float64(n)
}

func perDelivery(cpu time.Duration, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(cpu.Microseconds()) / float64(n)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
