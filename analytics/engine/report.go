package engine

import (
	"fmt"
	"math"
	"slices"
)

// member is what the report needs of one scored user.
type member struct {
	segment      Segment
	ltv          float64
	churn        float64
	spent        float64 // past spend
	daysInactive float64
	expected90   float64
}

// report writes one row per segment, in decision order, with an insight
// computed from the members: the seed's insight texts, filled with this
// data's numbers.
func report(ms []member, th Thresholds, horizonDays float64) []*SegmentRow {
	var totalLTV, totalSpent float64
	by := map[Segment][]member{}
	for _, m := range ms {
		by[m.segment] = append(by[m.segment], m)
		totalLTV += m.ltv
		totalSpent += m.spent
	}
	rows := make([]*SegmentRow, 0, len(Segments()))
	for _, seg := range Segments() {
		g := by[seg]
		row := &SegmentRow{Segment: seg, Users: len(g)}
		if len(ms) > 0 {
			row.Share = float64(len(g)) / float64(len(ms))
		}
		var ltv, spent, churn, exp float64
		inactive := make([]float64, 0, len(g))
		for _, m := range g {
			ltv += m.ltv
			spent += m.spent
			churn += m.churn
			exp += m.expected90
			inactive = append(inactive, m.daysInactive)
		}
		if len(g) == 0 {
			row.Insight = "No users in this segment."
			rows = append(rows, row)
			continue
		}
		n := float64(len(g))
		row.AvgLtv = math.Round(finite(ltv/n)*100) / 100
		switch seg {
		case Dormant:
			row.Insight = fmt.Sprintf("%d users (%s) have had no activity for %.0f days or more (median %.0f days); they spent %s of all past revenue — a reactivation campaign could win part of it back.",
				len(g), pct(row.Share), th.DormantDays, median(inactive), pct(ratio(spent, totalSpent)))
		case VIP:
			row.Insight = fmt.Sprintf("The top %s by lifetime value: %d users expected to bring %s of the next period's value (average %.2f against %.2f overall) — protect them with priority service.",
				percent(th.VIPTopShare), len(g), pct(ratio(ltv, totalLTV)), row.AvgLtv, totalLTV/float64(len(ms)))
		case AtRisk:
			row.Insight = fmt.Sprintf("%d users (%s) will likely not buy in the next %.0f days (average churn probability %.2f); %.2f of lifetime value is at stake — the target of a win-back offer.",
				len(g), pct(row.Share), horizonDays, churn/n, ltv)
		case Active:
			row.Insight = fmt.Sprintf("%d users (%s) are active with low churn risk (average %.2f); they are expected to make %.2f purchases each in the next 90 days.",
				len(g), pct(row.Share), churn/n, exp/n)
		}
		rows = append(rows, row)
	}
	return rows
}

func ratio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}

func pct(share float64) string { return fmt.Sprintf("%.1f%%", 100*finite(share)) }

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
