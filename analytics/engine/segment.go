package engine

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
)

// Segment is where a user stands. Every user is in exactly one.
type Segment string

// The segments, in the order they are decided: a dormant user is dormant
// whatever their value, because no campaign reaches them until they return;
// a VIP is a VIP even when at risk, because that is the first account a
// team calls.
const (
	Dormant Segment = "DORMANT"
	VIP     Segment = "VIP"
	AtRisk  Segment = "AT_RISK"
	Active  Segment = "ACTIVE"
)

// Segments lists the segments in decision order.
func Segments() []Segment { return []Segment{Dormant, VIP, AtRisk, Active} }

// MarshalGQL writes the segment as a GraphQL enum value.
func (s Segment) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(s))) }

// UnmarshalGQL reads a GraphQL enum value.
func (s *Segment) UnmarshalGQL(v any) error {
	str, ok := v.(string)
	if !ok || !slices.Contains(Segments(), Segment(str)) {
		return fmt.Errorf("%v is not a segment", v)
	}
	*s = Segment(str)
	return nil
}

// Thresholds decide the segments; every one is configurable.
type Thresholds struct {
	// DormantDays: no activity (order or event) for this many days.
	DormantDays float64
	// AtRiskChurn: churn probability above this.
	AtRiskChurn float64
	// VIPTopShare: the share of users with the highest lifetime value
	// (0.05 = top 5%).
	VIPTopShare float64
}

// DefaultThresholds are 90 days, 0.6 and the top 5%.
func DefaultThresholds() Thresholds {
	return Thresholds{DormantDays: 90, AtRiskChurn: 0.6, VIPTopShare: 0.05}
}

// Validate reports thresholds that would leave a segment meaningless.
func (t Thresholds) Validate() error {
	switch {
	case !(t.DormantDays > 0):
		return fmt.Errorf("dormant threshold must be positive days, got %v", t.DormantDays)
	case !(t.AtRiskChurn > 0 && t.AtRiskChurn < 1):
		return fmt.Errorf("at-risk churn threshold must be in (0, 1), got %v", t.AtRiskChurn)
	case !(t.VIPTopShare > 0 && t.VIPTopShare < 1):
		return fmt.Errorf("VIP share must be in (0, 1), got %v", t.VIPTopShare)
	}
	return nil
}

// segmentInput is what the segment of one user depends on.
type segmentInput struct {
	daysInactive float64
	churn        float64
	ltv          float64
}

// assign puts a user in a segment and says why. vipCut is the lifetime
// value at the VIP boundary (see vipCut); a user with no value is never a
// VIP however few users there are.
func (t Thresholds) assign(in segmentInput, vipCut float64) (Segment, string) {
	switch {
	case in.daysInactive >= t.DormantDays:
		return Dormant, fmt.Sprintf("no activity for %.0f days (dormant after %.0f)", in.daysInactive, t.DormantDays)
	case in.ltv > 0 && in.ltv >= vipCut:
		return VIP, fmt.Sprintf("lifetime value %.2f is in the top %s of users (from %.2f)", in.ltv, percent(t.VIPTopShare), vipCut)
	case in.churn > t.AtRiskChurn:
		return AtRisk, fmt.Sprintf("churn probability %.2f is above %.2f", in.churn, t.AtRiskChurn)
	default:
		return Active, fmt.Sprintf("active %.0f days ago, churn probability %.2f", in.daysInactive, in.churn)
	}
}

// vipCut returns the lifetime value from which a user is in the top share:
// the value of the ceil(share·n)-th best user. +Inf without users.
func vipCut(ltvs []float64, share float64) float64 {
	if len(ltvs) == 0 {
		return math.Inf(1)
	}
	sorted := slices.Clone(ltvs)
	slices.SortFunc(sorted, func(a, b float64) int { return -cmpFloat(a, b) })
	k := int(math.Ceil(share * float64(len(sorted))))
	k = min(max(k, 1), len(sorted))
	return sorted[k-1]
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func percent(share float64) string {
	return strconv.FormatFloat(share*100, 'f', -1, 64) + "%"
}

// engagement is a 0–100 score of how engaged a user is now: half the
// chance to buy again in the horizon, three tenths event volume in the last
// 30 days (20 events count as full), two tenths recency of the last
// activity (halving every 30 days). Weights are a product choice, not a
// fitted model; they are here so that the score is explained.
func engagement(daysInactive, events30, churn float64) float64 {
	stay := 1 - clamp01(churn)
	volume := math.Min(1, math.Max(0, events30)/20)
	recency := math.Exp2(-math.Max(0, daysInactive) / 30)
	return math.Round(1000*(50*stay+30*volume+20*recency)) / 1000
}

func clamp01(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return math.Min(1, math.Max(0, v))
}
