package engine

import (
	"math"
	"strings"
	"testing"
)

func TestAssignOrderAndReasons(t *testing.T) {
	th := DefaultThresholds()
	cases := []struct {
		in     segmentInput
		want   Segment
		reason string
	}{
		{segmentInput{daysInactive: 120, churn: 0.9, ltv: 5000}, Dormant, "no activity for 120 days (dormant after 90)"},
		{segmentInput{daysInactive: 89.6, churn: 0.9, ltv: 5000}, VIP, "lifetime value 5000.00 is in the top 5% of users (from 300.00)"},
		{segmentInput{daysInactive: 10, churn: 0.61, ltv: 299}, AtRisk, "churn probability 0.61 is above 0.60"},
		{segmentInput{daysInactive: 10, churn: 0.60, ltv: 299}, Active, "active 10 days ago, churn probability 0.60"},
		{segmentInput{daysInactive: 0, churn: 0, ltv: 0}, Active, "active 0 days ago"},
	}
	for _, c := range cases {
		got, reason := th.assign(c.in, 300)
		if got != c.want || !strings.HasPrefix(reason, c.reason) {
			t.Errorf("assign(%+v) = %s %q, want %s %q", c.in, got, reason, c.want, c.reason)
		}
	}
	// Nobody with zero value is a VIP, even when the cut is zero.
	if s, _ := th.assign(segmentInput{ltv: 0}, 0); s != Active {
		t.Errorf("zero-value user is %s", s)
	}
}

func TestVIPCut(t *testing.T) {
	ltvs := []float64{5, 1, 9, 3, 7, 2, 8, 4, 6, 10}
	if c := vipCut(ltvs, 0.05); c != 10 {
		t.Errorf("top 5%% of 10 users: cut %v, want 10 (at least one user)", c)
	}
	if c := vipCut(ltvs, 0.2); c != 9 {
		t.Errorf("top 20%%: cut %v, want 9", c)
	}
	if c := vipCut(nil, 0.05); !math.IsInf(c, 1) {
		t.Errorf("no users: cut %v", c)
	}
	if ltvs[0] != 5 {
		t.Error("vipCut sorted its input")
	}
}

func TestEngagementBounds(t *testing.T) {
	if e := engagement(0, 100, 0); e != 100 {
		t.Errorf("fully engaged = %v", e)
	}
	if e := engagement(math.Inf(1), 0, 1); e != 0 {
		t.Errorf("gone = %v", e)
	}
	if e := engagement(30, 10, 0.5); math.Abs(e-(25+15+10)) > 1e-9 {
		t.Errorf("half of everything = %v, want 50", e)
	}
	if e := engagement(-5, -1, math.NaN()); math.IsNaN(e) || e < 0 || e > 100 {
		t.Errorf("bad inputs give %v", e)
	}
}

func TestThresholdsValidate(t *testing.T) {
	if err := DefaultThresholds().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, th := range []Thresholds{{0, 0.5, 0.05}, {90, 1, 0.05}, {90, 0.5, 0}, {math.NaN(), 0.5, 0.1}} {
		if th.Validate() == nil {
			t.Errorf("%+v accepted", th)
		}
	}
}
